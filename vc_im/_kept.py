"""A bounded memo for values a verifier meets again and again (an identifier's text, a
check's sentence, a check's JSON text): each is made once, and the memo empties when it is
full, so that input crafted to differ every time cannot make it grow."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

__all__ = ["Kept"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Kept(dict[K, V]):
    """``kept[key]`` is ``make(key)``, made the first time and kept for the next (a dict
    lookup, in C, once made); what ``make`` raises is not kept."""

    __slots__ = ("_limit", "_make")

    def __init__(self, make: Callable[[K], V], limit: int = 4096) -> None:
        super().__init__()
        self._make = make
        self._limit = limit

    def __missing__(self, key: K) -> V:
        value = self._make(key)
        if len(self) >= self._limit:
            self.clear()
        self[key] = value
        return value
