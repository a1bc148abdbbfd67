"""A bounded memo for values a verifier meets again and again (an identifier's text, a
check's sentence, a check's JSON text): each is made once, and the memo empties when it is
full, so that input crafted to differ every time cannot make it grow."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Kept"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Kept(Generic[K, V]):
    """``make(key)``, kept for the next time ``key`` comes (never None); what ``make`` raises
    is not kept."""

    __slots__ = ("_items", "_limit")

    def __init__(self, limit: int = 4096) -> None:
        self._items: dict[K, V] = {}
        self._limit = limit

    def get(self, key: K, make: Callable[[K], V]) -> V:
        """The value kept for ``key``, made (and kept) the first time."""
        value = self._items.get(key)
        if value is None:
            value = make(key)
            if len(self._items) >= self._limit:
                self._items.clear()
            self._items[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._items
