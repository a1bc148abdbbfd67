"""``vc-im conformance vcdm11-generator`` driven as the W3C VC Data Model 1.1 test suite
drives its generator: real processes, a document or JWT file as the last argument, success
as exit 0 with nothing on stderr, refusal as a non-zero exit naming the broken rule.

The cases are the suite's (github.com/w3c/vc-test-suite, test/vc-data-model-1.0), ported:
its positive documents from tests/vectors/vc-test-suite, its negative ones as one mutation
each of a conforming credential."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import run_process
from tests.helpers.vectors import vector_json, vector_path
from vc_im import _jose, keys

pytestmark = pytest.mark.slow

GENERATOR = ("conformance", "vcdm11-generator")
AUD = "did:example:0xcafe"


def example_1() -> dict[str, Any]:
    """The suite's example-1: the smallest conforming credential, with an embedded proof."""
    return {
        "@context": ["https://www.w3.org/2018/credentials/v1",
                     "https://www.w3.org/2018/credentials/examples/v1"],
        "id": "http://example.edu/credentials/58473",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": "https://example.edu/issuers/14",
        "issuanceDate": "2010-01-01T19:23:24Z",
        "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
                              "alumniOf": "Example University"},
        "proof": {"type": "RsaSignature2018"},
    }


def write(where: Path, document: object, name: str = "input.jsonld") -> Path:
    path = where / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def suite_keys_option(**jwks: object) -> str:
    """The suite's --jwt value: base64 of the JSON object of its private JWKs."""
    return base64.b64encode(json.dumps(jwks).encode()).decode()


def es256k_option() -> str:
    """The ES256K key of the suite's config.json.jwt.example (curve spelt P-256K)."""
    return suite_keys_option(**vector_json("vc-test-suite", "config-jwt-keys.json"))


def payload_of(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = token.split(".")
    header = json.loads(_jose.b64url_decode(head, what="header"))
    payload = json.loads(_jose.b64url_decode(body, what="payload"))
    return header, payload


@pytest.mark.parametrize("name", ["example-8.jsonld", "example-015-zkp-vp.jsonld",
                                  "example-012.jsonld"])
def test_suite_documents_are_printed_unchanged(tmp_path: Path, name: str) -> None:
    """The suite's positive documents come back as they went in: its presentations
    (example-8, the ZKP one: type VerifiablePresentation, verifiableCredential and proof
    present) and its terms-of-use credential, whose ODRL terms expand with nothing lost (an
    undefined type or a relative identifier is kept by JSON-LD, not dropped)."""
    result = run_process(*GENERATOR, vector_path("vc-test-suite", name), cwd=tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout) == vector_json("vc-test-suite", name)


def test_object_contexts_and_credential_arrays_are_kept(tmp_path: Path) -> None:
    """Subsequent @context items may be objects (the document is then judged by the data
    model alone: vc-im never fetches or trusts an unknown context), and credentialSubject may
    be a set of objects."""
    document = example_1()
    document["@context"].append({"image": {"@id": "schema:image", "@type": "@id"}})
    document["credentialSubject"] = [{"id": "did:example:a", "alumniOf": "A"},
                                     {"id": "did:example:b", "alumniOf": "B"}]
    result = run_process(*GENERATOR, write(tmp_path, document), cwd=tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout) == document


def _del(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.pop(name)


def _put(name: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.__setitem__(name, value)


# The suite's negative documents (the "bad" inputs of 10-basic.js, 20-advanced.js and
# 60-zkp.js), each as the one change it makes, and the rule vc-im names.
REFUSED = [
    ("example-1-bad-cardinality", _put("@context", []), "context-ordered-set"),
    ("example-1-bad-url", _put("@context", ["https://w3.org/2018/credentials/v1"]),
     "context-first"),
    ("example-2-bad-cardinality", _put("id", ["http://example.edu/1", "http://example.edu/2"]),
     "id-uri"),
    ("example-3-bad-cardinality", _put("type", []), "type-values"),
    ("example-3-bad-missing-type", _put("type", ["AlumniCredential"]), "type-includes-vc"),
    ("example-014-bad-no-credential-subject", _del("credentialSubject"),
     "credentialSubject-present"),
    ("example-4-bad-missing-issuer", _del("issuer"), "issuer-present"),
    ("example-4-bad-issuer-uri", _put("issuer", "example.edu"), "issuer-uri"),
    ("example-4-bad-issuer-cardinality", _put("issuer", ["https://a.example", "https://b.ex"]),
     "issuer-uri"),
    ("example-4-bad-missing-issuanceDate", _del("issuanceDate"), "issuanceDate-present"),
    ("example-4-bad-issuanceDate", _put("issuanceDate", "2010-01-01 19:23:24"), "date-format"),
    ("example-4-bad-issuanceDate-cardinality",
     _put("issuanceDate", ["2010-01-01T19:23:24Z", "2011-01-01T19:23:24Z"]), "date-format"),
    ("example-5-bad-proof", _del("proof"), "proof-type"),
    ("example-5-bad-proof-missing-type", _put("proof", {"created": "2018-01-01T00:00:00Z"}),
     "proof-type"),
    ("example-6-bad-expirationDate", _put("expirationDate", "2020-13-01T19:23:24Z"),
     "date-format"),
    ("example-6-bad-cardinality", _put("expirationDate", ["2020-01-01T19:23:24Z"]),
     "date-format"),
    ("example-7-bad-missing-id", _put("credentialStatus", {"type": "CredentialStatusList2017"}),
     "status-typed"),
    ("example-7-bad-missing-type", _put("credentialStatus", {"id": "https://example.edu/s/1"}),
     "status-typed"),
    ("schema without type", _put("credentialSchema", {"id": "https://example.org/s.json"}),
     "schema-typed"),
    ("refresh service without id", _put("refreshService", {"type": "ManualRefreshService2018"}),
     "refresh-typed"),
    ("terms of use without type", _put("termsOfUse", [{"id": "http://example.com/p/1"}]),
     "terms-typed"),
    ("evidence without type", _put("evidence", [{"id": "https://example.edu/e/1"}]),
     "evidence-typed"),
    ("example-015-zkp-bad-no-credential-schema", _put("proof", {"type": "CLSignature2019"}),
     "zkp-credentialSchema"),
    ("undefined term", lambda d: d["credentialSubject"].__setitem__("shoeSize", 44),
     "jsonld-lossless"),
]


@pytest.mark.parametrize(("name", "mutate", "rule"), REFUSED, ids=[case[0] for case in REFUSED])
def test_documents_breaking_a_must_are_refused(tmp_path: Path, name: str,
                                               mutate: Callable[[dict[str, Any]], None],
                                               rule: str) -> None:
    """Each suite negative: a non-zero exit, nothing on stdout, one sentence naming the
    rule. The last case is vc-im's own: a term the pinned contexts do not define."""
    document = example_1()
    mutate(document)
    result = run_process(*GENERATOR, write(tmp_path, document), cwd=tmp_path)
    assert result.returncode == 1, name
    assert result.stdout == ""
    assert f"[{rule}]" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(("name", "change", "rule"), [
    # Without VerifiablePresentation in its type it is read as a credential, and refused so.
    ("example-8-bad-type", _put("type", ["CredentialManagerPresentation"]), "type-includes-vc"),
    ("example-8-bad-missing-proof", _del("proof"), "proof-type"),
    ("example-8-bad-missing-proof-type", _put("proof", [{}]), "proof-type"),
    ("example-015-zkp-vp-bad-missing-verifiableCredential", _del("verifiableCredential"),
     "zkp-verifiableCredential"),
    ("example-015-zkp-vp-bad-no-credential-schema",
     lambda d: d["verifiableCredential"][0].pop("credentialSchema"), "zkp-credentialSchema"),
])
def test_presentations_breaking_a_must_are_refused(tmp_path: Path, name: str,
                                                   change: Callable[[dict[str, Any]], None],
                                                   rule: str) -> None:
    """The suite's negative presentations, made from its ZKP presentation."""
    document = vector_json("vc-test-suite", "example-015-zkp-vp.jsonld")
    change(document)
    result = run_process(*GENERATOR, write(tmp_path, document), cwd=tmp_path)
    assert result.returncode == 1, name
    assert f"[{rule}]" in result.stderr


def test_jwt_credential_maps_the_claims_and_verifies(tmp_path: Path) -> None:
    """--jwt (50-jwt.js): a JWT with typ JWT and alg ES256K from the suite's P-256K key, vc
    present and unchanged, iss, nbf, exp, jti and sub from the document, additional claims
    in vc.credentialSubject; the signature verifies with the key's public part."""
    result = run_process(*GENERATOR, "--jwt", es256k_option(), "--jwt-aud", AUD,
                         vector_path("vc-test-suite", "example-016-jwt.jsonld"), cwd=tmp_path)
    assert result.returncode == 0
    token = result.stdout.strip()
    header, payload = payload_of(token)
    assert header == {"alg": "ES256K", "typ": "JWT", "kid": "did:example:0xab#verikey-1"}
    assert payload["vc"] == vector_json("vc-test-suite", "example-016-jwt.jsonld")
    assert payload["vc"]["type"] == "VerifiableCredential"
    assert payload["iss"] == "https://example.edu/issuers/14"
    assert payload["nbf"] == 1262373804  # 2010-01-01T19:23:24Z
    assert payload["exp"] == 1577906604  # 2020-01-01T19:23:24Z
    assert payload["jti"] == "http://example.edu/credentials/58473"
    assert payload["sub"] == "did:example:ebfeb1f712ebc6f1c276e12ec21"
    assert payload["vc"]["credentialSubject"]["alumniOf"] == "Example University"
    assert "aud" not in payload
    jwk = {**vector_json("vc-test-suite", "config-jwt-keys.json")["es256kPrivateKeyJwk"],
           "crv": "secp256k1"}
    public = keys.key_from_jwk(jwk).public()
    assert _jose.verify_signature(_jose.peek_unverified(token), public)


def test_jwt_claims_only_where_the_document_has_them(tmp_path: Path) -> None:
    """No expirationDate, no exp; no id, no jti (the suite's -no-exp and -no-jti cases)."""
    document = vector_json("vc-test-suite", "example-016-jwt.jsonld")
    del document["expirationDate"], document["id"]
    result = run_process(*GENERATOR, "--jwt", es256k_option(), "--jwt-aud", AUD,
                         write(tmp_path, document), cwd=tmp_path)
    _, payload = payload_of(result.stdout.strip())
    assert {"exp", "jti"}.isdisjoint(payload)
    assert {"iss", "nbf", "sub", "vc"} <= set(payload)


def test_rs256_key_is_preferred(tmp_path: Path) -> None:
    """With both keys, the adapter signs RS256 (the suite accepts RS256 or ES256K)."""
    rsa = keys.generate("RS256", kid="did:example:rsa#1")
    option = suite_keys_option(
        es256kPrivateKeyJwk=vector_json("vc-test-suite", "config-jwt-keys.json")[
            "es256kPrivateKeyJwk"],
        rs256PrivateKeyJwk=rsa.private_jwk())
    result = run_process(*GENERATOR, "--jwt", option, "--jwt-aud", AUD,
                         vector_path("vc-test-suite", "example-016-jwt.jsonld"), cwd=tmp_path)
    token = result.stdout.strip()
    assert payload_of(token)[0]["alg"] == "RS256"
    assert _jose.verify_signature(_jose.peek_unverified(token), rsa.public())


def test_unsigned_jwt_only_with_an_embedded_proof(tmp_path: Path) -> None:
    """--jwt-no-jws: alg none and an empty signature, the proof travelling in vc; without a
    proof in the document it is refused ("If no JWS is present, a proof property MUST be
    provided")."""
    document = vector_json("vc-test-suite", "example-016-jwt.jsonld")
    document["proof"] = {"type": "RsaSignature2018"}
    result = run_process(*GENERATOR, "--jwt", es256k_option(), "--jwt-aud", AUD, "--jwt-no-jws",
                         write(tmp_path, document), cwd=tmp_path)
    token = result.stdout.strip()
    header, payload = payload_of(token)
    assert header == {"alg": "none", "typ": "JWT"}
    assert token.endswith(".")
    assert payload["vc"]["proof"] == {"type": "RsaSignature2018"}
    del document["proof"]
    refused = run_process(*GENERATOR, "--jwt", es256k_option(), "--jwt-no-jws",
                          write(tmp_path, document, "no-proof.jsonld"), cwd=tmp_path)
    assert refused.returncode == 1
    assert "[proof-type]" in refused.stderr


def test_jwt_presentation(tmp_path: Path) -> None:
    """--jwt-presentation: vp present, aud from --jwt-aud, jti from id, iss from holder; a
    presentation without holder gets no iss, one without id no jti."""
    result = run_process(*GENERATOR, "--jwt", es256k_option(), "--jwt-aud", AUD,
                         "--jwt-presentation",
                         vector_path("vc-test-suite", "example-016-jwt-presentation.jsonld"),
                         cwd=tmp_path)
    assert result.returncode == 0
    _, payload = payload_of(result.stdout.strip())
    assert payload["aud"] == AUD
    assert payload["jti"] == "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5"
    assert payload["iss"] == "did:example:ebfeb1f712ebc6f1c276e12ec21"
    assert payload["vp"]["verifiableCredential"][0].count(".") == 2
    document = vector_json("vc-test-suite", "example-016-jwt-presentation.jsonld")
    del document["holder"], document["id"]
    bare = run_process(*GENERATOR, "--jwt", es256k_option(), "--jwt-aud", AUD,
                       "--jwt-presentation", write(tmp_path, document), cwd=tmp_path)
    assert {"iss", "jti"}.isdisjoint(payload_of(bare.stdout.strip())[1])


def test_jwt_decode_maps_the_claims_back(tmp_path: Path) -> None:
    """--jwt-decode of the suite's example-016-jwt.jwt ([1.1] §6.3.1 decoding): content of vc,
    then expirationDate from exp, issuer from iss, issuanceDate from nbf, credentialSubject.id
    from sub, id from jti; no signature, time or context check (its vc's context is not even
    the base context)."""
    result = run_process(*GENERATOR, "--jwt", es256k_option(), "--jwt-aud", AUD,
                         "--jwt-decode", vector_path("vc-test-suite", "example-016-jwt.jwt"),
                         cwd=tmp_path)
    assert result.returncode == 0
    document = json.loads(result.stdout)
    assert document["type"] == ["VerifiableCredential", "UniversityDegreeCredential"]
    assert document["expirationDate"] == "2019-11-06T08:42:03Z"  # 1573029723
    assert document["issuer"] == "did:example:abfe13f712120431c276e12ecab"
    assert document["issuanceDate"] == "2018-11-06T08:42:04Z"  # 1541493724
    assert document["credentialSubject"]["id"] == "did:example:ebfeb1f712ebc6f1c276e12ec21"
    assert document["id"] == "http://example.edu/credentials/3732"
    assert "nonce" not in document


def test_jwt_decode_of_a_presentation_sets_holder(tmp_path: Path) -> None:
    """A VP JWT decodes with iss as holder: the round trip of --jwt-presentation."""
    signed = run_process(*GENERATOR, "--jwt", es256k_option(), "--jwt-presentation",
                         vector_path("vc-test-suite", "example-016-jwt-presentation.jsonld"),
                         cwd=tmp_path)
    token = tmp_path / "vp.jwt"
    token.write_text(signed.stdout, encoding="ascii")
    decoded = run_process(*GENERATOR, "--jwt-decode", token, cwd=tmp_path)
    assert json.loads(decoded.stdout) == vector_json("vc-test-suite",
                                                     "example-016-jwt-presentation.jsonld")


@pytest.mark.parametrize(("args", "fragment"), [
    (("--jwt-no-jws", "--jwt-decode"), "at most one of"),
    (("--jwt-presentation",), "give the keys with --jwt"),
    (("--jwt", "not base64!"), "not base64"),
    (("--jwt", base64.b64encode(b'{"hs256Key": {}}').decode()), "unknown members"),
    (("--jwt", base64.b64encode(json.dumps({"rs256PrivateKeyJwk": {
        "kty": "EC", "crv": "P-256K", "x": "7KEKZa5xJPh7WVqHJyUpb2MgEe3nA8Rk7eUlXsmBl-M",
        "y": "3zIgl_ml4RhapyEm5J7lvU-4f5jiBvZr4KgxUjEhl9o",
        "d": "IQkxsrZICFvhYEe6ft3wk-LISUUkcFj5uScVQAUGizo"}}).encode()).decode()),
     "not an RS256 key"),
])
def test_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    """Contradictory modes and unusable keys: exit 2, one sentence, nothing printed."""
    result = run_process(*GENERATOR, *args, write(tmp_path, example_1()), cwd=tmp_path)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert result.stdout == ""


def test_jwt_mode_must_fit_the_document(tmp_path: Path) -> None:
    """--jwt signs a credential, --jwt-presentation a presentation: a mismatch is refused
    with the way out."""
    presentation = run_process(*GENERATOR, "--jwt", es256k_option(),
                               vector_path("vc-test-suite", "example-016-jwt-presentation.jsonld"),
                               cwd=tmp_path)
    assert presentation.returncode == 1
    assert "sign it with --jwt-presentation" in presentation.stderr
    credential = run_process(*GENERATOR, "--jwt", es256k_option(), "--jwt-presentation",
                             vector_path("vc-test-suite", "example-016-jwt.jsonld"),
                             cwd=tmp_path)
    assert credential.returncode == 1
    assert "has no VerifiablePresentation" in credential.stderr


def test_p256k_is_the_adapters_spelling_only(tmp_path: Path) -> None:
    """The suite's curve name is accepted by the adapter, and by nothing else in vc-im."""
    jwk = vector_json("vc-test-suite", "config-jwt-keys.json")["es256kPrivateKeyJwk"]
    key_file = write(tmp_path, jwk, "p256k.jwk")
    result = run_process("key", "show", key_file, cwd=tmp_path)
    assert result.returncode == 2


def test_the_script_and_the_entry_point_are_the_command(tmp_path: Path) -> None:
    """scripts/vcdm11-generator, the file the suite's config names, behaves as the command."""
    import subprocess
    import sys

    from tests.helpers.cli import IMPORT_ROOT, process_env

    script = IMPORT_ROOT / "scripts" / "vcdm11-generator"
    assert script.stat().st_mode & 0o111
    result = subprocess.run([sys.executable, str(script), str(write(tmp_path, example_1()))],
                            cwd=tmp_path, env=process_env(tmp_path), capture_output=True,
                            text=True, timeout=120, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == example_1()
    bad = example_1()
    del bad["issuer"]
    refused = subprocess.run([sys.executable, str(script), str(write(tmp_path, bad))],
                             cwd=tmp_path, env=process_env(tmp_path), capture_output=True,
                             text=True, timeout=120, check=False)
    assert refused.returncode == 1
    assert "[issuer-present]" in refused.stderr
