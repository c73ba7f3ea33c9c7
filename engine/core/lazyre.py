"""Regular expressions compiled when first used.

A module-level `re.compile` runs on every import of its module, used or not. The patterns of
the citation parser and of the number, date, amount and duration readers (large Japanese
character classes) took ~8 ms of every `yakkan explain`, which uses two of them. A
`LazyPattern` has the methods of a compiled pattern the engine calls and compiles it on the
first call (`re` keeps it from then on).

>>> p = LazyPattern(r"第([0-9]+)条")
>>> p.fullmatch("第14条").group(1), p.pattern
('14', '第([0-9]+)条')
"""

from __future__ import annotations

import re
import sys

__all__ = ["LazyPattern"]


class LazyPattern:
    """`re.compile(pattern, flags)`, compiled on the first match."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0):
        self.pattern, self.flags = pattern, flags
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        c = self._compiled
        if c is None:
            c = self._compiled = re.compile(self.pattern, self.flags)
        return c

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize
              ) -> re.Match[str] | None:
        return self.compiled().match(string, pos, endpos)

    def fullmatch(self, string: str, pos: int = 0, endpos: int = sys.maxsize
                  ) -> re.Match[str] | None:
        return self.compiled().fullmatch(string, pos, endpos)

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize
               ) -> re.Match[str] | None:
        return self.compiled().search(string, pos, endpos)
