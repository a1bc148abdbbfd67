"""Strict JOSE: the compact JWS codec, strict JSON and base64url, for the rest of vc_im.

Private: the modules here are reached only through this facade. joserfc is used
here and in :mod:`vc_im.keys`, nowhere else.
"""

from __future__ import annotations

from vc_im._jose.b64 import b64url_decode, b64url_encode, uint_decode, uint_encode
from vc_im._jose.jws import (
    MAX_TOKEN_BYTES,
    VERIFY_ALGORITHMS,
    Parts,
    Unverified,
    peek_unverified,
    refused_high_s,
    sign,
    verify_signature,
)
from vc_im._jose.strictjson import MAX_DEPTH, StrictJSONError, dumps_compact, loads

__all__ = [
    "MAX_DEPTH",
    "MAX_TOKEN_BYTES",
    "VERIFY_ALGORITHMS",
    "Parts",
    "StrictJSONError",
    "Unverified",
    "b64url_decode",
    "b64url_encode",
    "dumps_compact",
    "loads",
    "peek_unverified",
    "refused_high_s",
    "sign",
    "uint_decode",
    "uint_encode",
    "verify_signature",
]
