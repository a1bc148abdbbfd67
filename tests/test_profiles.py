"""Credential profiles: choosing one, the built-in w3c profile's rules, profile files, the trust
file's profile_files and issuer profiles, and issuing a credential document."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import NOW
from vc_im import _jose as jose
from vc_im import keys, profiles
from vc_im._checks import verify_credential
from vc_im.credentials import document_claims, issue_credential, issue_document
from vc_im.errors import InputError, TrustFileError
from vc_im.model import Credential, Encoding, ProfiledCredential
from vc_im.profiles import IM_DEVICE, IM_USER, W3C, Profile, ProfileError, read_profile_file
from vc_im.report import Report
from vc_im.trust import TrustedIssuer, TrustStore
from vc_im.trust.store import parse_trust, read_trust_file

OTHER = "https://employer.example"
V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
VCIM = "https://vc-im.example/contexts/v1"
AGENT_CONTEXT = "https://sirius.example/contexts/support-agent/v1"


@pytest.fixture(scope="module")
def other_key() -> keys.Key:
    """The key of an issuer that is not an IM provider."""
    return keys.generate("ES256")


def employee(**changes: Any) -> dict[str, Any]:
    """A plain VC 2.0 credential from another issuer, with terms its context defines."""
    document: dict[str, Any] = {
        "@context": [V2], "id": "urn:uuid:7c1b2e55-35e3-4f5f-9a2b-7d1c7c0a3c11",
        "type": ["VerifiableCredential", "EmployeeCredential"], "issuer": OTHER,
        "validFrom": "2023-01-01T00:00:00Z", "validUntil": "2033-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ford", "name": "Ford Prefect"}}
    document.update(changes)
    return document


def signed(key: keys.Key, payload: dict[str, Any], typ: str = "vc+jwt") -> str:
    """``payload`` signed as is (no checks), as another implementation would."""
    return jose.sign({"typ": typ, "kid": key.kid}, payload, key)


def trust_for(key: keys.Key, allowed: frozenset[str] | None,
              files: tuple[Profile, ...] = (), domains: frozenset[str] | None = None,
              ) -> TrustStore:
    """A trust store listing the other issuer, allowed ``allowed`` profiles (None: default)."""
    store = TrustStore.of(TrustedIssuer(OTHER, (key.public(),), domains, allowed))
    return TrustStore(store.issuers, profiles=files)


def failure(report: Report) -> tuple[str, str, str]:
    """The failed check's name, code and reason."""
    check = report.failure
    assert check is not None, report
    return check.name, str(check.code), check.reason


# --- choosing a profile --------------------------------------------------------------------

def test_select_prefers_the_most_specific_profile() -> None:
    """Of the profiles whose types a credential carries, the one with most types applies."""
    agent = Profile("agent", frozenset({"SupportAgentCredential"}))
    types = ["VerifiableCredential", "SupportAgentCredential"]
    assert profiles.select(types, (W3C, agent)) is agent
    assert profiles.select(types, (IM_DEVICE, IM_USER)) is None
    assert profiles.select(["SupportAgentCredential"], (W3C, agent)) is None  # no VC type
    assert profiles.select(["VerifiableCredential", "ImDeviceCredential"],
                           (IM_DEVICE, IM_USER, W3C)) is IM_DEVICE
    assert profiles.select(["VerifiableCredential", "ImUserCredential"], (W3C, agent)) is None


@settings(max_examples=50)
@given(st.lists(st.sampled_from(["VerifiableCredential", "ImDeviceCredential",
                                 "ImUserCredential", "SupportAgentCredential", "X"]),
                max_size=5))
def test_select_only_ever_picks_a_matching_profile(types: list[str]) -> None:
    """For any types, the chosen profile's types are carried, and none more specific fits."""
    agent = Profile("agent", frozenset({"SupportAgentCredential"}))
    pool = (IM_DEVICE, IM_USER, W3C, agent)
    chosen = profiles.select(types, pool)
    fitting = [p for p in pool if p.matches(types)]
    if chosen is None:
        assert fitting == []
    else:
        assert chosen.matches(types)
        assert all(len(p.types) <= len(chosen.types) for p in fitting)


def test_resolve_names_and_refuses_unknown_names() -> None:
    """--profile takes a built-in name or a known file profile's; anything else is refused."""
    assert profiles.resolve("w3c") is W3C
    agent = Profile("agent", frozenset({"A"}))
    assert profiles.resolve("agent", (agent,)) is agent
    with pytest.raises(ProfileError) as caught:
        profiles.resolve("nope")
    assert caught.value.message.startswith("there is no profile named 'nope'")


# --- the w3c profile, end to end through the checks ----------------------------------------

def test_generic_credential_verifies_under_w3c_naming_the_profile(other_key: keys.Key) -> None:
    """A plain credential from a trusted issuer allowed w3c verifies; the report names w3c."""
    report = verify_credential(signed(other_key, employee()),
                               trust_for(other_key, frozenset({"w3c"})), now=NOW)
    assert report.ok, report.failure
    assert report.profile == "w3c"
    assert report.to_json()["profile"] == "w3c"
    assert report.check("types").reason == ("The type is VerifiableCredential, "
                                            "EmployeeCredential (profile w3c).")
    verified = report.verified
    assert isinstance(verified, ProfiledCredential)
    assert (verified.profile, verified.issuer, verified.id) == (
        "w3c", OTHER, "urn:uuid:7c1b2e55-35e3-4f5f-9a2b-7d1c7c0a3c11")


def test_im_only_configuration_refuses_it_naming_the_profile_rule(other_key: keys.Key) -> None:
    """The same credential, under an issuer entry without profiles, is refused with a reason
    that names the im-device and im-user profiles' rule (here the exp they need)."""
    token = signed(other_key, employee())
    report = verify_credential(token, trust_for(other_key, None), now=NOW)
    name, code, reason = failure(report)
    assert (name, code) == ("claims", "missing_claim")
    assert reason == ("The 'exp' claim is missing (a rule of the profiles im-device, im-user, "
                      "which this verifier applies to its issuer); the credential's types fit "
                      "none of them.")
    assert report.profile is None
    with_exp = signed(other_key, {**employee(), "exp": NOW + 3600})
    name, code, reason = failure(verify_credential(with_exp, trust_for(other_key, None),
                                                   now=NOW))
    assert (name, code) == ("types", "bad_type")
    assert reason.endswith("(the types rule of the profiles im-device, im-user, which this "
                           "verifier applies to its issuer).")


def test_forced_w3c_profile_and_issuer_restrictions(other_key: keys.Key) -> None:
    """--profile w3c applies w3c to an issuer without profiles; an issuer whose profiles do
    not include the forced one is refused with bad_type."""
    token = signed(other_key, employee())
    assert verify_credential(token, trust_for(other_key, None), now=NOW, profile=W3C).ok
    report = verify_credential(token, trust_for(other_key, frozenset({"im-device"})), now=NOW,
                               profile=W3C)
    assert failure(report) == ("types", "bad_type", "The issuer 'https://employer.example' "
                               "may not issue credentials of the profile w3c (the trust file "
                               "lets it issue im-device).")


@pytest.mark.parametrize(("change", "check", "code", "words"), [
    (lambda d: d.update({"@context": [V1]}), "context", "context_rejected",
     "must start with https://www.w3.org/ns/credentials/v2"),
    (lambda d: d.update({"@context": [V2, "https://example.org/remote"]}), "context",
     "context_rejected", "is never fetched"),
    (lambda d: d.update({"@context": [V2, {"x": "https://example.org/x"}]}), "context",
     "context_rejected", "by URL only"),
    (lambda d: d["credentialSubject"].update(jobTitle="Engineer"), "jsonld",
     "context_rejected", "would drop it"),
    (lambda d: d.update(issuer="not a uri"), "consistency", "claim_mismatch", "iss"),
    (lambda d: d.update(type=["EmployeeCredential"]), "types", "bad_type", "does not fit"),
    (lambda d: d.update(validFrom="2023-01-01"), "time", "malformed", "validFrom"),
    (lambda d: d.update(credentialSchema={"id": "https://example.org/s"}), "schema",
     "schema_invalid", "schema-typed"),
    (lambda d: d.update(id="no uri"), "schema", "schema_invalid", "id-uri"),
    (lambda d: d.update(issuer={"name": "Employer"}), "schema", "schema_invalid",
     "issuer-uri"),
    (lambda d: d.pop("credentialSubject"), "schema", "schema_invalid",
     "credentialSubject-present"),
    (lambda d: d.update(validUntil="2023-06-01T00:00:00Z"), "time", "expired", "validUntil"),
], ids=["v1-context-in-vc2", "unknown-context", "inline-context", "undefined-term",
        "issuer-mismatch", "no-vc-type", "date-format", "untyped-schema", "id-not-uri",
        "issuer-without-id",
        "no-subject", "expired"])
def test_w3c_rules_refuse_with_the_exact_check(
        other_key: keys.Key, change: Callable[[dict[str, Any]], object], check: str, code: str,
        words: str) -> None:
    """Each data-model or JSON-LD MUST that a w3c credential breaks fails one exact check."""
    document = employee()
    change(document)
    payload = {**document, "iss": OTHER}
    if "issuer" in document and document["issuer"] != OTHER:
        payload["iss"] = OTHER
    report = verify_credential(signed(other_key, payload),
                               trust_for(other_key, frozenset({"w3c"})), now=NOW, profile=W3C)
    name, got, reason = failure(report)
    assert (name, got) == (check, code), reason
    assert words in reason


def test_vc1_generic_credential_without_exp_or_sub(other_key: keys.Key) -> None:
    """A VC 1.1 JWT from another implementation needs no exp and no sub under w3c, but the
    data model's issuanceDate (nbf) still must be there."""
    document = {"@context": [V1], "type": ["VerifiableCredential"],
                "credentialSubject": {"id": "did:example:ford"}}
    trust = trust_for(other_key, frozenset({"w3c"}))
    payload = {"iss": OTHER, "nbf": NOW - 60, "vc": document}
    report = verify_credential(signed(other_key, payload, "JWT"), trust, now=NOW)
    assert report.ok, report.failure
    assert report.check("time").reason == "Valid now, with no end."
    del payload["nbf"]
    name, code, reason = failure(verify_credential(signed(other_key, payload, "JWT"), trust,
                                                   now=NOW))
    assert (name, code) == ("schema", "schema_invalid")
    assert "issuanceDate-present" in reason


def test_im_credentials_keep_their_profile_and_rules(issuer_key: keys.Key) -> None:
    """An ImDeviceCredential still verifies as before and its report names im-device, even
    from an issuer allowed w3c too; its Credential is today's. From an issuer allowed w3c
    only it is refused: vc_im's own types are never read under another profile's rules."""
    token = issue_credential(issuer_key, issuer="https://im.example.com",
                             subject="im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com",
                             fn="Alice", now=NOW)
    for allowed in (None, frozenset({"im-device", "w3c"})):
        trust = TrustStore.of(TrustedIssuer("https://im.example.com", (issuer_key.public(),),
                                            None, allowed))
        report = verify_credential(token, trust, now=NOW)
        assert report.ok
        assert report.profile == "im-device"
        assert isinstance(report.verified, Credential)
    only_w3c = TrustStore.of(TrustedIssuer("https://im.example.com", (issuer_key.public(),),
                                           None, frozenset({"w3c"})))
    check = verify_credential(token, only_w3c, now=NOW).failure
    assert check is not None
    assert (check.name, check.code) == ("types", "bad_type")  # IM types never verify as w3c
    assert check.reason.endswith("(the types rule of the profile w3c, which this verifier "
                                 "applies to its issuer).")
    forced = verify_credential(token, only_w3c, now=NOW, profile=W3C).failure
    assert forced is not None
    assert (forced.name, forced.code) == ("types", "bad_type")
    assert "does not fit the profile w3c" in forced.reason


# --- profile files ---------------------------------------------------------------------------

AGENT_CONTEXT_DOC = {"@context": {
    "@version": 1.1, "@protected": True,
    "SupportAgentCredential": "https://sirius.example/ns#SupportAgentCredential",
    "language": "http://www.w3.org/2006/vcard/ns#language",
    "supportsProduct": "https://sirius.example/ns#supportsProduct"}}
AGENT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
    "required": ["credentialSubject"],
    "properties": {"credentialSubject": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "hasOrganizationName", "language", "supportsProduct"],
        "properties": {"id": {"type": "string"}, "hasOrganizationName": {"type": "string"},
                       "language": {"type": "array", "minItems": 1,
                                    "items": {"type": "string"}},
                       "supportsProduct": {"type": "array", "minItems": 1,
                                           "items": {"type": "string"}}}}}}


def write_agent_profile(directory: Path, **changes: Any) -> Path:
    """The draft's §5.3 support-agent profile file, its context and schema, in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    context = json.dumps(AGENT_CONTEXT_DOC).encode()
    schema = json.dumps(AGENT_SCHEMA).encode()
    (directory / "agent.jsonld").write_bytes(context)
    (directory / "agent.schema.json").write_bytes(schema)
    profile = {
        "profile": "support-agent", "types": ["SupportAgentCredential"],
        "contexts": [{"url": VCIM}, {"url": AGENT_CONTEXT, "file": "agent.jsonld",
                                     "sha256": hashlib.sha256(context).hexdigest()}],
        "schema": {"file": "agent.schema.json", "sha256": hashlib.sha256(schema).hexdigest()},
        "identifiers": [{"property": "id", "types": ["device"]}]}
    profile.update(changes)
    path = directory / "support-agent.json"
    path.write_text(json.dumps(profile))
    return path


def agent_document(**subject: Any) -> dict[str, Any]:
    """The draft's §5.3 example: a support agent's IM client, no name."""
    return {
        "@context": [V1, VCIM, AGENT_CONTEXT],
        "id": "urn:uuid:0d5e6a3e-8d43-4d1f-a1e2-3c9f1b7d2a40",
        "type": ["VerifiableCredential", "SupportAgentCredential"],
        "issuer": OTHER, "issuanceDate": "2023-11-01T00:00:00Z",
        "expirationDate": "2033-11-01T00:00:00Z",
        "credentialSubject": {"id": "mimi://sirius.example/d/agent-7/phone",
                              "hasOrganizationName": "Sirius Cybernetics Corp",
                              "language": ["en", "vog"], "supportsProduct": ["Ident-I-Eeze"],
                              **subject}}


def test_support_agent_issued_and_verified_through_a_profile_file(
        tmp_path: Path, other_key: keys.Key) -> None:
    """The §5.3 credential is issued under its profile file and verifies through a trust file
    that names the profile file and lets its issuer issue it."""
    profile = read_profile_file(write_agent_profile(tmp_path / "profiles"))
    token = issue_document(other_key, agent_document(), now=NOW, profile=profile)
    header, payload = jose.peek_unverified(token).header, jose.peek_unverified(token).payload
    assert header == {"alg": "ES256", "typ": "JWT", "kid": other_key.kid}
    assert (payload["iss"], payload["sub"], payload["jti"]) == (
        OTHER, "mimi://sirius.example/d/agent-7/phone",
        "urn:uuid:0d5e6a3e-8d43-4d1f-a1e2-3c9f1b7d2a40")
    assert "iat" not in payload
    assert payload["vc"] == agent_document()
    trust_path = tmp_path / "trust.json"
    trust_path.write_text(json.dumps({
        "issuers": [{"id": OTHER, "keys": [dict(other_key.public().public_jwk)],
                     "domains": ["sirius.example"], "profiles": ["support-agent"]}],
        "profile_files": ["profiles/support-agent.json"]}))
    trust = read_trust_file(trust_path)
    report = verify_credential(token, trust, now=NOW)
    assert report.ok, report.failure
    assert report.profile == "support-agent"
    assert isinstance(report.verified, ProfiledCredential)
    assert [str(v) for v in report.verified.identifiers] == [
        "mimi://sirius.example/d/agent-7/phone"]


@pytest.mark.parametrize(("subject", "check", "code", "words"), [
    ({"nickname": "Zaphod"}, "jsonld", "context_rejected", "would drop it"),
    ({"fn": "Zaphod"}, "schema", "schema_invalid", "fn is not an allowed member"),
    ({"id": "mimi://sirius.example/u/agent-7"}, "identifiers", "bad_identifier",
     "allows device"),
    ({"id": "mimi://example.com/d/agent-7/phone"}, "identifiers", "untrusted_issuer",
     "trusted only for sirius.example"),
    ({"language": []}, "schema", "schema_invalid", "schema of the profile support-agent"),
], ids=["undefined-term", "name-given", "not-a-device", "other-domain", "schema"])
def test_profile_file_rules_refuse(tmp_path: Path, other_key: keys.Key, subject: dict[str, Any],
                                   check: str, code: str, words: str | None) -> None:
    """The profile file's context, identifier, domain and schema rules each refuse exactly."""
    profile = read_profile_file(write_agent_profile(tmp_path))
    document = agent_document(**subject)
    payload = {**document_claims(document, Encoding.VC1)}
    trust = trust_for(other_key, frozenset({"support-agent"}), (profile,),
                      frozenset({"sirius.example"}))
    report = verify_credential(signed(other_key, payload, "JWT"), trust, now=NOW)
    name, got, reason = failure(report)
    assert (name, got) == (check, code), reason
    if words is not None:
        assert words in reason


@pytest.mark.parametrize(("changes", "words"), [
    ({"profile": "w3c"}, "built-in profile 'w3c'"),
    ({"profile": "Bad Name"}, "needs \"profile\""),
    ({"types": ["ImDeviceCredential"]}, "vc_im's own credential types"),
    ({"types": []}, "needs \"types\""),
    ({"contexts": [{"url": AGENT_CONTEXT, "file": "agent.jsonld", "sha256": "0" * 64}]},
     "does not match the SHA-256"),
    ({"contexts": [{"url": AGENT_CONTEXT, "file": "../../etc/missing", "sha256": "0" * 64}]},
     "cannot read the context file"),
    ({"schema": {"file": "agent.schema.json", "sha256": "ab"}}, "64 lower-case hex"),
    ({"identifiers": [{"property": "id", "types": ["robot"]}]}, "identifier types"),
    ({"holder_binding": "sometimes"}, "holder_binding"),
    ({"extra": 1}, "unknown member 'extra'"),
], ids=["builtin-name", "bad-name", "im-types", "no-types", "hash-mismatch", "missing-file",
        "bad-hash", "bad-id-type", "bad-binding", "unknown-member"])
def test_bad_profile_files_are_refused(tmp_path: Path, changes: dict[str, Any],
                                       words: str) -> None:
    """A profile file that is wrong in any way is refused with one sentence (exit 2)."""
    with pytest.raises(ProfileError) as caught:
        read_profile_file(write_agent_profile(tmp_path, **changes))
    assert caught.value.exit_code == 2
    assert words in caught.value.message


def test_holder_binding_required(tmp_path: Path, other_key: keys.Key) -> None:
    """A profile that requires a holder key refuses a credential without cnf."""
    profile = read_profile_file(write_agent_profile(tmp_path, holder_binding="required"))
    with pytest.raises(InputError) as caught:
        issue_document(other_key, agent_document(), now=NOW, profile=profile)
    assert "(missing_claim, holder_key)" in caught.value.message
    assert "holder-binding rule" in caught.value.message


def test_trust_file_profile_members(tmp_path: Path, other_key: keys.Key) -> None:
    """profile_files are read relative to the trust file; issuer profiles must be known."""
    write_agent_profile(tmp_path / "p")
    jwk = dict(other_key.public().public_jwk)
    good = {"issuers": [{"id": OTHER, "keys": [jwk], "profiles": ["support-agent", "w3c"]}],
            "profile_files": ["p/support-agent.json"]}
    store = parse_trust(json.dumps(good).encode(), base=tmp_path)
    assert [p.name for p in store.profiles] == ["support-agent"]
    assert [p.name for p in store.profiles_for(store.issuer(OTHER))] == ["w3c", "support-agent"]
    for document, words in [
        ({"issuers": [{"id": OTHER, "keys": [jwk], "profiles": ["support-agent"]}]},
         "neither built in"),
        ({**good, "profile_files": ["p/missing.json"]}, "profile_files[0]: cannot read"),
        ({**good, "profile_files": ["p/support-agent.json"] * 2}, "repeats the profile"),
        ({"issuers": [{"id": OTHER, "keys": [jwk], "profiles": []}]}, "non-empty array"),
    ]:
        with pytest.raises(TrustFileError) as caught:
            parse_trust(json.dumps(document).encode(), base=tmp_path)
        assert words in caught.value.message
    with pytest.raises(TrustFileError) as caught:
        parse_trust(json.dumps(good).encode())
    assert "needs a trust file on disk" in caught.value.message


# --- issuing a document ----------------------------------------------------------------------

def test_document_claims_map_only_what_is_present() -> None:
    """VC 1.1: iss, sub, jti, nbf, exp only where the document has the property; VC 2.0: the
    document itself."""
    document = employee()
    assert document_claims(document, Encoding.VC2) == document
    minimal = {"@context": [V1], "type": ["VerifiableCredential"],
               "issuer": {"id": OTHER, "name": "Employer"}, "credentialSubject": {"name": "x"},
               "issuanceDate": "2023-11-14T22:13:20Z"}
    assert document_claims(minimal, Encoding.VC1) == {"iss": OTHER, "nbf": NOW, "vc": minimal}


def test_issue_document_refuses_what_verify_would(other_key: keys.Key) -> None:
    """issue --document runs its profile's checks: a broken document is never signed."""
    with pytest.raises(InputError) as caught:
        issue_document(other_key, employee(credentialSchema={"id": "https://example.org/s"}),
                       now=NOW, encoding=Encoding.VC2)
    assert caught.value.message.startswith("refusing to issue an invalid credential under the "
                                           "profile w3c (schema_invalid, schema)")
    with pytest.raises(InputError) as caught:
        issue_document(other_key, {**employee(), "proof": {"type": "X"}}, now=NOW)
    assert "already carries a proof" in caught.value.message
    with pytest.raises(InputError) as caught:
        issue_document(other_key.public(), employee(), now=NOW)
    assert "private key" in caught.value.message


def test_issue_document_of_an_im_credential_uses_the_im_rules(issuer_key: keys.Key) -> None:
    """A document typed ImDeviceCredential is checked by im-device's rules: the seed's vCard
    namespace context is refused, as verify refuses it."""
    document = {"@context": [V1, "http://www.w3.org/2006/vcard/ns"],
                "id": "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5",
                "type": ["VerifiableCredential", "ImDeviceCredential"],
                "issuer": "https://im.example.com", "issuanceDate": "2023-11-14T22:13:20Z",
                "expirationDate": "2024-11-14T22:13:20Z",
                "credentialSubject": {"id": "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com",
                                      "fn": "Alice", "hasInstantMessage": [
                                          "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"]}}
    with pytest.raises(InputError) as caught:
        issue_document(issuer_key, document, now=NOW)
    assert "under the profile im-device (context_rejected, context)" in caught.value.message
    document["@context"] = [V1, VCIM]
    token = issue_document(issuer_key, document, now=NOW)
    trust = TrustStore.of(TrustedIssuer("https://im.example.com", (issuer_key.public(),)))
    report = verify_credential(token, trust, now=NOW)
    assert report.ok
    assert report.profile == "im-device"


# --- presenting a document -------------------------------------------------------------------

def presentation(**changes: Any) -> dict[str, Any]:
    """A VC 1.1 presentation by a holder that is not an IM device, embedding a JWT credential."""
    document: dict[str, Any] = {
        "@context": [V1], "type": ["VerifiablePresentation"],
        "id": "urn:uuid:11111111-2222-3333-4444-555555555555", "holder": "did:example:ford",
        "verifiableCredential": ["eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.c2ln"]}
    document.update(changes)
    return document


def test_present_document_vc1_maps_holder_id_and_times(other_key: keys.Key) -> None:
    """vc1: the document in vp, iss its holder, jti its id, iat/nbf/exp, aud and nonce; the
    header carries the public jwk (a verifier's only way to a holder key that is no DID)."""
    from vc_im.presentations import present_document

    token = present_document(other_key, presentation(), now=NOW, audience="https://v.example",
                             nonce="n-1", valid_for=120)
    parts = jose.peek_unverified(token)
    assert parts.header == {"alg": "ES256", "typ": "JWT", "kid": other_key.kid,
                            "jwk": other_key.header_jwk()}
    assert parts.payload == {"iss": "did:example:ford", "iat": NOW, "nbf": NOW,
                             "exp": NOW + 120, "jti": presentation()["id"],
                             "aud": "https://v.example", "nonce": "n-1", "vp": presentation()}
    assert jose.verify_signature(parts, other_key.public())


@pytest.mark.parametrize(("document", "encoding", "words"), [
    (presentation(holder=None), "vc1", "holder-uri"),
    ({k: v for k, v in presentation().items() if k != "holder"}, "vc1", "names no holder"),
    (presentation(type=["VerifiableCredential"]), "vc1", "type-includes-vp"),
    (presentation(), "vc2", "context-first"),
    (presentation(extra="x"), "vc1", "would drop it"),
    (presentation(**{"@context": [V1, "https://example.org/ctx"]}), "vc1", "pinned"),
], ids=["null-holder", "no-holder", "not-a-presentation", "wrong-version", "undefined-term",
        "unpinned-context"])
def test_present_document_refusals(other_key: keys.Key, document: dict[str, Any],
                                   encoding: str, words: str) -> None:
    """A presentation that breaks a data-model or JSON-LD rule, or names no holder, is never
    signed."""
    from vc_im.presentations import present_document

    with pytest.raises(InputError) as caught:
        present_document(other_key, document, now=NOW, encoding=encoding)
    assert words in caught.value.message


# --- IM presentations and DPoP proofs stay IM-only ---------------------------------------------

def test_im_presentation_refuses_an_embedded_w3c_credential(
        tmp_path: Path, other_key: keys.Key, device_key: keys.Key,
        make_credential: Callable[..., str], issuer_key: keys.Key) -> None:
    """A w3c credential verifies on its own, but an IM presentation carrying it fails with
    bad_type: its holder binding could not be judged, so it is never silently skipped."""
    from vc_im.presentations import create_presentation
    from vc_im.verify import verify_token

    w3c = signed(other_key, {**employee(), "cnf": {"jwk": device_key.header_jwk()}})
    store = TrustStore.of(TrustedIssuer("https://im.example.com", (issuer_key.public(),)),
                          TrustedIssuer(OTHER, (other_key.public(),), None, frozenset({"w3c"})))
    assert verify_credential(w3c, store, now=NOW).ok
    vp = create_presentation(device_key, [make_credential(), w3c], audience="https://v.example",
                             nonce="n" * 22, now=NOW)
    report = verify_token(vp, store, now=NOW, audience="https://v.example", nonce="n" * 22,
                          store=tmp_path / "replay.sqlite3")
    check = report.failure
    assert check is not None
    assert (check.name, check.code) == ("credentials", "bad_type")
    assert check.reason.startswith("Credential 2 is of the profile w3c;")


def test_dpop_refuses_a_w3c_credential(other_key: keys.Key, device_key: keys.Key,
                                       tmp_path: Path) -> None:
    """dpop verify --credential binds IM credentials only: a w3c one fails with bad_type."""
    from vc_im.dpop import create_proof, verify_proof

    w3c = signed(other_key, {**employee(), "cnf": {"jwk": device_key.header_jwk()}})
    proof = create_proof(device_key, htm="POST", htu="https://v.example/token", now=NOW)
    report = verify_proof(proof, htm="POST", htu="https://v.example/token", now=NOW,
                          credential=w3c, trust=trust_for(other_key, frozenset({"w3c"})),
                          store=tmp_path / "replay.sqlite3")
    check = report.failure
    assert check is not None
    assert (check.code, check.reason) == ("bad_type", "The credential is of the profile w3c; "
                                          "a DPoP proof binds an ImDeviceCredential or "
                                          "ImUserCredential.")
