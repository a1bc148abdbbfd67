"""vc_im.access_tokens: DPoP-bound access tokens (RFC 9068, RFC 9449 §6), minted from a
device's proof and verified by a third party with a fresh proof from the bound key; each
check failing alone with its stable code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEVICE, HANDLE, NOW, claims_of
from tests.helpers.presentations import SignRaw, assert_fails_at, assert_valid
from vc_im import keys
from vc_im.access_tokens import (
    ACCESS_TOKEN_STEPS,
    MAX_TOKEN_LIFETIME,
    AccessToken,
    issue_access_token,
    verify_access_token,
)
from vc_im.dpop import access_token_hash, create_proof
from vc_im.errors import InputError, VerificationFailed
from vc_im.keys import Key
from vc_im.model import CredentialType
from vc_im.report import Report
from vc_im.trust import TrustedIssuer, TrustStore

MakeCredential = Callable[..., str]
TOKEN_ENDPOINT = "https://im.example.com/client/token"
RESOURCE = "https://rs.example.com/profile"
AUDIENCE = "https://rs.example.com"
AS = "https://as.example.com"
STEPS = tuple(name for name, _ in ACCESS_TOKEN_STEPS)


@pytest.fixture(scope="module")
def as_key() -> Key:
    """The authorization server's signing key."""
    return keys.generate("Ed25519")


@pytest.fixture(scope="module")
def rs_trust(as_key: Key) -> TrustStore:
    """What the resource server trusts: the authorization server, for example.com."""
    return TrustStore.of(TrustedIssuer(AS, (as_key.public(),), frozenset({"example.com"})))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A fresh replay store for one test."""
    return tmp_path / "replay.sqlite3"


def mint(as_key: Key, device_key: Key, store: Path, **options: Any) -> str:
    """A token minted on a fresh proof from ``device_key`` naming the device in its sub."""
    proof = create_proof(device_key, htm="POST", htu=TOKEN_ENDPOINT, now=NOW, sub=DEVICE)
    arguments: dict[str, Any] = {"issuer": AS, "proof": proof, "htm": "POST",
                                 "htu": TOKEN_ENDPOINT, "audience": AUDIENCE, "now": NOW,
                                 "store": store}
    arguments.update(options)
    return issue_access_token(as_key, **arguments)


def check(token: str, trust: TrustStore, proof_key: Key, store: Path, *,
          proof: str | None = None, **options: Any) -> Report:
    """Verify ``token`` at the resource with a fresh proof by ``proof_key`` (or ``proof``)."""
    if proof is None:
        proof = create_proof(proof_key, htm="GET", htu=RESOURCE, now=NOW, access_token=token)
    arguments: dict[str, Any] = {"proof": proof, "htm": "GET", "htu": RESOURCE,
                                 "audience": AUDIENCE, "now": NOW, "store": store}
    arguments.update(options)
    report = verify_access_token(token, trust, **arguments)
    assert report.kind == "access_token"
    assert tuple(item.name for item in report.checks) == STEPS
    return report


def craft(sign_raw: SignRaw, as_key: Key, device_key: Key, *,
          header: dict[str, Any] | None = None, **claims: Any) -> str:
    """An access token with the given header and claims over valid defaults (None drops)."""
    payload: dict[str, Any] = {"iss": AS, "sub": DEVICE, "aud": AUDIENCE, "client_id": DEVICE,
                               "iat": NOW, "exp": NOW + 300, "jti": "a" * 22,
                               "cnf": {"jkt": device_key.thumbprint()}}
    for name, value in claims.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    return sign_raw(header if header is not None else {"typ": "at+jwt", "kid": as_key.kid},
                    payload, as_key)


# ---- minting


def test_minted_token_carries_every_claim_rfc_9068_requires(as_key: Key, device_key: Key,
                                                            store: Path) -> None:
    """typ at+jwt, and iss, exp, aud, sub, client_id, iat and jti (RFC 9068 §2.1-2.2), with
    cnf.jkt the proof key's thumbprint (RFC 9449 §6.1) and sub the proof's device."""
    header, payload = claims_of(mint(as_key, device_key, store, valid_for=600))
    assert header == {"typ": "at+jwt", "alg": "Ed25519", "kid": as_key.kid}
    assert set(payload) == {"iss", "exp", "aud", "sub", "client_id", "iat", "jti", "cnf"}
    assert (payload["iss"], payload["sub"], payload["aud"], payload["client_id"]) == (
        AS, DEVICE, AUDIENCE, DEVICE)
    assert (payload["iat"], payload["exp"]) == (NOW, NOW + 600)
    assert payload["cnf"] == {"jkt": device_key.thumbprint()}
    assert len(payload["jti"]) == 22


def test_one_proof_mints_one_token(as_key: Key, device_key: Key, store: Path) -> None:
    """The proof's jti is consumed: handing the same proof in again is a replay."""
    proof = create_proof(device_key, htm="POST", htu=TOKEN_ENDPOINT, now=NOW, sub=DEVICE)
    mint(as_key, device_key, store, proof=proof)
    with pytest.raises(VerificationFailed) as info:
        mint(as_key, device_key, store, proof=proof)
    assert info.value.code == "replay"
    assert info.value.message.startswith("the DPoP proof is refused: ")


def test_credential_names_the_device_and_must_bind_the_proof_key(
        as_key: Key, device_key: Key, attacker_key: Key, trust: TrustStore, store: Path,
        make_credential: MakeCredential) -> None:
    """With a credential, sub is its subject; a proof from a key it does not bind is refused
    with holder_binding, and mints nothing."""
    proof = create_proof(device_key, htm="POST", htu=TOKEN_ENDPOINT, now=NOW)
    token = mint(as_key, device_key, store, proof=proof, credential=make_credential(),
                 trust=trust, client_id="im-client/1.0")
    _, payload = claims_of(token)
    assert (payload["sub"], payload["client_id"]) == (DEVICE, "im-client/1.0")
    stolen = create_proof(attacker_key, htm="POST", htu=TOKEN_ENDPOINT, now=NOW)
    with pytest.raises(VerificationFailed) as info:
        mint(as_key, attacker_key, store, proof=stolen, credential=make_credential(),
             trust=trust)
    assert info.value.code == "holder_binding"


def test_a_user_credential_mints_no_token(as_key: Key, device_key: Key, trust: TrustStore,
                                          store: Path, make_credential: MakeCredential) -> None:
    """An access token is for a device: a user credential is refused with bad_type."""
    user = make_credential(subject=HANDLE, instant_messages=[],
                           credential_type=CredentialType.USER)
    proof = create_proof(device_key, htm="POST", htu=TOKEN_ENDPOINT, now=NOW)
    with pytest.raises(VerificationFailed) as info:
        mint(as_key, device_key, store, proof=proof, credential=user, trust=trust)
    assert info.value.code == "bad_type"


@pytest.mark.parametrize(("sub", "code"), [(None, "missing_claim"), (HANDLE, "bad_identifier")])
def test_without_a_credential_the_proof_must_name_a_device(sub: str | None, code: str,
                                                           as_key: Key, device_key: Key,
                                                           store: Path) -> None:
    """No credential and no sub, or a sub that is not a device, mints nothing."""
    proof = create_proof(device_key, htm="POST", htu=TOKEN_ENDPOINT, now=NOW, sub=sub)
    with pytest.raises(VerificationFailed) as info:
        mint(as_key, device_key, store, proof=proof)
    assert info.value.code == code


@pytest.mark.parametrize(("options", "message"), [
    ({"valid_for": MAX_TOKEN_LIFETIME + 1}, "an access token lives 1 s to 86400 s (1 day); "
     "86401 s was asked."),
    ({"issuer": "as.example.com"}, "the issuer 'as.example.com' is not an absolute URI."),
    ({"audience": ""}, "the audience must be printable text of 1 to 2048 characters, without "
     "surrounding spaces."),
])
def test_unusable_arguments_are_input_errors(options: dict[str, Any], message: str,
                                             as_key: Key, device_key: Key,
                                             store: Path) -> None:
    """A lifetime over a day, a relative issuer or an empty audience is refused up front."""
    with pytest.raises(InputError) as info:
        mint(as_key, device_key, store, **options)
    assert info.value.message == message


def test_minting_needs_the_private_key(as_key: Key, device_key: Key, store: Path) -> None:
    """A public key cannot mint."""
    with pytest.raises(InputError):
        mint(as_key.public(), device_key, store)


# ---- verifying: the whole flow, and the attacks it stops


def test_third_party_accepts_token_with_a_fresh_proof_from_the_bound_key(
        as_key: Key, device_key: Key, rs_trust: TrustStore, store: Path,
        tmp_path: Path) -> None:
    """Every check passes, the proof's report is nested, and the verified token says who,
    for whom, and which key."""
    token = mint(as_key, device_key, tmp_path / "as.sqlite3")
    report = check(token, rs_trust, device_key, store)
    assert_valid(report)
    assert [nested.kind for nested in report.credentials] == ["dpop"]
    verified = report.verified
    assert isinstance(verified, AccessToken)
    assert (str(verified.subject), verified.audience, verified.jkt) == (
        DEVICE, (AUDIENCE,), device_key.thumbprint())


def test_token_replayed_with_a_proof_from_another_key_is_refused(
        as_key: Key, device_key: Key, attacker_key: Key, rs_trust: TrustStore, store: Path,
        tmp_path: Path) -> None:
    """A stolen token with the thief's own (otherwise valid) proof fails at proof with
    holder_binding: the proof key is not cnf.jkt (RFC 9449 §4.3 12)."""
    token = mint(as_key, device_key, tmp_path / "as.sqlite3")
    report = check(token, rs_trust, attacker_key, store)
    assert_fails_at(report, "proof", "holder_binding")
    assert_fails_at(report.credentials[0], "ath", "holder_binding")
    assert "is not the key the access token is bound to (cnf.jkt" in report.checks[-1].reason


def test_a_proof_is_used_once(as_key: Key, device_key: Key, rs_trust: TrustStore,
                              store: Path, tmp_path: Path) -> None:
    """The same proof a second time fails with replay; a fresh one passes again."""
    token = mint(as_key, device_key, tmp_path / "as.sqlite3")
    proof = create_proof(device_key, htm="GET", htu=RESOURCE, now=NOW, access_token=token)
    assert_valid(check(token, rs_trust, device_key, store, proof=proof))
    assert_fails_at(check(token, rs_trust, device_key, store, proof=proof), "proof", "replay")
    assert_valid(check(token, rs_trust, device_key, store))


def test_proof_for_another_token_is_refused(as_key: Key, device_key: Key,
                                            rs_trust: TrustStore, store: Path,
                                            tmp_path: Path) -> None:
    """A proof whose ath hashes another token fails with claim_mismatch; one without ath
    with missing_claim."""
    token = mint(as_key, device_key, tmp_path / "as.sqlite3")
    other = mint(as_key, device_key, tmp_path / "as.sqlite3")
    proof = create_proof(device_key, htm="GET", htu=RESOURCE, now=NOW, access_token=other)
    assert_fails_at(check(token, rs_trust, device_key, store, proof=proof), "proof",
                    "claim_mismatch")
    bare = create_proof(device_key, htm="GET", htu=RESOURCE, now=NOW)
    assert_fails_at(check(token, rs_trust, device_key, store, proof=bare), "proof",
                    "missing_claim")


def test_proof_for_another_request_is_refused(as_key: Key, device_key: Key,
                                              rs_trust: TrustStore, store: Path,
                                              tmp_path: Path) -> None:
    """The token endpoint's proof is not a proof for the resource request."""
    token = mint(as_key, device_key, tmp_path / "as.sqlite3")
    proof = create_proof(device_key, htm="GET", htu=TOKEN_ENDPOINT, now=NOW, access_token=token)
    assert_fails_at(check(token, rs_trust, device_key, store, proof=proof), "proof",
                    "claim_mismatch")


def test_wrong_audience_and_untrusted_issuer(as_key: Key, device_key: Key,
                                             rs_trust: TrustStore, trust: TrustStore,
                                             store: Path, tmp_path: Path) -> None:
    """A token for another resource fails with audience_mismatch; a token from an issuer the
    resource does not trust with untrusted_issuer."""
    token = mint(as_key, device_key, tmp_path / "as.sqlite3")
    assert_fails_at(check(token, rs_trust, device_key, store, audience="https://other.example"),
                    "audience", "audience_mismatch")
    assert_fails_at(check(token, trust, device_key, store), "issuer_key", "untrusted_issuer")


def test_issuer_not_trusted_for_the_device_domain(as_key: Key, device_key: Key, store: Path,
                                                  tmp_path: Path) -> None:
    """An issuer trusted only for example.org cannot vouch for a device of example.com."""
    elsewhere = TrustStore.of(TrustedIssuer(AS, (as_key.public(),), frozenset({"example.org"})))
    token = mint(as_key, device_key, tmp_path / "as.sqlite3")
    assert_fails_at(check(token, elsewhere, device_key, store), "subject", "untrusted_issuer")


def test_expired_token(as_key: Key, device_key: Key, rs_trust: TrustStore, store: Path,
                       tmp_path: Path) -> None:
    """After exp (and the leeway) the token fails with expired."""
    token = mint(as_key, device_key, tmp_path / "as.sqlite3")
    late = NOW + 300 + 60
    proof = create_proof(device_key, htm="GET", htu=RESOURCE, now=late, access_token=token)
    assert_fails_at(check(token, rs_trust, device_key, store, proof=proof, now=late), "time",
                    "expired")


@pytest.mark.parametrize(("header", "claims", "step", "code"), [
    ({"typ": "JWT"}, {}, "header", "bad_type"),
    ({}, {}, "header", "bad_type"),
    ({"typ": "dpop+jwt"}, {}, "header", "bad_type"),
    ({"typ": "at+jwt", "jwk": {"kty": "OKP"}}, {}, "header", "bad_header"),
    ({"typ": "at+jwt", "x5u": "https://x.example"}, {}, "header", "bad_header"),
    ({"typ": "at+jwt", "kid": "nope"}, {}, "issuer_key", "unknown_key"),
    (None, {"iss": "https://evil.example"}, "issuer_key", "untrusted_issuer"),
    (None, {"client_id": None}, "claims", "missing_claim"),
    (None, {"jti": None}, "claims", "missing_claim"),
    (None, {"aud": None}, "claims", "missing_claim"),
    (None, {"aud": []}, "claims", "missing_claim"),
    (None, {"iat": None}, "claims", "missing_claim"),
    (None, {"exp": None}, "claims", "missing_claim"),
    (None, {"exp": (NOW + 300) * 1000}, "claims", "malformed"),
    (None, {"cnf": None}, "claims", "missing_claim"),
    (None, {"cnf": {"jwk": {"kty": "OKP"}}}, "claims", "missing_claim"),
    (None, {"cnf": {"jkt": "short"}}, "claims", "malformed"),
    (None, {"iat": NOW + 3600}, "time", "bad_iat"),
    (None, {"nbf": NOW + 3600}, "time", "not_yet_valid"),
    (None, {"aud": ["https://a.example", "https://b.example"]}, "audience",
     "audience_mismatch"),
    (None, {"sub": HANDLE}, "subject", "bad_identifier"),
    (None, {"sub": "alice"}, "subject", "bad_identifier"),
])
def test_each_check_fails_alone(header: dict[str, Any] | None, claims: dict[str, Any],
                                step: str, code: str, sign_raw: SignRaw, as_key: Key,
                                device_key: Key, rs_trust: TrustStore, store: Path) -> None:
    """One wrong header member or claim fails exactly its check, with its code."""
    token = craft(sign_raw, as_key, device_key, header=header, **claims)
    assert_fails_at(check(token, rs_trust, device_key, store), step, code)


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "AT+JWT"])
def test_typ_spellings_rfc_9068_allows(typ: str, sign_raw: SignRaw, as_key: Key,
                                       device_key: Key, rs_trust: TrustStore,
                                       store: Path) -> None:
    """at+jwt and its full media type application/at+jwt, in any case, are accepted; an
    audience array containing this resource passes."""
    token = craft(sign_raw, as_key, device_key, header={"typ": typ},
                  aud=["https://a.example", AUDIENCE])
    assert_valid(check(token, rs_trust, device_key, store))


def test_tampered_token_fails_signature(as_key: Key, device_key: Key, rs_trust: TrustStore,
                                        store: Path, tmp_path: Path) -> None:
    """A token signed by a key the issuer does not hold fails at signature."""
    forged = mint(keys.generate("Ed25519").with_kid(as_key.kid), device_key,
                  tmp_path / "as.sqlite3")
    assert_fails_at(check(forged, rs_trust, device_key, store), "signature", "bad_signature")


def test_proof_naming_another_device_is_refused(sign_raw: SignRaw, as_key: Key,
                                                device_key: Key, rs_trust: TrustStore,
                                                store: Path, tmp_path: Path) -> None:
    """A proof that names a device in sub names the token's device."""
    token = mint(as_key, device_key, tmp_path / "as.sqlite3")
    proof = create_proof(device_key, htm="GET", htu=RESOURCE, now=NOW, access_token=token,
                         sub="im:bob/phone@example.com")
    assert_fails_at(check(token, rs_trust, device_key, store, proof=proof), "proof",
                    "holder_binding")


def test_ath_is_rfc_9449s_hash_of_the_token(as_key: Key, device_key: Key, rs_trust: TrustStore,
                                            store: Path, tmp_path: Path) -> None:
    """The resource's proof carries ath = base64url(SHA-256(token))."""
    token = mint(as_key, device_key, tmp_path / "as.sqlite3")
    proof = create_proof(device_key, htm="GET", htu=RESOURCE, now=NOW, access_token=token)
    assert claims_of(proof)[1]["ath"] == access_token_hash(token)


def test_the_library_needs_a_store(as_key: Key, device_key: Key, rs_trust: TrustStore,
                                   tmp_path: Path) -> None:
    """Without a store, minting and verifying refuse (a proof must be consumed somewhere)."""
    token = mint(as_key, device_key, tmp_path / "as.sqlite3")
    with pytest.raises(InputError):
        check(token, rs_trust, device_key, None)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        mint(as_key, device_key, None)  # type: ignore[arg-type]



def test_token_endpoint_nonce(as_key: Key, device_key: Key, store: Path) -> None:
    """With a server nonce, the token request's proof must carry it (nonce_mismatch)."""
    proof = create_proof(device_key, htm="POST", htu=TOKEN_ENDPOINT, now=NOW, sub=DEVICE)
    with pytest.raises(VerificationFailed) as info:
        mint(as_key, device_key, store, proof=proof, nonce="n" * 22)
    assert info.value.code == "nonce_mismatch"
    proof = create_proof(device_key, htm="POST", htu=TOKEN_ENDPOINT, now=NOW, sub=DEVICE,
                         nonce="n" * 22)
    assert mint(as_key, device_key, store, proof=proof, nonce="n" * 22).count(".") == 2


def test_a_bound_key_needs_an_access_token(device_key: Key, store: Path) -> None:
    """verify_proof's jkt means nothing without the token it binds: refused as an argument."""
    from vc_im.dpop import verify_proof

    proof = create_proof(device_key, htm="GET", htu=RESOURCE, now=NOW)
    with pytest.raises(InputError):
        verify_proof(proof, htm="GET", htu=RESOURCE, now=NOW, store=store,
                     jkt=device_key.thumbprint())
