"""Offline DID resolution: the public key a did:key or did:jwk names, and the DIDs of a key.

Both methods carry the key in the identifier itself, so nothing is fetched."""

from __future__ import annotations

import functools
import types
from collections.abc import Mapping
from typing import Final

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from vc_im import _jose as strictjson
from vc_im._jose import b64url_decode, b64url_encode
from vc_im._jwk import EC_CURVES, fail, native_members
from vc_im.errors import KeyFileError
from vc_im.keys import Key, key_from_jwk

_EC_BY_ALG: Final = types.MappingProxyType({curve.alg: curve for curve in EC_CURVES.values()})
_B58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


_B58_INDEX: Final = types.MappingProxyType({c: i for i, c in enumerate(_B58_ALPHABET)})


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(_B58_ALPHABET[digit])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise fail("the did:key value is not base58btc.")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * zeros + body


DID_KEY_CODECS: Final[Mapping[str, bytes]] = types.MappingProxyType({
    "Ed25519": b"\xed\x01",  # ed25519-pub 0xed
    "ES256": b"\x80\x24",  # p256-pub 0x1200
    "ES256K": b"\xe7\x01",  # secp256k1-pub 0xe7
    "ES384": b"\x81\x24",  # p384-pub 0x1201
    "ES512": b"\x82\x24",  # p521-pub 0x1202
    "RS256": b"\x85\x24",  # rsa-pub 0x1205
})
#: Multicodec public-key codes vc_im recognises but does not support, for clear refusals.


#: Multicodec public-key codes vc_im recognises but does not support, for clear refusals.
_DID_KEY_UNSUPPORTED: Final[Mapping[bytes, str]] = types.MappingProxyType({
    b"\xec\x01": "x25519-pub",
    b"\x83\x24": "ed448-pub",
    b"\xe3\x01": "bls12_381-g1-pub",
    b"\xeb\x01": "bls12_381-g2-pub",
})


#: A did:jwk of the largest RSA key vc_im accepts fits well within this.
_MAX_DID_CHARS: Final = 8192


@functools.lru_cache(maxsize=256)
def resolve_did(did: str) -> Key:
    """The public key a did:key or did:jwk names, resolved offline.

    A DID URL naming the DID's one verification method is accepted too
    (``did:key:z…#z…``, ``did:jwk:…#0``). The key's ``kid`` is that
    verification method's DID URL, which is what a JWS header names. Results
    are cached (DIDs are immutable strings and keys immutable values).
    """
    if not isinstance(did, str) or len(did) > _MAX_DID_CHARS:
        raise fail("the DID is not a did:key or did:jwk of a reasonable length.")
    base, _, fragment = did.partition("#")
    if base.startswith("did:key:"):
        value = base.removeprefix("did:key:")
        if fragment and fragment != value:
            raise fail("the did:key URL fragment does not name its verification method.")
        return _resolve_did_key(value, f"{base}#{value}")
    if base.startswith("did:jwk:"):
        if fragment and fragment != "0":
            raise fail("the did:jwk URL fragment must be '0'.")
        return _resolve_did_jwk(base.removeprefix("did:jwk:"), f"{base}#0")
    raise fail("the DID is not a did:key or did:jwk; vc_im resolves no other method.")


def _resolve_did_key(value: str, kid: str) -> Key:
    if not value.startswith("z"):
        raise fail("the did:key value is not base58btc multibase (it must start with 'z').")
    data = _b58decode(value[1:])
    if "z" + b58encode(data) != value:  # pragma: no cover - base58 has one spelling
        raise fail("the did:key value is not canonical base58btc.")
    for alg, prefix in DID_KEY_CODECS.items():
        if data.startswith(prefix):
            return _did_key_body(alg, data[len(prefix):], kid)
    for prefix, name in _DID_KEY_UNSUPPORTED.items():
        if data.startswith(prefix):
            raise fail(f"the did:key names a {name} key, which vc_im does not support.")
    raise fail("the did:key multicodec is not a public key type vc_im supports.")


def _did_key_body(alg: str, body: bytes, kid: str) -> Key:
    members: dict[str, object]
    if alg == "Ed25519":
        if len(body) != 32:
            raise fail("the did:key ed25519-pub key is not 32 bytes.")
        members = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(body)}
    elif alg in _EC_BY_ALG:
        curve = _EC_BY_ALG[alg]
        if len(body) != curve.size + 1 or body[0] not in (2, 3):
            raise fail(f"the did:key {curve.crv} key is not a compressed point.")
        try:
            public = ec.EllipticCurvePublicKey.from_encoded_point(curve.curve(), body)
        except ValueError as exc:
            raise fail(f"the did:key {curve.crv} key is not a point on the curve.") from exc
        members = dict(native_members(public))
    else:
        try:
            public_rsa = serialization.load_der_public_key(body)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise fail("the did:key rsa-pub key is not a DER RSAPublicKey.") from exc
        if not isinstance(public_rsa, rsa.RSAPublicKey) or public_rsa.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.PKCS1) != body:
            raise fail("the did:key rsa-pub key is not a DER RSAPublicKey.")
        members = dict(native_members(public_rsa))
    members["kid"] = kid
    return key_from_jwk(members, require="public")


def _resolve_did_jwk(value: str, kid: str) -> Key:
    data = b64url_decode(value, what="did:jwk value", error=KeyFileError)
    try:
        jwk = strictjson.loads(data, what="did:jwk JWK", max_bytes=_MAX_DID_CHARS)
    except strictjson.StrictJSONError as exc:
        raise fail(exc.message) from exc
    if not isinstance(jwk, dict):
        raise fail("the did:jwk value is not a JSON object.")
    # The spec: the fragment is always #0, whatever kid the JWK carries.
    key = key_from_jwk(jwk, require="public")
    return key.with_kid(kid)
