"""Signing hostile tokens with real keys: any header, any payload, any bytes.

vc_im's own signer (:func:`vc_im._jose.sign`) refuses a header whose ``alg`` is not the
key's, so mutants are signed here: the exact header and payload octets are signed with the
key's private part (from :meth:`vc_im.keys.Key.to_pem`) under the key's own algorithm,
whatever the header claims. A mutated ``alg`` therefore travels with a real signature that
verifies under the key's true algorithm only.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from vc_im import _jose as jose
from vc_im.keys import Key


@functools.cache
def _native(pem: bytes) -> Any:
    return serialization.load_pem_private_key(pem, password=None)


def signature(key: Key, data: bytes) -> bytes:
    """A JWS signature over ``data`` by ``key`` under its own algorithm (RFC 7518 §3)."""
    native = _native(key.to_pem(private=True))
    if isinstance(native, ed25519.Ed25519PrivateKey):
        return native.sign(data)
    if isinstance(native, ec.EllipticCurvePrivateKey):
        r, s = utils.decode_dss_signature(native.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert isinstance(native, rsa.RSAPrivateKey)
    return native.sign(data, padding.PKCS1v15(), hashes.SHA256())


def dumps(value: Any, style: str = "compact") -> bytes:
    """JSON in one of the spellings a strict reader must treat alike (or refuse)."""
    if style == "spaced":
        return json.dumps(value, indent=1).encode("utf-8")
    if style == "ascii":
        return json.dumps(value, separators=(",", ":")).encode("utf-8")
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: only the escaped spelling exists
        return json.dumps(value, separators=(",", ":")).encode("utf-8")


def sign_segments(header: bytes, payload: bytes, key: Key) -> str:
    """A compact JWS of exactly these header and payload octets, signed by ``key``."""
    signing_input = jose.b64url_encode(header) + "." + jose.b64url_encode(payload)
    return signing_input + "." + jose.b64url_encode(signature(key, signing_input.encode()))


def sign_json(header: Any, payload: Any, key: Key, style: str = "compact") -> str:
    """A compact JWS of ``header`` and ``payload`` (any JSON values), signed by ``key``."""
    return sign_segments(dumps(header, style), dumps(payload, style), key)
