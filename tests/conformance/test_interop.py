"""Interoperability: tokens other implementations made verify in vc-im under the plain data
model, and vc-im's tokens verify in those implementations.

The fixtures in tests/vectors/interop were made by interop/make-fixtures.mjs with did-jwt-vc
(VC Data Model 1.1 JWTs, issuers named by did:jwk) and @transmute/verifiable-credentials (a
VC Data Model 2.0 vc+jwt); interop/package-lock.json pins every version. The other direction
needs node and the packages installed (``cd interop && npm ci``): it is skipped, with the
reason, where they are missing."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import IMPORT_ROOT, run_process
from tests.helpers.vectors import vector_path, vector_text
from vc_im import _jose, keys
from vc_im.conformance import documents, vcdm11

pytestmark = pytest.mark.slow

DID_JWT_VC = ["did-jwt-vc-es256k.jwt", "did-jwt-vc-eddsa.jwt"]
INTEROP = IMPORT_ROOT / "interop"


def verified_document(token: str) -> dict[str, Any]:
    """The token's signature checked with the key its did:jwk issuer names, then its VC 1.1
    decoding checked against the data model and lossless JSON-LD expansion."""
    unverified = _jose.peek_unverified(token)
    issuer_key = keys.resolve_did(unverified.payload["iss"])
    assert _jose.verify_signature(unverified, issuer_key)
    document = vcdm11.decode_jwt(token)
    documents.check_document(document, presentation="vp" in unverified.payload, version=1)
    return document


@pytest.mark.parametrize("name", DID_JWT_VC)
def test_did_jwt_vc_credentials_verify(name: str) -> None:
    """did-jwt-vc's default shape (issuer, issuanceDate and subject id only in iss, nbf and
    sub) decodes into a credential that keeps every data-model rule, under a signature that
    verifies with the issuer's did:jwk key (ES256K and EdDSA)."""
    document = verified_document(vector_text("interop", name))
    assert document["issuer"].startswith("did:jwk:")
    assert document["issuanceDate"] == "2026-01-01T00:00:00Z"
    assert document["credentialSubject"]["id"].startswith("did:jwk:")


def test_did_jwt_vc_presentation_verifies() -> None:
    """The holder's presentation verifies with the holder's did:jwk key and keeps the
    presentation rules; the credential inside verifies with its issuer's key and is about
    the holder."""
    presentation = verified_document(vector_text("interop", "did-jwt-vc-presentation.jwt"))
    (inner,) = presentation["verifiableCredential"]
    credential = verified_document(inner)
    assert credential["credentialSubject"]["id"] == presentation["holder"]


@pytest.mark.parametrize("name", DID_JWT_VC)
def test_tampered_did_jwt_vc_credential_is_refused(name: str) -> None:
    """A changed claim breaks the signature: the other implementation's tokens are checked,
    not trusted."""
    head, body, signature = vector_text("interop", name).split(".")
    payload = json.loads(_jose.b64url_decode(body, what="payload"))
    payload["vc"]["credentialSubject"]["degree"]["name"] = "Doctor of Philosophy"
    forged = ".".join([head, _jose.b64url_encode(json.dumps(payload).encode()), signature])
    unverified = _jose.peek_unverified(forged)
    assert not _jose.verify_signature(unverified, keys.resolve_did(payload["iss"]))


def test_did_jwt_vc_credential_decodes_through_the_generator(tmp_path: Path) -> None:
    """The suite generator's --jwt-decode reads another implementation's JWT the same way."""
    result = run_process("conformance", "vcdm11-generator", "--jwt-decode",
                         vector_path("interop", "did-jwt-vc-es256k.jwt"), cwd=tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout) == vcdm11.decode_jwt(
        vector_text("interop", "did-jwt-vc-es256k.jwt"))


def test_transmute_credential_verifies_through_the_jose_adapter(tmp_path: Path) -> None:
    """@transmute/verifiable-credentials' vc+jwt verifies as a credential_jose (signature,
    media type, data model, lossless expansion) and fails as a presentation."""
    for feature, expected in (("credential_jose", "success"), ("presentation_jose", "failure")):
        output = tmp_path / f"{feature}.json"
        run_process("conformance", "jose", "verify", "--input",
                    vector_path("interop", "transmute-vc.jwt"), "--key",
                    vector_path("interop", "transmute-method.json"), "--feature", feature,
                    "--output", output, cwd=tmp_path)
        assert json.loads(output.read_text())["result"] == expected


def _node_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (INTEROP / "node_modules" / "did-jwt-vc").is_dir():
        return "the interop packages are not installed (cd interop && npm ci)"
    return None


def _vc_im_tokens(where: Path) -> None:
    """Tokens vc-im makes, through its own commands, for the node side to verify."""
    key = keys.generate("ES256K")
    did = key.did_jwk()
    option = base64.b64encode(json.dumps(
        {"es256kPrivateKeyJwk": key.with_kid(f"{did}#0").private_jwk()}).encode()).decode()
    credential = {
        "@context": ["https://www.w3.org/2018/credentials/v1",
                     "https://www.w3.org/2018/credentials/examples/v1"],
        "id": "urn:uuid:7b4c6a36-1d7e-4f57-9c1c-3f0e9d7a1b11",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": did, "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": did, "alumniOf": "Example University"},
    }
    (where / "credential.json").write_text(json.dumps(credential))
    signed = run_process("conformance", "vcdm11-generator", "--jwt", option,
                         where / "credential.json", cwd=where)
    (where / "vcdm11-credential.jwt").write_text(signed.stdout)
    presentation = {"@context": ["https://www.w3.org/2018/credentials/v1"],
                    "type": ["VerifiablePresentation"], "holder": did,
                    "verifiableCredential": [signed.stdout.strip()]}
    (where / "presentation.json").write_text(json.dumps(presentation))
    audience = "did:example:verifier"
    (where / "audience.txt").write_text(audience)
    vp = run_process("conformance", "vcdm11-generator", "--jwt", option, "--jwt-presentation",
                     "--jwt-aud", audience, where / "presentation.json", cwd=where)
    (where / "vcdm11-presentation.jwt").write_text(vp.stdout)
    for alg in ("ES256", "Ed25519", "RS256"):
        signer = keys.generate(alg)
        method = {"id": f"did:example:vc-im#{alg}", "type": "JsonWebKey",
                  "publicKeyJwk": dict(signer.public_jwk), "secretKeyJwk": signer.private_jwk()}
        (where / f"{alg}.method.json").write_text(json.dumps(method))
        document = {"@context": ["https://www.w3.org/ns/credentials/v2",
                                 "https://www.w3.org/ns/credentials/examples/v2"],
                    "type": ["VerifiableCredential", "ExampleAlumniCredential"],
                    "issuer": "did:example:vc-im", "validFrom": "2026-01-01T00:00:00Z",
                    "credentialSubject": {"id": "did:example:123", "alumniOf": "Example"}}
        (where / f"{alg}.json").write_text(json.dumps(document))
        run_process("conformance", "jose", "issue", "--input", where / f"{alg}.json", "--key",
                    where / f"{alg}.method.json", "--feature", "credential_jose", "--output",
                    where / f"{alg}.result.json", cwd=where)
        token = json.loads((where / f"{alg}.result.json").read_text())["data"]
        (where / f"{alg}.vc-jwt").write_text(token)


def test_vc_im_tokens_verify_in_node(tmp_path: Path) -> None:
    """vc-im's VC 1.1 credential and presentation JWTs verify in did-jwt-vc, and its vc+jwt
    credentials (ES256, Ed25519, RS256) in @transmute/verifiable-credentials."""
    reason = _node_missing()
    if reason is not None:
        pytest.skip(reason)
    node = shutil.which("node")
    assert node is not None
    _vc_im_tokens(tmp_path)
    result = subprocess.run([node, str(INTEROP / "verify-vc-im.mjs"), str(tmp_path)],
                            cwd=INTEROP, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ") == 5
