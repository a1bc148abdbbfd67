"""What the fuzz target and its corpus share: the verifier's trust file and its keys.

The issuer signs with the RFC 8037 Appendix A test key (public, for tests only) and the
holder's key is derived from a fixed seed, so a corpus written once keeps verifying.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from vc_im import _jose as jose
from vc_im import keys
from vc_im.keys import Key
from vc_im.trust import TrustedIssuer, TrustStore

#: 2023-11-14T22:13:20Z, the time of SPEC-NOTES' examples.
NOW = 1_700_000_000
ISSUER = "https://im.example.com"
VERIFIER = "https://verifier.example.org"
NONCE = "n-0S6_WzA2Mj"
RFC8037_PRIVATE = {"kty": "OKP", "crv": "Ed25519", "kid": "issuer-key-1",
                   "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
                   "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
#: The first byte of a fuzz input picks how the rest is verified.
MODES = ("as is", "re-signed", "re-signed presentation", "as is presentation")


def issuer_key() -> Key:
    """The issuer's private key (RFC 8037 A.1)."""
    return keys.key_from_jwk(RFC8037_PRIVATE, require="private")


def holder_key() -> Key:
    """The device's private key, from a fixed seed."""
    seed = hashlib.sha256(b"vc_im fuzz holder").digest()
    native = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    return keys.load_key(native.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()), require="private")


def trust() -> TrustStore:
    """The issuer, trusted for example.com only."""
    return TrustStore.of(TrustedIssuer(ISSUER, (issuer_key().public(),),
                                       frozenset({"example.com"})))


def resign(token: bytes, key: Key) -> bytes:
    """The token's header and payload segments signed again by ``key`` under its own
    algorithm, whatever the header says, so that the fuzzer's mutations reach the checks
    after the signature."""
    head, _, rest = token.partition(b".")
    payload, _, _ = rest.partition(b".")
    signing_input = head + b"." + payload
    native = serialization.load_pem_private_key(key.to_pem(private=True), password=None)
    assert isinstance(native, ed25519.Ed25519PrivateKey)
    return signing_input + b"." + jose.b64url_encode(native.sign(signing_input)).encode("ascii")
