"""``vc-im key show | resolve``: a key's public part, thumbprints and DIDs, and offline DID
resolution, never printing private members."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RFC8037_PRIVATE
from tests.helpers.cli import run_cli
from vc_im import keys

#: RFC 8037 A.3: the thumbprint of the A.1 key.
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
#: The did:key of the all-zero Ed25519 seed (w3c-ccg did-method-key test vectors).
ZERO_SEED_DID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"

@pytest.fixture
def private_file(tmp_path: Path) -> Path:
    """The RFC 8037 private key as a JWK file."""
    path = tmp_path / "key.jwk"
    path.write_text(json.dumps(RFC8037_PRIVATE))
    return path


def test_show_prints_public_facts_and_never_the_private_key(private_file: Path) -> None:
    """key show: kid and thumbprint (RFC 7638), the RFC 9278 URI, both DIDs, the public JWK."""
    result = run_cli("key", "show", str(private_file))
    assert (result.exit_code, result.stderr) == (0, "")
    shown = json.loads(result.stdout)
    key = keys.key_from_jwk(RFC8037_PRIVATE)
    assert shown == {
        "kid": RFC8037_THUMBPRINT, "alg": "Ed25519", "thumbprint": RFC8037_THUMBPRINT,
        "thumbprint_uri": f"urn:ietf:params:oauth:jwk-thumbprint:sha-256:{RFC8037_THUMBPRINT}",
        "did_key": key.did_key(), "did_jwk": key.did_jwk(), "jwk": dict(key.public_jwk)}
    assert RFC8037_PRIVATE["d"] not in result.stdout


def test_show_pem_and_jwk_outputs(private_file: Path) -> None:
    """--output pem prints the SubjectPublicKeyInfo PEM; --output jwk the public JWK alone."""
    key = keys.key_from_jwk(RFC8037_PRIVATE)
    pem = run_cli("key", "show", str(private_file), "--output", "pem")
    assert (pem.exit_code, pem.stdout) == (0, key.to_pem(private=False).decode("ascii"))
    jwk = run_cli("key", "show", str(private_file), "--output", "jwk")
    assert (jwk.exit_code, json.loads(jwk.stdout)) == (0, dict(key.public_jwk))


def test_resolve_did_key_vector() -> None:
    """key resolve turns the all-zero-seed did:key vector back into its Ed25519 key."""
    result = run_cli("key", "resolve", ZERO_SEED_DID)
    assert result.exit_code == 0
    resolved = json.loads(result.stdout)
    assert (resolved["kty"], resolved["crv"]) == ("OKP", "Ed25519")
    assert keys.key_from_jwk(resolved).did_key() == ZERO_SEED_DID


def test_resolve_round_trips_did_jwk(private_file: Path) -> None:
    """The did:jwk key show prints resolves to the same key (same thumbprint)."""
    did = json.loads(run_cli("key", "show", str(private_file)).stdout)["did_jwk"]
    result = run_cli("key", "resolve", did)
    assert result.exit_code == 0
    assert keys.jwk_thumbprint(json.loads(result.stdout)) == RFC8037_THUMBPRINT


def test_other_did_methods_and_missing_files_are_usage_errors(tmp_path: Path) -> None:
    """An unsupported DID method or an unreadable key file: exit 2, one sentence on stderr."""
    for args in (["key", "resolve", "did:web:example.com"],
                 ["key", "show", str(tmp_path / "missing.jwk")]):
        result = run_cli(*args)
        assert (result.exit_code, result.stdout) == (2, "")
        assert result.stderr.startswith("vc-im: ")
        assert result.stderr.count("\n") == 1
