"""``vc-im conformance jose issue|verify`` driven as the W3C VC-JOSE-COSE test suite drives an
implementation: real processes, ``--input --key --feature --output``, and the result object
``{"result", "data"}`` read back from the output file.

The fixtures are the suite's own (tests/vectors/vc-jose-cose-test-suite); the cases follow its
test list (tests/README.md of github.com/w3c/vc-jose-cose-test-suite), JOSE rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import run_process
from tests.helpers.vectors import vector_json, vector_path
from vc_im import _jose, keys

pytestmark = pytest.mark.slow

SUITE = "vc-jose-cose-test-suite"
P256 = ("vc-jose-cose-test-suite", "cid-p256.json")
ED25519 = ("vc-jose-cose-test-suite", "vm-did-ed25519.json")


def credential() -> dict[str, Any]:
    """A minimal VC DM 2.0 credential, as the suite's credential-minimal.json."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "http://university.example/credentials/1872",
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "issuer": "https://example.issuer/vc-jose-cose",
        "validFrom": "2010-01-01T19:23:24Z",
        "credentialSubject": {"id": "did:example:123",
                              "degree": {"type": "BachelorDegree", "name": "BSc"}},
    }


def adapter(tmp_path: Path, action: str, input_: Path, key: Path, feature: str,
            name: str = "out.json") -> tuple[int, dict[str, str]]:
    """Run one suite step; its exit code and the result object it wrote."""
    output = tmp_path / name
    result = run_process("conformance", "jose", action, "--input", input_, "--key", key,
                         "--feature", feature, "--output", output, cwd=tmp_path)
    return result.returncode, json.loads(output.read_text(encoding="utf-8"))


def write(tmp_path: Path, name: str, value: object) -> Path:
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return path


@pytest.mark.parametrize(("fixture", "key", "feature", "expected", "fragment"), [
    ("credential-jose-minimal.txt", P256, "credential_jose", "success", "verified"),
    ("credential-jose-vc-vp-claims.txt", ED25519, "credential_jose", "failure",
     "must not be present"),
    ("credential-jose-bad-media-type.txt", ED25519, "credential_jose", "failure", "typ"),
    ("presentation-jose-bad-credential.txt", ED25519, "presentation_jose", "failure",
     "verifiableCredential[0].id"),
    ("credential-jose-minimal.txt", ED25519, "credential_jose", "failure", "signature"),
    ("credential-jose-minimal.txt", P256, "presentation_jose", "failure", "typ"),
])
def test_suite_fixtures_verify_as_the_suite_expects(tmp_path: Path, fixture: str,
                                                    key: tuple[str, str], feature: str,
                                                    expected: str, fragment: str) -> None:
    """Rows "Basic Credential Verification" (success), "vc and vp Claims", "Invalid Media
    Type", "Presentation with Invalid Credentials" and a wrong key or feature (failure): exit
    0 only on success, 1 on failure, the reason in data."""
    code, result = adapter(tmp_path, "verify", vector_path(SUITE, fixture), vector_path(*key),
                           feature)
    assert result["result"] == expected
    assert fragment in result["data"]
    assert code == (0 if expected == "success" else 1)


def test_issued_credential_is_the_document_under_vc_jwt(tmp_path: Path) -> None:
    """"Basic Credential Issuance": typ vc+jwt, cty vc, kid the verification method's URL,
    the payload exactly the document, and a signature the method's public key verifies;
    verifying it back through the adapter succeeds."""
    code, result = adapter(tmp_path, "issue", write(tmp_path, "c.json", credential()),
                           vector_path(*P256), "credential_jose")
    assert (code, result["result"]) == (0, "success")
    token = _jose.peek_unverified(result["data"])
    method = vector_json(*P256)
    assert dict(token.header) == {"alg": "ES256", "typ": "vc+jwt", "cty": "vc",
                                  "kid": method["id"]}
    assert dict(token.payload) == credential()
    assert _jose.verify_signature(token, keys.key_from_jwk(method["publicKeyJwk"]))
    back, verified = adapter(tmp_path, "verify", write(tmp_path, "c.jwt", result["data"]),
                             vector_path(*P256), "credential_jose", "back.json")
    assert (back, verified["result"]) == (0, "success")


def test_issued_presentation_round_trip(tmp_path: Path) -> None:
    """"Basic Presentation Issuance" of a presentation enveloping a credential vc-im issued,
    then "Presentation Verification" of the result: both succeed, the kid a DID URL for the
    Ed25519 method (alg EdDSA in the suite's JWK)."""
    _, issued = adapter(tmp_path, "issue", write(tmp_path, "c.json", credential()),
                        vector_path(*P256), "credential_jose", "vc.json")
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiablePresentation"], "holder": "did:example:vc-jose-cose",
        "verifiableCredential": [{"@context": "https://www.w3.org/ns/credentials/v2",
                                  "type": "EnvelopedVerifiableCredential",
                                  "id": f"data:application/vc+jwt,{issued['data']}"}],
    }
    code, result = adapter(tmp_path, "issue", write(tmp_path, "p.json", presentation),
                           vector_path(*ED25519), "presentation_jose")
    assert (code, result["result"]) == (0, "success")
    assert _jose.peek_unverified(result["data"]).header["kid"] == "did:example:vc-jose-cose#key-4"
    code, verified = adapter(tmp_path, "verify", write(tmp_path, "p.jwt", result["data"]),
                             vector_path(*ED25519), "presentation_jose", "back.json")
    assert (code, verified["result"]) == (0, "success")


def test_suite_presentation_issues(tmp_path: Path) -> None:
    """The suite's presentation-single.json issues: its enveloped credential is judged by
    its verifier, not by the holder securing the presentation."""
    code, result = adapter(tmp_path, "issue", vector_path(SUITE, "presentation-single.json"),
                           vector_path(*P256), "presentation_jose")
    assert (code, result["result"]) == (0, "success")


@pytest.mark.parametrize(("change", "feature", "fragment"), [
    (lambda d: d.pop("issuer"), "credential_jose", "[issuer-present]"),
    (lambda d: d.__setitem__("validFrom", "2010-01-01"), "credential_jose", "[date-format]"),
    (lambda d: d.__setitem__("@context", ["https://www.w3.org/2018/credentials/v1"]),
     "credential_jose", "[context-first]"),
    (lambda d: d.__setitem__("vc", {}), "credential_jose", "must not be present"),
    (lambda d: d["credentialSubject"].__setitem__("id", "alice"), "credential_jose",
     "[id-uri]"),
    (lambda d: None, "presentation_jose", "does not fit the feature"),
])
def test_issue_refuses_documents_breaking_a_must(tmp_path: Path, change: Any, feature: str,
                                                 fragment: str) -> None:
    """Issuance refuses (result failure, exit 1) what the data model or VC-JOSE-COSE forbid."""
    document = credential()
    change(document)
    code, result = adapter(tmp_path, "issue", write(tmp_path, "c.json", document),
                           vector_path(*P256), feature)
    assert (code, result["result"]) == (1, "failure")
    assert fragment in result["data"]


def test_presentation_with_an_unsecured_credential_is_refused(tmp_path: Path) -> None:
    """"Credentials in verifiable presentations MUST be secured" and enveloped: a plain
    credential object inside a vp+jwt fails both ways."""
    presentation = {"@context": ["https://www.w3.org/ns/credentials/v2"],
                    "type": "VerifiablePresentation", "verifiableCredential": [credential()]}
    code, result = adapter(tmp_path, "issue", write(tmp_path, "p.json", presentation),
                           vector_path(*P256), "presentation_jose")
    assert (code, result["result"]) == (1, "failure")
    assert "EnvelopedVerifiableCredential" in result["data"]


def test_tampered_token_fails(tmp_path: Path) -> None:
    """"Credential with an Invalid Signature": one payload character changed, failure."""
    token = vector_path(SUITE, "credential-jose-minimal.txt").read_text().strip()
    head, body, signature = token.split(".")
    payload = json.loads(_jose.b64url_decode(body, what="payload"))
    payload["issuer"] = payload["iss"] = "https://attacker.example"
    forged = ".".join([head, _jose.b64url_encode(json.dumps(payload).encode()), signature])
    code, result = adapter(tmp_path, "verify", write(tmp_path, "f.jwt", forged),
                           vector_path(*P256), "credential_jose")
    assert (code, result["result"]) == (1, "failure")
    assert "signature" in result["data"]


def test_unsupported_features_are_indeterminate(tmp_path: Path) -> None:
    """SD-JWT and COSE rows are not implemented: indeterminate, exit 1."""
    code, result = adapter(tmp_path, "verify", vector_path(SUITE, "credential-jose-minimal.txt"),
                           vector_path(*P256), "credential_cose")
    assert (code, result["result"]) == (1, "indeterminate")


def test_unusable_key_file_is_an_error_result(tmp_path: Path) -> None:
    """A key file without secretKeyJwk cannot issue: result error, exit 2, one sentence."""
    public_only = {key: value for key, value in vector_json(*P256).items()
                   if key != "secretKeyJwk"}
    code, result = adapter(tmp_path, "issue", write(tmp_path, "c.json", credential()),
                           write(tmp_path, "vm.json", public_only), "credential_jose")
    assert (code, result["result"]) == (2, "error")
    assert "secretKeyJwk" in result["data"]


def test_output_replaces_only_an_earlier_result(tmp_path: Path) -> None:
    """A rerun writes over its earlier result file; any other file at --output is left as it
    was and the command exits 2."""
    first, _ = adapter(tmp_path, "verify", vector_path(SUITE, "credential-jose-minimal.txt"),
                       vector_path(*P256), "credential_jose")
    again, result = adapter(tmp_path, "verify", vector_path(SUITE, "credential-jose-minimal.txt"),
                            vector_path(*P256), "credential_jose")
    assert (first, again, result["result"]) == (0, 0, "success")
    precious = write(tmp_path, "notes.json", {"mine": True})
    run = run_process("conformance", "jose", "verify", "--input",
                      vector_path(SUITE, "credential-jose-minimal.txt"), "--key",
                      vector_path(*P256), "--feature", "credential_jose", "--output", precious,
                      cwd=tmp_path)
    assert run.returncode == 2
    assert json.loads(precious.read_text()) == {"mine": True}
