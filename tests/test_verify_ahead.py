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
    assert _jwk._ahead == (IDENTITY, IDENTITY_SIGNATURE, b"any data")
    with pytest.raises(KeyFileError, match="small-order point"):
        _jwk.ed25519_public_key.__wrapped__(b64url_encode(IDENTITY))


@settings(max_examples=60)
@given(raw=_off_curve(), signature=st.binary(min_size=64, max_size=64))
def test_no_signature_verifies_under_a_key_off_the_curve(raw: bytes, signature: bytes) -> None:
    """A key that does not decode verifies no signature, not even the degenerate one the
    neutral element verifies, so it is never taken as proven, and parsing it still refuses
    it."""
    before = _jwk._ahead
    for candidate in (signature, IDENTITY_SIGNATURE):
        _jwk.verify_ahead(b64url_encode(raw), candidate, b"data")
        assert _jwk._ahead == before
    with pytest.raises(KeyFileError, match="not a point on the curve"):
        _jwk.ed25519_public_key.__wrapped__(b64url_encode(raw))


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=64), other=st.binary(max_size=64), flip=st.integers(0, 511))
def test_only_the_signature_verified_ahead_is_answered_from_it(data: bytes, other: bytes,
                                                             flip: int) -> None:
    """After one signature was verified ahead, the key parses to the same bytes as without
    it, and every other (key, signature, data) gets the verdict OpenSSL gives."""
    holder, stranger = keys.generate("Ed25519"), keys.generate("Ed25519")
    x = holder.public_jwk["x"]
    signature = holder.signs_ed25519(data)
    _jwk.verify_ahead(x, signature, data)
    assert _jwk._ahead is not None
    assert _jwk._ahead[1:] == (signature, data)
    public = _jwk.ed25519_public_key(x)
    assert public.public_bytes_raw() == _parsed_fresh(x)
    flipped = bytearray(signature)
    flipped[flip // 8] ^= 1 << (flip % 8)
    native = stranger._native
    assert isinstance(native, Ed25519PrivateKey)
    cases = [(public, signature, data, True), (public, bytes(flipped), data, False),
             (native.public_key(), signature, data, False)]
    if other != data:
        cases.append((public, signature, other, False))
    for key, candidate, signed, expected in cases:
        assert _jwk.ed25519_verifies(key, candidate, signed) is expected


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
