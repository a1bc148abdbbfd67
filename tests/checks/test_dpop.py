"""vc_im._checks.dpop: RFC 9449 DPoP proofs, created and verified, each check of §4.3 failing alone,
jti replay, and the binding of the proof key to a credential's cnf."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import vc_im._jose.jws as jose
import vc_im._jose.strictjson as strictjson
from tests.conftest import DEVICE, HANDLE, NOW
from tests.helpers.presentations import (
    DPOP_CHECKS,
    DROP,
    HTM,
    HTU,
    OTHER_DEVICE,
    RFC9449_ACCESS_TOKEN,
    RFC9449_ATH,
    SignRaw,
    assert_fails_at,
    assert_valid,
    dpop_claims,
    dpop_header,
    jkt_credential,
    public_members,
    with_bad_signature,
)
from vc_im import identifiers, keys
from vc_im._checks.dpop import Proof, access_token_hash, create_proof, normalize_htu, verify_proof
from vc_im.errors import InputError
from vc_im.keys import Key
from vc_im.report import Report
from vc_im.trust import TrustStore

MakeCredential = Callable[..., str]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A fresh replay store for one test."""
    return tmp_path / "replay.sqlite3"


def verify(token: str, store: Path, *, htm: str = HTM, htu: str = HTU, now: int = NOW,
           **options: Any) -> Report:
    """Verify ``token`` for the request POST HTU at NOW."""
    report = verify_proof(token, htm=htm, htu=htu, now=now, store=store, **options)
    assert report.kind == "dpop"
    assert tuple(check.name for check in report.checks) == DPOP_CHECKS
    return report


def proof(sign_raw: SignRaw, key: Key, *, header: dict[str, Any] | None = None,
          **claims: Any) -> str:
    """A proof signed with ``key``, its header carrying that key's jwk unless given."""
    return sign_raw(dpop_header(key) if header is None else header, dpop_claims(**claims), key)


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token whose signature is 64 zero bytes (for algs the key cannot sign with)."""
    return (jose.b64url_encode(strictjson.dumps_compact(header)) + "."
            + jose.b64url_encode(strictjson.dumps_compact(claims)) + "."
            + jose.b64url_encode(bytes(64)))


# --- creating ------------------------------------------------------------------------------

def test_ath_is_the_rfc9449_vector() -> None:
    """``ath`` of RFC 9449's example access token is the RFC's value."""
    assert access_token_hash(RFC9449_ACCESS_TOKEN) == RFC9449_ATH


def test_create_proof_header_and_claims(device_key: Key) -> None:
    """A created proof: typ dpop+jwt, the key's public jwk (no kid, alg or d), a 128-bit
    base64url jti, htm upper-cased, htu without query and fragment, iat, and the optional
    nonce, ath (RFC 9449 vector) and sub (canonical form)."""
    token = create_proof(device_key, htm="post", htu=HTU + "?state=1#frag", now=NOW,
                         nonce="server-nonce", access_token=RFC9449_ACCESS_TOKEN,
                         sub="im:SvPfLlwBQi-6oddVRrkqpw/04c7@EXAMPLE.com")
    unverified = jose.peek_unverified(token)
    assert dict(unverified.header) == {"alg": "Ed25519", "typ": "dpop+jwt",
                                       "jwk": public_members(device_key)}
    claims = dict(unverified.payload)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", claims.pop("jti"))
    assert claims == {"htm": "POST", "htu": HTU, "iat": NOW, "nonce": "server-nonce",
                      "ath": RFC9449_ATH, "sub": DEVICE}


def test_create_proof_minimal_claims(device_key: Key) -> None:
    """Without nonce, access token and sub, a proof carries only jti, htm, htu and iat."""
    claims = jose.peek_unverified(create_proof(device_key, htm="GET", htu=HTU, now=NOW)).payload
    assert sorted(claims) == ["htm", "htu", "iat", "jti"]


def test_each_proof_gets_a_fresh_jti(device_key: Key) -> None:
    """Two proofs for the same request carry different jti values."""
    first, second = (jose.peek_unverified(create_proof(device_key, htm=HTM, htu=HTU, now=NOW))
                     .payload["jti"] for _ in range(2))
    assert first != second


@pytest.mark.parametrize(("options", "message"), [
    ({"htm": ""}, "is not an HTTP method"),
    ({"htm": "GET /"}, "is not an HTTP method"),
    ({"htu": "ftp://im.example.com/x"}, "not an http or https URL"),
    ({"htu": "https://alice:pw@im.example.com/x"}, "user information"),
    ({"htu": "https://im.example.com:99999/x"}, "is not a URL"),
    ({"sub": "alice"}, "is not an IM identifier"),
    ({"access_token": "t\u00f6ken"}, "ASCII"),
], ids=["empty-htm", "htm-with-space", "ftp", "userinfo", "bad-port", "sub", "token"])
def test_create_refuses_unusable_input(options: dict[str, Any], message: str,
                                       device_key: Key) -> None:
    """``create_proof`` refuses a method, URL, sub or access token it cannot use."""
    arguments: dict[str, Any] = {"htm": HTM, "htu": HTU, "now": NOW, **options}
    with pytest.raises(InputError, match=re.escape(message)):
        create_proof(device_key, **arguments)


def test_create_refuses_a_public_key(device_key: Key) -> None:
    """Creating a proof needs the private key."""
    with pytest.raises(InputError, match="private key"):
        create_proof(device_key.public(), htm=HTM, htu=HTU, now=NOW)


# --- verifying: valid proofs ---------------------------------------------------------------

def test_round_trip(store: Path, device_key: Key) -> None:
    """A created proof verifies and reports its key, jti, htm, htu and iat."""
    token = create_proof(device_key, htm=HTM, htu=HTU, now=NOW - 5)
    report = verify(token, store)
    assert_valid(report)
    verified = report.verified
    assert isinstance(verified, Proof)
    assert verified.key.thumbprint() == device_key.thumbprint()
    assert (verified.jti, verified.htm, verified.htu, verified.issued_at, verified.credential) == (
        jose.peek_unverified(token).payload["jti"], HTM, HTU, NOW - 5, None)
    assert report.credentials == ()


def test_round_trip_with_nonce_and_access_token(store: Path, device_key: Key) -> None:
    """A proof with the server's nonce and the access token's ath verifies."""
    token = create_proof(device_key, htm=HTM, htu=HTU, now=NOW, nonce="server-nonce",
                         access_token=RFC9449_ACCESS_TOKEN)
    assert_valid(verify(token, store, nonce="server-nonce", access_token=RFC9449_ACCESS_TOKEN))


@pytest.mark.parametrize("alg", ["ES256", "ES256K", "RS256"])
def test_every_key_algorithm(alg: str, store: Path) -> None:
    """Proofs signed with each supported algorithm verify."""
    token = create_proof(keys.generate(alg), htm=HTM, htu=HTU, now=NOW)
    assert jose.peek_unverified(token).header["alg"] == alg
    assert_valid(verify(token, store))


def test_eddsa_alg_name_is_accepted(sign_raw: SignRaw, store: Path, device_key: Key) -> None:
    """A proof whose header says the older alg name EdDSA for an Ed25519 key verifies."""
    token = proof(sign_raw, device_key, header=dpop_header(device_key, alg="EdDSA"))
    assert_valid(verify(token, store))


def test_server_nonce_not_required(sign_raw: SignRaw, store: Path, device_key: Key) -> None:
    """A proof with a nonce verifies when the server supplied none (nothing to match)."""
    assert_valid(verify(proof(sign_raw, device_key, nonce="whatever"), store))


# --- verifying: each check failing alone ---------------------------------------------------

@pytest.mark.parametrize(("header", "code"), [
    ({"typ": "JWT"}, "bad_type"),
    ({"typ": "dpop+JWT"}, "bad_type"),
    ({"typ": DROP}, "bad_type"),
    ({"jwk": DROP}, "bad_header"),
    ({"jwk": "not-an-object"}, "bad_header"),
    ({"jwk": {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}}, "bad_key"),
    ({"jku": "https://attacker.example/jwks"}, "bad_header"),
], ids=["typ-JWT", "typ-case", "no-typ", "no-jwk", "jwk-string", "symmetric-jwk", "jku"])
def test_header(header: dict[str, Any], code: str, sign_raw: SignRaw, store: Path,
                device_key: Key) -> None:
    """typ must be dpop+jwt and jwk an asymmetric public key (RFC 9449 §4.3 checks 4, 7)."""
    token = proof(sign_raw, device_key, header=dpop_header(device_key, **header))
    assert_fails_at(verify(token, store), "header", code)


def test_private_jwk_in_header(sign_raw: SignRaw, store: Path, device_key: Key) -> None:
    """A header jwk that holds the private key fails at header with bad_key (§4.3 check 7)."""
    private = {k: v for k, v in device_key.private_jwk().items() if k not in ("kid", "alg")}
    token = proof(sign_raw, device_key, header=dpop_header(device_key, jwk=private))
    assert_fails_at(verify(token, store), "header", "bad_key")


@pytest.mark.parametrize("alg", ["none", "HS256", "ES256", "RS256", 7])
def test_alg(alg: Any, store: Path, device_key: Key) -> None:
    """alg none, a MAC, an alg the Ed25519 jwk cannot verify, or no string fail at alg with
    unsupported_alg (§4.3 check 5)."""
    token = unsigned({**dpop_header(device_key), "alg": alg}, dpop_claims())
    assert_fails_at(verify(token, store), "alg", "unsupported_alg")


def test_signature_by_another_key(sign_raw: SignRaw, store: Path, device_key: Key,
                                  attacker_key: Key) -> None:
    """A proof whose header carries the device key but which the attacker signed fails with
    bad_signature (§4.3 check 6)."""
    token = sign_raw(dpop_header(device_key), dpop_claims(), attacker_key)
    assert_fails_at(verify(token, store), "signature", "bad_signature")


def test_zeroed_signature(store: Path, device_key: Key) -> None:
    """A created proof with zeroed signature bytes fails with bad_signature."""
    token = with_bad_signature(create_proof(device_key, htm=HTM, htu=HTU, now=NOW))
    assert_fails_at(verify(token, store), "signature", "bad_signature")


@pytest.mark.parametrize(("claims", "code"), [
    ({"jti": DROP}, "missing_claim"),
    ({"htm": DROP}, "missing_claim"),
    ({"htu": DROP}, "missing_claim"),
    ({"iat": DROP}, "missing_claim"),
    ({"jti": ""}, "missing_claim"),
    ({"htm": 1}, "missing_claim"),
    ({"htu": ["https://im.example.com/"]}, "missing_claim"),
    ({"iat": NOW * 1000}, "malformed"),
    ({"iat": str(NOW)}, "malformed"),
    ({"iat": True}, "malformed"),
    ({"exp": 1.5}, "malformed"),
], ids=["no-jti", "no-htm", "no-htu", "no-iat", "empty-jti", "number-htm", "array-htu",
        "iat-ms", "iat-string", "iat-bool", "exp-float"])
def test_claims(claims: dict[str, Any], code: str, sign_raw: SignRaw, store: Path,
                device_key: Key) -> None:
    """jti, htm and htu are non-empty strings and iat an integer NumericDate (§4.3 check 3)."""
    assert_fails_at(verify(proof(sign_raw, device_key, **claims), store), "claims", code)


def test_access_token_without_ath(sign_raw: SignRaw, store: Path, device_key: Key) -> None:
    """With an access token, a proof without ath fails at claims with missing_claim."""
    report = verify(proof(sign_raw, device_key), store, access_token=RFC9449_ACCESS_TOKEN)
    assert_fails_at(report, "claims", "missing_claim")


@pytest.mark.parametrize("htm", ["GET", "post", "PUT"])
def test_method_mismatch(htm: str, store: Path, device_key: Key) -> None:
    """A proof for POST fails at method with claim_mismatch for another (case-sensitive)
    method (§4.3 check 8)."""
    token = create_proof(device_key, htm=HTM, htu=HTU, now=NOW)
    assert_fails_at(verify(token, store, htm=htm), "method", "claim_mismatch")


@pytest.mark.parametrize("request_uri", [
    "https://im.example.com/client/tokens",
    "https://im.example.com/client/token/",
    "https://im.example.com/client",
    "https://other.example.com/client/token",
    "https://im.example.com:8443/client/token",
    "http://im.example.com/client/token",
    "https://im.example.com/client%2Ftoken",
])
def test_uri_mismatch(request_uri: str, store: Path, device_key: Key) -> None:
    """A proof for https://im.example.com/client/token fails at uri with claim_mismatch for
    another path, host, port or scheme, and for an encoded slash (§4.3 check 9)."""
    token = create_proof(device_key, htm=HTM, htu=HTU, now=NOW)
    assert_fails_at(verify(token, store, htu=request_uri), "uri", "claim_mismatch")


@pytest.mark.parametrize("htu", ["urn:example:token", "not a url", "ftp://im.example.com/x"])
def test_htu_claim_not_an_http_url(htu: str, sign_raw: SignRaw, store: Path,
                                   device_key: Key) -> None:
    """An htu claim that is not an http(s) URL fails at uri with claim_mismatch."""
    assert_fails_at(verify(proof(sign_raw, device_key, htu=htu), store), "uri", "claim_mismatch")


@pytest.mark.parametrize(("claimed", "requested"), [
    ("HTTPS://IM.example.com:443/client/token", "https://im.example.com/client/token"),
    ("https://im.example.com/client/token", "HTTPS://IM.example.com:443/client/token"),
    ("https://im.example.com/client/token?x=1#f", "https://im.example.com/client/token"),
    ("https://im.example.com/client/token", "https://im.example.com/client/token?a=b#c"),
    ("http://im.example.com:80/client/token", "http://IM.EXAMPLE.COM/client/token"),
    ("https://im.example.com/%7Ealice/token", "https://im.example.com/~alice/token"),
    ("https://im.example.com/a%2fb", "https://im.example.com/a%2Fb"),
    ("https://im.example.com", "https://im.example.com/"),
    ("https://[2001:DB8::1]:443/t", "https://[2001:db8::1]/t"),
], ids=["upper-default-port", "reverse", "query-in-proof", "query-in-request", "http-port-80",
        "unreserved-escape", "escape-case", "empty-path", "ipv6"])
def test_uri_equal_after_normalisation(claimed: str, requested: str, sign_raw: SignRaw,
                                       store: Path, device_key: Key) -> None:
    """htu matches the request URI after RFC 3986 §6.2.2-6.2.3 normalisation, ignoring query
    and fragment."""
    token = proof(sign_raw, device_key, htu=claimed)
    assert_valid(verify(token, store, htu=requested))


def test_uri_dot_segments_are_normalised(sign_raw: SignRaw, store: Path,
                                         device_key: Key) -> None:
    """An htu with a dot segment (/client/./x/../token) matches /client/token."""
    token = proof(sign_raw, device_key, htu="https://im.example.com/client/./x/../token")
    assert_valid(verify(token, store))


def test_normalize_htu_examples() -> None:
    """``normalize_htu`` lower-cases scheme and host, drops the default port, query and
    fragment, and decodes only unreserved escapes."""
    assert normalize_htu("HTTPS://IM.Example.COM:443/A%7e%2f?q#f") == "https://im.example.com/A~%2F"
    assert normalize_htu("http://im.example.com:8080") == "http://im.example.com:8080/"


@pytest.mark.parametrize("nonce", [DROP, "other-nonce", 42, ["server-nonce"], "Server-Nonce"],
                         ids=["absent", "other", "number", "array", "case"])
def test_nonce_mismatch(nonce: Any, sign_raw: SignRaw, store: Path, device_key: Key) -> None:
    """When the server supplied a nonce, a proof without exactly that string fails at nonce
    with nonce_mismatch (§4.3 check 10)."""
    token = proof(sign_raw, device_key, nonce=nonce)
    assert_fails_at(verify(token, store, nonce="server-nonce"), "nonce", "nonce_mismatch")


def test_nonce_with_a_lone_surrogate_fails_cleanly(sign_raw: SignRaw, store: Path,
                                                   device_key: Key) -> None:
    """A nonce claim "\\ud800" (a lone surrogate: valid JSON, not valid UTF-8) is refused with a
    report: nonce_mismatch at nonce, or malformed at format where the JSON reader refuses it."""
    token = proof(sign_raw, device_key, nonce="\ud800")
    report = verify(token, store, nonce="server-nonce")
    failure = report.failure
    assert failure is not None
    assert (failure.name, failure.code) in {("nonce", "nonce_mismatch"), ("format", "malformed")}
    assert_fails_at(report, failure.name, str(failure.code))


@pytest.mark.parametrize(("claims", "code"), [
    ({"iat": NOW - 361}, "bad_iat"),
    ({"iat": NOW + 61}, "bad_iat"),
    ({"iat": NOW - 100, "exp": NOW - 60}, "expired"),
], ids=["too-old", "future", "expired"])
def test_time(claims: dict[str, Any], code: str, sign_raw: SignRaw, store: Path,
              device_key: Key) -> None:
    """A proof created more than 300 s + 60 s leeway ago or 60 s ahead fails with bad_iat, and
    one whose exp passed by the leeway with expired (§4.3 check 11)."""
    assert_fails_at(verify(proof(sign_raw, device_key, **claims), store), "time", code)


@pytest.mark.parametrize("iat", [NOW - 359, NOW + 60])
def test_time_boundaries(iat: int, sign_raw: SignRaw, store: Path, device_key: Key) -> None:
    """A proof created 359 s ago or 60 s ahead is still accepted."""
    assert_valid(verify(proof(sign_raw, device_key, iat=iat), store))


def test_oldest_accepted_proof(sign_raw: SignRaw, store: Path, device_key: Key) -> None:
    """A proof exactly 300 s + 60 s leeway old passes the time check and is accepted."""
    assert_valid(verify(proof(sign_raw, device_key, iat=NOW - 360), store))


def test_leeway_zero(sign_raw: SignRaw, store: Path, device_key: Key) -> None:
    """With leeway 0 a proof created 301 s ago fails with bad_iat."""
    report = verify(proof(sign_raw, device_key, iat=NOW - 301), store, leeway=0)
    assert_fails_at(report, "time", "bad_iat")


@pytest.mark.parametrize("ath", [DROP, "", RFC9449_ATH[:-1] + "A", access_token_hash("other")],
                         ids=["absent", "empty", "altered", "other-token"])
def test_ath_mismatch(ath: Any, sign_raw: SignRaw, store: Path, device_key: Key) -> None:
    """With the RFC 9449 access token, an ath that is not its hash fails with claim_mismatch
    (absent: missing_claim at claims) (§4.3 check 12)."""
    report = verify(proof(sign_raw, device_key, ath=ath), store,
                    access_token=RFC9449_ACCESS_TOKEN)
    if ath is DROP:
        assert_fails_at(report, "claims", "missing_claim")
    else:
        assert_fails_at(report, "ath", "claim_mismatch")


def test_ath_rfc9449_value_accepted(sign_raw: SignRaw, store: Path, device_key: Key) -> None:
    """A crafted proof carrying the RFC 9449 ath verifies with the RFC's access token."""
    token = proof(sign_raw, device_key, ath=RFC9449_ATH)
    assert_valid(verify(token, store, access_token=RFC9449_ACCESS_TOKEN))


# --- replay --------------------------------------------------------------------------------

def test_same_proof_twice(store: Path, device_key: Key) -> None:
    """The same proof verified a second time fails at replay with replay."""
    token = create_proof(device_key, htm=HTM, htu=HTU, now=NOW)
    assert_valid(verify(token, store))
    assert_fails_at(verify(token, store, now=NOW + 1), "replay", "replay")


def test_jti_is_single_use_per_normalised_htu(sign_raw: SignRaw, store: Path,
                                              device_key: Key) -> None:
    """A jti used for one URI is refused for an equal spelling of it, and accepted for
    another URI (RFC 9449 §11.1)."""
    first = proof(sign_raw, device_key)
    same_uri = proof(sign_raw, device_key, htu="HTTPS://IM.example.com:443/client/token")
    other_uri = proof(sign_raw, device_key, htu="https://im.example.com/client/other")
    assert_valid(verify(first, store))
    assert_fails_at(verify(same_uri, store, htu="https://IM.example.com/client/token"),
                    "replay", "replay")
    assert_valid(verify(other_uri, store, htu="https://im.example.com/client/other"))


def test_rejected_proof_is_not_remembered(sign_raw: SignRaw, store: Path,
                                          device_key: Key) -> None:
    """A proof refused for its method does not consume its jti."""
    token = proof(sign_raw, device_key)
    assert_fails_at(verify(token, store, htm="GET"), "method", "claim_mismatch")
    assert_valid(verify(token, store))


# --- binding to a credential ---------------------------------------------------------------

def test_bound_to_the_credential(store: Path, trust: TrustStore, device_key: Key,
                                 make_credential: MakeCredential) -> None:
    """A proof signed with the key the credential binds (cnf.jwk), with the device as sub,
    verifies; the credential's own report is nested and valid."""
    token = create_proof(device_key, htm=HTM, htu=HTU, now=NOW, sub=DEVICE)
    report = verify(token, store, credential=make_credential(), trust=trust)
    assert_valid(report)
    assert len(report.credentials) == 1
    verified = report.verified
    assert isinstance(verified, Proof)
    assert verified.credential is not None
    assert verified.credential.subject.id == identifiers.parse(DEVICE)


def test_bound_by_thumbprint(store: Path, trust: TrustStore, issuer_key: Key,
                             device_key: Key) -> None:
    """A credential binding the key by cnf.jkt accepts a proof signed with that key."""
    token = create_proof(device_key, htm=HTM, htu=HTU, now=NOW)
    assert_valid(verify(token, store, credential=jkt_credential(issuer_key, device_key),
                        trust=trust))


def test_attacker_key_is_not_the_bound_key(store: Path, trust: TrustStore, attacker_key: Key,
                                           make_credential: MakeCredential) -> None:
    """A proof signed with the attacker's key, naming Alice's credential, fails at credential
    with holder_binding (the credential itself is valid)."""
    token = create_proof(attacker_key, htm=HTM, htu=HTU, now=NOW, sub=DEVICE)
    report = verify(token, store, credential=make_credential(), trust=trust)
    assert_fails_at(report, "credential", "holder_binding")
    assert_valid(report.credentials[0])


@pytest.mark.parametrize("sub", [OTHER_DEVICE, HANDLE], ids=["other-device", "handle"])
def test_sub_is_not_the_credential_subject(sub: Any, sign_raw: SignRaw, store: Path,
                                           trust: TrustStore, device_key: Key,
                                           make_credential: MakeCredential) -> None:
    """A sub that is not the credential's subject (even one its hasInstantMessage lists) fails
    at credential with holder_binding."""
    token = proof(sign_raw, device_key, sub=sub)
    report = verify(token, store, credential=make_credential(), trust=trust)
    assert_fails_at(report, "credential", "holder_binding")


@pytest.mark.parametrize("sub", ["alice", 7], ids=["not-identifier", "number"])
@pytest.mark.parametrize("with_credential", [True, False], ids=["credential", "alone"])
def test_sub_that_is_not_an_identifier_fails_claims(sub: Any, with_credential: bool,
                                                    sign_raw: SignRaw, store: Path,
                                                    trust: TrustStore, device_key: Key,
                                                    make_credential: MakeCredential) -> None:
    """A sub that is not an IM identifier fails at claims with bad_identifier, with or
    without a credential to compare it with."""
    token = proof(sign_raw, device_key, sub=sub)
    if with_credential:
        report = verify(token, store, credential=make_credential(), trust=trust)
    else:
        report = verify(token, store)
    assert_fails_at(report, "claims", "bad_identifier")


def test_sub_compared_by_identifier_equality(sign_raw: SignRaw, store: Path, trust: TrustStore,
                                             device_key: Key,
                                             make_credential: MakeCredential) -> None:
    """A sub spelling the device's domain in upper case names the credential's subject."""
    token = proof(sign_raw, device_key, sub="im:SvPfLlwBQi-6oddVRrkqpw/04c7@EXAMPLE.COM")
    assert_valid(verify(token, store, credential=make_credential(), trust=trust))


def test_credential_without_cnf(store: Path, trust: TrustStore, device_key: Key,
                                make_credential: MakeCredential) -> None:
    """A credential that binds no key cannot vouch for any proof: holder_binding."""
    token = create_proof(device_key, htm=HTM, htu=HTU, now=NOW)
    report = verify(token, store, credential=make_credential(holder_key=None), trust=trust)
    assert_fails_at(report, "credential", "holder_binding")


def test_invalid_credential(store: Path, trust: TrustStore, device_key: Key,
                            make_credential: MakeCredential) -> None:
    """An expired credential fails the proof at credential with expired, its nested report
    failing at time."""
    token = create_proof(device_key, htm=HTM, htu=HTU, now=NOW)
    expired = make_credential(now=NOW - 91 * 86400)
    report = verify(token, store, credential=expired, trust=trust)
    assert_fails_at(report, "credential", "expired")
    assert_fails_at(report.credentials[0], "time", "expired")


def test_verify_refuses_unusable_arguments(store: Path, device_key: Key,
                                           make_credential: MakeCredential) -> None:
    """A request URI that is not http(s), or a credential without a trust store, is an
    InputError, not a report."""
    token = create_proof(device_key, htm=HTM, htu=HTU, now=NOW)
    with pytest.raises(InputError, match="not an http or https URL"):
        verify_proof(token, htm=HTM, htu="ftp://im.example.com/x", now=NOW, store=store)
    with pytest.raises(InputError, match="needs a trust file"):
        verify_proof(token, htm=HTM, htu=HTU, now=NOW, store=store,
                     credential=make_credential())
