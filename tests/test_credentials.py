"""vc_im.credentials: refusing bad input, and the exact payloads of both encodings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import DEVICE, HANDLE, ISSUER, NOW, claims_of
from vc_im import keys
from vc_im._checks.credential import verify_credential
from vc_im._linked.pinned import V1_CONTEXT, V2_CONTEXT, VCIM_CONTEXT
from vc_im.credentials import DEFAULT_VALIDITY
from vc_im.errors import InputError
from vc_im.model import CredentialType, Encoding
from vc_im.trust import TrustStore

Maker = Callable[..., str]
CREDENTIAL_ID = "urn:uuid:6a1c5b4e-6a84-4b4f-9a9e-1f0c2d3e4f50"
EXP = NOW + 90 * 86400


def refusal(make_credential: Maker, **overrides: Any) -> InputError:
    """The InputError that issuing with ``overrides`` raises."""
    with pytest.raises(InputError) as caught:
        make_credential(**overrides)
    assert type(caught.value) is InputError
    assert caught.value.code == "bad_input"
    assert caught.value.exit_code == 2
    return caught.value


@pytest.mark.parametrize("subject", [
    "alice@example.com", "im:", "im:wxyz=#projectX@example.com", "im:%40alice",
    "https://example.com/alice", ""], ids=["mailbox", "empty-im", "fragment", "no-domain",
                                          "https", "empty"])
def test_invalid_subject_is_refused(subject: str, make_credential: Maker) -> None:
    """A subject that is not an IM identifier is refused with the identifier's problem."""
    error = refusal(make_credential, subject=subject)
    assert error.message.startswith(f"the subject {subject!r} is not a valid IM identifier: ")


def test_invalid_im_value_is_refused(make_credential: Maker) -> None:
    """An --im value that is not an IM identifier is refused, naming it."""
    error = refusal(make_credential, instant_messages=[HANDLE, "xmpp:alice@example.com"])
    assert "'xmpp:alice@example.com'" in error.message
    assert "--im value" in error.message


@pytest.mark.parametrize("subject", [HANDLE, "im:alice@example.com", "im:example.com",
                                     "im:%23projectX@example.com"],
                         ids=["handle", "user", "domain", "channel"])
def test_device_credential_needs_a_device_subject(subject: str,
                                                  make_credential: Maker) -> None:
    """An ImDeviceCredential about a handle, user, domain or channel is refused (bad_identifier)."""
    error = refusal(make_credential, subject=subject, instant_messages=[])
    assert error.message.startswith("refusing to issue an invalid credential (bad_identifier): ")
    assert "device identifier" in error.message


def test_user_credential_needs_a_user_or_handle_subject(make_credential: Maker) -> None:
    """An ImUserCredential about a device is refused (bad_identifier)."""
    error = refusal(make_credential, credential_type=CredentialType.USER)
    assert error.message.startswith("refusing to issue an invalid credential (bad_identifier): ")
    assert "user or handle" in error.message


def test_public_issuer_key_is_refused(make_credential: Maker, issuer_key: keys.Key) -> None:
    """Issuing with a public key is refused before anything is built."""
    error = refusal(make_credential, key=issuer_key.public())
    assert "private key" in error.message


@pytest.mark.parametrize("fn", ["", " ", "\t\n"])
def test_empty_fn_is_refused(fn: str, make_credential: Maker) -> None:
    """An empty or blank formatted name is refused."""
    assert "--fn" in refusal(make_credential, fn=fn).message


@pytest.mark.parametrize("issuer", ["im.example.com", "/issuer", "https://im example.com",
                                    "", "https:", "1https://im.example.com"])
def test_non_uri_issuer_is_refused(issuer: str, make_credential: Maker) -> None:
    """An issuer that is not an absolute URI is refused, naming it."""
    error = refusal(make_credential, issuer=issuer)
    assert error.message == (f"the issuer {issuer!r} is not an absolute URI (https://..., "
                             "did:key:..., did:jwk:...).")


@pytest.mark.parametrize("issuer", ["did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
                                    "did:jwk:eyJrdHkiOiJPS1AifQ", "urn:example:issuer"])
def test_other_absolute_uri_issuers_are_accepted(issuer: str, make_credential: Maker) -> None:
    """DIDs and URNs are absolute URIs and may issue; iss carries them unchanged."""
    _, payload = claims_of(make_credential(issuer=issuer))
    assert payload["iss"] == issuer


def test_non_uri_credential_id_is_refused(make_credential: Maker) -> None:
    """A credential id that is not an absolute URI is refused."""
    error = refusal(make_credential, credential_id="credential-1")
    assert error.message == "the credential id 'credential-1' is not an absolute URI."


@pytest.mark.parametrize("valid_for", [0, -1])
def test_non_positive_validity_is_refused(valid_for: int, make_credential: Maker) -> None:
    """A validity period of zero or less is refused."""
    assert refusal(make_credential, valid_for=valid_for).message == (
        "the validity period must be positive.")


def test_empty_organization_is_refused(make_credential: Maker) -> None:
    """An empty --org would fail the schema, so issuing refuses it (schema_invalid)."""
    error = refusal(make_credential, organization="")
    assert error.message.startswith("refusing to issue an invalid credential (schema_invalid): ")
    assert "hasOrganizationName" in error.message


def test_private_holder_key_binds_only_its_public_part(make_credential: Maker,
                                                       device_key: keys.Key) -> None:
    """Given a private holder key, cnf.jwk carries the public members only (never d)."""
    assert device_key.is_private
    _, payload = claims_of(make_credential(holder_key=device_key))
    assert payload["cnf"] == {"jwk": dict(device_key.public_jwk)}
    assert "d" not in payload["cnf"]["jwk"]


@pytest.mark.parametrize("alg", ["Ed25519", "ES256", "ES256K", "RS256"])
def test_holder_key_of_every_alg_is_bound_as_cnf_jwk(alg: str, make_credential: Maker,
                                                     alg_keys: dict[str, keys.Key]) -> None:
    """A holder key of each algorithm is bound as cnf.jwk, equal to its public JWK."""
    holder = alg_keys[alg].public()
    for encoding in Encoding:
        _, payload = claims_of(make_credential(holder_key=holder, encoding=encoding))
        assert payload["cnf"] == {"jwk": dict(holder.public_jwk)}


@pytest.mark.parametrize(("instant_messages", "expected"), [
    ([], [DEVICE]),
    ([HANDLE], [HANDLE, DEVICE]),
    ([DEVICE, HANDLE], [DEVICE, HANDLE]),
    ([HANDLE, HANDLE], [HANDLE, DEVICE]),
    (["IM:%40alice_smith@EXAMPLE.com", "im:SvPfLlwBQi-6oddVRrkqpw/04c7@Example.Com"],
     [HANDLE, DEVICE]),
], ids=["none", "handle", "subject-first", "repeated", "normalised-duplicates"])
def test_subject_is_always_among_instant_messages(instant_messages: list[str],
                                                  expected: list[str],
                                                  make_credential: Maker) -> None:
    """hasInstantMessage keeps the given order, drops duplicates and always holds the subject."""
    _, payload = claims_of(make_credential(instant_messages=instant_messages))
    assert payload["vc"]["credentialSubject"]["hasInstantMessage"] == expected


def test_identifiers_are_written_normalised(make_credential: Maker, encoding: Encoding) -> None:
    """Subject and --im values are written in canonical form (lower-case scheme and domain)."""
    _, payload = claims_of(make_credential(
        subject="IM:SvPfLlwBQi-6oddVRrkqpw/04c7@EXAMPLE.COM",
        instant_messages=["im:alice/phone@B\u00fccher.example", "IM:%40alice_smith@Example.com"],
        encoding=encoding))
    subject = (payload["vc"] if encoding is Encoding.VC1 else payload)["credentialSubject"]
    assert payload["sub"] == DEVICE
    assert subject["hasInstantMessage"] == [
        "im:alice/phone@xn--bcher-kva.example", HANDLE, DEVICE]
    if encoding is Encoding.VC2:
        assert subject["id"] == DEVICE


@pytest.fixture(params=list(Encoding), ids=lambda e: str(e))
def encoding(request: pytest.FixtureRequest) -> Encoding:
    """Both encodings of a credential."""
    value: Encoding = request.param
    return value


def test_numeric_dates_are_integer_seconds(make_credential: Maker, encoding: Encoding) -> None:
    """nbf (vc1), iat and exp are int seconds: now, and now plus the validity period."""
    _, payload = claims_of(make_credential(encoding=encoding, valid_for=3600))
    dates = {claim: payload[claim] for claim in ("nbf", "iat", "exp") if claim in payload}
    expected = {"iat": NOW, "exp": NOW + 3600}
    if encoding is Encoding.VC1:
        expected["nbf"] = NOW
    assert dates == expected
    assert all(type(value) is int for value in dates.values())


def test_default_validity_is_90_days(make_credential: Maker) -> None:
    """Without valid_for a credential is valid for 90 days, as in the seed's examples."""
    assert DEFAULT_VALIDITY == 90 * 86400
    _, payload = claims_of(make_credential())
    assert payload["exp"] - payload["nbf"] == 7_776_000


def test_vc1_shape(make_credential: Maker, issuer_key: keys.Key, device_key: keys.Key) -> None:
    """The vc1 header and payload are exactly CREDENTIAL-SHAPES.md's VC DM 1.1 JWT encoding."""
    header, payload = claims_of(make_credential(credential_id=CREDENTIAL_ID))
    assert header == {"alg": "Ed25519", "typ": "JWT", "kid": issuer_key.kid}
    assert payload == {
        "iss": ISSUER, "sub": DEVICE, "jti": CREDENTIAL_ID,
        "nbf": NOW, "iat": NOW, "exp": EXP,
        "cnf": {"jwk": dict(device_key.public_jwk)},
        "vc": {
            "@context": [V1_CONTEXT, VCIM_CONTEXT],
            "type": ["VerifiableCredential", "ImDeviceCredential"],
            "credentialSubject": {
                "fn": "Alice M. Smith", "hasOrganizationName": "Example Corp",
                "hasOrganizationalUnit": "Engineering",
                "hasInstantMessage": [HANDLE, DEVICE],
            },
        },
    }
    assert list(payload) == ["iss", "sub", "jti", "nbf", "iat", "exp", "cnf", "vc"]


def test_vc2_shape(make_credential: Maker, issuer_key: keys.Key, device_key: keys.Key) -> None:
    """The vc2 header and payload are exactly CREDENTIAL-SHAPES.md's VC DM 2.0 encoding."""
    header, payload = claims_of(make_credential(credential_id=CREDENTIAL_ID,
                                                encoding=Encoding.VC2))
    assert header == {"alg": "Ed25519", "typ": "vc+jwt", "kid": issuer_key.kid}
    assert payload == {
        "@context": [V2_CONTEXT, VCIM_CONTEXT],
        "id": CREDENTIAL_ID,
        "type": ["VerifiableCredential", "ImDeviceCredential"],
        "issuer": ISSUER,
        "validFrom": "2023-11-14T22:13:20Z",
        "validUntil": "2024-02-12T22:13:20Z",
        "credentialSubject": {
            "id": DEVICE, "fn": "Alice M. Smith", "hasOrganizationName": "Example Corp",
            "hasOrganizationalUnit": "Engineering", "hasInstantMessage": [HANDLE, DEVICE],
        },
        "iss": ISSUER, "sub": DEVICE, "jti": CREDENTIAL_ID, "iat": NOW, "exp": EXP,
        "cnf": {"jwk": dict(device_key.public_jwk)},
    }
    assert "vc" not in payload
    assert "nbf" not in payload


def test_optional_members_are_omitted(make_credential: Maker, encoding: Encoding) -> None:
    """Without org, unit or holder key, their members (and cnf) are absent."""
    _, payload = claims_of(make_credential(organization=None, unit=None, holder_key=None,
                                           encoding=encoding))
    subject = (payload["vc"] if encoding is Encoding.VC1 else payload)["credentialSubject"]
    assert "cnf" not in payload
    assert set(subject) == ({"fn", "hasInstantMessage"} if encoding is Encoding.VC1
                            else {"id", "fn", "hasInstantMessage"})


def test_default_credential_id_is_a_fresh_uuid_urn(make_credential: Maker) -> None:
    """Each credential gets its own urn:uuid jti (a version 4 UUID)."""
    import uuid

    first = claims_of(make_credential())[1]["jti"]
    second = claims_of(make_credential())[1]["jti"]
    assert first != second
    for jti in (first, second):
        assert jti.startswith("urn:uuid:")
        assert uuid.UUID(jti.removeprefix("urn:uuid:")).version == 4


def test_user_credential(make_credential: Maker, trust: TrustStore, encoding: Encoding) -> None:
    """An ImUserCredential about a handle has the ImUserCredential type and verifies."""
    token = make_credential(subject=HANDLE, instant_messages=[], holder_key=None,
                            credential_type=CredentialType.USER, encoding=encoding)
    _, payload = claims_of(token)
    container = payload["vc"] if encoding is Encoding.VC1 else payload
    assert container["type"] == ["VerifiableCredential", "ImUserCredential"]
    assert container["credentialSubject"]["hasInstantMessage"] == [HANDLE]
    assert payload["sub"] == HANDLE
    assert verify_credential(token, trust, now=NOW).ok


def test_user_credential_about_a_user_identifier(make_credential: Maker,
                                                 trust: TrustStore) -> None:
    """An ImUserCredential may also be about a user (not only a handle) identifier."""
    token = make_credential(subject="im:alice@example.com", instant_messages=[HANDLE],
                            credential_type=CredentialType.USER)
    assert verify_credential(token, trust, now=NOW).ok


@pytest.mark.parametrize("alg", ["ES256", "ES256K", "RS256"])
def test_issuer_key_alg_decides_the_header_alg(alg: str, make_credential: Maker,
                                               alg_keys: dict[str, keys.Key]) -> None:
    """The JWS alg is always the issuer key's own, with its kid."""
    header, _ = claims_of(make_credential(key=alg_keys[alg]))
    assert header == {"alg": alg, "typ": "JWT", "kid": alg_keys[alg].kid}


def test_issued_credentials_pass_every_check(make_credential: Maker, trust: TrustStore,
                                             encoding: Encoding) -> None:
    """What issue signs, verify accepts: issuing never signs a credential vc_im would refuse."""
    report = verify_credential(make_credential(encoding=encoding), trust, now=NOW)
    assert report.ok, report.failure


def test_prepare_credentials_gives_each_what_prepare_credential_gives(
        issuer_key: keys.Key, device_key: keys.Key) -> None:
    """Checked together, check by check (as an issuing batch does), each credential gets what
    preparing it alone gives: the same header and payload, or the same refusal, whether it
    fails before the checks (an empty fn, a bad subject) or in them (an empty organization,
    too many IM identifiers)."""
    from vc_im.credentials import prepare_credential, prepare_credentials

    valid: dict[str, Any] = {"subject": DEVICE, "fn": "Alice M. Smith",
                             "instant_messages": [HANDLE], "holder_key": device_key.public(),
                             "credential_id": "urn:uuid:2b1e4c5a-7d0e-4f7e-9a57-0a2a0e3f9b11"}
    many_ims = [f"im:%40u{n}@example.com" for n in range(40)]
    each: list[dict[str, Any]] = [
        valid, {**valid, "fn": " "}, {**valid, "subject": "not an identifier"},
        {**valid, "organization": ""}, {**valid, "instant_messages": many_ims},
        {**valid, "credential_type": CredentialType.USER, "subject": HANDLE},
        {**valid, "valid_for": 0}, valid]
    together = prepare_credentials(issuer_key, each, issuer=ISSUER, now=NOW)
    alone: list[object] = []
    for fields in each:
        try:
            alone.append(prepare_credential(issuer_key, issuer=ISSUER, now=NOW, **fields))
        except InputError as exc:
            alone.append(exc.message)
    assert [answer.message if isinstance(answer, InputError) else answer
            for answer in together] == alone
    kinds = [isinstance(answer, InputError) for answer in together]
    assert kinds == [False, True, True, True, True, False, True, False]
    assert str(alone[3]).startswith("refusing to issue an invalid credential (schema_invalid)")
    assert str(alone[4]).startswith("refusing to issue an invalid credential (too_large)")
