"""vc_im._jose.jws: RFC 7515 and RFC 8037 vectors through vc_im's JOSE path; strict decoding."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vc_im._jose.jws as jose
from tests.helpers.vectors import vector_json
from vc_im import keys
from vc_im._jose.jws import (
    MAX_TOKEN_BYTES,
    VERIFY_ALGORITHMS,
    Unverified,
    b64url_decode,
    b64url_encode,
    peek_unverified,
    verify_signature,
)
from vc_im.errors import KeyFileError, TokenError


def vector(name: str) -> dict[str, Any]:
    """A JOSE vector file from tests/vectors/jose-rfc."""
    value: dict[str, Any] = vector_json("jose-rfc", name)
    return value


def unverified_compact(compact: str) -> Unverified:
    """A compact JWS taken apart without reading its payload as JSON (RFC 8037 signs text)."""
    header_b64, payload_b64, signature_b64 = compact.split(".")
    header = json.loads(b64url_decode(header_b64, what="header"))
    return Unverified(compact, header, {}, f"{header_b64}.{payload_b64}".encode(),
                      b64url_decode(signature_b64, what="signature"))


def flip_last_signature_byte(compact: str) -> str:
    """The compact JWS with the last byte of its signature changed."""
    head, signature_b64 = compact.rsplit(".", 1)
    signature = bytearray(b64url_decode(signature_b64, what="signature"))
    signature[-1] ^= 0x01
    return head + "." + b64url_encode(bytes(signature))


# --- RFC vectors ---------------------------------------------------------------------------

def test_rfc7515_a3_es256_verifies() -> None:
    """RFC 7515 A.3 (ES256 over P-256) verifies with its public key through verify_signature."""
    a3 = vector("rfc7515-appendix-A.json")["vectors"]["A.3"]
    public = {k: v for k, v in a3["jwk"].items() if k != "d"}
    key = keys.key_from_jwk(public, require="public")
    assert key.alg == "ES256"
    unverified = peek_unverified(a3["compact"])
    assert unverified.header == {"alg": "ES256"}
    assert unverified.payload == {"iss": "joe", "exp": 1300819380,
                                  "http://example.com/is_root": True}
    assert verify_signature(unverified, key)
    assert not verify_signature(peek_unverified(flip_last_signature_byte(a3["compact"])), key)


def test_rfc7515_a3_refused_by_other_keys(alg_keys: dict[str, keys.Key]) -> None:
    """The A.3 token does not verify with another P-256 key, nor a key of another type."""
    a3 = vector("rfc7515-appendix-A.json")["vectors"]["A.3"]
    unverified = peek_unverified(a3["compact"])
    for alg, key in alg_keys.items():
        assert not verify_signature(unverified, key.public()), alg


def test_rfc7515_a3_private_key_signs_what_its_public_key_verifies() -> None:
    """The A.3 private key, loaded by vc_im, signs a token its public part verifies."""
    a3 = vector("rfc7515-appendix-A.json")["vectors"]["A.3"]
    private = keys.key_from_jwk(a3["jwk"], require="private")
    token = jose.sign({"typ": "JWT"}, {"iss": "joe"}, private)
    assert verify_signature(peek_unverified(token), private.public())


def test_rfc7515_a1_hs256_is_never_verified(issuer_key: keys.Key) -> None:
    """RFC 7515 A.1 (HS256) is refused: MACs are not among the algorithms vc_im verifies."""
    a1 = vector("rfc7515-appendix-A.json")["vectors"]["A.1"]
    assert "HS256" not in VERIFY_ALGORITHMS
    assert not verify_signature(peek_unverified(a1["compact"]), issuer_key.public())
    with pytest.raises(KeyFileError):
        keys.key_from_jwk(a1["jwk"])


def test_rfc7515_a2_rs256_verifies() -> None:
    """RFC 7515 A.2 (RS256) verifies with its public key and is deterministic under joserfc."""
    a2 = vector("rfc7515-appendix-A.json")["vectors"]["A.2"]
    public = {k: a2["jwk"][k] for k in ("kty", "n", "e")}
    key = keys.key_from_jwk(public, require="public")
    assert verify_signature(peek_unverified(a2["compact"]), key)


def test_rfc8037_a4_ed25519_verifies() -> None:
    """RFC 8037 A.4 (alg EdDSA) verifies with the A.2 public key, mapped to vc_im's Ed25519 key."""
    rfc = vector("rfc8037-ed25519.json")
    key = keys.key_from_jwk(rfc["public_jwk"], require="public")
    assert key.alg == "Ed25519"
    assert key.kid == rfc["jwk_thumbprint_sha256"]
    assert key.accepts("EdDSA")
    unverified = unverified_compact(rfc["compact"])
    assert unverified.signing_input == rfc["signing_input"].encode()
    assert unverified.signature == base64.urlsafe_b64decode(rfc["signature_b64u"] + "==")
    assert verify_signature(unverified, key)
    assert not verify_signature(unverified_compact(flip_last_signature_byte(rfc["compact"])),
                                key)


def test_rfc8037_a4_signature_is_reproduced(issuer_key: keys.Key) -> None:
    """The RFC 8037 private key reproduces the A.4 signature byte for byte (deterministic)."""
    from tests.conftest import sign_bytes

    rfc = vector("rfc8037-ed25519.json")
    assert issuer_key.public_jwk["x"] == rfc["public_jwk"]["x"]
    signature = sign_bytes(issuer_key, rfc["signing_input"].encode(), "EdDSA")
    assert b64url_encode(signature) == rfc["signature_b64u"]


def test_rfc8037_a4_under_the_ed25519_name_does_not_verify() -> None:
    """The A.4 signature covers the header {"alg":"EdDSA"}; relabelled Ed25519 it fails."""
    rfc = vector("rfc8037-ed25519.json")
    key = keys.key_from_jwk(rfc["public_jwk"], require="public")
    relabelled = (b64url_encode(b'{"alg":"Ed25519"}') + "." + rfc["compact"].split(".", 1)[1])
    assert not verify_signature(unverified_compact(relabelled), key)


# --- verify_signature never confuses algorithms ----------------------------------------------

@pytest.mark.parametrize("header_alg", ["none", "HS256", "ES512", "PS256", "Ed448"])
def test_verify_signature_refuses_unlisted_algs(header_alg: str, issuer_key: keys.Key) -> None:
    """A header alg outside VERIFY_ALGORITHMS never verifies, whatever the signature."""
    token = jose.sign({"typ": "JWT"}, {"a": 1}, issuer_key)
    _, payload_b64, signature_b64 = token.split(".")
    relabelled = ".".join((b64url_encode(json.dumps({"alg": header_alg}).encode()),
                           payload_b64, signature_b64))
    assert not verify_signature(peek_unverified(relabelled), issuer_key.public())


def test_sign_uses_the_key_alg_and_refuses_others(alg_keys: dict[str, keys.Key]) -> None:
    """sign writes the key's own alg; another alg or a public key is a KeyFileError."""
    for alg, key in alg_keys.items():
        token = jose.sign({"typ": "JWT", "kid": key.kid}, {"n": 1}, key)
        unverified = peek_unverified(token)
        assert unverified.header == {"alg": alg, "typ": "JWT", "kid": key.kid}
        assert verify_signature(unverified, key.public())
    ed = alg_keys["Ed25519"]
    with pytest.raises(KeyFileError, match="the header asks for ES256, but the key signs Ed25519"):
        jose.sign({"alg": "ES256"}, {}, ed)
    with pytest.raises(KeyFileError, match="private key"):
        jose.sign({}, {}, ed.public())


def test_sign_writes_compact_utf8_json(issuer_key: keys.Key) -> None:
    """The signed payload is compact UTF-8 JSON, read back identically."""
    token = jose.sign({}, {"fn": "Zoë", "n": [1, 2]}, issuer_key)
    assert b64url_decode(token.split(".")[1], what="payload") == '{"fn":"Zoë","n":[1,2]}'.encode()


# --- strict decoding ---------------------------------------------------------------------------

def _token(header: dict[str, Any] | None = None, payload: dict[str, Any] | None = None) -> str:
    return ".".join((b64url_encode(json.dumps(header or {"alg": "Ed25519"}).encode()),
                     b64url_encode(json.dumps(payload or {"iss": "x"}).encode()),
                     b64url_encode(b"\x01" * 64)))


@pytest.mark.parametrize(("token", "code", "message"), [
    ("a" * (MAX_TOKEN_BYTES + 1), "too_large", "the token is larger than 65536 bytes."),
    (b"a" * (MAX_TOKEN_BYTES + 1), "too_large", "the token is larger than 65536 bytes."),
    ('{"payload": "e30", "signatures": []}', "malformed",
     "the token is JSON; only the compact JWS serialisation is accepted."),
    ('\ufeff {"payload": "e30"}', "malformed",
     "the token is JSON; only the compact JWS serialisation is accepted."),
    ("a.b.c.d.e", "malformed", "the token has five parts: it is a JWE, not a signed JWT."),
    ("a.b", "malformed", "a compact JWS has three parts separated by '.', not 2."),
    ("e30..AAAA", "malformed",
     "a part of the compact JWS is empty (detached or unsigned content)."),
    ("e30.e30.", "malformed",
     "a part of the compact JWS is empty (detached or unsigned content)."),
    ("e30=.e30.AAAA", "malformed", "the JOSE header is not unpadded base64url."),
    ("e30.e30.AA+A", "malformed", "the signature is not unpadded base64url."),
    ("e30.e31.AAAA", "malformed",
     "the payload is not canonical base64url (non-zero padding bits)."),
    ("e30.eyJ9.AAAA", "malformed",
     "the payload is not valid JSON: unterminated string starting at line 1, column 2."),
    ("W10.e30.AAAA", "malformed", "the JOSE header is not a JSON object."),
    (b"e30.e30.AA\xc3\xa9", "malformed", "the token has characters outside base64url and '.'."),
], ids=["too-large", "too-large-bytes", "json", "bom-json", "jwe", "two-parts",
        "detached", "unsigned", "padded", "standard-alphabet", "non-canonical", "bad-json",
        "array-header", "non-ascii"])
def test_peek_unverified_refusals(token: str | bytes, code: str, message: str) -> None:
    """Each refusal of the strict decoder has its exact code and sentence."""
    with pytest.raises(TokenError) as caught:
        peek_unverified(token)
    assert (caught.value.code, caught.value.message) == (code, message)


def test_peek_unverified_accepts_exactly_64_kib() -> None:
    """A token of exactly MAX_TOKEN_BYTES is read (the limit is inclusive); one more is not."""
    signature = b64url_encode(b"\x01" * 64)
    for pad in range(3):
        header = b64url_encode(b'{"alg":"Ed25519"}' + b" " * pad)
        room = MAX_TOKEN_BYTES - len(header) - len(signature) - 2
        if room % 4 == 0:
            payload = b'{"iss":"x"}'
            payload += b" " * (room // 4 * 3 - len(payload))
            token = f"{header}.{b64url_encode(payload)}.{signature}"
            assert len(token) == MAX_TOKEN_BYTES
            assert peek_unverified(token).payload == {"iss": "x"}
            with pytest.raises(TokenError) as caught:
                peek_unverified(token + "A")
            assert caught.value.code == "too_large"
            return
    raise AssertionError("no header padding gives a 64 KiB token")


def test_peek_unverified_keeps_the_received_octets() -> None:
    """signing_input is the received header and payload segments, not a re-encoding."""
    header_b64 = b64url_encode(b'{ "alg" : "Ed25519" }')
    payload_b64 = b64url_encode(b'{"iss":"x"}')
    token = f"{header_b64}.{payload_b64}.AAAA"
    unverified = peek_unverified(token)
    assert unverified.signing_input == f"{header_b64}.{payload_b64}".encode()
    assert unverified.signature == b"\x00\x00\x00"
    assert unverified.alg == "Ed25519"
    assert unverified.token == token


def test_alg_property_ignores_non_strings() -> None:
    """Unverified.alg is None when the header's alg is absent or not a string."""
    assert peek_unverified(_token({"alg": 5})).alg is None
    assert peek_unverified(_token({"typ": "JWT"})).alg is None


# --- base64url ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("segment", "message"), [
    ("AAAA=", "the x is not unpadded base64url."),
    ("A", "the x is not unpadded base64url."),
    ("AAAAA", "the x is not unpadded base64url."),
    ("AA/A", "the x is not unpadded base64url."),
    ("AA A", "the x is not unpadded base64url."),
    ("AB", "the x is not canonical base64url (non-zero padding bits)."),
    ("AAB", "the x is not canonical base64url (non-zero padding bits)."),
], ids=["padding", "one-char", "five-chars", "slash", "space", "pad-bits-2", "pad-bits-3"])
def test_b64url_decode_refusals(segment: str, message: str) -> None:
    """Padding, impossible lengths, other alphabets and non-zero padding bits are refused."""
    with pytest.raises(TokenError) as caught:
        b64url_decode(segment, what="x")
    assert caught.value.message == message


def test_b64url_examples() -> None:
    """RFC 7515 Appendix C examples: no padding, URL-safe alphabet."""
    assert b64url_encode(bytes([3, 236, 255, 224, 193])) == "A-z_4ME"
    assert b64url_decode("A-z_4ME", what="x") == bytes([3, 236, 255, 224, 193])
    assert b64url_encode(b"") == ""
    assert b64url_decode("", what="x") == b""


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_b64url_round_trip(data: bytes) -> None:
    """For all bytes, decode(encode(b)) == b, and the encoding is unpadded URL-safe base64."""
    encoded = b64url_encode(data)
    assert b64url_decode(encoded, what="x") == data
    assert not {"=", "+", "/"} & set(encoded)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
               max_size=60))
@settings(max_examples=300, deadline=None)
def test_b64url_decoding_is_canonical(segment: str) -> None:
    """Every string the decoder accepts is the one encoding of its bytes (no malleability)."""
    try:
        data = b64url_decode(segment, what="x")
    except TokenError:
        return
    assert b64url_encode(data) == segment
