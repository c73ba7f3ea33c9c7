"""Text for a terminal: control characters and escape sequences from clause text or case
values are shown escaped (`\\x1b`), never sent to the terminal.

A clause file or a case file may come from elsewhere: an ESC sequence in a clause's text
could otherwise move the cursor, rewrite what was printed before it, change the window
title or, on some terminals, answer back. Line feeds and tabs stay; carriage returns,
backspaces, the other C0 and C1 controls, DEL and the bidirectional overrides (which can
make text read differently from what it is) are shown as Python-style escapes.

>>> term_safe("a\\x1b[2Jb\\r\\nc\\td")
'a\\\\x1b[2Jb\\\\r\\nc\\td'
>>> json_safe('"\\x9b31m\\u202e"')
'"\\\\u009b31m\\\\u202e"'
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls except tab and line feed, DEL, C1 controls, bidi embeddings/overrides/isolates
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                     r"\u2066-\u2069]")
# what json.dumps(ensure_ascii=False) leaves raw: C1, DEL and the bidi controls
_UNSAFE_JSON = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(c: str) -> str:
    o = ord(c)
    return {"\r": "\\r", "\x1b": "\\x1b"}.get(c) or (f"\\x{o:02x}" if o < 0x100
                                                     else f"\\u{o:04x}")


def term_safe(s: str) -> str:
    """`s` with every control character but line feed and tab shown escaped."""
    return _UNSAFE.sub(lambda m: _escape(m.group()), s)


def line_safe(s: str) -> str:
    """`s` for one line of a terminal: line feeds and tabs shown escaped too."""
    return term_safe(s).replace("\n", "\\n").replace("\t", "\\t")


def json_safe(s: str) -> str:
    """JSON text (from json.dumps, ensure_ascii=False) with the controls it leaves raw
    written as \\u escapes: still the same JSON value, safe on a terminal."""
    return _UNSAFE_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", s)


def safe_data(v: Any) -> Any:
    """A JSON-like value (dicts, lists, strings) with every string made `term_safe`: applied
    to the data before it is laid out and coloured, so the colour codes yakkan adds stay."""
    if isinstance(v, str):
        return term_safe(v)
    if isinstance(v, dict):
        return {safe_data(k) if isinstance(k, str) else k: safe_data(x) for k, x in v.items()}
    if isinstance(v, list):
        return [safe_data(x) for x in v]
    if isinstance(v, tuple):
        return tuple(safe_data(x) for x in v)
    return v
