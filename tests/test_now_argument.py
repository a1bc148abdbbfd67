"""``now`` is checked as the argument it is: a float clock is floored, anything else is
refused with a message that names ``now``, never blamed on a token."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vc_im
from vc_im import _jose as jose
from vc_im.dpop import create_proof, verify_proof
from vc_im.presentations import create_presentation, verify_presentation
from vc_im.times import MAX_NUMERIC_DATE, TimeRules, as_now

ISSUER = "https://im.example.com"
DEVICE = "im:alice/laptop@example.com"
NOW = 1_900_000_000
ISSUER_KEY = vc_im.generate_key()
DEVICE_KEY = vc_im.generate_key()
TRUST = vc_im.TrustStore.of(vc_im.TrustedIssuer(ISSUER, (ISSUER_KEY.public(),),
                                                frozenset({"example.com"})))
TOKEN = vc_im.issue_credential(ISSUER_KEY, issuer=ISSUER, subject=DEVICE, fn="Alice",
                               holder_key=DEVICE_KEY.public(), now=NOW)


@settings(max_examples=200)
@given(st.floats(min_value=0, max_value=MAX_NUMERIC_DATE, allow_nan=False))
def test_a_float_is_floored(value: float) -> None:
    """Every float from 0 to year 9999 becomes its floor, an int."""
    seconds = as_now(value)
    assert type(seconds) is int
    assert seconds == math.floor(value)


@given(st.integers(min_value=0, max_value=MAX_NUMERIC_DATE))
def test_an_int_is_kept(value: int) -> None:
    """An int in range is taken as it is."""
    assert as_now(value) == value


@given(st.one_of(st.booleans(), st.text(max_size=5), st.none(),
                 st.just(datetime(2030, 1, 1, tzinfo=UTC)), st.lists(st.integers())))
def test_other_types_are_a_type_error_naming_now(value: object) -> None:
    """A bool, a string, None, a datetime or a list is a TypeError that names now."""
    with pytest.raises(TypeError, match=r"\Anow must be seconds since the epoch"):
        as_now(value)


@given(st.one_of(st.just(math.nan), st.just(math.inf), st.just(-math.inf),
                 st.floats(max_value=-1, allow_nan=False, allow_infinity=False),
                 st.integers(max_value=-1),
                 st.integers(min_value=MAX_NUMERIC_DATE + 1, max_value=10**15)))
def test_out_of_range_is_a_value_error_naming_now(value: float) -> None:
    """NaN, infinities, negative times and times past 9999 (milliseconds) are a ValueError
    (InputError) that names now."""
    with pytest.raises(ValueError, match=r"\Anow "):
        as_now(value)


def test_time_time_issues_and_verifies() -> None:
    """A credential issued and verified with a float clock is the one an int clock gives."""
    token = vc_im.issue_credential(ISSUER_KEY, issuer=ISSUER, subject=DEVICE, fn="Alice",
                                   holder_key=DEVICE_KEY.public(), now=NOW + 0.999)
    assert jose.peek_unverified(token).payload["nbf"] == NOW
    report = vc_im.verify_token(token, TRUST, now=NOW + 0.5)
    assert report.ok, report.code
    assert TimeRules(NOW + 0.75).now == NOW


def _calls(tmp_path: Path) -> dict[str, Callable[[Any], object]]:
    """Every public function that takes now, given ``now`` and otherwise good arguments."""
    vp = create_presentation(DEVICE_KEY, [TOKEN], audience="https://v.example", nonce="n" * 22,
                             now=NOW)
    proof = create_proof(DEVICE_KEY, htm="POST", htu="https://rs.example/x", now=NOW)
    store = tmp_path / "s.sqlite3"
    return {
        "verify_token": lambda now: vc_im.verify_token(TOKEN, TRUST, now=now),
        "verify_credential": lambda now: vc_im.verify_credential(TOKEN, TRUST, now=now),
        "verify_presentation": lambda now: verify_presentation(
            vp, TRUST, now=now, audience="https://v.example", nonce="n" * 22, store=store),
        "verify_proof": lambda now: verify_proof(proof, htm="POST", htu="https://rs.example/x",
                                                 now=now, store=store),
        "issue_credential": lambda now: vc_im.issue_credential(
            ISSUER_KEY, issuer=ISSUER, subject=DEVICE, fn="A", now=now),
        "create_presentation": lambda now: create_presentation(
            DEVICE_KEY, [TOKEN], audience="https://v.example", nonce="n" * 22, now=now),
        "create_proof": lambda now: create_proof(DEVICE_KEY, htm="GET",
                                                 htu="https://rs.example/x", now=now),
        "TimeRules": lambda now: TimeRules(now),
        "issue_nonce": lambda now: _issue_nonce(store, now),
    }


def _issue_nonce(store: Path, now: object) -> str:
    with vc_im.ReplayStore.open(store) as replay:
        return replay.issue_nonce(now=now)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["verify_token", "verify_credential", "verify_presentation",
                                  "verify_proof", "issue_credential", "create_presentation",
                                  "create_proof", "TimeRules", "issue_nonce"])
@pytest.mark.parametrize(("bad", "error"), [(True, TypeError), ("1900000000", TypeError),
                                            (math.nan, ValueError), (NOW * 1000, ValueError)])
def test_every_now_is_checked_as_an_argument(tmp_path: Path, name: str, bad: object,
                                             error: type[Exception]) -> None:
    """Each function refuses a bad now by name (a bool is not a time), before any token is
    judged; and each accepts a float."""
    call = _calls(tmp_path)[name]
    with pytest.raises(error, match=r"\Anow "):
        call(bad)
    call(NOW + 0.25)
