"""vc_im.lint: decoding without verifying, and the seed draft's pitfalls explained."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import vc_im._jose.jws as jose
from tests.helpers.vectors import vector_path, vector_text
from vc_im.errors import TokenError
from vc_im.lint import Inspection, inspect

SEED_VC = vector_path("seed", "vc-claims.json")

#: The DPoP figure of the seed draft (SPEC-NOTES §1.3), header and claims, verbatim.
DPOP_HEADER = """{
    "typ": "dpop+jwt",
    "alg": "EdDSA",
    "jwk": {
         "typ": "OKP",
         "crv": "Ed25519",
         "x": "9kaYCj...3lnwW"
    }
}"""
DPOP_CLAIMS = """{
    "jti": "7535d380-673e-4219-8410-b8df679c306e",
    "iat": 1653455836315,
    "htm": "POST",
    "htu": "https://example.com/client/token",
    "nonce": "WE88EvOBzbqGerznM-2P_AadVf7374y0cH19sDSZA2A",
    "sub": "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com",
    "exp": 1661231836315
}"""


def compact(header: bytes, payload: bytes) -> bytes:
    """An (unsigned) compact JWS around exact header and payload bytes."""
    return (jose.b64url_encode(header) + "." + jose.b64url_encode(payload) + ".c2ln").encode()


def codes(result: Inspection) -> Counter[str]:
    """The pitfall codes found, with their counts."""
    return Counter(p.code for p in result.pitfalls)


def test_seed_vector_is_the_spec_notes_text() -> None:
    """tests/vectors/seed/vc-claims.json is exactly the VC figure quoted in SPEC-NOTES §1.3."""
    text = vector_text("spec-notes", "SPEC-NOTES-1.3.md")
    start = text.index("```text\n", text.index("**VC figure**")) + len("```text\n")
    assert SEED_VC.read_text(encoding="utf-8") == text[start:text.index("```", start)]


def test_seed_vc_example_pitfalls() -> None:
    """The seed's VC claims: duplicate member, three millisecond dates, the vCard namespace."""
    result = inspect(SEED_VC.read_bytes())
    assert result.header is None
    assert codes(result) == Counter({"duplicate_member": 1, "milliseconds": 3,
                                     "vcard_namespace_context": 1, "not_array": 1})
    assert "unknown_term" not in codes(result)  # hasOrganizationalUnit is our term
    by_code = {(p.code, p.path): p.message for p in result.pitfalls}
    assert set(by_code) == {
        ("duplicate_member", "hasInstantMessage"),
        ("milliseconds", "$.nbf"), ("milliseconds", "$.iat"), ("milliseconds", "$.exp"),
        ("vcard_namespace_context", "$.vc.@context[1]"),
        ("not_array", "$.vc.credentialSubject.hasInstantMessage"),
    }
    assert by_code["milliseconds", "$.nbf"] == (
        "nbf = 1653455836315 counts milliseconds; JWT NumericDates count seconds "
        "(RFC 7519 §2): write 1653455836 (2022-05-25T05:17:16Z)")
    assert "2022-08-23T05:17:16Z" in by_code["milliseconds", "$.exp"]
    assert "http://www.w3.org/2006/vcard/ns is the vCard namespace, not a JSON-LD context" in (
        by_code["vcard_namespace_context", "$.vc.@context[1]"])
    assert "appears more than once" in by_code["duplicate_member", "hasInstantMessage"]


def test_draft_spelling_is_explained_not_recommended() -> None:
    """hasOrganizationalUnit gets a note naming the ontology's term, not a pitfall; the
    ontology's hasOrganizationUnit gets neither; both together are flagged as rejected."""
    draft = inspect(SEED_VC.read_bytes())
    (note,) = draft.notes
    assert (note.code, note.path) == ("draft_spelling", "$.vc.credentialSubject."
                                      "hasOrganizationalUnit")
    assert "the MIMI draft's spelling, not a vCard term" in note.message
    assert "write hasOrganizationalUnit" not in note.message
    assert "vcard:hasOrganizationUnit" in note.message
    payload = json.loads(SEED_VC.read_text().replace("hasOrganizationalUnit",
                                                     "hasOrganizationUnit"))
    ontology = inspect(json.dumps(payload).encode())
    assert ontology.notes == ()
    assert all(p.code != "unknown_term" for p in ontology.pitfalls)
    payload["vc"]["credentialSubject"]["hasOrganizationalUnit"] = "Engineering"
    (both,) = inspect(json.dumps(payload).encode()).notes
    assert "rejects the two together (schema_invalid)" in both.message


def test_seed_vc_example_payload_is_shown_as_read() -> None:
    """The payload shown is what a last-wins parser reads: the device URI, the handle lost."""
    result = inspect(SEED_VC.read_bytes())
    subject = result.payload["vc"]["credentialSubject"]
    assert subject["hasInstantMessage"] == "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
    assert subject["hasOrganizationalUnit"] == "Engineering"
    assert result.payload["nbf"] == 1653455836315


def test_seed_vc_example_as_a_compact_jws() -> None:
    """The seed's claims inside a compact JWS give the same pitfalls and show the header."""
    result = inspect(compact(b'{"alg":"EdDSA","typ":"JWT"}', SEED_VC.read_bytes()))
    assert result.header == {"alg": "EdDSA", "typ": "JWT"}
    assert codes(result) == Counter({"duplicate_member": 1, "milliseconds": 3,
                                     "vcard_namespace_context": 1, "not_array": 1})


def test_seed_dpop_figure_pitfalls() -> None:
    """The seed's DPoP figure: typ in place of kty in the jwk, and millisecond iat and exp."""
    result = inspect(compact(DPOP_HEADER.encode(), DPOP_CLAIMS.encode()))
    assert result.header is not None
    assert result.header["jwk"]["typ"] == "OKP"
    assert codes(result) == Counter({"jwk_typ": 1, "milliseconds": 2})
    jwk_pitfall = next(p for p in result.pitfalls if p.code == "jwk_typ")
    assert jwk_pitfall.path == "$header.jwk"
    assert "'kty'" in jwk_pitfall.message
    assert sorted(p.path for p in result.pitfalls if p.code == "milliseconds") == [
        "$.exp", "$.iat"]


@pytest.mark.parametrize(("change", "expected"), [
    (lambda s: s.update({"organization-unit": s.pop("hasOrganizationalUnit")}),
     ("unknown_term", "$.vc.credentialSubject.organization-unit", "write hasOrganizationUnit")),
    (lambda s: s.update(impp="im:%40alice@example.com"),
     ("unknown_term", "$.vc.credentialSubject.impp", "hasInstantMessage")),
    (lambda s: s.update(email="alice@example.com"),
     ("unknown_term", "$.vc.credentialSubject.email", "does not define it")),
    (lambda s: s.update(hasInstantMessage=["im:wxyz=#projectX@example.com"]),
     ("unencoded_hash", "$.vc.credentialSubject", "%23")),
], ids=["organization-unit", "impp", "email", "unencoded-hash"])
def test_single_pitfalls(change: Callable[[dict[str, Any]], object],
                         expected: tuple[str, str, str], make_credential: Callable[..., str]
                         ) -> None:
    """Each pitfall is found alone in an otherwise clean credential, with a hint."""
    token = make_credential()
    _, payload_b64, _ = token.split(".")
    payload = json.loads(jose.b64url_decode(payload_b64, what="payload"))
    change(payload["vc"]["credentialSubject"])
    result = inspect(json.dumps(payload).encode())
    assert [(p.code, p.path) for p in result.pitfalls] == [expected[:2]]
    assert expected[2] in result.pitfalls[0].message


def test_issued_credential_has_no_pitfalls(make_credential: Callable[..., str]) -> None:
    """A credential vc_im issued decodes to its header and payload with no pitfalls."""
    token = make_credential()
    result = inspect(token.encode() + b"\n")
    unverified = jose.peek_unverified(token)
    assert result.header == unverified.header
    assert result.payload == unverified.payload
    assert result.pitfalls == ()


def test_vc2_vcard_context_is_found_at_the_top_level(make_credential: Callable[..., str]) -> None:
    """In a vc2 payload the @context sits at the top, and its pitfall path says so."""
    from vc_im.model import Encoding

    _, payload_b64, _ = make_credential(encoding=Encoding.VC2).split(".")
    payload = json.loads(jose.b64url_decode(payload_b64, what="payload"))
    payload["@context"][1] = "https://www.w3.org/2006/vcard/ns#"
    result = inspect(json.dumps(payload).encode())
    assert [(p.code, p.path) for p in result.pitfalls] == [
        ("vcard_namespace_context", "$.@context[1]")]


@pytest.mark.parametrize(("data", "message"), [
    (b"not a token", "the input is neither a compact JWS (three parts) nor a JSON object."),
    (b"{", "the claims set is not JSON."),
    (b"[1, 2]", "the input is neither a compact JWS (three parts) nor a JSON object."),
    (b"e30.W10.c2ln", "the header and payload must be JSON objects."),
    (b"e30.A.c2ln", "the payload is not base64url."),
    (b"e30.bm90IGpzb24.c2ln", "the payload is not JSON."),
], ids=["words", "truncated", "array", "array-payload", "bad-base64", "not-json"])
def test_undecodable_input(data: bytes, message: str) -> None:
    """Input that cannot be decoded raises TokenError with one sentence."""
    with pytest.raises(TokenError) as caught:
        inspect(data)
    assert caught.value.message == message


def test_oversized_input() -> None:
    """More than 1 MiB is refused with too_large."""
    with pytest.raises(TokenError) as caught:
        inspect(b" " * ((1 << 20) + 1))
    assert caught.value.code == "too_large"
