"""The bounded memo behind the sentence, passing-check and check-text caches."""

from __future__ import annotations

import pytest

from vc_im._kept import Kept


def test_a_value_is_made_once_and_kept() -> None:
    """A key's value is made the first time only."""
    made: list[str] = []

    def make(key: str) -> str:
        made.append(key)
        return key.upper()

    kept: Kept[str, str] = Kept(make)
    assert [kept[k] for k in ("a", "b", "a", "a")] == ["A", "B", "A", "A"]
    assert made == ["a", "b"]


def test_the_memo_never_holds_more_than_its_limit() -> None:
    """Keys that differ every time never grow the memo past its limit."""
    kept: Kept[int, int] = Kept(lambda k: k * 2, limit=3)
    for key in range(10):
        assert kept[key] == key * 2
        assert len(kept) <= 3
    assert 9 in kept


def test_what_make_raises_is_not_kept() -> None:
    """A refusal propagates and is asked again next time, never kept."""
    def refuse(key: str) -> str:
        raise ValueError(key)

    kept: Kept[str, str] = Kept(refuse)
    for _ in range(2):
        with pytest.raises(ValueError, match="bad"):
            kept["bad"]
    assert "bad" not in kept
