"""A presentation's signature verified ahead, under the key its credential binds, spares
that key its curve check and its own second verification, and changes no verdict.

RFC 8032 §5.1.7 decodes the public key before anything else and calls the signature
invalid when it does not decode: a signature that verifies proves the key a point of the
curve. What the proof does not cover (a small-order point, a non-canonical encoding) is
still refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ISSUER, NOW, VERIFIER
from vc_im import _jwk, keys
from vc_im._jose import b64url_encode
from vc_im.credentials import issue_credential
from vc_im.errors import KeyFileError
from vc_im.presentations import create_presentation
from vc_im.report import Status
from vc_im.trust import TrustStore
from vc_im.verify import verify_token

#: The neutral element (y = 1), and a signature (R the neutral element, S = 0) that
#: verifies under it over any data: the one key a verified signature proves nothing for.
IDENTITY = (1).to_bytes(32, "little")
IDENTITY_SIGNATURE = IDENTITY + bytes(32)


def _off_curve() -> st.SearchStrategy[bytes]:
    """32-byte encodings whose y no point of the curve has."""
    return st.binary(min_size=32, max_size=32).filter(
        lambda raw: (_jwk.ed25519_public_problem(raw) or "").endswith("not a point on the curve."))


def _forget_keys() -> None:
    """As a verifier that never saw a key: issuing a credential parsed its holder key."""
    keys._PUBLIC_KEYS.clear()
    _jwk.ed25519_public_key.cache_clear()
    _jwk.ed25519_public_problem.cache_clear()


def _parsed_fresh(x: str) -> bytes:
    """The key bytes :func:`vc_im._jwk.ed25519_public_key` gives for ``x``, its cache bypassed."""
    return _jwk.ed25519_public_key.__wrapped__(x).public_bytes_raw()


def test_a_verified_signature_does_not_spare_the_small_order_check() -> None:
    """The neutral element verifies its degenerate signature (OpenSSL accepts it), and is
    still refused as a small-order point after that signature was verified ahead."""
    _jwk.verify_ahead(b64url_encode(IDENTITY), IDENTITY_SIGNATURE, b"any data")
    assert _jwk._AHEAD[IDENTITY, IDENTITY_SIGNATURE] == b"any data"
    assert IDENTITY in _jwk._PROVEN
    with pytest.raises(KeyFileError, match="small-order point"):
        _jwk.ed25519_public_key.__wrapped__(b64url_encode(IDENTITY))


@settings(max_examples=60)
@given(raw=_off_curve(), signature=st.binary(min_size=64, max_size=64))
def test_no_signature_verifies_under_a_key_off_the_curve(raw: bytes, signature: bytes) -> None:
    """A key that does not decode verifies no signature, not even the degenerate one the
    neutral element verifies, so it is never taken as proven, and parsing it still refuses
    it."""
    before = dict(_jwk._AHEAD), dict(_jwk._PROVEN)
    for candidate in (signature, IDENTITY_SIGNATURE):
        _jwk.verify_ahead(b64url_encode(raw), candidate, b"data")
        assert before == (_jwk._AHEAD, _jwk._PROVEN)
    with pytest.raises(KeyFileError, match="not a point on the curve"):
        _jwk.ed25519_public_key.__wrapped__(b64url_encode(raw))


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=64), other=st.binary(max_size=64), flip=st.integers(0, 511))
def test_only_the_signature_verified_ahead_is_answered_from_it(data: bytes, other: bytes,
                                                             flip: int) -> None:
    """After one signature was verified ahead, the key parses to the same bytes as without
    it, and every other (key, signature, data) gets the verdict OpenSSL gives. The memo
    answers once: the signature's own check took it."""
    holder, stranger = keys.generate("Ed25519"), keys.generate("Ed25519")
    x = holder.public_jwk["x"]
    signature = holder.signs_ed25519(data)
    _jwk.verify_ahead(x, signature, data)
    raw = _parsed_fresh(x)
    assert _jwk._AHEAD[raw, signature] == data
    public = _jwk.ed25519_public_key(x)
    assert public.public_bytes_raw() == _parsed_fresh(x)
    flipped = bytearray(signature)
    flipped[flip // 8] ^= 1 << (flip % 8)
    native = stranger._native
    assert isinstance(native, Ed25519PrivateKey)
    cases = [(public, bytes(flipped), data, False), (native.public_key(), signature, data, False)]
    if other != data:
        cases.append((public, signature, other, False))
    cases.append((public, signature, data, True))  # last: the memo answers it once
    for key, candidate, signed, expected in cases:
        assert _jwk.ed25519_verifies(key, candidate, signed) is expected
    assert (raw, signature) not in _jwk._AHEAD


def test_a_group_verified_ahead_is_answered_signature_by_signature(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch verifies a group's presentations ahead before any of their checks: each
    signature is answered from the memo, a device presenting twice in the group included,
    and the memo never holds more than its bound."""
    monkeypatch.setattr(_jwk, "_AHEAD", {})
    monkeypatch.setattr(_jwk, "_PROVEN", {})
    holders = [keys.generate("Ed25519") for _ in range(3)]
    _forget_keys()
    signed = [(holder, f"presentation {n} of {i}".encode()) for i, holder in enumerate(holders)
              for n in range(2)]
    for holder, data in signed:
        _jwk.verify_ahead(holder.public_jwk["x"], holder.signs_ed25519(data), data)
    assert len(_jwk._AHEAD) == 6
    assert len(_jwk._PROVEN) == 3
    for holder, data in signed:
        public = _jwk.ed25519_public_key(holder.public_jwk["x"])
        assert public is _jwk._PROVEN[public.public_bytes_raw()]  # not built again
        signature = holder.signs_ed25519(data)
        assert _jwk.ed25519_verifies(public, signature, data)
        # The memo answered (an answer from OpenSSL would leave the entry in place).
        assert (public.public_bytes_raw(), signature) not in _jwk._AHEAD
    from vc_im.batch import CHUNK_LINES

    assert _jwk._MAX_AHEAD >= 2 * CHUNK_LINES  # a batch chunk's signatures all fit
    for number in range(_jwk._MAX_AHEAD + 1):
        data = number.to_bytes(4, "big")
        _jwk.verify_ahead(holders[0].public_jwk["x"], holders[0].signs_ed25519(data), data)
        assert len(_jwk._AHEAD) <= _jwk._MAX_AHEAD


def test_a_presentation_spares_its_new_holder_key_the_curve_check(
        monkeypatch: pytest.MonkeyPatch, issuer_key: keys.Key, trust: TrustStore,
        tmp_path: Path) -> None:
    """A valid presentation of a device key never seen before is verified without the
    Jacobi symbol, every check passing as before; a bad presentation signature leaves the
    key to its full check."""
    store = tmp_path / "replay.db"
    holder = keys.generate("Ed25519")
    credential = issue_credential(issuer_key, issuer=ISSUER,
                                  subject="im:SvPfLlwBQi-6oddVRrkqpw/ahead1@example.com",
                                  fn="Alice", holder_key=holder.public(), now=NOW)
    token = create_presentation(holder, [credential], audience=VERIFIER, nonce="n-1", now=NOW)
    _forget_keys()
    calls: list[int] = []
    jacobi = _jwk._jacobi

    def counted(a: int, n: int) -> int:
        calls.append(a)
        return jacobi(a, n)

    monkeypatch.setattr(_jwk, "_jacobi", counted)
    report = verify_token(token, trust, now=NOW, audience=VERIFIER, nonce="n-1", store=store)
    assert report.ok, report.failure
    assert calls == []
    # Another new key, its presentation's signature broken: the curve check runs, and the
    # presentation fails at its signature as it always did.
    holder = keys.generate("Ed25519")
    credential = issue_credential(issuer_key, issuer=ISSUER,
                                  subject="im:SvPfLlwBQi-6oddVRrkqpw/ahead2@example.com",
                                  fn="Alice", holder_key=holder.public(), now=NOW)
    token = create_presentation(holder, [credential], audience=VERIFIER, nonce="n-2", now=NOW)
    head, _, signature = token.rpartition(".")
    broken = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    _forget_keys()
    report = verify_token(broken, trust, now=NOW, audience=VERIFIER, nonce="n-2", store=store)
    assert calls
    assert report.failure is not None
    assert report.failure.name == "signature"
    assert report.credentials[0].ok
    assert [c.status for c in report.checks].count(Status.FAILED) == 1
