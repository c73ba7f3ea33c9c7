"""Values kept per object: what an expression, a ground or a charge line always gives
(its text template, its quantifiers, its case-independent JSON), computed once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def per_object(memo: dict[int, tuple[Any, T]], obj: object, make: Callable[[], T]) -> T:
    """`make()` for `obj`, computed on first use and kept in `memo` under `id(obj)` together
    with `obj` itself: the entry keeps the object alive, so its id is not reused by
    another object while the entry stands."""
    hit = memo.get(id(obj))
    if hit is None or hit[0] is not obj:
        hit = memo[id(obj)] = (obj, make())
    return hit[1]
