"""Credential checks: every check of a credential's report, each failing alone with its exact code.

Failing tokens are crafted from a valid credential: its payload is decoded,
changed in one place, and signed again with the issuer's key (``sign_raw``),
so that every check before the one under test passes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vc_im._jose.jws as jose
from tests.conftest import DEVICE, HANDLE, ISSUER, NOW, claims_of
from vc_im import keys
from vc_im._checks.credential import CREDENTIAL_STEPS, DEFAULT_LEEWAY, verify_credential
from vc_im._linked.pinned import V1_CONTEXT, V2_CONTEXT, VCIM_CONTEXT
from vc_im.model import Credential, CredentialType, Encoding
from vc_im.report import Check, Report, Status
from vc_im.trust import TrustedIssuer, TrustStore
from vc_im.verify import verify_token

STEP_NAMES = [name for name, _ in CREDENTIAL_STEPS]
#: The credential checks of the verification report, in their documented order.
CREDENTIAL_CHECKS = ["format", "header", "alg", "issuer_key", "signature", "claims", "time",
                     "consistency", "types", "context", "jsonld", "schema", "identifiers",
                     "holder_key"]
EXP = NOW + 90 * 86400
VCARD_NAMESPACE = "http://www.w3.org/2006/vcard/ns"
#: The seed's millisecond NumericDates (SPEC-NOTES §1.3).
SEED_NBF_MS = 1653455836315
SEED_EXP_MS = 1661231836315
#: An Ed25519 public key that is a small-order point (the encoded identity, y = 1).
SMALL_ORDER_X = jose.b64url_encode(b"\x01" + bytes(31))

Signer = Callable[..., str]
Maker = Callable[..., str]

#: Which check each case below targets; the completeness test compares it with CREDENTIAL_STEPS.
COVERED: set[str] = set()


def covers(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Record that the decorated test makes the check ``name`` fail alone."""
    def mark(test: Callable[..., None]) -> Callable[..., None]:
        COVERED.add(name)
        return test
    return mark


def assert_only_failure(report: Report, name: str, code: str) -> Check:
    """The report failed at ``name`` with ``code``: earlier checks passed, later ones skipped."""
    assert [check.name for check in report.checks] == STEP_NAMES
    index = STEP_NAMES.index(name)
    before = [(c.name, c.status.value, c.code, c.reason) for c in report.checks[:index]]
    assert all(c.status is Status.PASSED for c in report.checks[:index]), before
    failed = report.check(name)
    assert (failed.status, failed.code) == (Status.FAILED, code), failed
    assert failed.reason.endswith("."), failed.reason
    assert report.code == code
    assert not report.ok
    assert report.verified is None
    assert all(c.status is Status.SKIPPED and c.code is None
               for c in report.checks[index + 1:])
    return failed


def assert_valid(report: Report) -> None:
    """Every check passed."""
    assert [(c.name, c.status) for c in report.checks] == [
        (name, Status.PASSED) for name in STEP_NAMES], report.failure
    assert report.ok
    assert report.code is None


def verify(token: str | bytes, trust: TrustStore, *, now: int = NOW,
           leeway: int = DEFAULT_LEEWAY) -> Report:
    """Verify a credential as of ``now``."""
    return verify_credential(token, trust, now=now, leeway=leeway)


def vc_object(payload: dict[str, Any], encoding: Encoding) -> dict[str, Any]:
    """The object holding @context, type and credentialSubject in ``encoding``."""
    inner: dict[str, Any] = payload["vc"] if encoding is Encoding.VC1 else payload
    return inner


def subject_of(payload: dict[str, Any], encoding: Encoding) -> dict[str, Any]:
    """The credentialSubject object of a payload."""
    subject: dict[str, Any] = vc_object(payload, encoding)["credentialSubject"]
    return subject


def set_subject(payload: dict[str, Any], encoding: Encoding, subject_id: str) -> None:
    """Point ``sub`` (and credentialSubject.id, where the encoding has one) at ``subject_id``."""
    payload["sub"] = subject_id
    if encoding is Encoding.VC2:
        payload["credentialSubject"]["id"] = subject_id


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes) -> str:
    """A compact JWS with an arbitrary signature (for algs the test signer cannot use)."""
    return ".".join((jose.b64url_encode(json.dumps(header).encode()),
                     jose.b64url_encode(json.dumps(payload).encode()),
                     jose.b64url_encode(signature)))


@pytest.fixture(params=list(Encoding), ids=lambda e: str(e))
def encoding(request: pytest.FixtureRequest) -> Encoding:
    """Both encodings of a credential."""
    value: Encoding = request.param
    return value


@pytest.fixture
def valid(make_credential: Maker, encoding: Encoding) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid credential's header and payload in ``encoding``, ready to be changed."""
    return claims_of(make_credential(encoding=encoding))


# --- round trips ---------------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["Ed25519", "ES256", "ES256K", "ES384", "ES512", "RS256"])
def test_round_trip_every_alg_and_encoding(alg: str, encoding: Encoding,
                                           alg_keys: dict[str, keys.Key],
                                           make_credential: Maker,
                                           device_key: keys.Key) -> None:
    """A credential issued with each algorithm, in each encoding, passes every check."""
    key = alg_keys[alg]
    trust = TrustStore.of(TrustedIssuer(ISSUER, (key.public(),), frozenset({"example.com"})))
    token = make_credential(key=key, encoding=encoding)
    header, _ = claims_of(token)
    assert header == {"alg": alg, "typ": encoding.typ, "kid": key.kid}
    report = verify(token, trust)
    assert_valid(report)
    assert alg in report.check("alg").reason
    credential = report.verified
    assert isinstance(credential, Credential)
    assert credential.type is CredentialType.DEVICE
    assert credential.issuer == ISSUER
    assert str(credential.subject.id) == DEVICE
    assert [str(v) for v in credential.subject.instant_messages] == [HANDLE, DEVICE]
    assert (credential.subject.fn, credential.subject.organization, credential.subject.unit) == (
        "Alice M. Smith", "Example Corp", "Engineering")
    assert (credential.issued_at, credential.expires_at) == (NOW, EXP)
    assert credential.holder_key is not None
    assert dict(credential.holder_key.public_jwk) == dict(device_key.public_jwk)


def test_round_trip_user_credential(make_credential: Maker, trust: TrustStore,
                                    encoding: Encoding) -> None:
    """An ImUserCredential about a handle verifies in both encodings."""
    token = make_credential(subject=HANDLE, instant_messages=[],
                            credential_type=CredentialType.USER, encoding=encoding)
    report = verify(token, trust)
    assert_valid(report)
    assert isinstance(report.verified, Credential)
    assert report.verified.type is CredentialType.USER
    assert "ImUserCredential" in report.check("types").reason


def test_verify_token_dispatches_a_credential(make_credential: Maker, trust: TrustStore) -> None:
    """verify_token reads a bare credential as a credential and reports every check."""
    report = verify_token(make_credential(), trust, now=NOW)
    assert report.kind == "credential"
    assert_valid(report)
    assert report.credentials == ()


def test_every_check_has_a_case_where_only_it_fails() -> None:
    """Each credential check runs in the documented order and is the target of a test here."""
    order = [name for name in STEP_NAMES if name in CREDENTIAL_CHECKS]
    assert order == CREDENTIAL_CHECKS
    assert set(CREDENTIAL_CHECKS) == COVERED


# --- format ------------------------------------------------------------------------------------

def _sized_token(sign_segments: Signer, payload: dict[str, Any], header: dict[str, Any],
                 size: int) -> str:
    """A validly signed token of exactly ``size`` characters, padded with JSON whitespace."""
    head = json.dumps(header).encode()
    body = json.dumps(payload).encode()
    signature_chars = len(sign_segments(head, body).split(".")[2])

    def b64len(n: int) -> int:
        return (4 * n + 2) // 3

    for head_pad in range(3):
        fixed = b64len(len(head) + head_pad) + 2 + signature_chars
        for body_pad in range(size):
            total = fixed + b64len(len(body) + body_pad)
            if total == size:
                token = sign_segments(head + b" " * head_pad, body + b" " * body_pad)
                assert len(token) == size
                return token
            if total > size:
                break
    raise AssertionError(f"no padding gives {size} characters")


@covers("format")
def test_format_64_kib_is_accepted_and_one_byte_more_is_too_large(
        sign_segments: Signer, trust: TrustStore,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A 65536-byte credential passes every check; a 65537-byte one fails with too_large."""
    header, payload = valid
    assert_valid(verify(_sized_token(sign_segments, payload, header, 65536), trust))
    failed = assert_only_failure(
        verify(_sized_token(sign_segments, payload, header, 65537), trust), "format",
        "too_large")
    assert "65536" in failed.reason


def _canonical_signature_breaker(token: str) -> str:
    """The token with a non-zero padding bit in the signature's last base64url character."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    return token[:-1] + alphabet[last ^ 1]


@covers("format")
@pytest.mark.parametrize(("mangle", "reason_part"), [
    (lambda t: t + "==", "base64url"),
    (lambda t: t.replace(".", "=.", 1), "base64url"),
    (_canonical_signature_breaker, "canonical base64url"),
    (lambda t: t + "\n\n", "base64url"),
    (lambda t: " " + t, "base64url"),
    (lambda t: t + "\r\n", "base64url"),
    (lambda t: t.rsplit(".", 1)[0] + ".", "empty"),
    (lambda t: t.rsplit(".", 1)[0], "three parts"),
    (lambda t: t + ".AAAA", "three parts"),
    (lambda t: t + ".AAAA.AAAA", "JWE"),
    (lambda t: t.replace("e", "é", 1), "base64url"),
], ids=["padding", "padded-header", "non-canonical", "two-newlines", "leading-space", "crlf",
        "no-signature", "two-parts", "four-parts", "five-parts-jwe", "non-ascii"])
def test_format_refuses_non_compact_or_non_canonical_tokens(
        mangle: Callable[[str], str], reason_part: str, make_credential: Maker,
        trust: TrustStore) -> None:
    """Padding, non-canonical base64url, stray whitespace and wrong part counts are malformed."""
    failed = assert_only_failure(verify(mangle(make_credential()), trust), "format",
                                 "malformed")
    assert reason_part in failed.reason


@covers("format")
def test_format_refuses_jws_json_serialisations(make_credential: Maker,
                                                trust: TrustStore) -> None:
    """The flattened and general JWS JSON serialisations of a valid token are malformed."""
    header_b64, payload_b64, signature_b64 = make_credential().split(".")
    flattened = {"protected": header_b64, "payload": payload_b64, "signature": signature_b64}
    general = {"payload": payload_b64,
               "signatures": [{"protected": header_b64, "signature": signature_b64}]}
    for document in (flattened, general):
        failed = assert_only_failure(verify(json.dumps(document), trust), "format", "malformed")
        assert "compact" in failed.reason


@covers("format")
def test_format_refuses_bytes_outside_ascii(make_credential: Maker, trust: TrustStore) -> None:
    """A token given as bytes with a non-ASCII byte is malformed, not a decoding crash."""
    token = make_credential().encode() + b"\xff"
    assert_only_failure(verify(token, trust), "format", "malformed")


@covers("format")
def test_format_refuses_duplicate_json_members(sign_segments: Signer, trust: TrustStore,
                                               make_credential: Maker) -> None:
    """The seed's duplicate hasInstantMessage, validly signed, is malformed: never last-wins."""
    _, payload = claims_of(make_credential())
    body = json.dumps(payload)
    duplicated = body.replace('"hasInstantMessage": [',
                              f'"hasInstantMessage": "{HANDLE}", "hasInstantMessage": [', 1)
    assert duplicated != body
    header = json.dumps({"alg": "Ed25519", "typ": "JWT"}).encode()
    failed = assert_only_failure(verify(sign_segments(header, duplicated.encode()), trust),
                                 "format", "malformed")
    assert "hasInstantMessage" in failed.reason
    assert "twice" in failed.reason


@covers("format")
@pytest.mark.parametrize(("header", "body", "reason_part"), [
    (b'{"alg": "Ed25519", "alg": "Ed25519"}', None, "twice"),
    (b'{"alg": "Ed25519"}', b'{"exp": NaN}', "NaN"),
    (b'{"alg": "Ed25519"}', b'{"exp": Infinity}', "Infinity"),
    (b'{"alg": "Ed25519"}', b'{"exp": 1e999}', "out of range"),
    (b'\xef\xbb\xbf{"alg": "Ed25519"}', None, "byte order mark"),
    (b'{"alg": "Ed25519"}', b'{"fn": "\xe9"}', "UTF-8"),
    (b'["alg", "Ed25519"]', None, "not a JSON object"),
    (b'{"alg": "Ed25519"}', b'"a string"', "not a JSON object"),
    (b'{"alg": "Ed25519"}', b"[" * 40 + b"]" * 40, "deeper"),
    (b'{"alg": "Ed25519",}', None, "not valid JSON"),
], ids=["duplicate-header", "nan", "infinity", "1e999", "bom", "latin-1", "header-array",
        "payload-string", "deep", "trailing-comma"])
def test_format_refuses_non_strict_json(header: bytes, body: bytes | None, reason_part: str,
                                        sign_segments: Signer, trust: TrustStore,
                                        make_credential: Maker) -> None:
    """Header or payload JSON that is not strict (NaN, BOM, non-UTF-8, too deep) is malformed."""
    _, payload = claims_of(make_credential())
    token = sign_segments(header, body if body is not None else json.dumps(payload).encode())
    failed = assert_only_failure(verify(token, trust), "format", "malformed")
    assert reason_part in failed.reason


@covers("format")
def test_format_failure_through_verify_token(trust: TrustStore) -> None:
    """verify_token reports an unparseable token as a credential report failing at format."""
    report = verify_token("a" * 65537, trust, now=NOW)
    assert report.kind == "credential"
    assert_only_failure(report, "format", "too_large")
    assert_only_failure(verify_token("not a token", trust, now=NOW), "format", "malformed")


# --- header ------------------------------------------------------------------------------------

@covers("header")
@pytest.mark.parametrize(("extra", "reason_part"), [
    ({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}},
     "trust file"),
    ({"crit": ["exp"]}, "crit"),
    ({"b64": False}, "RFC 7797"),
    ({"jku": "https://attacker.example/keys"}, "never fetched"),
    ({"x5u": "https://attacker.example/cert"}, "never fetched"),
    ({"x5c": ["MIIB"]}, "'x5c'"),
    ({"zip": "DEF"}, "'zip'"),
    ({"nonce": "abc"}, "'nonce'"),
    ({"kid": 7}, "kid"),
    ({"kid": ""}, "kid"),
], ids=["jwk", "crit", "b64", "jku", "x5u", "x5c", "zip", "unknown", "kid-int", "kid-empty"])
def test_header_refuses_names_outside_the_allow_list(
        extra: dict[str, Any], reason_part: str, sign_raw: Signer, trust: TrustStore,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A credential header with jwk, crit, b64, jku, x5u, x5c or an unknown name is bad_header."""
    header, payload = valid
    failed = assert_only_failure(verify(sign_raw({**header, **extra}, payload), trust),
                                 "header", "bad_header")
    assert reason_part in failed.reason


@covers("header")
def test_header_cty_only_fits_vc_plus_jwt(make_credential: Maker, sign_raw: Signer,
                                          trust: TrustStore) -> None:
    """cty "vc" is accepted with typ vc+jwt and is bad_header with typ JWT."""
    header, payload = claims_of(make_credential(encoding=Encoding.VC2))
    assert_valid(verify(sign_raw({**header, "cty": "vc"}, payload), trust))
    header, payload = claims_of(make_credential(encoding=Encoding.VC1))
    assert_only_failure(verify(sign_raw({**header, "cty": "vc"}, payload), trust), "header",
                        "bad_header")


@covers("header")
@pytest.mark.parametrize("typ", ["vp+jwt", "dpop+jwt", "at+jwt", "vc+ld+jwt", "", 7])
def test_header_typ_of_another_kind_of_token_is_bad_type(
        typ: object, sign_raw: Signer, trust: TrustStore,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A credential whose typ is a presentation's, a DPoP proof's or anything else is bad_type."""
    header, payload = valid
    failed = assert_only_failure(verify(sign_raw({**header, "typ": typ}, payload), trust),
                                 "header", "bad_type")
    assert repr(typ) in failed.reason


@covers("header")
def test_header_missing_typ_reads_as_jwt(make_credential: Maker, sign_raw: Signer,
                                         trust: TrustStore) -> None:
    """A vc1 credential without typ is read as typ JWT (VC DM 1.1) and verifies."""
    header, payload = claims_of(make_credential())
    del header["typ"]
    assert_valid(verify(sign_raw(header, payload), trust))


@covers("header")
def test_dpop_typ_through_verify_token_is_bad_type(make_credential: Maker, sign_raw: Signer,
                                                   trust: TrustStore) -> None:
    """verify_token checks a dpop+jwt token as a credential, failing with bad_type at header."""
    header, payload = claims_of(make_credential())
    report = verify_token(sign_raw({**header, "typ": "dpop+jwt"}, payload), trust, now=NOW)
    assert report.kind == "credential"
    assert_only_failure(report, "header", "bad_type")


@covers("header")
def test_header_vp_claim_is_a_presentation_not_a_credential(
        make_credential: Maker, sign_raw: Signer, trust: TrustStore) -> None:
    """A typ JWT token carrying a vp claim, checked as a credential, is bad_type."""
    header, payload = claims_of(make_credential())
    payload["vp"] = {"type": ["VerifiablePresentation"]}
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "header", "bad_type")
    assert "presentation" in failed.reason


@covers("header")
def test_header_bare_credential_where_a_presentation_is_expected(
        make_credential: Maker, trust: TrustStore, encoding: Encoding) -> None:
    """With an audience or nonce a bare credential fails with bad_type (CONTRACT.md table)."""
    token = make_credential(encoding=encoding)
    assert_only_failure(verify_credential(token, trust, now=NOW, expect_presentation=True),
                        "header", "bad_type")
    assert_only_failure(verify_token(token, trust, now=NOW, audience="https://v.example"),
                        "header", "bad_type")
    assert_only_failure(verify_token(token, trust, now=NOW, nonce="n-0S6_WzA2Mj"), "header",
                        "bad_type")


# --- alg ---------------------------------------------------------------------------------------

@covers("alg")
@pytest.mark.parametrize("alg", ["none", "None", "ES224", "PS256", "EdDSA448", "RS1", "es384", ""])
def test_alg_outside_the_allow_list(alg: str, trust: TrustStore,
                                    valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """alg none and algorithms vc_im does not verify fail with unsupported_alg."""
    header, payload = valid
    token = unsigned({**header, "alg": alg}, payload, b"\x01" * 64)
    failed = assert_only_failure(verify(token, trust), "alg", "unsupported_alg")
    assert "alg" in failed.reason.lower()


@covers("alg")
def test_alg_missing_or_not_a_string(trust: TrustStore,
                                     valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A header without alg, or with a non-string alg, fails with unsupported_alg."""
    header, payload = valid
    del header["alg"]
    assert_only_failure(verify(unsigned(header, payload, b"\x01" * 64), trust), "alg",
                        "unsupported_alg")
    assert_only_failure(verify(unsigned({**header, "alg": ["Ed25519"]}, payload, b"\x01" * 64),
                               trust), "alg", "unsupported_alg")


@covers("alg")
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_alg_hmac_keyed_with_the_issuer_public_key(
        alg: str, issuer_key: keys.Key, trust: TrustStore,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """The algorithm-confusion attack (HMAC keyed with the public key) fails at alg."""
    header, payload = valid
    full = {**header, "alg": alg}
    signing_input = (jose.b64url_encode(json.dumps(full).encode()) + "."
                     + jose.b64url_encode(json.dumps(payload).encode()))
    digest = getattr(hashlib, "sha" + alg[2:])
    public = base64.urlsafe_b64decode(issuer_key.public_jwk["x"] + "=")
    mac = hmac.new(public, signing_input.encode(), digest).digest()
    token = signing_input + "." + jose.b64url_encode(mac)
    failed = assert_only_failure(verify(token, trust), "alg", "unsupported_alg")
    assert "MAC" in failed.reason


@covers("alg")
def test_eddsa_is_accepted_for_ed25519_keys(make_credential: Maker, sign_raw: Signer,
                                            trust: TrustStore, encoding: Encoding) -> None:
    """A credential signed under the older alg name EdDSA verifies with an Ed25519 key."""
    header, payload = claims_of(make_credential(encoding=encoding))
    report = verify(sign_raw({**header, "alg": "EdDSA"}, payload), trust)
    assert_valid(report)
    assert "EdDSA" in report.check("signature").reason


# --- issuer_key --------------------------------------------------------------------------------

@covers("issuer_key")
def test_unknown_issuer_is_untrusted(sign_raw: Signer, trust: TrustStore, encoding: Encoding,
                                     valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """An issuer absent from the trust file fails with untrusted_issuer."""
    header, payload = valid
    payload["iss"] = "https://other.example"
    if encoding is Encoding.VC2:
        payload["issuer"] = "https://other.example"
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "issuer_key",
                                 "untrusted_issuer")
    assert "https://other.example" in failed.reason


@covers("issuer_key")
@pytest.mark.parametrize("iss", ["https://IM.example.com", "https://im.example.com/",
                                 "https://im.example.com/keys/issuer.jwk"])
def test_issuer_ids_match_exactly(iss: str, sign_raw: Signer, trust: TrustStore,
                                  valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Issuer ids are compared exactly: case, trailing slash and key URLs are other issuers."""
    header, payload = valid
    payload["iss"] = iss
    if "issuer" in payload:
        payload["issuer"] = iss
    assert_only_failure(verify(sign_raw(header, payload), trust), "issuer_key",
                        "untrusted_issuer")


@covers("issuer_key")
def test_vc2_iss_wins_over_issuer_when_finding_the_key(
        make_credential: Maker, sign_raw: Signer, trust: TrustStore) -> None:
    """A vc2 credential whose iss is unknown fails at issuer_key even if issuer is trusted."""
    header, payload = claims_of(make_credential(encoding=Encoding.VC2))
    payload["iss"] = "https://other.example"
    assert_only_failure(verify(sign_raw(header, payload), trust), "issuer_key",
                        "untrusted_issuer")


@covers("issuer_key")
def test_missing_iss_is_a_missing_claim(make_credential: Maker, sign_raw: Signer,
                                        trust: TrustStore) -> None:
    """A vc1 credential without iss names no issuer: missing_claim at issuer_key."""
    header, payload = claims_of(make_credential())
    del payload["iss"]
    assert_only_failure(verify(sign_raw(header, payload), trust), "issuer_key", "missing_claim")


@covers("issuer_key")
def test_unknown_kid(sign_raw: Signer, trust: TrustStore,
                     valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A kid the trusted issuer does not have fails with unknown_key."""
    header, payload = valid
    failed = assert_only_failure(verify(sign_raw({**header, "kid": "issuer-key-2"}, payload),
                                        trust), "issuer_key", "unknown_key")
    assert "issuer-key-2" in failed.reason


@covers("issuer_key")
def test_no_kid_needs_exactly_one_candidate_key(
        make_credential: Maker, sign_raw: Signer, issuer_key: keys.Key,
        attacker_key: keys.Key, trust: TrustStore) -> None:
    """Without a kid the issuer's only key for the alg is used; with two, unknown_key."""
    header, payload = claims_of(make_credential())
    del header["kid"]
    token = sign_raw(header, payload)
    assert_valid(verify(token, trust))
    two = TrustStore.of(TrustedIssuer(ISSUER, (issuer_key.public(), attacker_key.public())))
    assert_only_failure(verify(token, two), "issuer_key", "unknown_key")


@covers("issuer_key")
@pytest.mark.parametrize("alg", ["ES256", "ES256K", "ES384", "ES512", "RS256"])
def test_alg_that_does_not_fit_the_named_key(
        alg: str, sign_raw: Signer, alg_keys: dict[str, keys.Key], trust: TrustStore,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """An ECDSA or RS256 header naming the Ed25519 key's kid fails with unsupported_alg."""
    header, payload = valid
    token = sign_raw({**header, "alg": alg}, payload, key=alg_keys[alg])
    failed = assert_only_failure(verify(token, trust), "issuer_key", "unsupported_alg")
    assert "Ed25519" in failed.reason


@covers("issuer_key")
def test_eddsa_header_naming_an_ecdsa_key(make_credential: Maker, sign_raw: Signer,
                                          alg_keys: dict[str, keys.Key]) -> None:
    """EdDSA is accepted only for Ed25519 keys: naming an ES256 key fails with unsupported_alg."""
    es256 = alg_keys["ES256"]
    trust = TrustStore.of(TrustedIssuer(ISSUER, (es256.public(),)))
    header, payload = claims_of(make_credential(key=es256))
    token = unsigned({**header, "alg": "EdDSA"}, payload, b"\x02" * 64)
    assert_only_failure(verify(token, trust), "issuer_key", "unsupported_alg")


# --- signature ---------------------------------------------------------------------------------

@covers("signature")
def test_tampered_payload(make_credential: Maker, trust: TrustStore, encoding: Encoding) -> None:
    """A payload changed after signing (another fn) fails with bad_signature."""
    token = make_credential(encoding=encoding)
    header_b64, _, signature_b64 = token.split(".")
    _, payload = claims_of(token)
    subject_of(payload, encoding)["fn"] = "Mallory"
    forged = ".".join((header_b64, jose.b64url_encode(json.dumps(payload).encode()),
                       signature_b64))
    failed = assert_only_failure(verify(forged, trust), "signature", "bad_signature")
    assert "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" in failed.reason


@covers("signature")
def test_tampered_header(make_credential: Maker, trust: TrustStore) -> None:
    """A header re-encoded after signing (same members, other bytes) fails with bad_signature."""
    token = make_credential()
    header, _ = claims_of(token)
    _, payload_b64, signature_b64 = token.split(".")
    reencoded = jose.b64url_encode(json.dumps(header, indent=1).encode())
    assert_only_failure(verify(".".join((reencoded, payload_b64, signature_b64)), trust),
                        "signature", "bad_signature")


@covers("signature")
def test_signed_by_another_key_under_the_issuer_kid(
        attacker_key: keys.Key, sign_raw: Signer, trust: TrustStore,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A token signed by a key the issuer does not hold, naming the issuer's kid, is rejected."""
    header, payload = valid
    assert_only_failure(verify(sign_raw(header, payload, key=attacker_key), trust),
                        "signature", "bad_signature")


@covers("signature")
@pytest.mark.parametrize("alg", ["ES256", "ES256K", "RS256"])
def test_signature_of_wrong_length_for_the_alg(alg: str, make_credential: Maker,
                                               alg_keys: dict[str, keys.Key]) -> None:
    """A zeroed or truncated signature of each algorithm fails with bad_signature, not a crash."""
    key = alg_keys[alg]
    trust = TrustStore.of(TrustedIssuer(ISSUER, (key.public(),)))
    token = make_credential(key=key)
    head = token.rsplit(".", 1)[0]
    for signature in (bytes(64), bytes(63), bytes(256), b"\x30\x06\x02\x01\x01\x02\x01\x01"):
        assert_only_failure(verify(head + "." + jose.b64url_encode(signature), trust),
                            "signature", "bad_signature")


@given(position=st.integers(min_value=0), replacement=st.sampled_from(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."))
@settings(max_examples=60, deadline=None)
def test_any_single_character_change_is_rejected(position: int, replacement: str,
                                                 make_credential: Maker,
                                                 trust: TrustStore) -> None:
    """Changing any one character of a valid token never yields a valid report (nor raises)."""
    token = make_credential()
    index = position % len(token)
    if token[index] == replacement:
        return
    report = verify(token[:index] + replacement + token[index + 1:], trust)
    assert not report.ok
    assert report.code in {"malformed", "bad_signature", "bad_header", "unsupported_alg",
                           "unknown_key", "untrusted_issuer", "bad_type", "missing_claim"}


# --- claims ------------------------------------------------------------------------------------

@covers("claims")
def test_seed_millisecond_dates_are_malformed(sign_raw: Signer, trust: TrustStore,
                                              valid: tuple[dict[str, Any], dict[str, Any]]
                                              ) -> None:
    """The seed's 13-digit NumericDates fail at claims with malformed, saying milliseconds."""
    header, payload = valid
    payload.update(nbf=SEED_NBF_MS, iat=SEED_NBF_MS, exp=SEED_EXP_MS)
    failed = assert_only_failure(verify(sign_raw(header, payload), trust, now=SEED_NBF_MS // 1000),
                                 "claims", "malformed")
    assert "milliseconds" in failed.reason
    assert "1653455836315" in failed.reason
    assert "2022-05-25T05:17:16Z" in failed.reason
    assert failed.path == "$.nbf"


@covers("claims")
@pytest.mark.parametrize("claim", ["nbf", "iat", "exp"])
def test_each_millisecond_claim_is_named(claim: str, sign_raw: Signer, trust: TrustStore,
                                         valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Any one of nbf, iat and exp in milliseconds fails with malformed and its own path."""
    header, payload = valid
    payload[claim] = (EXP if claim == "exp" else NOW) * 1000
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "claims", "malformed")
    assert "milliseconds" in failed.reason
    assert failed.path == f"$.{claim}"


@covers("claims")
@pytest.mark.parametrize(("claim", "value"), [
    ("exp", 1707776000.0), ("exp", "1707776000"), ("iat", True), ("nbf", -1),
    ("exp", None), ("jti", 42), ("exp", 253_402_300_800 * 1000)],
    ids=["float", "string", "bool", "negative", "null", "jti-int", "far-future-ms"])
def test_claims_of_the_wrong_type_are_malformed(
        claim: str, value: object, sign_raw: Signer, trust: TrustStore,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """NumericDates that are not non-negative integers, and a non-string jti, are malformed."""
    header, payload = valid
    payload[claim] = value
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "claims", "malformed")
    assert failed.path == f"$.{claim}"


@covers("claims")
@pytest.mark.parametrize(("encoding_", "claim"), [
    (Encoding.VC1, "exp"), (Encoding.VC1, "nbf"), (Encoding.VC1, "sub"), (Encoding.VC1, "vc"),
    (Encoding.VC2, "exp")])
def test_missing_registered_claims(encoding_: Encoding, claim: str, make_credential: Maker,
                                   sign_raw: Signer, trust: TrustStore) -> None:
    """vc1 needs vc, sub, nbf and exp; vc2 needs exp: each absent one is a missing_claim."""
    header, payload = claims_of(make_credential(encoding=encoding_))
    del payload[claim]
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "claims",
                                 "missing_claim")
    assert repr(claim) in failed.reason


@covers("claims")
@pytest.mark.parametrize("claim", ["vc", "vp"])
def test_vc2_payload_may_not_nest_a_vc_or_vp_claim(claim: str, make_credential: Maker,
                                                   sign_raw: Signer, trust: TrustStore) -> None:
    """A vc+jwt payload is the credential; a vc claim inside it is malformed."""
    header, payload = claims_of(make_credential(encoding=Encoding.VC2))
    payload[claim] = {"type": ["VerifiableCredential"]}
    check = "claims" if claim == "vc" else "header"
    code = "malformed" if claim == "vc" else "bad_type"
    assert_only_failure(verify(sign_raw(header, payload), trust), check, code)


def test_twelve_digit_numeric_date_is_seconds(sign_raw: Signer, trust: TrustStore,
                                              valid: tuple[dict[str, Any], dict[str, Any]]
                                              ) -> None:
    """exp = 200000000000 (year 8307, 12 digits, below the maximum) is a valid NumericDate."""
    header, payload = valid
    payload["exp"] = 200_000_000_000
    if "validUntil" in payload:
        payload["validUntil"] = "8307-10-10T19:33:20Z"
    report = verify(sign_raw(header, payload), trust)
    assert report.check("claims").status is Status.PASSED


# --- time --------------------------------------------------------------------------------------

@covers("time")
@pytest.mark.parametrize(("leeway", "now", "code"), [
    (60, EXP + 59, None), (60, EXP + 60, "expired"),
    (0, EXP - 1, None), (0, EXP, "expired"),
    (3600, EXP + 3599, None), (3600, EXP + 3600, "expired"),
], ids=["leeway-59", "leeway-60", "no-leeway-1", "no-leeway", "hour-1", "hour"])
def test_expiry_edges_with_leeway(leeway: int, now: int, code: str | None,
                                  make_credential: Maker, trust: TrustStore,
                                  encoding: Encoding) -> None:
    """exp (and validUntil) hold until exp + leeway, exclusive: at exactly that second, expired."""
    report = verify(make_credential(encoding=encoding), trust, now=now, leeway=leeway)
    if code is None:
        assert_valid(report)
    else:
        failed = assert_only_failure(report, "time", code)
        assert "2024-02-12T22:13:20Z" in failed.reason


@covers("time")
@pytest.mark.parametrize(("leeway", "now", "code"), [
    (60, NOW - 60, None), (60, NOW - 61, "not_yet_valid"),
    (0, NOW, None), (0, NOW - 1, "not_yet_valid"),
    (3600, NOW - 3600, None), (3600, NOW - 3601, "not_yet_valid"),
], ids=["leeway-60", "leeway-61", "no-leeway", "no-leeway-1", "hour", "hour-1"])
def test_not_before_edges_with_leeway(leeway: int, now: int, code: str | None,
                                      make_credential: Maker, trust: TrustStore) -> None:
    """A vc1 credential is valid from nbf - leeway, inclusive, and not_yet_valid a second before."""
    report = verify(make_credential(), trust, now=now, leeway=leeway)
    if code is None:
        assert_valid(report)
    else:
        failed = assert_only_failure(report, "time", code)
        assert "2023-11-14T22:13:20Z" in failed.reason


def test_vc2_used_before_valid_from_is_not_yet_valid(make_credential: Maker,
                                                     trust: TrustStore) -> None:
    """A vc2 credential (iat = validFrom) checked before validFrom - leeway is not_yet_valid."""
    report = verify(make_credential(encoding=Encoding.VC2), trust, now=NOW - 61)
    assert_only_failure(report, "time", "not_yet_valid")


@covers("time")
@pytest.mark.parametrize(("iat", "code"), [(NOW + 60, None), (NOW + 61, "bad_iat")])
def test_iat_in_the_future_edge(iat: int, code: str | None, sign_raw: Signer,
                                trust: TrustStore,
                                valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """iat exactly leeway seconds ahead passes; one second more fails with bad_iat."""
    header, payload = valid
    payload["iat"] = iat
    report = verify(sign_raw(header, payload), trust, now=NOW)
    if code is None:
        assert_valid(report)
    else:
        assert_only_failure(report, "time", code)


@covers("time")
@pytest.mark.parametrize(("member", "value", "now", "code"), [
    ("validFrom", "2023-11-14T22:30:00Z", NOW, "not_yet_valid"),
    ("validFrom", "2023-11-14T22:14:20Z", NOW, None),
    ("validUntil", "2023-12-01T00:00:00Z", 1_701_388_800 + 60, "expired"),
    ("validUntil", "2023-12-01T00:00:00Z", 1_701_388_800 + 59, None),
    ("validUntil", "2023-12-01", NOW, "malformed"),
    ("validFrom", "2023-11-14T22:13:20", NOW, "malformed"),
], ids=["from-future", "from-edge", "until-past", "until-edge", "until-date", "from-no-zone"])
def test_vc2_valid_from_and_until(member: str, value: str, now: int, code: str | None,
                                  make_credential: Maker, sign_raw: Signer,
                                  trust: TrustStore) -> None:
    """vc2 validFrom and validUntil are checked with the leeway, like nbf and exp."""
    header, payload = claims_of(make_credential(encoding=Encoding.VC2))
    payload[member] = value
    report = verify(sign_raw(header, payload), trust, now=now)
    if code is None:
        assert_valid(report)
    else:
        assert_only_failure(report, "time", code)


# --- consistency -------------------------------------------------------------------------------

@covers("consistency")
@pytest.mark.parametrize(("member", "value", "prop"), [
    ("issuer", "https://other.example", "vc.issuer"),
    ("issuer", {"id": "https://other.example"}, "vc.issuer"),
    ("id", "urn:uuid:00000000-0000-4000-8000-000000000000", "vc.id"),
    ("issuanceDate", "2023-11-14T22:13:21Z", "vc.issuanceDate"),
    ("expirationDate", "2024-02-12T22:13:19Z", "vc.expirationDate"),
], ids=["issuer", "issuer-object", "id", "issuanceDate", "expirationDate"])
def test_vc1_properties_must_agree_with_jwt_claims(member: str, value: object, prop: str,
                                                   make_credential: Maker, sign_raw: Signer,
                                                   trust: TrustStore) -> None:
    """A vc1 vc.issuer, vc.id or date that differs from iss, jti, nbf or exp is claim_mismatch."""
    header, payload = claims_of(make_credential())
    payload["vc"][member] = value
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "consistency",
                                 "claim_mismatch")
    assert failed.path == f"$.{prop}"


@covers("consistency")
def test_vc1_subject_id_must_agree_with_sub(make_credential: Maker, sign_raw: Signer,
                                            trust: TrustStore) -> None:
    """A vc1 credentialSubject.id that differs from sub is claim_mismatch."""
    header, payload = claims_of(make_credential())
    payload["vc"]["credentialSubject"]["id"] = "im:other/04c7@example.com"
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "consistency",
                                 "claim_mismatch")
    assert failed.path == "$.vc.credentialSubject.id"


@covers("consistency")
def test_vc1_properties_that_repeat_the_claims_are_accepted(make_credential: Maker,
                                                            sign_raw: Signer,
                                                            trust: TrustStore) -> None:
    """vc.issuer, vc.id, dates and credentialSubject.id equal to the claims are fine."""
    header, payload = claims_of(make_credential())
    payload["vc"].update(issuer=ISSUER, id=payload["jti"], issuanceDate="2023-11-14T22:13:20Z",
                         expirationDate="2024-02-12T22:13:20Z")
    payload["vc"]["credentialSubject"]["id"] = DEVICE
    assert_valid(verify(sign_raw(header, payload), trust))


@covers("consistency")
@pytest.mark.parametrize(("member", "value", "prop"), [
    ("issuer", "https://other.example", "issuer"),
    ("id", "urn:uuid:00000000-0000-4000-8000-000000000000", "id"),
    ("sub", "im:other/04c7@example.com", "credentialSubject.id"),
], ids=["issuer", "id", "sub"])
def test_vc2_claims_must_agree_with_the_credential(member: str, value: str, prop: str,
                                                   make_credential: Maker, sign_raw: Signer,
                                                   trust: TrustStore) -> None:
    """vc2 with iss different from issuer (or jti from id, sub from the subject) is rejected."""
    header, payload = claims_of(make_credential(encoding=Encoding.VC2))
    payload[member] = value
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "consistency",
                                 "claim_mismatch")
    assert failed.path == f"$.{prop}"


# --- types -------------------------------------------------------------------------------------

@covers("types")
@pytest.mark.parametrize("types", [
    ["VerifiableCredential"],
    ["ImDeviceCredential"],
    ["VerifiableCredential", "ImDeviceCredential", "ImUserCredential"],
    ["VerifiableCredential", "OtherCredential"],
    ["VerifiableCredential", "VerifiableCredential"],
    "VerifiableCredential",
    ["VerifiableCredential", 5],
    {"type": "VerifiableCredential"},
], ids=["vc-only", "ours-only", "both-ours", "foreign", "twice", "string", "number", "object"])
def test_wrong_types(types: object, sign_raw: Signer, trust: TrustStore, encoding: Encoding,
                     valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A type other than VerifiableCredential plus one of ours fails with bad_type."""
    header, payload = valid
    vc_object(payload, encoding)["type"] = types
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "types", "bad_type")
    assert failed.path == "$.type"


@covers("types")
def test_types_may_come_in_any_order(sign_raw: Signer, trust: TrustStore, encoding: Encoding,
                                     valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """["ImDeviceCredential", "VerifiableCredential"] is the same set of types and verifies."""
    header, payload = valid
    vc_object(payload, encoding)["type"] = ["ImDeviceCredential", "VerifiableCredential"]
    assert_valid(verify(sign_raw(header, payload), trust))


# --- context -----------------------------------------------------------------------------------

@covers("context")
def test_seed_vcard_namespace_context(sign_raw: Signer, trust: TrustStore, encoding: Encoding,
                                      valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """The seed's vCard namespace as the second @context fails with context_rejected."""
    header, payload = valid
    first = V1_CONTEXT if encoding is Encoding.VC1 else V2_CONTEXT
    vc_object(payload, encoding)["@context"] = [first, VCARD_NAMESPACE]
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "context",
                                 "context_rejected")
    assert "vCard namespace" in failed.reason


@covers("context")
@pytest.mark.parametrize("contexts", [
    [VCIM_CONTEXT, "{first}"],
    ["{first}"],
    ["{first}", VCIM_CONTEXT, VCIM_CONTEXT],
    ["{first}", VCIM_CONTEXT, "https://www.w3.org/2018/credentials/examples/v1"],
    ["{other}", VCIM_CONTEXT],
    ["{first}", {"fn": "http://www.w3.org/2006/vcard/ns#fn"}],
    "{first}",
    [],
], ids=["reversed", "w3c-only", "repeated", "extra", "other-version", "inline", "string",
        "empty"])
def test_context_list_must_be_exactly_the_expected_one(
        contexts: object, sign_raw: Signer, trust: TrustStore, encoding: Encoding,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Any @context other than [W3C context of the encoding, vc_im's] is context_rejected."""
    header, payload = valid
    first, other = ((V1_CONTEXT, V2_CONTEXT) if encoding is Encoding.VC1
                    else (V2_CONTEXT, V1_CONTEXT))

    def fill(item: object) -> object:
        return item.format(first=first, other=other) if isinstance(item, str) else item

    value = [fill(c) for c in contexts] if isinstance(contexts, list) else fill(contexts)
    vc_object(payload, encoding)["@context"] = value
    assert_only_failure(verify(sign_raw(header, payload), trust), "context", "context_rejected")


# --- jsonld ------------------------------------------------------------------------------------

def test_has_organization_unit_is_the_ontology_term(
        sign_raw: Signer, trust: TrustStore, encoding: Encoding,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """The ontology's hasOrganizationUnit verifies and means the draft's hasOrganizationalUnit:
    the verified subject's unit is the same."""
    header, payload = valid
    subject = subject_of(payload, encoding)
    subject["hasOrganizationUnit"] = subject.pop("hasOrganizationalUnit")
    report = verify(sign_raw(header, payload), trust)
    assert_valid(report)
    assert isinstance(report.verified, Credential)
    assert report.verified.subject.unit == subject["hasOrganizationUnit"]


@covers("schema")
def test_both_organization_unit_spellings_are_schema_invalid(
        sign_raw: Signer, trust: TrustStore, encoding: Encoding,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A subject carrying hasOrganizationUnit beside hasOrganizationalUnit fails at schema
    with schema_invalid: one property, two spellings, one credential uses one."""
    header, payload = valid
    subject = subject_of(payload, encoding)
    subject["hasOrganizationUnit"] = subject["hasOrganizationalUnit"]
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "schema",
                                 "schema_invalid")
    assert str(failed.path).endswith("credentialSubject.hasOrganizationUnit")
    assert "may not appear together with hasOrganizationalUnit" in failed.reason


@covers("jsonld")
@pytest.mark.parametrize("where", ["subject", "credential"])
def test_undefined_terms_are_never_dropped(where: str, sign_raw: Signer, trust: TrustStore,
                                           encoding: Encoding,
                                           valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A term the contexts do not define (email in the subject, foo on the credential) fails."""
    header, payload = valid
    target = subject_of(payload, encoding) if where == "subject" else vc_object(payload,
                                                                                 encoding)
    name = "email" if where == "subject" else "foo"
    target[name] = "alice@example.com"
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "jsonld",
                                 "context_rejected")
    assert repr(name).replace("'", '"') in failed.reason


@covers("jsonld")
def test_vc2_aud_with_a_relative_iri_is_rejected(make_credential: Maker, sign_raw: Signer,
                                                 trust: TrustStore) -> None:
    """A vc2 payload's JWT claims expand too: an aud that is not an absolute IRI is refused."""
    header, payload = claims_of(make_credential(encoding=Encoding.VC2))
    payload["aud"] = "verifier"
    assert_only_failure(verify(sign_raw(header, payload), trust), "jsonld", "context_rejected")


# --- schema ------------------------------------------------------------------------------------

@covers("schema")
def test_vc1_unknown_jwt_claim_is_schema_invalid(make_credential: Maker, sign_raw: Signer,
                                                 trust: TrustStore) -> None:
    """A vc1 payload member outside the allowed set is schema_invalid, with its path.

    It lies outside the vc object, so JSON-LD expansion never sees it and the
    schema is the check that refuses it.
    """
    header, payload = claims_of(make_credential())
    payload["aud"] = "https://verifier.example"
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "schema",
                                 "schema_invalid")
    assert failed.path == "$.aud"


@covers("schema")
@pytest.mark.parametrize(("change", "path"), [
    (lambda s: s.update(fn=""), "credentialSubject.fn"),
    (lambda s: s.update(fn=["Alice"]), "credentialSubject.fn"),
    (lambda s: s.update(hasOrganizationName=""), "credentialSubject.hasOrganizationName"),
    (lambda s: s.update(hasInstantMessage=[HANDLE, HANDLE, DEVICE]),
     "credentialSubject.hasInstantMessage"),
    (lambda s: s.update(hasInstantMessage=DEVICE), "credentialSubject.hasInstantMessage"),
    (lambda s: s.update(hasInstantMessage=[DEVICE, "xmpp:alice@example.com"]),
     "credentialSubject.hasInstantMessage[1]"),
    (lambda s: s.pop("fn"), "credentialSubject.fn"),
], ids=["empty-fn", "fn-array", "empty-org", "repeated-im", "im-string", "im-scheme", "no-fn"])
def test_subject_shape_is_schema_invalid(change: Callable[[dict[str, Any]], object], path: str,
                                         sign_raw: Signer, trust: TrustStore,
                                         encoding: Encoding,
                                         valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """An empty fn, a repeated or non-array hasInstantMessage, or no fn is schema_invalid."""
    header, payload = valid
    change(subject_of(payload, encoding))
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "schema",
                                 "schema_invalid")
    prefix = "$.vc." if encoding is Encoding.VC1 else "$."
    assert failed.path == prefix + path


@covers("schema")
@pytest.mark.parametrize(("cnf", "path"), [
    ("private", "$.cnf.jwk.d"),
    ("both", "$.cnf"),
    ({}, "$.cnf"),
    ({"jkt": "abc"}, "$.cnf.jkt"),
    ({"kid": "urn:example:k1"}, "$.cnf.kid"),
], ids=["private-jwk", "jwk-and-jkt", "empty", "short-jkt", "kid"])
def test_cnf_shape_is_schema_invalid(cnf: object, path: str, device_key: keys.Key,
                                     sign_raw: Signer, trust: TrustStore,
                                     valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A cnf with a private JWK, with jwk and jkt, or without either is schema_invalid.

    A private key in cnf.jwk is refused by the schema (a public JWK carries no
    private members) before the holder_key check would call it bad_key; the
    report's path names the leaked member.
    """
    header, payload = valid
    if cnf == "private":
        cnf = {"jwk": device_key.private_jwk()}
    elif cnf == "both":
        cnf = {"jwk": dict(device_key.public_jwk), "jkt": device_key.thumbprint()}
    payload["cnf"] = cnf
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "schema",
                                 "schema_invalid")
    assert failed.path == path
    assert device_key.private_jwk()["d"] not in failed.reason


# --- identifiers -------------------------------------------------------------------------------

@covers("identifiers")
def test_device_credential_about_a_handle(sign_raw: Signer, trust: TrustStore,
                                          encoding: Encoding,
                                          valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """An ImDeviceCredential whose subject is a handle, not a device, fails with bad_identifier."""
    header, payload = valid
    set_subject(payload, encoding, HANDLE)
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "identifiers",
                                 "bad_identifier")
    assert "device identifier" in failed.reason
    assert failed.path == "$.credentialSubject.id"


@covers("identifiers")
@pytest.mark.parametrize("subject", [
    "im:%23projectX@example.com", "im:example.com", "im:$group@example.com"],
    ids=["channel", "domain", "group"])
def test_device_credential_about_a_non_device(subject: str, sign_raw: Signer,
                                              trust: TrustStore, encoding: Encoding,
                                              valid: tuple[dict[str, Any], dict[str, Any]]
                                              ) -> None:
    """Channels, domains and groups are not devices: bad_identifier."""
    header, payload = valid
    set_subject(payload, encoding, subject)
    subject_of(payload, encoding)["hasInstantMessage"] = [subject]
    assert_only_failure(verify(sign_raw(header, payload), trust), "identifiers",
                        "bad_identifier")


@covers("identifiers")
def test_user_credential_about_a_device(sign_raw: Signer, trust: TrustStore, encoding: Encoding,
                                        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """An ImUserCredential whose subject is a device fails with bad_identifier."""
    header, payload = valid
    vc_object(payload, encoding)["type"] = ["VerifiableCredential", "ImUserCredential"]
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "identifiers",
                                 "bad_identifier")
    assert "ImUserCredential" in failed.reason


@covers("identifiers")
def test_subject_must_be_among_the_instant_messages(
        sign_raw: Signer, trust: TrustStore, encoding: Encoding,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A subject missing from hasInstantMessage fails with bad_identifier."""
    header, payload = valid
    subject_of(payload, encoding)["hasInstantMessage"] = [HANDLE]
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "identifiers",
                                 "bad_identifier")
    assert failed.path == "$.credentialSubject.hasInstantMessage"


@covers("identifiers")
def test_subject_matches_its_instant_message_after_normalisation(
        sign_raw: Signer, trust: TrustStore, encoding: Encoding,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A subject written with an upper-case domain still equals its hasInstantMessage value."""
    header, payload = valid
    set_subject(payload, encoding, "im:SvPfLlwBQi-6oddVRrkqpw/04c7@EXAMPLE.com")
    assert_valid(verify(sign_raw(header, payload), trust))


@covers("identifiers")
@pytest.mark.parametrize("value", [
    "im:wxyz=#projectX@example.com", "im:alice/phone@example.com?x=1", "im:%40alice",
    "mimi://example.com/x/alice", "im:%40alice@exa_mple.com"],
    ids=["fragment", "query", "no-domain", "mimi-kind", "bad-domain"])
def test_unparseable_instant_message(value: str, sign_raw: Signer, trust: TrustStore,
                                     encoding: Encoding,
                                     valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """An im: value with a fragment, a query or no domain fails with bad_identifier."""
    header, payload = valid
    subject_of(payload, encoding)["hasInstantMessage"] = [DEVICE, value]
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "identifiers",
                                 "bad_identifier")
    assert failed.path == "$.credentialSubject.hasInstantMessage[1]"


@covers("identifiers")
@pytest.mark.parametrize("value", [
    "im:%40alice@other.example", "im:%40alice@chat.example.com", "im:%40alice@example.com.evil",
    "mimi://other.example/u/alice"],
    ids=["other-domain", "subdomain", "suffix", "mimi-other"])
def test_identifier_outside_the_issuer_domains(value: str, sign_raw: Signer,
                                               trust: TrustStore, encoding: Encoding,
                                               valid: tuple[dict[str, Any], dict[str, Any]]
                                               ) -> None:
    """An identifier in another domain, or a subdomain, fails with untrusted_issuer."""
    header, payload = valid
    subject_of(payload, encoding)["hasInstantMessage"] = [DEVICE, value]
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "identifiers",
                                 "untrusted_issuer")
    assert "example.com" in failed.reason


@covers("identifiers")
def test_subject_outside_the_issuer_domains(sign_raw: Signer, trust: TrustStore,
                                            encoding: Encoding,
                                            valid: tuple[dict[str, Any], dict[str, Any]]
                                            ) -> None:
    """A device subject in a subdomain of the trusted domain fails with untrusted_issuer."""
    header, payload = valid
    device = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@eu.example.com"
    set_subject(payload, encoding, device)
    subject_of(payload, encoding)["hasInstantMessage"] = [device]
    assert_only_failure(verify(sign_raw(header, payload), trust), "identifiers",
                        "untrusted_issuer")


@covers("identifiers")
def test_domains_match_after_idna_and_case_normalisation(
        issuer_key: keys.Key, sign_raw: Signer, encoding: Encoding,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A trust-file domain in U-labels and upper case covers identifiers in A-labels."""
    from vc_im.trust import parse_trust

    document = {"issuers": [{"id": ISSUER, "keys": [dict(issuer_key.public_jwk)],
                             "domains": ["Example.COM", "BÜCHER.example"]}]}
    trust = parse_trust(json.dumps(document).encode())
    header, payload = valid
    subject_of(payload, encoding)["hasInstantMessage"] = [
        DEVICE, "im:%40alice@xn--bcher-kva.example", "im:%40alice@B\u00fccher.Example"]
    assert_valid(verify(sign_raw(header, payload), trust))


@covers("identifiers")
def test_issuer_without_domains_is_trusted_for_any_domain(
        issuer_key: keys.Key, sign_raw: Signer, encoding: Encoding,
        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """An issuer listed without domains may speak for identifiers in any domain."""
    trust = TrustStore.of(TrustedIssuer(ISSUER, (issuer_key.public(),)))
    header, payload = valid
    subject_of(payload, encoding)["hasInstantMessage"] = [DEVICE, "im:%40alice@other.example"]
    assert_valid(verify(sign_raw(header, payload), trust))


# --- holder_key --------------------------------------------------------------------------------

@covers("holder_key")
@pytest.mark.parametrize(("jwk", "reason_part"), [
    ({"kty": "OKP", "crv": "Ed25519", "x": SMALL_ORDER_X}, "small-order"),
    ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, "32 bytes"),
    ({"kty": "OKP", "crv": "X25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}, "X25519"),
    ({"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
      "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4"}, ""),
], ids=["small-order", "short-x", "x25519", "off-curve"])
def test_unusable_holder_key(jwk: dict[str, str], reason_part: str, sign_raw: Signer,
                             trust: TrustStore,
                             valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A cnf.jwk that is a small-order point, malformed or not a signing key is bad_key."""
    header, payload = valid
    payload["cnf"] = {"jwk": jwk}
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "holder_key",
                                 "bad_key")
    assert reason_part in failed.reason
    assert failed.path == "$.cnf.jwk"


@covers("holder_key")
def test_rsa_holder_key_under_2048_bits(sign_raw: Signer, trust: TrustStore,
                                        valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A 1024-bit RSA holder key is bad_key."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    numbers = rsa.generate_private_key(65537, 1024).public_key().public_numbers()  # noqa: S505

    def b64(value: int) -> str:
        return jose.b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    header, payload = valid
    payload["cnf"] = {"jwk": {"kty": "RSA", "n": b64(numbers.n), "e": b64(numbers.e)}}
    failed = assert_only_failure(verify(sign_raw(header, payload), trust), "holder_key",
                                 "bad_key")
    assert "2048" in failed.reason


@covers("holder_key")
def test_non_canonical_jkt(device_key: keys.Key, sign_raw: Signer, trust: TrustStore,
                           valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A cnf.jkt whose last character has padding bits set is bad_key (one thumbprint, one form)."""
    header, payload = valid
    payload["cnf"] = {"jkt": _canonical_signature_breaker(device_key.thumbprint())}
    assert_only_failure(verify(sign_raw(header, payload), trust), "holder_key", "bad_key")


@covers("holder_key")
def test_holder_key_by_thumbprint_and_none(device_key: keys.Key, sign_raw: Signer,
                                           trust: TrustStore,
                                           valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """cnf.jkt binds the key by thumbprint; a credential without cnf binds none; both verify."""
    header, payload = valid
    payload["cnf"] = {"jkt": device_key.thumbprint()}
    report = verify(sign_raw(header, payload), trust)
    assert_valid(report)
    assert isinstance(report.verified, Credential)
    assert (report.verified.holder_key, report.verified.holder_jkt) == (
        None, device_key.thumbprint())
    del payload["cnf"]
    report = verify(sign_raw(header, payload), trust)
    assert_valid(report)
    assert "cnf" in report.check("holder_key").reason


def test_garbage_gives_a_report_not_an_exception(trust: TrustStore) -> None:
    """Arbitrary short inputs fail in a report; verifying never raises."""
    for token in (b"", b".", b"..", b"\x00" * 10, "\u202e.a.b", b"e30.e30.", "e30.e30.AA"):
        report = verify(token, trust)
        assert not report.ok
        assert report.code in {"malformed", "unsupported_alg"}


@pytest.mark.parametrize(("subject", "check", "code"), [
    ("abc", "jsonld", "context_rejected"), (["a"], "jsonld", "context_rejected"),
    (5, "schema", "schema_invalid"), (True, "schema", "schema_invalid")],
    ids=["string", "list", "int", "bool"])
def test_non_object_credential_subject(subject: object, check: str, code: str,
                                       sign_raw: Signer, trust: TrustStore, encoding: Encoding,
                                       valid: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A credentialSubject that is not an object fails a check (a string is a relative IRI)."""
    header, payload = valid
    vc_object(payload, encoding)["credentialSubject"] = subject
    assert_only_failure(verify(sign_raw(header, payload), trust), check, code)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6) | st.sampled_from([DEVICE, HANDLE, ISSUER, "im:", "urn:x:y",
                                            "2023-11-14T22:13:20Z", V1_CONTEXT, VCIM_CONTEXT]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.text(max_size=4) | st.sampled_from(["id", "type", "@context", "@id", "@type",
                                               "@value", "kty", "jwk", "jkt"]),
        children, max_size=3),
    max_leaves=6)


def _member_paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every member and array item path inside a JSON value."""
    found: list[tuple[str | int, ...]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for name, inner in value.items():
            found.extend(_member_paths(inner, (*prefix, name)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.extend(_member_paths(inner, (*prefix, index)))
    return found


@given(encoding=st.sampled_from(list(Encoding)), data=st.data(), value=JSON_VALUES)
@settings(max_examples=150, deadline=None)
def test_any_signed_change_gives_a_report_never_an_exception(
        encoding: Encoding, data: st.DataObject, value: Any, make_credential: Maker,
        sign_raw: Signer, trust: TrustStore) -> None:
    """Replacing any member of a signed credential by any JSON value gives a report, no raise."""
    header, payload = claims_of(make_credential(encoding=encoding))
    path = data.draw(st.sampled_from(_member_paths(payload)))
    target: Any = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    report = verify(sign_raw(header, payload), trust)
    assert [check.name for check in report.checks] == STEP_NAMES
    assert report.ok or report.code is not None


def test_binding_a_holder_changes_only_the_binding() -> None:
    """``Credential.bound_to`` is ``dataclasses.replace`` of the holder binding: on a
    credential whose every field differs from its default, each field of the copy is the
    original's but the two it binds (a field added to Credential but not to bound_to fails)."""
    import dataclasses

    from vc_im import identifiers
    from vc_im.model import Subject

    device = identifiers.parse(DEVICE)
    original = Credential(CredentialType.USER, "urn:uuid:1", ISSUER,
                          Subject(device, "Alice", (device,), "Org", "Unit"), NOW, NOW + 60,
                          keys.generate("Ed25519").public(), "jkt", True,
                          ({"type": "BitstringStatusListEntry"},))
    defaults = {field.name: field.default for field in dataclasses.fields(Credential)}
    assert all(getattr(original, name) != default for name, default in defaults.items())
    key = keys.generate("Ed25519").public()
    for binding in ((key, None), (None, "other-jkt"), (None, None)):
        bound = original.bound_to(*binding)
        expected = dataclasses.replace(original, holder_key=binding[0], holder_jkt=binding[1])
        for field in dataclasses.fields(Credential):
            assert getattr(bound, field.name) is getattr(expected, field.name), field.name
