"""The w3c presentation rules: a holder's presentation of W3C credentials, which rules apply,
the holder's key, holder binding, audience, nonce, time, the data model and replay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import NOW
from vc_im import _jose as jose
from vc_im import keys
from vc_im._checks import W3C_PRESENTATION_STEPS, verify_presentation
from vc_im._checks.profiled_presentation import RULE
from vc_im.credentials import issue_document
from vc_im.model import Encoding, ProfiledCredential, ProfiledPresentation
from vc_im.presentations import present_document
from vc_im.profiles import IM_DEVICE, W3C
from vc_im.report import Report
from vc_im.trust import TrustedIssuer, TrustStore

EMPLOYER = "https://employer.example"
AUDIENCE = "https://v.example"
NONCE = "n-0123456789abcdefghij"
V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
VCIM = "https://vc-im.example/contexts/v1"
ENVELOPE = "data:application/vc+jwt,"


@pytest.fixture(scope="module")
def employer_key() -> keys.Key:
    """The key of an issuer that is not an IM provider."""
    return keys.generate("ES256")


@pytest.fixture(scope="module")
def holder_key() -> keys.Key:
    """Ford's own key: his holder id is its did:key."""
    return keys.generate("Ed25519")


def w3c_trust(key: keys.Key) -> TrustStore:
    """A trust store whose issuer may issue w3c credentials."""
    return TrustStore.of(TrustedIssuer(EMPLOYER, (key.public(),), None, frozenset({"w3c"})))


def im_only_trust(key: keys.Key) -> TrustStore:
    """The same issuer in an IM-only trust store: no issuer profiles."""
    return TrustStore.of(TrustedIssuer(EMPLOYER, (key.public(),)))


def credential(key: keys.Key, subject: str, bound: keys.Key | None,
               encoding: Encoding = Encoding.VC2) -> str:
    """An EmployeeCredential about ``subject``, binding ``bound`` (cnf.jwk) unless None."""
    document: dict[str, Any] = {
        "@context": [V2], "id": "urn:uuid:7c1b2e55-35e3-4f5f-9a2b-7d1c7c0a3c11",
        "type": ["VerifiableCredential", "EmployeeCredential"], "issuer": EMPLOYER,
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": subject, "name": "Ford Prefect"}}
    if bound is not None:
        document["cnf"] = {"jwk": bound.header_jwk()}
    return issue_document(key, document, now=NOW, encoding=encoding)


def vp_document(who: str | None, *tokens: str, version: int = 1,
                **changes: Any) -> dict[str, Any]:
    """A presentation document of ``tokens`` (JWT strings, or enveloped for VC 2.0)."""
    items: list[Any] = (list(tokens) if version == 1 else
                        [{"@context": [V2], "type": ["EnvelopedVerifiableCredential"],
                          "id": ENVELOPE + token} for token in tokens])
    document: dict[str, Any] = {
        "@context": [V1] if version == 1 else [V2, VCIM],
        "type": ["VerifiablePresentation"],
        "id": "urn:uuid:11111111-2222-3333-4444-555555555555",
        "verifiableCredential": items}
    if who is not None:
        document["holder"] = who
    document.update(changes)
    return document


def run(token: str, trust: TrustStore, tmp_path: Path, **options: Any) -> Report:
    """Verify ``token`` at NOW in the test's own replay store (audience and nonce given
    unless overridden)."""
    arguments: dict[str, Any] = {"audience": AUDIENCE, "nonce": NONCE,
                                 "store": tmp_path / "replay.sqlite3", **options}
    return verify_presentation(token, trust, now=NOW, **arguments)


def failed(report: Report) -> tuple[str, str]:
    """The failed check's name and code."""
    check = report.failure
    assert check is not None, report.to_json()
    return check.name, str(check.code)


@pytest.fixture(scope="module")
def ford_vp(employer_key: keys.Key, holder_key: keys.Key) -> str:
    """Ford (a did:key holder) presents his credential, which binds his key, with
    present_document (VC DM 1.1)."""
    token = credential(employer_key, holder_key.did_key(), holder_key)
    return present_document(holder_key, vp_document(holder_key.did_key(), token), now=NOW,
                            audience=AUDIENCE, nonce=NONCE)


# --- accepted ----------------------------------------------------------------------------------

def test_w3c_presentation_of_a_w3c_credential_verifies(
        ford_vp: str, employer_key: keys.Key, holder_key: keys.Key, tmp_path: Path) -> None:
    """present_document's presentation verifies under w3c where the issuer may issue w3c:
    every step passes, the report and its nested one name the profile, and what was verified
    is the holder, its key and the credential."""
    report = run(ford_vp, w3c_trust(employer_key), tmp_path)
    assert report.ok, report.to_json()
    assert [check.name for check in report.checks] == [n for n, _ in W3C_PRESENTATION_STEPS]
    assert report.profile == "w3c"
    assert report.to_json()["profile"] == "w3c"
    assert [nested.profile for nested in report.credentials] == ["w3c"]
    assert report.warnings == ()
    verified = report.verified
    assert isinstance(verified, ProfiledPresentation)
    assert (verified.holder, verified.holder_key.thumbprint()) == (holder_key.did_key(),
                                                                   holder_key.thumbprint())
    assert isinstance(verified.credentials[0], ProfiledCredential)
    assert report.summary() is not None
    assert report.summary()["id"] == holder_key.did_key()  # type: ignore[index]


def test_vc2_presentation_with_enveloped_credentials_verifies(
        employer_key: keys.Key, holder_key: keys.Key, tmp_path: Path) -> None:
    """A vp+jwt (VC 2.0) whose credentials are EnvelopedVerifiableCredentials verifies;
    present_document adds iat and exp, and the document carries nonce and aud."""
    token = credential(employer_key, holder_key.did_key(), holder_key)
    document = vp_document(holder_key.did_key(), token, version=2, nonce=NONCE, aud=AUDIENCE)
    vp = present_document(holder_key, document, now=NOW, encoding="vc2")
    assert {"iat", "exp"} <= set(jose.peek_unverified(vp).payload)
    report = run(vp, w3c_trust(employer_key), tmp_path)
    assert report.ok, report.to_json()


def test_profile_w3c_applies_the_rules_with_an_im_only_trust_file(
        ford_vp: str, employer_key: keys.Key, tmp_path: Path) -> None:
    """--profile w3c verifies a w3c presentation even where the trust file names no profiles
    (the issuer's own keys are still the trust decision)."""
    report = run(ford_vp, im_only_trust(employer_key), tmp_path, profile=W3C)
    assert report.ok, report.to_json()
    assert report.profile == "w3c"


def test_an_empty_presentation_needs_profile_w3c(holder_key: keys.Key,
                                                  employer_key: keys.Key,
                                                  tmp_path: Path) -> None:
    """A presentation of no credentials proves only the holder's key: with --profile w3c it
    verifies; without it the IM rules refuse it (a device credential is required) and the
    reason names the profile rule."""
    vp = present_document(holder_key, vp_document(holder_key.did_key()), now=NOW,
                          audience=AUDIENCE, nonce=NONCE)
    assert run(vp, w3c_trust(employer_key), tmp_path, profile=W3C).ok
    refused = run(vp, w3c_trust(employer_key), tmp_path)
    assert failed(refused) == ("claims", "missing_claim")
    assert refused.failure is not None
    assert RULE in refused.failure.reason


# --- which rules apply ---------------------------------------------------------------------------

def test_im_only_trust_file_refuses_naming_the_profile_rule(
        ford_vp: str, employer_key: keys.Key, tmp_path: Path) -> None:
    """An IM-only trust file applies the IM presentation rules, as before; their failure says
    that the w3c rules apply only with --profile w3c or issuer profiles."""
    report = run(ford_vp, im_only_trust(employer_key), tmp_path)
    assert failed(report) == ("claims", "bad_identifier")
    assert report.profile is None
    assert report.failure is not None
    assert report.failure.reason.endswith(f"({RULE}).")


def test_profile_im_device_keeps_the_im_rules(ford_vp: str, employer_key: keys.Key,
                                               tmp_path: Path) -> None:
    """--profile im-device on a presentation: the IM rules, as without --profile."""
    report = run(ford_vp, w3c_trust(employer_key), tmp_path, profile=IM_DEVICE)
    assert failed(report) == ("claims", "bad_identifier")


def test_im_presentation_failures_keep_their_reasons(
        employer_key: keys.Key, device_key: keys.Key, make_credential: Any,
        trust: TrustStore, tmp_path: Path) -> None:
    """A presentation of IM credentials that fails under the IM rules gets no profile note."""
    from vc_im._checks import create_presentation

    vp = create_presentation(device_key, [make_credential()], audience=AUDIENCE, nonce=NONCE,
                             now=NOW)
    report = run(vp, trust, tmp_path, audience="https://other.example")
    assert failed(report) == ("audience", "audience_mismatch")
    assert report.failure is not None
    assert RULE not in report.failure.reason


# --- the holder's key and holder binding -------------------------------------------------------

def test_signed_by_another_key_than_the_credential_binds(
        employer_key: keys.Key, holder_key: keys.Key, attacker_key: keys.Key,
        tmp_path: Path) -> None:
    """Someone who copied Ford's credential (bound to his key) presents it with their own key,
    naming an https holder: holder_binding."""
    token = credential(employer_key, "https://ford.example", holder_key)
    vp = present_document(attacker_key, vp_document("https://ford.example", token), now=NOW,
                          audience=AUDIENCE, nonce=NONCE)
    report = run(vp, w3c_trust(employer_key), tmp_path)
    assert failed(report) == ("holder_binding", "holder_binding")
    assert report.credentials[0].ok  # the credential itself is fine


def test_header_key_must_be_the_holder_did_key(employer_key: keys.Key,
                                                holder_key: keys.Key, attacker_key: keys.Key,
                                                tmp_path: Path) -> None:
    """A presentation naming Ford's did:key as holder but signed (header jwk) with another
    key fails holder_key with holder_binding before any credential is verified."""
    token = credential(employer_key, holder_key.did_key(), None)
    payload = {"iss": holder_key.did_key(), "iat": NOW, "exp": NOW + 60, "aud": AUDIENCE,
               "nonce": NONCE, "vp": vp_document(holder_key.did_key(), token)}
    vp = jose.sign({"typ": "JWT", "jwk": attacker_key.header_jwk()}, payload, attacker_key)
    report = run(vp, w3c_trust(employer_key), tmp_path)
    assert failed(report) == ("holder_key", "holder_binding")
    assert report.credentials == ()


def test_no_key_without_a_jwk_or_a_did_holder(employer_key: keys.Key, holder_key: keys.Key,
                                              tmp_path: Path) -> None:
    """An https holder and a header without jwk: no key to verify with (unknown_key)."""
    payload = {"iss": "https://ford.example", "iat": NOW, "exp": NOW + 60, "aud": AUDIENCE,
               "nonce": NONCE, "vp": vp_document("https://ford.example")}
    vp = jose.sign({"typ": "JWT", "kid": holder_key.kid}, payload, holder_key)
    report = run(vp, w3c_trust(employer_key), tmp_path, profile=W3C)
    assert failed(report) == ("holder_key", "unknown_key")


def test_a_did_key_holder_needs_no_header_jwk(employer_key: keys.Key, holder_key: keys.Key,
                                              tmp_path: Path) -> None:
    """The holder's did:key names the key: a header with only its DID URL kid verifies."""
    token = credential(employer_key, holder_key.did_key(), holder_key)
    payload = {"iss": holder_key.did_key(), "iat": NOW, "exp": NOW + 60, "aud": AUDIENCE,
               "nonce": NONCE, "vp": vp_document(holder_key.did_key(), token)}
    did_url = f"{holder_key.did_key()}#{holder_key.did_key().removeprefix('did:key:')}"
    vp = jose.sign({"typ": "JWT", "kid": did_url}, payload, holder_key)
    report = run(vp, w3c_trust(employer_key), tmp_path)
    assert report.ok, report.to_json()


def test_unbound_credentials_are_accepted_with_a_warning(
        employer_key: keys.Key, holder_key: keys.Key, tmp_path: Path) -> None:
    """A credential that binds no key is the holder's when its subject is the did:key holder
    (no warning); one about someone else is accepted with a warning (the data model has no
    binding rule)."""
    own = credential(employer_key, holder_key.did_key(), None)
    other = credential(employer_key, "did:example:arthur", None)
    vp = present_document(holder_key, vp_document(holder_key.did_key(), own, other), now=NOW,
                          audience=AUDIENCE, nonce=NONCE)
    report = run(vp, w3c_trust(employer_key), tmp_path)
    assert report.ok, report.to_json()
    assert report.warnings == ("credential 2 binds no holder key (no cnf) and its subject is "
                               "not the holder: the data model has no binding rule, so anyone "
                               "who holds it can present it",)


# --- audience, nonce, time, data model, replay ------------------------------------------------

@pytest.mark.parametrize(("options", "expected"), [
    ({"audience": "https://other.example"}, ("audience", "audience_mismatch")),
    ({"nonce": "another-nonce"}, ("nonce", "nonce_mismatch")),
])
def test_wrong_audience_or_nonce(ford_vp: str, employer_key: keys.Key, tmp_path: Path,
                                 options: dict[str, str], expected: tuple[str, str]) -> None:
    """The verifier's audience and nonce must be the presentation's, exactly."""
    assert failed(run(ford_vp, w3c_trust(employer_key), tmp_path, **options)) == expected


def test_without_audience_and_nonce_they_are_not_checked_and_said_so(
        ford_vp: str, employer_key: keys.Key, tmp_path: Path) -> None:
    """A verifier that gives no audience or nonce accepts, with a warning for each."""
    report = run(ford_vp, w3c_trust(employer_key), tmp_path, audience=None, nonce=None)
    assert report.ok, report.to_json()
    assert len(report.warnings) == 2
    assert "no --audience" in report.warnings[0]
    assert "no --nonce" in report.warnings[1]


def test_replay(ford_vp: str, employer_key: keys.Key, tmp_path: Path) -> None:
    """The same presentation is accepted once per replay store."""
    assert run(ford_vp, w3c_trust(employer_key), tmp_path).ok
    assert failed(run(ford_vp, w3c_trust(employer_key), tmp_path)) == ("replay", "replay")


def test_replay_without_nonce_or_jti(employer_key: keys.Key, holder_key: keys.Key,
                                     tmp_path: Path) -> None:
    """A presentation with no id (no jti), verified without a nonce, is still consumed: by the
    digest of what was signed."""
    document = {k: v for k, v in vp_document(holder_key.did_key()).items() if k != "id"}
    vp = present_document(holder_key, document, now=NOW)
    assert "jti" not in jose.peek_unverified(vp).payload
    options = {"audience": None, "nonce": None, "profile": W3C}
    assert run(vp, w3c_trust(employer_key), tmp_path, **options).ok
    assert failed(run(vp, w3c_trust(employer_key), tmp_path, **options)) == ("replay", "replay")


@pytest.mark.parametrize(("claims", "expected"), [
    ({"iat": None, "exp": None}, ("time", "missing_claim")),
    ({"iat": NOW - 301 - 60}, ("time", "bad_iat")),
    ({"exp": NOW - 61}, ("time", "expired")),
    ({"iat": None, "exp": NOW + 601}, ("time", "bad_iat")),
    ({"nbf": NOW + 61}, ("time", "not_yet_valid")),
    ({"iss": "did:example:zaphod"}, ("claims", "claim_mismatch")),
], ids=["no-time", "too-old", "expired", "too-long", "not-yet", "iss-not-holder"])
def test_claims_and_time(employer_key: keys.Key, holder_key: keys.Key, tmp_path: Path,
                         claims: dict[str, Any], expected: tuple[str, str]) -> None:
    """A presentation is bounded in time (iat at most 300 s old, exp at most 600 s on, one of
    them present), with the leeway; iss is its holder."""
    payload: dict[str, Any] = {"iss": holder_key.did_key(), "iat": NOW, "exp": NOW + 60,
                               "vp": vp_document(holder_key.did_key())}
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    vp = jose.sign({"typ": "JWT", "jwk": holder_key.header_jwk()}, payload, holder_key)
    report = run(vp, w3c_trust(employer_key), tmp_path, audience=None, nonce=None,
                 profile=W3C)
    assert failed(report) == expected


@pytest.mark.parametrize(("changes", "rule"), [
    ({"holder": 7}, "holder-uri"),
    ({"type": ["VerifiableCredential"]}, "type-includes-vp"),
    ({"id": "not a uri"}, "id-uri"),
])
def test_data_model_musts_are_schema_invalid(employer_key: keys.Key, holder_key: keys.Key,
                                             tmp_path: Path, changes: dict[str, Any],
                                             rule: str) -> None:
    """A presentation that breaks a VC Data Model MUST fails schema_invalid, naming the rule,
    as a credential's data-model violation does."""
    payload = {"iat": NOW, "exp": NOW + 60,
               "vp": vp_document(holder_key.did_key(), **changes)}
    vp = jose.sign({"typ": "JWT", "jwk": holder_key.header_jwk()}, payload, holder_key)
    report = run(vp, w3c_trust(employer_key), tmp_path, audience=None, nonce=None,
                 profile=W3C)
    assert failed(report) == ("schema", "schema_invalid")
    assert report.failure is not None
    assert f"(data-model rule {rule})" in report.failure.reason


def test_unpinned_context_is_refused(employer_key: keys.Key, holder_key: keys.Key,
                                     tmp_path: Path) -> None:
    """A context vc_im does not hold pinned is never fetched: context_rejected."""
    payload = {"iat": NOW, "exp": NOW + 60, "vp": vp_document(
        holder_key.did_key(), **{"@context": [V1, "https://example.org/ctx"]})}
    vp = jose.sign({"typ": "JWT", "jwk": holder_key.header_jwk()}, payload, holder_key)
    report = run(vp, w3c_trust(employer_key), tmp_path, audience=None, nonce=None,
                 profile=W3C)
    assert failed(report) == ("context", "context_rejected")


def test_a_bad_credential_fails_with_its_own_code(employer_key: keys.Key,
                                                  holder_key: keys.Key, tmp_path: Path) -> None:
    """A credential signed by a key its issuer does not have fails the credentials check with
    its nested report's code (unknown_key: the issuer has no key of that kid)."""
    forged = credential(keys.generate("ES256"), holder_key.did_key(), holder_key)
    vp = present_document(holder_key, vp_document(holder_key.did_key(), forged), now=NOW,
                          audience=AUDIENCE, nonce=NONCE)
    report = run(vp, w3c_trust(employer_key), tmp_path)
    assert failed(report) == ("credentials", "unknown_key")
    assert not report.credentials[0].ok


# --- properties --------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nonce=st.text(min_size=1, max_size=40), audience=st.text(min_size=1, max_size=40))
def test_any_other_audience_or_nonce_is_refused(ford_vp: str, employer_key: keys.Key,
                                                tmp_path: Path, nonce: str,
                                                audience: str) -> None:
    """For every audience and nonce other than the presentation's, the verifier refuses it
    with that check's code (the audience is checked first)."""
    trust = w3c_trust(employer_key)
    if audience != AUDIENCE:
        assert failed(run(ford_vp, trust, tmp_path, audience=audience)) == (
            "audience", "audience_mismatch")
    if nonce != NONCE:
        assert failed(run(ford_vp, trust, tmp_path, nonce=nonce)) == ("nonce", "nonce_mismatch")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(holder=st.sampled_from(["https://ford.example", "did:example:ford", "urn:uuid:1234"]),
       alg=st.sampled_from(["Ed25519", "ES256", "ES384"]))
def test_a_credential_binding_another_key_is_always_refused(
        employer_key: keys.Key, holder_key: keys.Key, tmp_path: Path, holder: str,
        alg: str) -> None:
    """Whatever the holder's name and the presenting key's algorithm, a credential that binds
    another key fails holder_binding."""
    token = credential(employer_key, holder, holder_key)
    presenter = keys.generate(alg)
    vp = present_document(presenter, vp_document(holder, token), now=NOW)
    report = run(vp, w3c_trust(employer_key), tmp_path, audience=None, nonce=None)
    assert failed(report) == ("holder_binding", "holder_binding")


def test_profile_file_credentials_choose_the_w3c_rules(employer_key: keys.Key,
                                                        holder_key: keys.Key,
                                                        tmp_path: Path) -> None:
    """An issuer whose trust-file profiles name only a profile file: its credential, presented
    without --profile, gets the w3c presentation rules and its own profile's report (a
    presentation mixing it with an IM credential keeps the IM rules: test_profiles.py)."""
    from tests.test_profiles import OTHER, agent_document, write_agent_profile
    from vc_im.profiles import read_profile_file

    profile = read_profile_file(write_agent_profile(tmp_path / "profiles"))
    agent = issue_document(employer_key, agent_document(), now=NOW, profile=profile)
    issuers = TrustStore.of(TrustedIssuer(OTHER, (employer_key.public(),),
                                          frozenset({"sirius.example"}),
                                          frozenset({"support-agent"})))
    trust = TrustStore(issuers.issuers, profiles=(profile,))
    vp = present_document(holder_key, vp_document(holder_key.did_key(), agent), now=NOW,
                          audience=AUDIENCE, nonce=NONCE)
    report = run(vp, trust, tmp_path)
    assert report.ok, report.to_json()
    assert (report.profile, report.credentials[0].profile) == ("w3c", "support-agent")
    assert len(report.warnings) == 1  # binds no key, and its subject is not the holder
