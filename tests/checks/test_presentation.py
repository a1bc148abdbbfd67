"""vc_im.presentations: creating presentations in both encodings, and every verification check
failing alone with its exact code (holder binding, audience, nonce, time, replay)."""

from __future__ import annotations

import collections
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import vc_im._jose
import vc_im._jose.jws as jose
import vc_im._jose.strictjson as strictjson
from tests.conftest import DEVICE, HANDLE, NOW, VERIFIER
from tests.helpers.presentations import (
    DROP,
    JTI,
    NONCE,
    OTHER_DEVICE,
    PRESENTATION_CHECKS,
    SignRaw,
    assert_fails_at,
    assert_valid,
    envelope,
    holder_header,
    jkt_credential,
    public_members,
    vp1_payload,
    vp2_payload,
    with_bad_signature,
)
from tests.helpers.vectors import vector_text
from vc_im import identifiers, keys
from vc_im._checks.presentation import Presentation, verify_presentation
from vc_im._checks.presenting import create_presentation
from vc_im._linked.pinned import V1_CONTEXT, V2_CONTEXT, VCIM_CONTEXT
from vc_im.credentials import issue_credential
from vc_im.errors import InputError
from vc_im.keys import Key
from vc_im.model import CredentialType, Encoding
from vc_im.replay import ReplayStore
from vc_im.report import Report
from vc_im.trust import TrustedIssuer, TrustStore
from vc_im.verify import verify_token

MakeCredential = Callable[..., str]
#: The order of P-256, to flip an ECDSA signature's s into the other valid one.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@pytest.fixture(scope="module")
def device_vc(make_credential: MakeCredential) -> str:
    """Alice's device credential (VC DM 1.1), binding the device key."""
    return make_credential()


@pytest.fixture(scope="module")
def user_vc(make_credential: MakeCredential) -> str:
    """Alice's handle credential (VC DM 1.1), binding the device key."""
    return make_credential(credential_type=CredentialType.USER, subject=HANDLE,
                           instant_messages=[])


@pytest.fixture(scope="module")
def device_vc2(make_credential: MakeCredential) -> str:
    """Alice's device credential (VC DM 2.0)."""
    return make_credential(encoding=Encoding.VC2)


@pytest.fixture(scope="module")
def user_vc2(make_credential: MakeCredential) -> str:
    """Alice's handle credential (VC DM 2.0)."""
    return make_credential(encoding=Encoding.VC2, credential_type=CredentialType.USER,
                           subject=HANDLE, instant_messages=[])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A fresh replay store for one test."""
    return tmp_path / "replay.sqlite3"


def verify(token: str, trust: TrustStore, store: Path, *, now: int = NOW,
           audience: str | None = VERIFIER, nonce: str | None = NONCE,
           leeway: int = 60) -> Report:
    """Verify ``token`` as the verifier waiting for NONCE at VERIFIER."""
    report = verify_presentation(token, trust, now=now, audience=audience, nonce=nonce,
                                 leeway=leeway, store=store)
    assert report.kind == "presentation"
    assert tuple(check.name for check in report.checks) == PRESENTATION_CHECKS
    return report


def alice(sign_raw: SignRaw, key: Key, payload: dict[str, Any], *,
          header: dict[str, Any] | None = None, typ: str = "JWT") -> str:
    """A presentation signed with ``key``, its header naming that key unless given."""
    return sign_raw(holder_header(key, typ=typ) if header is None else header, payload, key)


# --- creating ------------------------------------------------------------------------------

def test_create_vc1_header_and_claims(device_key: Key, device_vc: str) -> None:
    """A vc1 presentation: typ JWT, kid and public jwk of the holder key, the vp claim, iss =
    the device, aud, nonce, a urn:uuid jti, iat = nbf = now and exp 300 s later."""
    token = create_presentation(device_key, [device_vc], audience=VERIFIER, nonce=NONCE, now=NOW)
    unverified = jose.peek_unverified(token)
    assert dict(unverified.header) == {"alg": "Ed25519", "typ": "JWT",
                                       "kid": device_key.thumbprint(),
                                       "jwk": public_members(device_key)}
    assert "d" not in unverified.header["jwk"]
    payload = dict(unverified.payload)
    assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                        r"[0-9a-f]{12}", payload.pop("jti"))
    assert payload == {"iss": DEVICE, "aud": VERIFIER, "nonce": NONCE, "iat": NOW, "nbf": NOW,
                       "exp": NOW + 300,
                       "vp": {"@context": [V1_CONTEXT], "type": ["VerifiablePresentation"],
                              "verifiableCredential": [device_vc]}}


def test_create_vc2_envelopes_credentials(device_key: Key, device_vc2: str,
                                          user_vc2: str) -> None:
    """A vc2 presentation: typ vp+jwt, no vp claim and no nbf, holder = iss, and each
    credential an EnvelopedVerifiableCredential data: URL, in the order given."""
    token = create_presentation(device_key, [user_vc2, device_vc2], audience=VERIFIER,
                                nonce=NONCE, now=NOW, valid_for=60, encoding="vc2")
    unverified = jose.peek_unverified(token)
    assert unverified.header["typ"] == "vp+jwt"
    payload = dict(unverified.payload)
    payload.pop("jti")
    assert payload == {
        "@context": [V2_CONTEXT, VCIM_CONTEXT], "type": ["VerifiablePresentation"],
        "holder": DEVICE, "iss": DEVICE, "aud": VERIFIER, "nonce": NONCE, "iat": NOW,
        "exp": NOW + 60,
        "verifiableCredential": [
            {"@context": [V2_CONTEXT], "type": ["EnvelopedVerifiableCredential"],
             "id": "data:application/vc+jwt," + user_vc2},
            {"@context": [V2_CONTEXT], "type": ["EnvelopedVerifiableCredential"],
             "id": "data:application/vc+jwt," + device_vc2}]}


def test_each_presentation_gets_a_fresh_jti(device_key: Key, device_vc: str) -> None:
    """Two presentations of the same credentials carry different jti values."""
    first, second = (jose.peek_unverified(create_presentation(
        device_key, [device_vc], audience=VERIFIER, nonce=NONCE, now=NOW)).payload["jti"]
        for _ in range(2))
    assert first != second


@pytest.mark.parametrize(("case", "message"), [
    ("public key", "private key"),
    ("no credential", "at least one credential"),
    ("17 credentials", "at most 16 credentials"),
    ("empty audience", "non-empty audience"),
    ("empty nonce", "non-empty audience and nonce"),
    ("lifetime 0", "between 1 and 600"),
    ("lifetime 601", "between 1 and 600"),
    ("unknown format", "unknown presentation format"),
    ("vc2 with vc1 credentials", "--format vc2"),
    ("no device credential", "needs an ImDeviceCredential"),
    ("not a JWS", "not a compact JWS"),
])
def test_create_refuses_unusable_input(case: str, message: str, device_key: Key,
                                       device_vc: str, user_vc: str) -> None:
    """``create_presentation`` refuses unusable input with an InputError saying why."""
    arguments: dict[str, Any] = {"audience": VERIFIER, "nonce": NONCE, "now": NOW}
    key, credentials = device_key, [device_vc]
    if case == "public key":
        key = device_key.public()
    elif case == "no credential":
        credentials = []
    elif case == "17 credentials":
        credentials = [device_vc] * 17
    elif case == "empty audience":
        arguments["audience"] = ""
    elif case == "empty nonce":
        arguments["nonce"] = ""
    elif case == "lifetime 0":
        arguments["valid_for"] = 0
    elif case == "lifetime 601":
        arguments["valid_for"] = 601
    elif case == "unknown format":
        arguments["encoding"] = "vc3"
    elif case == "vc2 with vc1 credentials":
        arguments["encoding"] = "vc2"
    elif case == "no device credential":
        credentials = [user_vc]
    else:
        credentials = ["not-a-jws"]
    with pytest.raises(InputError, match=re.escape(message)):
        create_presentation(key, credentials, **arguments)


# --- valid presentations -------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["vc1", "vc2"])
@pytest.mark.parametrize("which", ["device", "user and device"])
def test_presentation_round_trip(encoding: str, which: str, trust: TrustStore, store: Path,
                                 device_key: Key, device_vc: str, user_vc: str,
                                 device_vc2: str, user_vc2: str) -> None:
    """A created presentation verifies in both encodings, with one credential or with the
    handle credential plus the device credential, each in its own valid nested report."""
    device, user = (device_vc, user_vc) if encoding == "vc1" else (device_vc2, user_vc2)
    credentials = [device] if which == "device" else [user, device]
    token = create_presentation(device_key, credentials, audience=VERIFIER, nonce=NONCE,
                                now=NOW - 10, encoding=encoding)
    report = verify(token, trust, store)
    assert_valid(report)
    assert [nested.kind for nested in report.credentials] == ["credential"] * len(credentials)
    presented = report.verified
    assert isinstance(presented, Presentation)
    assert presented.holder == identifiers.parse(DEVICE)
    assert (presented.audience, presented.nonce, presented.issued_at, presented.expires_at) == (
        VERIFIER, NONCE, NOW - 10, NOW + 290)
    assert presented.holder_key.thumbprint() == device_key.thumbprint()
    assert [c.subject.id for c in presented.credentials] == [
        identifiers.parse(HANDLE if which != "device" and i == 0 else DEVICE)
        for i in range(len(credentials))]


@pytest.mark.parametrize("encoding", ["vc1", "vc2"])
def test_each_token_is_parsed_once(encoding: str, trust: TrustStore, store: Path,
                                   device_key: Key, device_vc: str, user_vc: str,
                                   device_vc2: str, user_vc2: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Verifying a presentation of two credentials takes each of the three tokens apart
    once: choosing the rules and checking the credentials share one reading."""
    credentials = [user_vc, device_vc] if encoding == "vc1" else [user_vc2, device_vc2]
    token = create_presentation(device_key, credentials, audience=VERIFIER, nonce=NONCE,
                                now=NOW - 10, encoding=encoding)
    seen: list[str] = []
    real = jose.peek_unverified

    def counting(value: str | bytes) -> jose.Unverified:
        seen.append(value if isinstance(value, str) else value.decode())
        return real(value)

    monkeypatch.setattr(vc_im._jose, "peek_unverified", counting)
    assert_valid(verify(token, trust, store))
    assert collections.Counter(seen) == collections.Counter([token, *credentials])


@pytest.mark.parametrize("alg", ["ES256", "ES256K", "RS256"])
def test_every_holder_key_algorithm(alg: str, trust: TrustStore, store: Path,
                                    make_credential: MakeCredential) -> None:
    """A holder key of each supported algorithm presents the credential that binds it."""
    holder = keys.generate(alg)
    credential = make_credential(holder_key=holder.public())
    token = create_presentation(holder, [credential], audience=VERIFIER, nonce=NONCE, now=NOW)
    assert jose.peek_unverified(token).header["alg"] == alg
    assert_valid(verify(token, trust, store))


def test_did_jwt_vc_style_presentation(sign_raw: SignRaw, trust: TrustStore, store: Path,
                                       device_key: Key, device_vc: str) -> None:
    """A presentation minted as did-jwt-vc does (vp claim; iat, exp, nbf, nonce, jti; aud as a
    one-element array; header typ JWT, alg EdDSA and only a kid, the RFC 9278 thumbprint URI
    of the device key, no jwk) verifies."""
    header = {"typ": "JWT", "alg": "EdDSA", "kid": device_key.thumbprint_uri()}
    payload = {"vp": {"@context": [V1_CONTEXT], "type": ["VerifiablePresentation"],
                      "verifiableCredential": [device_vc]},
               "iss": DEVICE, "aud": [VERIFIER], "nonce": NONCE, "jti": JTI,
               "iat": NOW, "nbf": NOW, "exp": NOW + 600}
    assert_valid(verify(sign_raw(header, payload, device_key), trust, store))


def test_presentation_without_typ_is_vc1(sign_raw: SignRaw, trust: TrustStore, store: Path,
                                         device_key: Key, device_vc: str) -> None:
    """A header without typ (JWT is the default, RFC 7519 §5.1) and a vp claim is a vc1
    presentation."""
    header = {"jwk": public_members(device_key)}
    assert_valid(verify(sign_raw(header, vp1_payload([device_vc]), device_key), trust, store))


def test_iss_is_compared_by_identifier_equality(sign_raw: SignRaw, trust: TrustStore,
                                                store: Path, device_key: Key,
                                                device_vc: str) -> None:
    """An iss that spells the device's domain in upper case names the same device."""
    payload = vp1_payload([device_vc], iss="im:SvPfLlwBQi-6oddVRrkqpw/04c7@EXAMPLE.COM")
    assert_valid(verify(alice(sign_raw, device_key, payload), trust, store))


def test_verify_token_routes_presentations(trust: TrustStore, store: Path, device_key: Key,
                                           device_vc2: str) -> None:
    """``verify_token`` recognises a vp+jwt presentation and verifies it as one."""
    token = create_presentation(device_key, [device_vc2], audience=VERIFIER, nonce=NONCE,
                                now=NOW, encoding="vc2")
    report = verify_token(token, trust, now=NOW, audience=VERIFIER, nonce=NONCE, store=store)
    assert report.kind == "presentation"
    assert_valid(report)


def test_bare_credential_where_a_presentation_is_expected(trust: TrustStore, store: Path,
                                                          device_vc: str) -> None:
    """With an audience and a nonce, a bare credential fails its header check with bad_type."""
    report = verify_token(device_vc, trust, now=NOW, audience=VERIFIER, nonce=NONCE,
                          store=store)
    assert report.kind == "credential"
    assert_fails_at(report, "header", "bad_type")


def test_vc_data_model_spec_example_is_refused(trust: TrustStore, store: Path) -> None:
    """The VC Data Model 1.1 spec's JWT presentation is recognised as a presentation and refused
    for its examples @context (a vocabulary vc_im does not accept)."""
    token = vector_text("vcdm-1.1", "vp-jwt-example.jwt").strip()
    report = verify_token(token, trust, now=1541493724,
                          audience="did:example:4a57546973436f6f6c4a4a57573",
                          nonce="343s$FSFDa-", store=store)
    assert report.kind == "presentation"
    assert_fails_at(report, "claims", "context_rejected")


# --- audience ------------------------------------------------------------------------------

def test_audience_is_required_and_checked_before_nonce(trust: TrustStore, store: Path,
                                                       device_key: Key, device_vc: str) -> None:
    """Without --audience (and without --nonce) a presentation fails at audience with
    audience_mismatch; the nonce check is skipped."""
    token = create_presentation(device_key, [device_vc], audience=VERIFIER, nonce=NONCE, now=NOW)
    report = verify(token, trust, store, audience=None, nonce=None)
    assert_fails_at(report, "audience", "audience_mismatch")
    assert report.check("nonce").status.value == "skipped"


@pytest.mark.parametrize("aud", [
    DROP, [VERIFIER, "https://other.example"], ["https://other.example", VERIFIER],
    "https://other.example", VERIFIER + "/", [], 42, [42], {"id": VERIFIER}, None,
], ids=["absent", "two-first", "two-last", "other", "trailing-slash", "empty-array",
        "number", "array-of-number", "object", "null"])
def test_aud_must_name_exactly_this_verifier(aud: Any, sign_raw: SignRaw, trust: TrustStore,
                                             store: Path, device_key: Key,
                                             device_vc: str) -> None:
    """An aud that is absent, names two audiences, another one, or is not a string fails with
    audience_mismatch."""
    token = alice(sign_raw, device_key, vp1_payload([device_vc], aud=aud))
    assert_fails_at(verify(token, trust, store), "audience", "audience_mismatch")


# --- nonce ---------------------------------------------------------------------------------

def test_nonce_is_required(trust: TrustStore, store: Path, device_key: Key,
                           device_vc: str) -> None:
    """With --audience but without --nonce a presentation fails at nonce with nonce_mismatch."""
    token = create_presentation(device_key, [device_vc], audience=VERIFIER, nonce=NONCE, now=NOW)
    assert_fails_at(verify(token, trust, store, nonce=None), "nonce", "nonce_mismatch")


@pytest.mark.parametrize("nonce", [
    DROP, "another-nonce", NONCE + " ", NONCE.upper(), NONCE[:-1], 12345, [NONCE], None, "",
], ids=["absent", "other", "trailing-space", "case", "prefix", "number", "array", "null",
        "empty"])
def test_nonce_must_be_the_verifiers_string(nonce: Any, sign_raw: SignRaw, trust: TrustStore,
                                            store: Path, device_key: Key,
                                            device_vc: str) -> None:
    """A nonce claim that is absent, different or not a string fails with nonce_mismatch."""
    token = alice(sign_raw, device_key, vp1_payload([device_vc], nonce=nonce))
    assert_fails_at(verify(token, trust, store), "nonce", "nonce_mismatch")


def test_nonce_with_a_lone_surrogate_fails_cleanly(sign_raw: SignRaw, trust: TrustStore,
                                                   store: Path, device_key: Key,
                                                   device_vc: str) -> None:
    """A nonce claim "\\ud800" (a lone surrogate: valid JSON, not valid UTF-8) is refused with a
    report: nonce_mismatch at nonce, or malformed at format where the JSON reader refuses it."""
    token = alice(sign_raw, device_key, vp1_payload([device_vc], nonce="\ud800"))
    report = verify(token, trust, store)
    failure = report.failure
    assert failure is not None
    assert (failure.name, failure.code) in {("nonce", "nonce_mismatch"), ("format", "malformed")}
    assert_fails_at(report, failure.name, str(failure.code))


# --- time ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("claims", "code"), [
    ({"iat": NOW - 361, "nbf": DROP, "exp": NOW + 100}, "bad_iat"),
    ({"iat": NOW + 61, "nbf": DROP, "exp": NOW + 361}, "bad_iat"),
    ({"iat": NOW, "exp": NOW + 601}, "bad_iat"),
    ({"iat": NOW - 200, "nbf": DROP, "exp": NOW - 60}, "expired"),
    ({"iat": NOW + 30, "nbf": NOW + 61, "exp": NOW + 300}, "not_yet_valid"),
], ids=["iat-too-old", "iat-in-future", "exp-too-far", "expired", "nbf-in-future"])
def test_time_window(claims: dict[str, Any], code: str, sign_raw: SignRaw, trust: TrustStore,
                     store: Path, device_key: Key, device_vc: str) -> None:
    """iat older than 300 s + 60 s leeway or 60 s in the future, exp more than 600 s after iat,
    an exp passed by the leeway and an nbf ahead by more than the leeway each fail at time."""
    token = alice(sign_raw, device_key, vp1_payload([device_vc], **claims))
    assert_fails_at(verify(token, trust, store), "time", code)


@pytest.mark.parametrize("claims", [
    {"iat": NOW - 360, "nbf": DROP, "exp": NOW + 10},
    {"iat": NOW + 60, "nbf": DROP, "exp": NOW + 360},
    {"iat": NOW, "exp": NOW + 600},
    {"iat": NOW - 200, "nbf": DROP, "exp": NOW - 59},
    {"iat": NOW + 30, "nbf": NOW + 60, "exp": NOW + 300},
], ids=["iat-360s-old", "iat-60s-ahead", "lifetime-600s", "exp-59s-ago", "nbf-60s-ahead"])
def test_time_window_boundaries_are_accepted(claims: dict[str, Any], sign_raw: SignRaw,
                                             trust: TrustStore, store: Path, device_key: Key,
                                             device_vc: str) -> None:
    """The last second of each time window (with the default 60 s leeway) is still valid."""
    token = alice(sign_raw, device_key, vp1_payload([device_vc], **claims))
    assert_valid(verify(token, trust, store))


def test_leeway_zero_narrows_the_window(sign_raw: SignRaw, trust: TrustStore, store: Path,
                                        device_key: Key, device_vc: str) -> None:
    """With leeway 0, a presentation created 301 s ago fails with bad_iat."""
    token = alice(sign_raw, device_key, vp1_payload([device_vc], iat=NOW - 301, nbf=DROP,
                                                    exp=NOW + 100))
    assert_fails_at(verify(token, trust, store, leeway=0), "time", "bad_iat")


# --- claims and structure ------------------------------------------------------------------

@pytest.mark.parametrize(("claims", "code"), [
    ({"jti": DROP}, "missing_claim"),
    ({"jti": ""}, "missing_claim"),
    ({"jti": 7}, "missing_claim"),
    ({"iss": DROP}, "missing_claim"),
    ({"iss": "https://device.example"}, "bad_identifier"),
    ({"iat": DROP}, "missing_claim"),
    ({"exp": DROP}, "missing_claim"),
    ({"iat": NOW * 1000}, "malformed"),
    ({"exp": str(NOW + 300)}, "malformed"),
    ({"vc": {}}, "malformed"),
], ids=["no-jti", "empty-jti", "number-jti", "no-iss", "iss-not-im", "no-iat", "no-exp",
        "iat-ms", "exp-string", "vc-claim"])
def test_registered_claims(claims: dict[str, Any], code: str, sign_raw: SignRaw,
                           trust: TrustStore, store: Path, device_key: Key,
                           device_vc: str) -> None:
    """jti, iss (an IM identifier), iat and exp are required, NumericDates are integer seconds,
    and a presentation carries no vc claim."""
    token = alice(sign_raw, device_key, vp1_payload([device_vc], **claims))
    assert_fails_at(verify(token, trust, store), "claims", code)


@pytest.mark.parametrize(("vp", "code"), [
    ("not an object", "missing_claim"),
    ({"@context": [V2_CONTEXT], "type": ["VerifiablePresentation"]}, "context_rejected"),
    ({"@context": [V1_CONTEXT], "type": ["VerifiableCredential"]}, "bad_type"),
    ({"@context": [V1_CONTEXT], "type": ["VerifiablePresentation"], "proof": {}}, "malformed"),
    ({"@context": [V1_CONTEXT], "type": ["VerifiablePresentation"],
      "verifiableCredential": []}, "missing_claim"),
], ids=["not-object", "wrong-context", "wrong-type", "unknown-member", "no-credentials"])
def test_vp_claim_structure(vp: Any, code: str, sign_raw: SignRaw, trust: TrustStore,
                            store: Path, device_key: Key, device_vc: str) -> None:
    """The vp claim is an object with the v1 context, type VerifiablePresentation, no unknown
    members and at least one credential."""
    if isinstance(vp, dict) and "verifiableCredential" not in vp and code != "missing_claim":
        vp = {**vp, "verifiableCredential": [device_vc]}
    token = alice(sign_raw, device_key, vp1_payload([device_vc], vp=vp))
    assert_fails_at(verify(token, trust, store), "claims", code)


def test_jwt_without_vp_is_not_a_presentation(sign_raw: SignRaw, trust: TrustStore,
                                              store: Path, device_key: Key,
                                              device_vc: str) -> None:
    """A typ JWT token without a vp claim, given to the presentation verifier, fails at header
    with bad_type."""
    token = alice(sign_raw, device_key, vp1_payload([device_vc], vp=DROP))
    assert_fails_at(verify(token, trust, store), "header", "bad_type")


@pytest.mark.parametrize(("header", "check", "code"), [
    ({"jku": "https://attacker.example/keys"}, "header", "bad_header"),
    ({"x5c": ["MIIB"]}, "header", "bad_header"),
    ({"crit": ["exp"]}, "header", "bad_header"),
    ({"nonce": "x"}, "header", "bad_header"),
    ({"kid": 5}, "header", "bad_header"),
    ({"jwk": "not-an-object"}, "header", "bad_header"),
    ({"alg": "none"}, "alg", "unsupported_alg"),
    ({"alg": "HS256"}, "alg", "unsupported_alg"),
    ({"alg": "PS256"}, "alg", "unsupported_alg"),
], ids=["jku", "x5c", "crit", "unknown", "kid-number", "jwk-string", "none", "HS256", "PS256"])
def test_header_and_alg(header: dict[str, Any], check: str, code: str, sign_raw: SignRaw,
                        trust: TrustStore, store: Path, device_key: Key,
                        device_vc: str) -> None:
    """Refused header parameters fail at header; alg none, a MAC or an unsupported alg fail
    at alg with unsupported_alg."""
    token = vp_with_header(sign_raw, device_key, vp1_payload([device_vc]),
                           {**holder_header(device_key), **header})
    assert_fails_at(verify(token, trust, store), check, code)


def vp_with_header(sign_raw: SignRaw, key: Key, payload: dict[str, Any],
                   header: dict[str, Any]) -> str:
    """Sign with ``key`` under ``header``, whatever its alg says (a zero signature if the alg
    cannot be computed with the key)."""
    alg = header.get("alg", key.alg)
    if key.accepts(str(alg)):
        return sign_raw(header, payload, key)
    signing_input = (jose.b64url_encode(strictjson.dumps_compact(header)) + "."
                     + jose.b64url_encode(strictjson.dumps_compact(payload)))
    return signing_input + "." + jose.b64url_encode(bytes(64))


def test_header_jwk_with_private_members(sign_raw: SignRaw, trust: TrustStore, store: Path,
                                         device_key: Key, device_vc: str) -> None:
    """A header jwk that carries the private key fails at header with bad_header."""
    header = {"typ": "JWT", "jwk": device_key.private_jwk()}
    token = sign_raw(header, vp1_payload([device_vc]), device_key)
    assert_fails_at(verify(token, trust, store), "header", "bad_header")


def test_vc2_holder_must_equal_iss(sign_raw: SignRaw, trust: TrustStore, store: Path,
                                   device_key: Key, device_vc2: str) -> None:
    """A vc2 presentation whose holder differs from iss fails with claim_mismatch."""
    payload = vp2_payload([device_vc2], holder=OTHER_DEVICE)
    token = alice(sign_raw, device_key, payload, typ="vp+jwt")
    assert_fails_at(verify(token, trust, store), "claims", "claim_mismatch")


def test_vc1_vp_holder_must_equal_iss(sign_raw: SignRaw, trust: TrustStore, store: Path,
                                      device_key: Key, device_vc: str) -> None:
    """A vc1 presentation whose vp.holder differs from iss (its JWT mapping, VC DM 1.1 §6.3.1)
    fails with claim_mismatch, as in vc2."""
    payload = vp1_payload([device_vc])
    payload["vp"]["holder"] = OTHER_DEVICE
    assert_fails_at(verify(alice(sign_raw, device_key, payload), trust, store),
                    "claims", "claim_mismatch")


def test_vc2_payload_must_not_carry_vp(sign_raw: SignRaw, trust: TrustStore, store: Path,
                                       device_key: Key, device_vc2: str) -> None:
    """A vp+jwt payload with a vp claim fails with malformed (the payload is the presentation)."""
    payload = vp2_payload([device_vc2], vp={"verifiableCredential": [device_vc2]})
    token = alice(sign_raw, device_key, payload, typ="vp+jwt")
    assert_fails_at(verify(token, trust, store), "claims", "malformed")


def test_at_most_16_credentials(sign_raw: SignRaw, trust: TrustStore, store: Path,
                                device_key: Key, device_vc: str) -> None:
    """16 credentials are accepted; 17 fail at claims with too_large."""
    sixteen = alice(sign_raw, device_key, vp1_payload([device_vc] * 16))
    assert_valid(verify(sixteen, trust, store))
    seventeen = alice(sign_raw, device_key, vp1_payload([device_vc] * 17, jti="urn:x:17"))
    assert_fails_at(verify(seventeen, trust, store), "claims", "too_large")


# --- embedded credentials must be secured --------------------------------------------------

def test_plain_json_credential_in_vp(sign_raw: SignRaw, trust: TrustStore, store: Path,
                                     device_key: Key, device_vc: str) -> None:
    """A vp holding the decoded credential object (not its JWT) fails at claims with
    credential_not_secured."""
    plain = dict(jose.peek_unverified(device_vc).payload["vc"])
    token = alice(sign_raw, device_key, vp1_payload([device_vc, plain]))
    report = verify(token, trust, store)
    assert_fails_at(report, "claims", "credential_not_secured")
    assert report.check("claims").path == "$.verifiableCredential[1]"


@pytest.mark.parametrize("item", ["bare-jwt", "plain-object", "vp-media-type", "json-media-type",
                                  "wrong-type"])
def test_vc2_items_must_be_enveloped_jwts(item: str, sign_raw: SignRaw, trust: TrustStore,
                                          store: Path, device_key: Key,
                                          device_vc2: str) -> None:
    """In vc2, a bare JWT, a plain credential object, or an envelope that is not a
    data:application/vc+jwt EnvelopedVerifiableCredential fails with credential_not_secured."""
    entry: Any = {
        "bare-jwt": device_vc2,
        "plain-object": dict(jose.peek_unverified(device_vc2).payload),
        "vp-media-type": envelope(device_vc2, "application/vp+jwt"),
        "json-media-type": envelope(device_vc2, "application/vc"),
        "wrong-type": {**envelope(device_vc2), "type": ["VerifiableCredential"]},
    }[item]
    payload = vp2_payload([device_vc2])
    payload["verifiableCredential"].append(entry)
    token = alice(sign_raw, device_key, payload, typ="vp+jwt")
    assert_fails_at(verify(token, trust, store), "claims", "credential_not_secured")


@pytest.mark.parametrize("encoding", ["vc1", "vc2"])
def test_presentation_inside_a_presentation(encoding: str, trust: TrustStore, store: Path,
                                            device_key: Key, device_vc: str,
                                            device_vc2: str) -> None:
    """A presentation embedded as if it were a credential fails at credentials with
    credential_not_secured."""
    device = device_vc if encoding == "vc1" else device_vc2
    inner = create_presentation(device_key, [device], audience=VERIFIER, nonce=NONCE, now=NOW,
                                encoding=encoding)
    outer = sign_outer(device_key, [inner, device], encoding)
    assert_fails_at(verify(outer, trust, store), "credentials", "credential_not_secured")


def sign_outer(key: Key, tokens: list[str], encoding: str) -> str:
    """A presentation of ``tokens`` signed without any check of what they are."""
    if encoding == "vc1":
        return jose.sign(holder_header(key), vp1_payload(tokens), key)
    return jose.sign(holder_header(key, typ="vp+jwt"), vp2_payload(tokens), key)


def test_invalid_credential_fails_with_nested_code(trust: TrustStore, store: Path,
                                                   device_key: Key,
                                                   make_credential: MakeCredential) -> None:
    """An expired embedded credential fails the presentation at credentials with expired, and
    its nested report fails at time with expired."""
    expired = make_credential(now=NOW - 91 * 86400)
    token = create_presentation(device_key, [expired], audience=VERIFIER, nonce=NONCE, now=NOW)
    report = verify(token, trust, store)
    assert_fails_at(report, "credentials", "expired")
    assert len(report.credentials) == 1
    assert_fails_at(report.credentials[0], "time", "expired")
    assert report.credentials[0].kind == "credential"
    assert report.to_json()["credentials"][0]["ok"] is False  # type: ignore[index]


def test_second_credential_invalid(trust: TrustStore, store: Path, device_key: Key,
                                   attacker_key: Key, device_vc: str,
                                   make_credential: MakeCredential) -> None:
    """With a valid credential and one from an issuer not in the trust file, the presentation
    fails with untrusted_issuer; the first nested report is valid, the second fails at
    issuer_key."""
    rogue = make_credential(key=attacker_key, issuer="https://evil.example")
    token = create_presentation(device_key, [device_vc, rogue], audience=VERIFIER, nonce=NONCE,
                                now=NOW)
    report = verify(token, trust, store)
    assert_fails_at(report, "credentials", "untrusted_issuer")
    assert len(report.credentials) == 2
    assert_valid(report.credentials[0])
    assert_fails_at(report.credentials[1], "issuer_key", "untrusted_issuer")


def test_every_credential_gets_its_report_even_after_a_failure(
        trust: TrustStore, store: Path, device_key: Key, attacker_key: Key, device_vc: str,
        make_credential: MakeCredential) -> None:
    """One nested report per embedded credential: a failing first credential does not hide the
    second's report, and the first failure decides the presentation's code."""
    rogue = make_credential(key=attacker_key, issuer="https://evil.example")
    token = create_presentation(device_key, [rogue, device_vc], audience=VERIFIER, nonce=NONCE,
                                now=NOW)
    report = verify(token, trust, store)
    assert_fails_at(report, "credentials", "untrusted_issuer")
    assert len(report.credentials) == 2
    assert_fails_at(report.credentials[0], "issuer_key", "untrusted_issuer")
    assert_valid(report.credentials[1])


def test_forged_credential_fails_with_bad_signature(trust: TrustStore, store: Path,
                                                    device_key: Key, device_vc: str) -> None:
    """An embedded credential with a broken issuer signature fails with bad_signature."""
    forged = with_bad_signature(device_vc)
    token = create_presentation(device_key, [forged], audience=VERIFIER, nonce=NONCE, now=NOW)
    report = verify(token, trust, store)
    assert_fails_at(report, "credentials", "bad_signature")
    assert_fails_at(report.credentials[0], "signature", "bad_signature")


# --- holder binding ------------------------------------------------------------------------

def test_stolen_credential(trust: TrustStore, store: Path, attacker_key: Key,
                           device_vc: str) -> None:
    """THE STOLEN CREDENTIAL: an attacker who copied Alice's valid credential presents it with
    their own key; the credential is valid, the presentation fails with holder_binding."""
    token = create_presentation(attacker_key, [device_vc], audience=VERIFIER, nonce=NONCE,
                                now=NOW)
    report = verify(token, trust, store)
    assert_fails_at(report, "holder_binding", "holder_binding")
    assert_valid(report.credentials[0])


@pytest.mark.parametrize(("kid", "jwk", "check"), [
    (True, False, "holder_binding"),
    (False, True, "holder_binding"),
    (False, False, "signature"),
], ids=["kid-only", "jwk-only", "no-key-named"])
def test_stolen_credential_any_header(kid: bool, jwk: bool, check: str, sign_raw: SignRaw,
                                      trust: TrustStore, store: Path, attacker_key: Key,
                                      device_vc: str) -> None:
    """The attacker's presentation fails with holder_binding whether its header names the
    attacker's key by kid, by jwk, or names no key at all (then at signature)."""
    header = holder_header(attacker_key, kid=kid, jwk=jwk)
    token = sign_raw(header, vp1_payload([device_vc]), attacker_key)
    assert_fails_at(verify(token, trust, store), check, "holder_binding")


def test_header_jwk_of_another_key(sign_raw: SignRaw, trust: TrustStore, store: Path,
                                   device_key: Key, attacker_key: Key, device_vc: str) -> None:
    """A presentation signed by the bound key but whose header jwk is another key fails with
    holder_binding."""
    header = {"typ": "JWT", "jwk": public_members(attacker_key)}
    token = sign_raw(header, vp1_payload([device_vc]), device_key)
    assert_fails_at(verify(token, trust, store), "holder_binding", "holder_binding")


@pytest.mark.parametrize("names", ["jwk-and-kid", "jwk", "kid-thumbprint", "kid-uri"])
def test_header_names_bound_key_but_signature_is_bad(names: str, sign_raw: SignRaw,
                                                     trust: TrustStore, store: Path,
                                                     device_key: Key, attacker_key: Key,
                                                     device_vc: str) -> None:
    """A header that names the bound key (by jwk, thumbprint kid or thumbprint URI kid) over a
    signature made by another key fails at signature with bad_signature."""
    header: dict[str, Any] = {
        "jwk-and-kid": holder_header(device_key),
        "jwk": holder_header(device_key, kid=False),
        "kid-thumbprint": holder_header(device_key, jwk=False),
        "kid-uri": {"typ": "JWT", "kid": device_key.thumbprint_uri()},
    }[names]
    token = sign_raw(header, vp1_payload([device_vc]), attacker_key)
    assert_fails_at(verify(token, trust, store), "signature", "bad_signature")


def test_zeroed_signature(trust: TrustStore, store: Path, device_key: Key,
                          device_vc: str) -> None:
    """Alice's presentation with its signature bytes zeroed fails with bad_signature."""
    token = create_presentation(device_key, [device_vc], audience=VERIFIER, nonce=NONCE, now=NOW)
    assert_fails_at(verify(with_bad_signature(token), trust, store), "signature",
                    "bad_signature")


def test_credential_without_cnf(trust: TrustStore, store: Path, device_key: Key,
                                make_credential: MakeCredential) -> None:
    """A valid credential that binds no key (no cnf) cannot be presented: holder_binding."""
    unbound = make_credential(holder_key=None)
    token = create_presentation(device_key, [unbound], audience=VERIFIER, nonce=NONCE, now=NOW)
    report = verify(token, trust, store)
    assert_fails_at(report, "holder_binding", "holder_binding")
    assert_valid(report.credentials[0])


def test_credentials_binding_different_keys(trust: TrustStore, store: Path, device_key: Key,
                                            attacker_key: Key, device_vc: str,
                                            make_credential: MakeCredential) -> None:
    """A handle credential bound to another key, beside the device credential, fails with
    holder_binding."""
    other = make_credential(credential_type=CredentialType.USER, subject=HANDLE,
                            instant_messages=[], holder_key=attacker_key.public())
    token = create_presentation(device_key, [other, device_vc], audience=VERIFIER, nonce=NONCE,
                                now=NOW)
    assert_fails_at(verify(token, trust, store), "holder_binding", "holder_binding")


def test_iss_is_not_the_device_subject(sign_raw: SignRaw, trust: TrustStore, store: Path,
                                       device_key: Key, device_vc: str) -> None:
    """A presentation whose iss is another device than the credential's subject fails with
    holder_binding."""
    token = alice(sign_raw, device_key, vp1_payload([device_vc], iss=OTHER_DEVICE))
    assert_fails_at(verify(token, trust, store), "holder_binding", "holder_binding")


def test_two_device_credentials_for_different_devices(trust: TrustStore, store: Path,
                                                      device_key: Key, device_vc: str,
                                                      make_credential: MakeCredential) -> None:
    """iss must equal the subject of every device credential presented: a second device
    credential for another device fails with holder_binding."""
    second = make_credential(subject=OTHER_DEVICE)
    token = create_presentation(device_key, [device_vc, second], audience=VERIFIER, nonce=NONCE,
                                now=NOW)
    assert_fails_at(verify(token, trust, store), "holder_binding", "holder_binding")


def test_user_credential_not_listed_by_the_device(trust: TrustStore, store: Path,
                                                  device_key: Key, user_vc: str,
                                                  make_credential: MakeCredential) -> None:
    """A handle credential whose subject the device credential's hasInstantMessage does not list
    fails with holder_binding."""
    device_only = make_credential(instant_messages=[])
    token = create_presentation(device_key, [user_vc, device_only], audience=VERIFIER,
                                nonce=NONCE, now=NOW)
    assert_fails_at(verify(token, trust, store), "holder_binding", "holder_binding")


def test_user_credential_alone(sign_raw: SignRaw, trust: TrustStore, store: Path,
                               device_key: Key, user_vc: str) -> None:
    """A presentation with only a handle credential (no device credential ties iss to a
    device) fails with holder_binding."""
    token = alice(sign_raw, device_key, vp1_payload([user_vc]))
    assert_fails_at(verify(token, trust, store), "holder_binding", "holder_binding")


def test_cnf_jkt_with_header_jwk(sign_raw: SignRaw, trust: TrustStore, store: Path,
                                 issuer_key: Key, device_key: Key) -> None:
    """A credential binding the key by thumbprint (cnf.jkt) verifies when the header carries
    the jwk."""
    token = alice(sign_raw, device_key, vp1_payload([jkt_credential(issuer_key, device_key)]))
    assert_valid(verify(token, trust, store))


@pytest.mark.parametrize(("signer", "header", "check", "code"), [
    ("device", "kid-only", "holder_binding", "holder_binding"),
    ("attacker", "attacker-jwk", "holder_binding", "holder_binding"),
    ("attacker", "device-jwk", "signature", "bad_signature"),
])
def test_cnf_jkt_failures(signer: str, header: str, check: str, code: str, sign_raw: SignRaw,
                          trust: TrustStore, store: Path, issuer_key: Key, device_key: Key,
                          attacker_key: Key) -> None:
    """With cnf.jkt: a header with a kid but no jwk gives nothing to compare (holder_binding); an
    attacker's jwk fails with holder_binding; the device jwk over an attacker's signature
    fails with bad_signature."""
    key = device_key if signer == "device" else attacker_key
    headers = {"kid-only": holder_header(device_key, jwk=False),
               "attacker-jwk": holder_header(attacker_key),
               "device-jwk": holder_header(device_key)}
    payload = vp1_payload([jkt_credential(issuer_key, device_key)])
    token = sign_raw(headers[header], payload, key)
    assert_fails_at(verify(token, trust, store), check, code)


# --- replay --------------------------------------------------------------------------------

def test_same_presentation_twice(trust: TrustStore, store: Path, device_key: Key,
                                 device_vc: str) -> None:
    """The same presentation verified a second time fails at replay with replay."""
    token = create_presentation(device_key, [device_vc], audience=VERIFIER, nonce=NONCE, now=NOW)
    assert_valid(verify(token, trust, store))
    assert_fails_at(verify(token, trust, store, now=NOW + 1), "replay", "replay")


def test_malleated_ecdsa_signature_is_still_a_replay(trust: TrustStore, store: Path,
                                                     make_credential: MakeCredential) -> None:
    """An ES256 presentation re-encoded with the other valid signature (s -> n - s) verifies,
    but is recognised as the same presentation: replay (replay keys are not token bytes)."""
    holder = keys.generate("ES256")
    credential = make_credential(holder_key=holder.public())
    token = create_presentation(holder, [credential], audience=VERIFIER, nonce=NONCE, now=NOW)
    head, payload, signature = token.split(".")
    raw = jose.b64url_decode(signature, what="signature")
    s = int.from_bytes(raw[32:], "big")
    twin = f"{head}.{payload}.{jose.b64url_encode(raw[:32] + (P256_ORDER - s).to_bytes(32, 'big'))}"
    assert twin != token
    assert_valid(verify(twin, trust, store))
    assert_fails_at(verify(token, trust, store), "replay", "replay")


def test_issued_nonce_whose_ttl_passed(trust: TrustStore, store: Path, device_key: Key,
                                       device_vc: str) -> None:
    """A presentation answering a nonce this verifier issued, verified after the nonce's TTL,
    fails at replay with nonce_mismatch."""
    with ReplayStore.open(store) as replay:
        issued = replay.issue_nonce(now=NOW - 250, ttl=300, purge=False)
    token = create_presentation(device_key, [device_vc], audience=VERIFIER, nonce=issued,
                                now=NOW - 100)
    assert_fails_at(verify(token, trust, store, now=NOW + 50, nonce=issued), "replay",
                    "nonce_mismatch")


def test_issued_nonce_is_single_use(trust: TrustStore, store: Path, device_key: Key,
                                    device_vc: str) -> None:
    """An issued nonce within its TTL is accepted once; a second presentation (another jti)
    answering it fails with replay."""
    with ReplayStore.open(store) as replay:
        issued = replay.issue_nonce(now=NOW, purge=False)
    first, second = (create_presentation(device_key, [device_vc], audience=VERIFIER,
                                         nonce=issued, now=NOW) for _ in range(2))
    assert_valid(verify(first, trust, store, nonce=issued))
    assert_fails_at(verify(second, trust, store, nonce=issued), "replay", "replay")


def test_caller_nonce_is_single_use(trust: TrustStore, store: Path, device_key: Key,
                                    device_vc: str) -> None:
    """A nonce the caller chose is consumed too: a fresh presentation answering it again fails
    with replay."""
    first, second = (create_presentation(device_key, [device_vc], audience=VERIFIER,
                                         nonce=NONCE, now=NOW) for _ in range(2))
    assert_valid(verify(first, trust, store))
    assert_fails_at(verify(second, trust, store), "replay", "replay")


def test_iss_jti_replay_with_another_nonce(sign_raw: SignRaw, trust: TrustStore, store: Path,
                                           device_key: Key, device_vc: str) -> None:
    """A presentation reusing an accepted (iss, jti) with a new nonce fails with replay, while
    a new jti with a new nonce is accepted."""
    first = alice(sign_raw, device_key, vp1_payload([device_vc]))
    again = alice(sign_raw, device_key, vp1_payload([device_vc], nonce="second-nonce"))
    fresh = alice(sign_raw, device_key, vp1_payload([device_vc], nonce="third-nonce",
                                                    jti="urn:x:fresh"))
    assert_valid(verify(first, trust, store))
    assert_fails_at(verify(again, trust, store, nonce="second-nonce"), "replay", "replay")
    assert_valid(verify(fresh, trust, store, nonce="third-nonce"))


def test_rejected_presentation_does_not_consume_the_nonce(trust: TrustStore, store: Path,
                                                          device_key: Key, attacker_key: Key,
                                                          device_vc: str) -> None:
    """Only acceptance consumes a nonce: after the attacker's presentation fails, Alice's
    presentation answering the same nonce is accepted."""
    stolen = create_presentation(attacker_key, [device_vc], audience=VERIFIER, nonce=NONCE,
                                 now=NOW)
    assert_fails_at(verify(stolen, trust, store), "holder_binding", "holder_binding")
    genuine = create_presentation(device_key, [device_vc], audience=VERIFIER, nonce=NONCE,
                                  now=NOW)
    assert_valid(verify(genuine, trust, store))


@pytest.mark.parametrize("encoding", [Encoding.VC1, Encoding.VC2])
def test_a_null_holder_is_a_claim_mismatch(encoding: Encoding) -> None:
    """A presentation's holder, when present, names its iss; JSON null names nobody, so it is
    refused like any other wrong holder (found by the signed-mutant campaign)."""
    now = 1_900_000_000
    issuer, device = keys.generate(), keys.generate()
    trust = TrustStore.of(TrustedIssuer("https://im.example.com", (issuer.public(),),
                                        frozenset({"example.com"})))
    token = issue_credential(issuer, issuer="https://im.example.com",
                             subject="im:alice/laptop@example.com", fn="Alice",
                             holder_key=device.public(), now=now, encoding=encoding)
    vp = create_presentation(device, [token], audience="https://v.example", nonce="n" * 22,
                             now=now, encoding=encoding.value)
    header, payload = jose.peek_unverified(vp).header, dict(jose.peek_unverified(vp).payload)
    body = payload["vp"] if encoding is Encoding.VC1 else payload
    body["holder"] = None
    forged = jose.sign(header, payload, device)
    report = verify_presentation(forged, trust, now=now, audience="https://v.example",
                                 nonce="n" * 22, store=None)
    assert (report.failure.name, report.code) == ("claims", "claim_mismatch")


def test_present_vc2_with_an_unreadable_credential_is_bad_input() -> None:
    """An unreadable credential given to a vc2 presentation is the caller's input error
    (InputError, exit 2 in the CLI), not a token verdict (found by the campaign)."""
    device = keys.generate()
    with pytest.raises(InputError, match="is not a compact JWS"):
        create_presentation(device, ["e30=.e30.AAAA"], audience="https://v.example",
                            nonce="n" * 22, now=1_900_000_000, encoding="vc2")
