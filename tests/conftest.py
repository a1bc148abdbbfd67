"""Shared fixtures: the draft's Alice, an issuer, a device, a trust store, and a signer
that crafts tokens with any header and payload (to make exactly one check fail)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import vc_im._jose.jws as jose
from vc_im import keys
from vc_im.credentials import issue_credential
from vc_im.model import CredentialType, Encoding
from vc_im.trust import TrustedIssuer, TrustStore

#: 2023-11-14T22:13:20Z, the time of SPEC-NOTES' examples.
NOW = 1_700_000_000
ISSUER = "https://im.example.com"
DEVICE = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
HANDLE = "im:%40alice_smith@example.com"
VERIFIER = "https://verifier.example.org"
RFC8037_PRIVATE = {"kty": "OKP", "crv": "Ed25519",
                   "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
                   "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}


@pytest.fixture(scope="session")
def issuer_key() -> keys.Key:
    """The IM provider's Ed25519 issuing key (the RFC 8037 test key)."""
    return keys.key_from_jwk(RFC8037_PRIVATE, require="private")


@pytest.fixture(scope="session")
def device_key() -> keys.Key:
    """Alice's device key."""
    return keys.generate("Ed25519")


@pytest.fixture(scope="session")
def attacker_key() -> keys.Key:
    """A key nobody bound into any credential."""
    return keys.generate("Ed25519")


@pytest.fixture(scope="session")
def trust(issuer_key: keys.Key) -> TrustStore:
    """A trust store holding the issuer, trusted for example.com only."""
    return TrustStore.of(TrustedIssuer(ISSUER, (issuer_key.public(),),
                                       frozenset({"example.com"})))


@pytest.fixture(scope="session")
def trust_file(tmp_path_factory: pytest.TempPathFactory, issuer_key: keys.Key) -> Path:
    """The same trust store as a trust file."""
    path = tmp_path_factory.mktemp("trust") / "trust.json"
    path.write_text(json.dumps({"issuers": [{"id": ISSUER,
                                             "keys": [dict(issuer_key.public_jwk)],
                                             "domains": ["example.com"]}]}))
    return path


@pytest.fixture(scope="session")
def make_credential(issuer_key: keys.Key, device_key: keys.Key) -> Callable[..., str]:
    """Issue a credential for Alice's device; keyword arguments override the defaults."""
    def make(**overrides: Any) -> str:
        arguments: dict[str, Any] = {
            "issuer": ISSUER, "subject": DEVICE, "fn": "Alice M. Smith", "now": NOW,
            "organization": "Example Corp", "unit": "Engineering",
            "instant_messages": [HANDLE], "holder_key": device_key.public(),
            "credential_type": CredentialType.DEVICE, "encoding": Encoding.VC1,
        }
        arguments.update(overrides)
        key = arguments.pop("key", issuer_key)
        return issue_credential(key, **arguments)
    return make


@pytest.fixture(scope="session")
def sign_raw(issuer_key: keys.Key) -> Callable[..., str]:
    """Sign any header and payload, unchecked, to craft tokens that fail one check."""
    def sign(header: Mapping[str, Any], payload: Mapping[str, Any],
             key: keys.Key | None = None) -> str:
        signer = key or issuer_key
        full = {"alg": signer.alg, **header}
        signing_input = (jose.b64url_encode(json.dumps(full).encode()) + "."
                         + jose.b64url_encode(json.dumps(payload).encode()))
        signature = sign_bytes(signer, signing_input.encode(), str(full["alg"]))
        return signing_input + "." + jose.b64url_encode(signature)
    return sign


def sign_bytes(key: keys.Key, data: bytes, alg: str) -> bytes:
    """A raw JWS signature over ``data`` (through joserfc, with the key's own algorithm)."""
    import warnings

    from joserfc import jws

    registry = jws.JWSRegistry(algorithms=[alg])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc warns that EdDSA is deprecated (RFC 9864)
        algorithm = registry.get_alg(alg)
    return algorithm.sign(data, key.jose_key(alg))


@pytest.fixture(scope="session")
def alg_keys(issuer_key: keys.Key) -> dict[str, keys.Key]:
    """One private issuing key per algorithm vc_im signs with (Ed25519 is the RFC 8037 key)."""
    return {"Ed25519": issuer_key,
            **{alg: keys.generate(alg) for alg in ("ES256", "ES256K", "ES384", "ES512", "RS256")}}


@pytest.fixture(scope="session")
def sign_segments(issuer_key: keys.Key) -> Callable[..., str]:
    """Sign exact header and payload bytes (duplicate members, padding whitespace, NaN)."""
    def sign(header: bytes, payload: bytes, key: keys.Key | None = None,
             alg: str | None = None) -> str:
        signer = key or issuer_key
        signing_input = jose.b64url_encode(header) + "." + jose.b64url_encode(payload)
        signature = sign_bytes(signer, signing_input.encode(), alg or signer.alg)
        return signing_input + "." + jose.b64url_encode(signature)
    return sign


def claims_of(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A token's header and payload as fresh, freely modifiable dicts (UNVERIFIED)."""
    unverified = jose.peek_unverified(token)
    header: dict[str, Any] = json.loads(json.dumps(unverified.header))
    payload: dict[str, Any] = json.loads(json.dumps(unverified.payload))
    return header, payload
