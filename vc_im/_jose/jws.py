"""The JWS compact codec: strict decoding before any key is chosen, signing and verifying.

Everything a token says before its signature is verified is untrusted, so the
decoder's result is called :class:`Unverified` and :func:`peek_unverified`
says so. Decoding is strict: compact serialisation only (no JSON
serialisation, no JWE), canonical unpadded base64url, strict JSON objects for
header and payload, bounded size. Signatures go through joserfc with exactly
one algorithm allowed: the key's own.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vc_im._jose import strictjson
from vc_im._jose.b64 import b64url_decode
from vc_im._jose.b64 import b64url_encode as b64url_encode  # JWS segments are written with it
from vc_im.errors import KeyFileError, TokenError

if TYPE_CHECKING:  # keys reads JSON through this package: no import cycle at run time
    from joserfc import jws

    from vc_im.keys import Key

#: A credential, presentation or proof larger than this is refused unread (CONTRACT.md).
MAX_TOKEN_BYTES = 65536
#: Algorithms vc_im verifies; ``EdDSA`` is the pre-RFC 9864 name of Ed25519.
VERIFY_ALGORITHMS = frozenset({"Ed25519", "EdDSA", "ES256", "ES256K", "ES384", "ES512", "RS256"})

_SEGMENT = re.compile(r"\A[A-Za-z0-9_-]*\Z")
#: ECDSA group orders (SEC 2). A signature (r, s) and its twin (r, n - s) verify alike, so
#: vc_im signs with the low S only, and refuses a high S where secp256k1 users expect it.
_ORDERS = {"ES256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
           "ES256K": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
           "ES384": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
                        "581A0DB248B0A77AECEC196ACCC52973", 16),
           "ES512": int("01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA"
                        "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16)}
#: Octets of r and of s in a JWS ECDSA signature (RFC 7518 §3.4).
_HALF = {"ES256": 32, "ES256K": 32, "ES384": 48, "ES512": 66}
#: Algorithms whose high-S signatures verify refuses. ES256 keeps accepting them: RFC 7518
#: does not ask for low S, and other implementations emit high-S P-256 signatures.
_LOW_S_ONLY = frozenset({"ES256K"})


@dataclass(frozen=True, slots=True)
class Parts:
    """A JOSE header and payload: what content checks read. The issuer checks these before
    it signs; a received token's :class:`Unverified` carries the same two and more."""

    header: Mapping[str, Any]
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Unverified:
    """A compact JWS taken apart and parsed, its signature NOT yet verified."""

    token: str
    header: Mapping[str, Any]
    payload: Mapping[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str | None:
        """The header's ``alg`` when it is a string."""
        value = self.header.get("alg")
        return value if isinstance(value, str) else None


def peek_unverified(token: str | bytes) -> Unverified:
    """Take a compact JWS apart and parse its header and payload strictly.

    Raises :class:`~vc_im.errors.TokenError` (``malformed`` or ``too_large``).
    Nothing returned here is trustworthy until :func:`verify_signature` says so.
    """
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenError(f"the token is larger than {MAX_TOKEN_BYTES} bytes.", code="too_large")
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError as exc:
            raise TokenError("the token has characters outside base64url and '.'.") from exc
    if token.lstrip("\ufeff \t\r\n").startswith("{"):
        raise TokenError("the token is JSON; only the compact JWS serialisation is accepted.")
    segments = token.split(".")
    if len(segments) == 5:
        raise TokenError("the token has five parts: it is a JWE, not a signed JWT.")
    if len(segments) != 3:
        raise TokenError(f"a compact JWS has three parts separated by '.', not {len(segments)}.")
    header_b64, payload_b64, signature_b64 = segments
    if not header_b64 or not payload_b64 or not signature_b64:
        raise TokenError("a part of the compact JWS is empty (detached or unsigned content).")
    header = strictjson.loads(b64url_decode(header_b64, what="JOSE header"),
                              what="JOSE header", max_bytes=MAX_TOKEN_BYTES)
    payload = strictjson.loads(b64url_decode(payload_b64, what="payload"),
                               what="payload", max_bytes=MAX_TOKEN_BYTES)
    if not isinstance(header, dict):
        raise TokenError("the JOSE header is not a JSON object.")
    if not isinstance(payload, dict):
        raise TokenError("the payload is not a JSON object.")
    signature = b64url_decode(signature_b64, what="signature")
    return Unverified(token, header, payload, f"{header_b64}.{payload_b64}".encode("ascii"),
                      signature)


@functools.cache
def _registry(alg: str) -> jws.JWSRegistry:
    """A joserfc registry that knows exactly one algorithm, built once per alg.

    Sizes are bounded by :data:`MAX_TOKEN_BYTES` before joserfc sees a token;
    joserfc's own 512-byte header limit would refuse a header carrying an RSA jwk.
    """
    from joserfc import jws  # only here and below: an Ed25519 verification never needs it

    registry = jws.JWSRegistry(algorithms=[alg])
    registry.max_header_length = MAX_TOKEN_BYTES
    registry.max_payload_length = MAX_TOKEN_BYTES
    return registry


def verify_signature(unverified: Unverified, key: Key) -> bool:
    """Whether the token's signature verifies with ``key`` under the header's alg.

    The key decides which algorithms it accepts; a key never verifies under
    another key type's algorithm (no algorithm confusion). A high-S ES256K
    signature never verifies (see :func:`refused_high_s`).
    """
    alg = unverified.alg
    if alg is None or alg not in VERIFY_ALGORITHMS or not key.accepts(alg):
        return False
    if alg in _LOW_S_ONLY and _high_s(alg, unverified.signature):
        return False
    direct = key.verifies_ed25519(unverified.signature, unverified.signing_input)
    if direct is not None:  # the token is parsed already: verify its bytes as they are
        return direct
    return _verifies(unverified.token, key, alg)


def refused_high_s(unverified: Unverified, key: Key) -> bool:
    """Whether :func:`verify_signature` refused this signature only for its high S: an
    ES256K signature whose low-S twin verifies with ``key`` (for a precise reason)."""
    alg = unverified.alg
    if alg not in _LOW_S_ONLY or not key.accepts(alg) or not _high_s(alg, unverified.signature):
        return False
    head = unverified.token.rsplit(".", 1)[0]
    return _verifies(f"{head}.{b64url_encode(_low_s(alg, unverified.signature))}", key, alg)


def _verifies(token: str, key: Key, alg: str) -> bool:
    from joserfc import jws
    from joserfc.errors import JoseError, SecurityWarning

    try:
        with warnings.catch_warnings():
            # joserfc warns that EdDSA is deprecated (RFC 9864); vc_im accepts it on purpose.
            warnings.simplefilter("ignore", SecurityWarning)
            jws.deserialize_compact(token, key.jose_key(alg), registry=_registry(alg))
    except (JoseError, ValueError, KeyFileError):
        return False
    return True


def _high_s(alg: str, signature: bytes) -> bool:
    """An ECDSA JWS signature (r || s, RFC 7518 §3.4) whose s exceeds half the order."""
    half = _HALF[alg]
    high = int.from_bytes(signature[half:], "big") > _ORDERS[alg] // 2
    return len(signature) == 2 * half and high


def _low_s(alg: str, signature: bytes) -> bytes:
    """The low-S form of an ECDSA JWS signature: s becomes n - s when s is high."""
    if alg not in _ORDERS or not _high_s(alg, signature):
        return signature
    half = _HALF[alg]
    s = int.from_bytes(signature[half:], "big")
    return signature[:half] + (_ORDERS[alg] - s).to_bytes(half, "big")


#: Header parameters an Ed25519 token is signed with directly, and the type of each value.
_PLAIN_HEADER = {"alg": str, "typ": str, "kid": str, "cty": str, "jwk": dict, "x5c": list}


def _plain_header(protected: Mapping[str, Any]) -> bool:
    """Whether ``protected`` holds only parameters joserfc would take as they are."""
    return all(type(value) is _PLAIN_HEADER.get(name) for name, value in protected.items()) \
        and all(type(item) is str for item in protected.get("x5c", ()))


def _sign_ed25519(protected: Mapping[str, Any], payload: Mapping[str, Any], key: Key) -> str:
    """What joserfc's compact serialisation gives for an Ed25519 key (Ed25519 signatures
    are deterministic, so a test holds the tokens byte for byte equal), without making
    joserfc's key and registry objects for every credential an issuing batch signs."""
    import json

    head = b64url_encode(json.dumps(protected, ensure_ascii=True, separators=(",", ":"))
                         .encode("ascii"))
    signing_input = f"{head}.{b64url_encode(strictjson.dumps_compact(payload))}"
    signature = key.signs_ed25519(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def sign(header: Mapping[str, Any], payload: Mapping[str, Any], key: Key) -> str:
    """Sign ``payload`` as a compact JWS with ``key``'s own algorithm.

    ``header`` may not set ``alg``; it gets the key's. The payload is written as
    compact UTF-8 JSON.
    """
    if not key.is_private:
        raise KeyFileError("signing needs a private key, and this key is public only.")
    if "alg" in header and header["alg"] != key.alg:
        raise KeyFileError(f"the header asks for {header['alg']}, but the key signs {key.alg}.")
    protected = {"alg": key.alg, **{k: v for k, v in header.items() if k != "alg"}}
    if key.alg == "Ed25519" and _plain_header(protected):
        return _sign_ed25519(protected, payload, key)
    from joserfc import jws
    from joserfc.errors import JoseError

    try:
        token = jws.serialize_compact(protected, strictjson.dumps_compact(payload),
                                      key.jose_key(key.alg), registry=_registry(key.alg))
    except JoseError as exc:
        raise KeyFileError(f"signing failed: {exc.description or exc.error}.") from exc
    if key.alg not in _ORDERS:
        return token
    head, signature = token.rsplit(".", 1)  # ECDSA: always the low-S twin
    return f"{head}.{b64url_encode(_low_s(key.alg, b64url_decode(signature, what='signature')))}"
