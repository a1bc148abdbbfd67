"""Public keys are parsed once per key: the cache in key_from_jwk gives exactly what parsing
every time gives (a differential property test), and never keeps a private key."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vc_im import keys
from vc_im.errors import KeyFileError

_PUBLIC = [dict(keys.generate(alg).public().public_jwk)
           for alg in ("Ed25519", "ES256", "ES256K", "RS256")]
_ED25519_LOW_ORDER = "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def _outcome(parse: Any, jwk: object, require: str) -> object:
    try:
        key = parse(jwk, require=require)
    except KeyFileError as exc:
        return ("refused", exc.message)
    return (key.alg, key.kid, dict(key.public_jwk), key.is_private, key.thumbprint())


@settings(max_examples=300, deadline=None)
@given(base=st.sampled_from(_PUBLIC), require=st.sampled_from(["any", "public"]),
       changes=st.dictionaries(
           st.sampled_from(["kid", "alg", "x", "y", "crv", "kty", "n", "e", "use", "extra"]),
           st.one_of(st.none(), st.integers(), st.sampled_from(
               ["", "Ed25519", "EdDSA", "ES256", "P-256", "OKP", "EC", _ED25519_LOW_ORDER,
                "AQAB", "sig", "k1"]), st.text(max_size=8)), max_size=3),
       drop=st.sampled_from([None, "kid", "alg", "x", "kty"]))
def test_cached_parse_equals_parsing_every_time(base: dict[str, str], require: str,
                                                changes: dict[str, object],
                                                drop: str | None) -> None:
    """Valid or not, a JWK gets the same key or the same refusal, first time and again."""
    jwk: dict[str, object] = {**base, **changes}
    if drop is not None:
        jwk.pop(drop, None)
    jwk = {name: value for name, value in jwk.items() if value is not None}
    expected = _outcome(keys.parse_jwk, jwk, require)
    assert _outcome(keys.key_from_jwk, jwk, require) == expected
    assert _outcome(keys.key_from_jwk, dict(jwk), require) == expected


@pytest.mark.parametrize("base", _PUBLIC, ids=lambda jwk: str(jwk["alg"]))
@pytest.mark.parametrize("kid", [None, "k1"])
@pytest.mark.parametrize("require", ["any", "public"])
def test_a_key_written_barely_after_in_full_is_the_key_parsed(base: dict[str, str],
                                                               kid: str | None,
                                                               require: str) -> None:
    """After a JWK with kid, alg and use (a cnf.jwk), the same key with fewer members (a
    header's jwk) gets exactly what parsing it gives, from the cache."""
    full = {**base, "use": "sig", **({"kid": kid} if kid else {})}
    keys.key_from_jwk(full, require=require)
    for dropped in ({"alg"}, {"kid"}, {"alg", "kid"}, {"alg", "kid", "use"}, {"use"}):
        bare = {name: value for name, value in full.items() if name not in dropped}
        assert _outcome(keys.key_from_jwk, bare, require) == _outcome(keys.parse_jwk, bare,
                                                                       require)


def test_private_keys_are_never_kept() -> None:
    """A private JWK is parsed every time and never enters the cache."""
    private = keys.generate("Ed25519").private_jwk()
    before = dict(keys._PUBLIC_KEYS)
    assert keys.key_from_jwk(private).is_private
    assert before == keys._PUBLIC_KEYS
    public = keys.key_from_jwk(_PUBLIC[0], require="public")
    assert keys.key_from_jwk(dict(_PUBLIC[0]), require="public") is public


@settings(max_examples=300)
@given(st.binary(min_size=30, max_size=33)
       | st.sampled_from([b"\x00" * 32, b"\x01" + b"\x00" * 31]), st.booleans())
def test_kept_ed25519_keys_equal_keys_built_afresh(raw: bytes, twice: bool) -> None:
    """An Ed25519 public key kept by its ``x`` is the key (or the refusal) that building it
    afresh gives, asked once or twice."""
    from vc_im import _jwk
    from vc_im._jose import b64url_encode
    from vc_im.errors import KeyFileError

    def outcome(build: Any) -> bytes | str:
        try:
            return bytes(build(b64url_encode(raw)).public_bytes_raw())
        except KeyFileError as exc:
            return exc.message

    fresh = outcome(_jwk.ed25519_public_key.__wrapped__)
    for _ in range(2 if twice else 1):
        assert outcome(_jwk.ed25519_public_key) == fresh


@pytest.mark.parametrize("alg", ["Ed25519", "ES256", "ES384", "RS256"])
def test_kept_thumbprints_equal_thumbprints_computed_afresh(alg: str) -> None:
    """A thumbprint kept per key is RFC 7638's, computed again from the canonical JSON."""
    import base64
    import hashlib

    from vc_im.keys import _canonical_json

    key = keys.generate(alg)
    expected = base64.urlsafe_b64encode(hashlib.sha256(_canonical_json(
        key.public_jwk)).digest()).rstrip(b"=").decode()
    assert key.thumbprint() == expected
    assert keys.key_from_jwk(dict(key.public_jwk)).thumbprint() == expected


@settings(max_examples=300, deadline=None)
@given(kty=st.sampled_from(["OKP", "EC", "RSA", "o\"k"]),
       values=st.dictionaries(st.sampled_from(["crv", "x", "y", "n", "e", "kid"]),
                              st.one_of(st.sampled_from(["Ed25519", "P-256", "secp256k1", "AQAB"]),
                                        st.text(max_size=6)), max_size=5))
def test_canonical_json_is_the_encoders(kty: str, values: dict[str, str]) -> None:
    """RFC 7638's canonical JSON written directly (values that need no escaping) is what
    the JSON encoder writes of the required members, sorted and without whitespace."""
    import json

    from vc_im.keys import _canonical_json

    jwk = {"kty": kty, **values}
    required = ("crv", "kty", "x", "y") if kty != "RSA" else ("e", "kty", "n")
    expected = json.dumps({name: jwk[name] for name in required if name in jwk},
                          sort_keys=True, separators=(",", ":")).encode("ascii")
    assert _canonical_json(jwk) == expected
