"""Runtime values as JSON: Decimal as a string, dates ISO, durations as written (61秒)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from yakkan.engine.core.periods import Duration


def jsonable(v: Any) -> Any:
    """A runtime value (or nest of them) as JSON-ready data, losslessly for Decimals."""
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Duration):
        return str(v)
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    return v
