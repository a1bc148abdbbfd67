"""vc_im.vcdm: each normative MUST of the VC Data Model 1.1 and 2.0 that a document shows,
as a stable rule id at an exact path; conforming documents break none."""

from __future__ import annotations

import copy
import string
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vc_im import vcdm

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"


def credential(version: int) -> dict[str, Any]:
    """A credential that keeps every rule of its version."""
    document: dict[str, Any] = {
        "@context": [V1 if version == 1 else V2, "https://www.w3.org/2018/credentials/examples/v1"
                     if version == 1 else "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "http://example.edu/credentials/3732",
        "type": ["VerifiableCredential", "UniversityDegreeCredential"],
        "issuer": "https://example.edu/issuers/14",
        "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
                              "degree": {"type": "BachelorDegree", "name": "BSc"}},
        "credentialStatus": {"id": "https://example.edu/status/24#94567",
                             "type": "BitstringStatusListEntry"},
        "credentialSchema": {"id": "https://example.org/examples/degree.json",
                             "type": "JsonSchema"},
        "refreshService": {"id": "https://example.edu/refresh/3732",
                           "type": "ManualRefreshService2018"},
        "termsOfUse": [{"type": "IssuerPolicy", "id": "http://example.com/policies/1"}],
        "evidence": [{"type": ["DocumentVerification"], "verifier": "https://example.edu/x"}],
        "proof": {"type": "DataIntegrityProof"},
    }
    if version == 1:
        document.update(issuanceDate="2010-01-01T19:23:24Z", expirationDate="2030-01-01T00:00:00")
    else:
        document.update(validFrom="2010-01-01T19:23:24Z", validUntil="2030-01-01T00:00:00+01:00")
    return document


def presentation(version: int) -> dict[str, Any]:
    """A presentation that keeps every rule of its version, one credential inside."""
    inner = credential(version)
    if version == 2:
        inner = {"@context": V2, "type": "EnvelopedVerifiableCredential",
                 "id": "data:application/vc+jwt,eyJhbGciOiJFUzI1NiJ9.e30.c2ln"}
    return {"@context": [V1 if version == 1 else V2], "id": "urn:uuid:3978344f-8596",
            "type": "VerifiablePresentation", "holder": "did:example:holder",
            "verifiableCredential": [inner], "proof": [{"type": "Ed25519Signature2020"}]}


def rules(violations: tuple[vcdm.Violation, ...]) -> list[tuple[str, str]]:
    return [(violation.rule, violation.path) for violation in violations]


@pytest.mark.parametrize("version", [1, 2])
def test_conforming_documents_break_no_rule(version: int) -> None:
    """A full credential and a presentation of each version: no violation, version found."""
    assert vcdm.check_credential(credential(version)) == ()
    assert vcdm.check_presentation(presentation(version)) == ()
    assert vcdm.document_version(credential(version)) == version


def _delete(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.pop(name)


def _set(name: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.__setitem__(name, value)


def _set_in(name: str, member: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda document: document[name].__setitem__(member, value)


def _delete_in(name: str, member: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document[name].pop(member)


# (what is broken, how, the rule, its path): the MUSTs of [1.1] §4-§5 and [2.0] §4-§5 that
# hold in both versions.
BOTH_VERSIONS = [
    ("no @context", _delete("@context"), "context-present", "@context"),
    ("empty @context", _set("@context", []), "context-ordered-set", "@context"),
    ("first context not the base", _set("@context", ["https://example.com/v1"]),
     "context-first", "@context[0]"),
    ("a context that is a number", lambda d: d["@context"].append(3), "context-items",
     "@context[2]"),
    ("id not a URI", _set("id", "credential-3732"), "id-uri", "id"),
    ("id an array", _set("id", ["urn:a", "urn:b"]), "id-uri", "id"),
    ("no type", _delete("type"), "type-present", "type"),
    ("type without VerifiableCredential", _set("type", ["UniversityDegreeCredential"]),
     "type-includes-vc", "type"),
    ("type holding an object", _set("type", ["VerifiableCredential", {"a": 1}]), "type-values",
     "type"),
    ("type with an empty string", _set("type", ["VerifiableCredential", ""]), "type-values",
     "type"),
    ("no issuer", _delete("issuer"), "issuer-present", "issuer"),
    ("issuer not a URI", _set("issuer", "Example University"), "issuer-uri", "issuer"),
    ("issuer an array", _set("issuer", ["https://a.example", "https://b.example"]),
     "issuer-uri", "issuer"),
    ("issuer object without id", _set("issuer", {"name": "Example University"}), "issuer-uri",
     "issuer.id"),
    ("no credentialSubject", _delete("credentialSubject"), "credentialSubject-present",
     "credentialSubject"),
    ("credentialSubject a string", _set("credentialSubject", "did:example:1"),
     "credentialSubject-objects", "credentialSubject"),
    ("credentialSubject empty", _set("credentialSubject", []), "credentialSubject-objects",
     "credentialSubject"),
    ("subject id not a URI", _set_in("credentialSubject", "id", "alice"), "id-uri",
     "credentialSubject.id"),
    ("status without type", _delete_in("credentialStatus", "type"), "status-typed",
     "credentialStatus.type"),
    ("schema without id", _delete_in("credentialSchema", "id"), "schema-typed",
     "credentialSchema.id"),
    ("schema without type", _delete_in("credentialSchema", "type"), "schema-typed",
     "credentialSchema.type"),
    ("schema id not a URI", _set_in("credentialSchema", "id", "degree.json"), "id-uri",
     "credentialSchema.id"),
    ("refresh service without type", _delete_in("refreshService", "type"), "refresh-typed",
     "refreshService.type"),
    ("terms of use without type", lambda d: d["termsOfUse"][0].pop("type"), "terms-typed",
     "termsOfUse[0].type"),
    ("evidence without type", lambda d: d["evidence"][0].pop("type"), "evidence-typed",
     "evidence[0].type"),
    ("evidence not an object", _set("evidence", ["a"]), "evidence-typed", "evidence[0]"),
    ("proof without type", _set("proof", {"created": "2020-01-01T00:00:00Z"}), "proof-type",
     "proof.type"),
    ("second proof without type", _set("proof", [{"type": "A"}, {}]), "proof-type",
     "proof[1].type"),
    ("zkp proof without credentialSchema",
     lambda d: (d.pop("credentialSchema"), d.__setitem__("proof", {"type": "CLSignature2019"})),
     "zkp-credentialSchema", "credentialSchema"),
]

V1_ONLY = [
    ("no issuanceDate", _delete("issuanceDate"), "issuanceDate-present", "issuanceDate"),
    ("issuanceDate not a dateTime", _set("issuanceDate", "2010-01-01"), "date-format",
     "issuanceDate"),
    ("issuanceDate an array", _set("issuanceDate", ["2010-01-01T19:23:24Z"]), "date-format",
     "issuanceDate"),
    ("expirationDate on 30 February", _set("expirationDate", "2030-02-30T00:00:00Z"),
     "date-format", "expirationDate"),
    ("status without id", _delete_in("credentialStatus", "id"), "status-typed",
     "credentialStatus.id"),
    ("refresh service without id", _delete_in("refreshService", "id"), "refresh-typed",
     "refreshService.id"),
]

V2_ONLY = [
    ("validUntil before validFrom", _set("validUntil", "2009-12-31T23:59:59Z"),
     "validity-order", "validUntil"),
    ("related resource without a digest",
     _set("relatedResource", [{"id": "https://www.w3.org/2018/credentials/v2"}]),
     "related-resource", "relatedResource[0]"),
    ("name a number", _set("name", 7), "name-description", "name"),
    ("description language value without @value",
     _set("description", [{"@language": "fr"}]), "name-description", "description[0]"),
    ("issuer name an object with other members",
     _set("issuer", {"id": "https://example.edu", "name": {"@value": "U", "x": 1}}),
     "name-description", "issuer.name"),
    ("validFrom without a time zone", _set("validFrom", "2010-01-01T19:23:24"), "date-format",
     "validFrom"),
    ("validUntil a number", _set("validUntil", 1262373804), "date-format", "validUntil"),
    ("first context the 1.1 base", _set("@context", [V1, V2]), "context-first", "@context[0]"),
]


@pytest.mark.parametrize(
    ("version", "name", "mutate", "rule", "path"),
    [(1, *case) for case in BOTH_VERSIONS + V1_ONLY]
    + [(2, *case) for case in BOTH_VERSIONS + V2_ONLY],
    ids=lambda value: value if isinstance(value, str) and " " in value else None,
)
def test_each_credential_must_is_its_own_rule(version: int, name: str,
                                              mutate: Callable[[dict[str, Any]], None],
                                              rule: str, path: str) -> None:
    """Breaking one MUST yields exactly that rule at that path, for the version asked."""
    document = credential(version)
    mutate(document)
    assert rules(vcdm.check_credential(document, version=version)) == [(rule, path)], name


def test_version_two_relaxes_what_it_relaxes() -> None:
    """[2.0] needs no issuanceDate, no credentialStatus or refreshService id, and allows an
    issuer object with an id and a holder object; [1.1] needs them."""
    document = credential(2)
    del document["credentialStatus"]["id"]
    del document["refreshService"]["id"]
    document["issuer"] = {"id": "https://example.edu/issuers/14", "name": "Example"}
    document["name"] = [{"@value": "Diplôme", "@language": "fr"}, "Degree"]
    document["relatedResource"] = [{"id": "https://example.edu/logo.png",
                                    "digestSRI": "sha384-abc"}]
    assert vcdm.check_credential(document) == ()
    older = credential(1)
    del older["credentialStatus"]["id"]
    assert rules(vcdm.check_credential(older)) == [("status-typed", "credentialStatus.id")]


def test_credential_status_of_the_other_version_is_judged_by_its_context() -> None:
    """version=None reads the version from the first context: a 2.0 document is not asked
    for an issuanceDate, a 1.1 one is."""
    document = credential(2)
    assert vcdm.check_credential(document) == ()
    assert ("issuanceDate-present", "issuanceDate") in rules(
        vcdm.check_credential(document, version=1))


def test_a_single_context_string_is_an_ordered_set_of_one() -> None:
    """JSON-LD allows one context as a plain string (VC DM 2.0's enveloped credential
    examples use it); an empty string or list is refused."""
    document = credential(2)
    document["@context"] = V2
    assert vcdm.check_credential(document) == ()
    document["@context"] = "https://example.com/v2"
    assert rules(vcdm.check_credential(document, version=2)) == [("context-first",
                                                                  "@context[0]")]


PRESENTATION_CASES = [
    (1, "type without VerifiablePresentation", _set("type", ["CredentialManagerPresentation"]),
     "type-includes-vp", "type"),
    (1, "holder not a URI", _set("holder", "Alice"), "holder-uri", "holder"),
    (1, "holder an object in 1.1", _set("holder", {"id": "did:example:holder"}), "holder-uri",
     "holder"),
    (2, "holder object without id", _set("holder", {"name": "Alice"}), "holder-uri",
     "holder.id"),
    (1, "presented credential without issuer",
     lambda d: d["verifiableCredential"][0].pop("issuer"), "issuer-present",
     "verifiableCredential[0].issuer"),
    (1, "presented credential a number", _set("verifiableCredential", [7]), "vp-credential",
     "verifiableCredential[0]"),
    (1, "presented credential a string that is not a JWT", _set("verifiableCredential", ["x"]),
     "vp-credential", "verifiableCredential[0]"),
    (2, "a bare JWT in a 2.0 presentation", _set("verifiableCredential", ["a.b.c"]),
     "vp-credential", "verifiableCredential[0]"),
    (2, "enveloped credential whose id is no data: URL",
     lambda d: d["verifiableCredential"][0].__setitem__("id", "not-a-credential"),
     "vp-credential", "verifiableCredential[0].id"),
    (1, "zkp presentation without credentials",
     lambda d: (d.pop("verifiableCredential"), d.__setitem__("proof", {"type": "CLSignature2019"})),
     "zkp-verifiableCredential", "verifiableCredential"),
    (1, "presentation proof without type", _set("proof", [{}]), "proof-type", "proof[0].type"),
]


@pytest.mark.parametrize(("version", "name", "mutate", "rule", "path"), PRESENTATION_CASES,
                         ids=[case[1] for case in PRESENTATION_CASES])
def test_each_presentation_must_is_its_own_rule(version: int, name: str,
                                                mutate: Callable[[dict[str, Any]], None],
                                                rule: str, path: str) -> None:
    """[1.1] §4.10, §5.8 and [2.0] §4.13: the presentation rules, and those of the
    credentials it carries, with paths inside the presentation."""
    document = presentation(version)
    mutate(document)
    assert rules(vcdm.check_presentation(document, version=version)) == [(rule, path)], name


def test_presentation_without_credentials_is_allowed_outside_zkp() -> None:
    """[1.1] §4.10: verifiableCredential is optional ("if present")."""
    document = presentation(1)
    del document["verifiableCredential"]
    assert vcdm.check_presentation(document) == ()


def test_presented_credential_may_inherit_the_presentation_context() -> None:
    """A credential embedded in a presentation without its own @context is under the
    presentation's (JSON-LD); one with a wrong @context is still refused."""
    document = presentation(1)
    del document["verifiableCredential"][0]["@context"]
    assert vcdm.check_presentation(document) == ()
    document["verifiableCredential"][0]["@context"] = ["https://example.com/v1"]
    assert rules(vcdm.check_presentation(document)) == [
        ("context-first", "verifiableCredential[0].@context[0]")]


def test_not_an_object() -> None:
    """A document that is not a JSON object breaks document-object, and nothing else."""
    assert rules(vcdm.check_credential([1, 2])) == [("document-object", "$")]  # type: ignore[arg-type]
    assert rules(vcdm.check_presentation("vp")) == [("document-object", "$")]  # type: ignore[arg-type]


def test_unknown_version_is_a_programming_error() -> None:
    """Only versions 1 and 2 exist."""
    with pytest.raises(ValueError, match="use 1 or 2"):
        vcdm.check_credential(credential(1), version=3)


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31),
                    timezones=st.just(UTC)))
def test_every_utc_instant_is_a_date_time_of_both_versions(moment: datetime) -> None:
    """Any instant written as YYYY-MM-DDThh:mm:ss[.f]Z is a dateTime and a dateTimeStamp."""
    text = moment.isoformat().replace("+00:00", "Z")
    assert vcdm.is_date_time(text, version=1)
    assert vcdm.is_date_time(text, version=2)
    assert not vcdm.is_date_time(text.removesuffix("Z"), version=2)


@given(st.text(alphabet=string.ascii_letters + string.digits + "-._~/?#[]@!$&'()*+,;=%",
               max_size=40))
def test_text_without_a_colon_is_never_a_uri(text: str) -> None:
    """An identifier must be an absolute URI: with no scheme separator it never is, and a
    credential whose id it is breaks id-uri."""
    candidate = text.replace(":", "")
    assert not vcdm.is_uri(candidate)
    document = credential(1)
    document["id"] = candidate
    assert ("id-uri", "id") in rules(vcdm.check_credential(document))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["@context", "id", "type", "issuer", "credentialSubject", "proof",
                         "issuanceDate", "validFrom", "holder", "verifiableCredential",
                         "credentialStatus", "evidence", "x"]), inner, max_size=5),
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from(["@context", "id", "type", "issuer",
                                        "credentialSubject", "proof", "issuanceDate",
                                        "validUntil", "holder", "verifiableCredential",
                                        "termsOfUse", "refreshService"]), JSON, max_size=6),
       st.sampled_from([None, 1, 2]))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_any_json_object_gets_violations_never_an_exception(document: dict[str, Any],
                                                            version: int | None) -> None:
    """Hostile input: whatever the object holds, both checks return Violations (each with a
    rule, a path and a sentence) and leave the document unchanged."""
    before = copy.deepcopy(document)
    for check in (vcdm.check_credential, vcdm.check_presentation):
        for violation in check(document, version=version):
            assert violation.rule
            assert violation.path
            assert violation.message.endswith(".")
    assert document == before


@given(st.lists(st.text(alphabet=string.ascii_letters, min_size=1, max_size=12), max_size=4))
def test_type_without_verifiable_credential_always_breaks_the_rule(types: list[str]) -> None:
    """For every list of type names, the credential rule holds iff VerifiableCredential is
    among them."""
    document = credential(2)
    document["type"] = types
    broken = ("type-includes-vc", "type") in rules(vcdm.check_credential(document))
    assert broken == ("VerifiableCredential" not in types)
