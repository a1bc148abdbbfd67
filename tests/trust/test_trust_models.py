"""The trust models of the MIMI identity draft's §4 and §5.1, through the credential verifier:
a central issuer, a cascade of credentials, X.509 chains, a web of trust and well-known
service cross-signing, each with the report's trust paths and exact failure codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEVICE, HANDLE, ISSUER, NOW, VERIFIER, claims_of
from tests.helpers.presentations import (
    NONCE,
    SignRaw,
    assert_fails_at,
    assert_valid,
    public_members,
)
from tests.helpers.trust_models import (
    ALICE,
    B1,
    BOB,
    DAY,
    PROVIDER,
    USER,
    Figure2,
    Pki,
    block_network,
    issuer_entry,
    not_given,
    path_of,
    paths,
    revocation,
    rule,
    short,
    statement,
    store_of,
    trust_document,
    wellknown,
)
from vc_im import keys
from vc_im._checks.credential import Evidence, verify_credential
from vc_im._checks.presentation import verify_presentation
from vc_im._checks.presenting import create_presentation
from vc_im.credentials import issue_credential
from vc_im.errors import InputError
from vc_im.keys import Key
from vc_im.model import Credential, CredentialType, Encoding
from vc_im.report import Report
from vc_im.trust import TrustStore
from vc_im.trust.statements import Statement
from vc_im.trust.wellknown import fetch_statements

MakeCredential = Callable[..., str]
#: A handle in Alice's domain that is not hers.
MALLORY = "im:%40mallory@example.com"
#: A device of another user in Alice's domain.
OTHER_USERS_DEVICE = "im:bob/B1@example.com"


def verify(token: str, trust: TrustStore, *evidence_parents: str,
           statements: tuple[Statement, ...] = (), now: int = NOW) -> Report:
    """Verify ``token`` as a bare credential with the parents and statements given."""
    report = verify_credential(token, trust, now=now,
                               evidence=Evidence(tuple(evidence_parents), statements))
    assert report.kind == "credential"
    return report


def central_path(issuer_key: Key, issuer: str = ISSUER) -> dict[str, object]:
    """The trust path of a credential whose issuer and key the trust file lists."""
    return {"method": "central", "ok": True,
            "steps": [f"the trust file lists {issuer} with key {issuer_key.kid}"],
            "reason": "", "contradiction": False}


def self_issued(key: Key, subject: str, *, ims: tuple[str, ...] = (),
                holder: Key | None = None) -> str:
    """A credential its subject issues about itself, signed by ``key`` (header jwk)."""
    return issue_credential(key, issuer=subject, subject=subject, fn="Bob", now=NOW,
                            instant_messages=ims, holder_key=holder)


# --------------------------------------------------------------------------------------------
# Central authority (§4.1): separate user and device credentials, or one combined credential


def test_central_separate_user_and_device_credentials(
        make_credential: MakeCredential, trust: TrustStore, device_key: Key,
        issuer_key: Key, tmp_path: Path) -> None:
    """A presentation of an ImUserCredential (the handle) and an ImDeviceCredential (the
    device, which lists the handle) from one issuer verifies, each by the central path."""
    user_vc = make_credential(credential_type=CredentialType.USER, subject=HANDLE,
                              instant_messages=[])
    device_vc = make_credential()
    token = create_presentation(device_key, [user_vc, device_vc], audience=VERIFIER,
                                nonce=NONCE, now=NOW)
    report = verify_presentation(token, trust, now=NOW, audience=VERIFIER, nonce=NONCE,
                                 store=tmp_path / "replay.sqlite3")
    assert_valid(report)
    types = [nested.verified.type for nested in report.credentials
             if isinstance(nested.verified, Credential)]
    assert types == [CredentialType.USER, CredentialType.DEVICE]
    for nested in report.credentials:
        assert list(nested.trust) == [central_path(issuer_key), not_given("cascade")]


@pytest.mark.parametrize("encoding", [Encoding.VC1, Encoding.VC2])
def test_central_combined_credential(encoding: Encoding, make_credential: MakeCredential,
                                     trust: TrustStore, issuer_key: Key) -> None:
    """One device credential naming the handle too is trusted by the central path alone."""
    report = verify(make_credential(encoding=encoding), trust)
    assert_valid(report)
    assert list(report.trust) == [central_path(issuer_key), not_given("cascade")]
    assert report.check("trust_path").reason == (
        f"1 of 2 trust methods vouch for it, 1 needed: central: the trust file lists {ISSUER} "
        f"with key {issuer_key.kid}.")
    credential = report.verified
    assert isinstance(credential, Credential)
    assert [str(value) for value in credential.subject.instant_messages] == [HANDLE, DEVICE]


# --------------------------------------------------------------------------------------------
# Cascade (§4.1): domain -> user credential -> device credential issued by the user's key


@pytest.fixture(scope="module")
def user_key() -> Key:
    """Alice's user key, which her user credential lets issue her devices' credentials."""
    return keys.generate()


@pytest.fixture(scope="module")
def parent(make_credential: MakeCredential, user_key: Key) -> str:
    """The domain's ImUserCredential for Alice, binding her user key, allowed to issue."""
    return make_credential(credential_type=CredentialType.USER, subject=USER,
                           instant_messages=[HANDLE], holder_key=user_key.public(),
                           may_issue_devices=True)


@pytest.fixture(scope="module")
def child(user_key: Key, device_key: Key) -> Callable[..., str]:
    """Issue a credential with Alice's user key as issuer USER; keywords override."""
    def make(**overrides: Any) -> str:
        arguments: dict[str, Any] = {"issuer": USER, "subject": DEVICE, "fn": "Alice M. Smith",
                                     "now": NOW, "instant_messages": [HANDLE],
                                     "holder_key": device_key.public()}
        arguments.update(overrides)
        return issue_credential(arguments.pop("key", user_key), **arguments)
    return make


def cascade_path(user_key: Key) -> dict[str, object]:
    """The trust path of a device credential issued by Alice's user key."""
    return {"method": "cascade", "ok": True,
            "steps": [f"{ISSUER} is trusted (central)",
                      f"{ISSUER} lets {USER} issue device credentials with key "
                      f"{user_key.thumbprint()}"],
            "reason": "", "contradiction": False}


def test_cascade_device_credential(child: Callable[..., str], parent: str, trust: TrustStore,
                                   user_key: Key, issuer_key: Key) -> None:
    """A device credential issued by the user's key verifies with the parent given: trust
    path cascade, the parent's own (central) report nested."""
    report = verify(child(), trust, parent)
    assert_valid(report)
    assert report.check("issuer_key").reason == f"Issued by the user {USER} under {ISSUER}."
    assert list(report.trust) == [not_given("central"), cascade_path(user_key)]
    assert len(report.credentials) == 1
    assert list(report.credentials[0].trust) == [central_path(issuer_key),
                                                 not_given("cascade")]
    credential = report.verified
    assert isinstance(credential, Credential)
    assert (credential.issuer, str(credential.subject.id)) == (USER, DEVICE)


def test_cascade_inside_a_presentation(child: Callable[..., str], parent: str,
                                       trust: TrustStore, device_key: Key, user_key: Key,
                                       tmp_path: Path) -> None:
    """The evidence given to a presentation reaches its credentials: the cascaded device
    credential verifies inside it, and is untrusted without the parent."""
    token = create_presentation(device_key, [child()], audience=VERIFIER, nonce=NONCE, now=NOW)
    store = tmp_path / "replay.sqlite3"
    refused = verify_presentation(token, trust, now=NOW, audience=VERIFIER, nonce=NONCE,
                                  store=store)
    assert_fails_at(refused, "credentials", "untrusted_issuer")
    report = verify_presentation(token, trust, now=NOW, audience=VERIFIER, nonce=NONCE,
                                 store=store, evidence=Evidence(parents=(parent,)))
    assert_valid(report)
    (nested,) = report.credentials
    assert list(nested.trust) == [not_given("central"), cascade_path(user_key)]
    assert [inner.kind for inner in nested.credentials] == ["credential"]


def test_issuing_refuses_may_issue_devices_without_a_holder_key(
        make_credential: MakeCredential) -> None:
    """issue_credential never writes mayIssueDeviceCredentials without a key to issue with."""
    with pytest.raises(InputError) as caught:
        make_credential(credential_type=CredentialType.USER, subject=USER, holder_key=None,
                        instant_messages=[], may_issue_devices=True)
    assert caught.value.message == ("only an ImUserCredential that binds the user's key "
                                    "(--holder-key) may let it issue device credentials.")


def _parent_without_cnf(parent: str, sign_raw: SignRaw, issuer_key: Key) -> str:
    """The parent credential, re-signed by the domain with its cnf removed."""
    header, payload = claims_of(parent)
    del payload["cnf"]
    return sign_raw(header, payload, issuer_key)


@pytest.mark.parametrize(("case", "check", "reason"), [
    ("parent may not issue", "issuer_key",
     f"The parent credential of {USER} does not allow it to issue device credentials."),
    ("parent binds no key", "issuer_key",
     f"The parent credential of {USER} binds no key (cnf.jwk) to issue with."),
    ("another user's device", "identifiers",
     f"The device {OTHER_USERS_DEVICE} does not belong to the issuing user {USER}."),
    ("a user credential", "identifiers",
     f"The user {USER} may issue device credentials only."),
    ("an identifier not its own", "identifiers",
     f"The user {USER} may not issue a credential naming {MALLORY}."),
    ("two levels", "issuer_key",
     f"The parent credential of {HANDLE} is not valid (untrusted_issuer): the issuer {USER!r} "
     "is not in the trust file."),
    ("parent from an untrusted issuer", "issuer_key",
     f"The parent credential of {USER} is not valid (untrusted_issuer): the issuer "
     "'https://evil.example' is not in the trust file."),
    ("parent for another user", "issuer_key", f"The issuer {USER!r} is not in the trust file."),
    ("expired parent", "issuer_key",
     f"The parent credential of {USER} is not valid (expired): the credential expired at "
     "2023-11-04T22:13:20Z."),
    ("no parent", "issuer_key", f"The issuer {USER!r} is not in the trust file."),
])
def test_cascade_refusals(case: str, check: str, reason: str, child: Callable[..., str],
                          parent: str, make_credential: MakeCredential, trust: TrustStore,
                          sign_raw: SignRaw, issuer_key: Key, user_key: Key,
                          attacker_key: Key) -> None:
    """Each way a cascade can overreach is untrusted_issuer, at the check that sees it."""
    token, parents = child(), [parent]
    if case == "parent may not issue":
        parents = [make_credential(credential_type=CredentialType.USER, subject=USER,
                                   instant_messages=[HANDLE], holder_key=user_key.public())]
    elif case == "parent binds no key":
        parents = [_parent_without_cnf(parent, sign_raw, issuer_key)]
    elif case == "another user's device":
        token = child(subject=OTHER_USERS_DEVICE, instant_messages=[])
    elif case == "a user credential":
        token = child(credential_type=CredentialType.USER, subject=HANDLE, instant_messages=[])
    elif case == "an identifier not its own":
        token = child(instant_messages=[HANDLE, MALLORY])
    elif case == "two levels":
        handle_key = keys.generate()
        second = child(credential_type=CredentialType.USER, subject=HANDLE,
                       instant_messages=[], holder_key=handle_key.public(),
                       may_issue_devices=True)
        token = child(key=handle_key, issuer=HANDLE, instant_messages=[])
        parents = [parent, second]
    elif case == "parent from an untrusted issuer":
        parents = [make_credential(key=attacker_key, issuer="https://evil.example",
                                   credential_type=CredentialType.USER, subject=USER,
                                   instant_messages=[HANDLE], holder_key=user_key.public(),
                                   may_issue_devices=True)]
    elif case == "parent for another user":
        parents = [make_credential(credential_type=CredentialType.USER,
                                   subject="im:bob@example.com", instant_messages=[],
                                   holder_key=user_key.public(), may_issue_devices=True)]
    elif case == "expired parent":
        parents = [make_credential(credential_type=CredentialType.USER, subject=USER,
                                   instant_messages=[HANDLE], holder_key=user_key.public(),
                                   may_issue_devices=True, now=NOW - 100 * DAY)]
    elif case == "no parent":
        parents = []
    report = verify(token, trust, *parents)
    assert_fails_at(report, check, "untrusted_issuer")
    assert report.check(check).reason == reason
    assert report.trust == ()  # no trust decision was reached


def test_cascade_expired_parent_report_is_nested(child: Callable[..., str],
                                                 make_credential: MakeCredential,
                                                 trust: TrustStore, user_key: Key) -> None:
    """An expired parent fails the child as untrusted_issuer, and the parent's own report,
    nested in the child's, says expired."""
    expired = make_credential(credential_type=CredentialType.USER, subject=USER,
                              instant_messages=[HANDLE], holder_key=user_key.public(),
                              may_issue_devices=True, now=NOW - 100 * DAY)
    report = verify(child(), trust, expired)
    assert (report.ok, report.code) == (False, "untrusted_issuer")
    assert [nested.code for nested in report.credentials] == ["expired"]


def test_cascade_child_must_be_signed_by_the_parents_key(
        child: Callable[..., str], parent: str, trust: TrustStore, sign_raw: SignRaw,
        attacker_key: Key) -> None:
    """A device credential naming the user's key but signed by another key is bad_signature."""
    header, payload = claims_of(child())
    report = verify(sign_raw(header, payload, attacker_key), trust, parent)
    assert_fails_at(report, "signature", "bad_signature")


# --------------------------------------------------------------------------------------------
# X.509 (§5.1): x5c chains to configured roots, SANs matching issuer or subject


@pytest.fixture(scope="module")
def pki() -> Pki:
    """The CA the verifier trusts."""
    return Pki.mint("vc-im test CA")


@pytest.fixture(scope="module")
def provider_key() -> Key:
    """The provider's signing key, certified for mimi://example.com."""
    return keys.generate()


@pytest.fixture(scope="module")
def x509_trust(pki: Pki) -> TrustStore:
    """A trust file with the CA as its only anchor."""
    return store_of(trust_document(x509_roots=[pki.root]))


def x509_path(pki: Pki, key: Key, certified: str, leaf: str = "Example IM",
              ) -> dict[str, object]:
    """The trust path of a credential signed under a leaf issued directly by ``pki``."""
    return {"method": "x509", "ok": True,
            "steps": [f"CN={leaf},O=example.com is certified by CN={pki.name}",
                      f"CN={pki.name} is a configured root",
                      f"the leaf certifies {certified} for key {key.thumbprint()}"],
            "reason": "", "contradiction": False}


def _provider(**overrides: Any) -> dict[str, Any]:
    return {"issuer": PROVIDER, "subject": DEVICE, "fn": "Alice M. Smith", "now": NOW,
            **overrides}


def provider_credential(provider_key: Key, x5c: list[str] | None, **overrides: Any) -> str:
    """A device credential for Alice issued by mimi://example.com under ``x5c``."""
    arguments: dict[str, Any] = {"issuer": PROVIDER, "subject": DEVICE, "fn": "Alice M. Smith",
                                 "now": NOW, "instant_messages": [HANDLE], "x5c": x5c}
    arguments.update(overrides)
    return issue_credential(provider_key, **arguments)


def signed_anyway(key: Key, x5c: list[str], sign_raw: SignRaw, **arguments: Any) -> str:
    """A credential under ``x5c`` that ``issue_credential`` refuses (it checks the leaf
    first), issued without the chain and signed with it anyway, for the verifier to judge."""
    header, payload = claims_of(issue_credential(key, **arguments))
    header.pop("jwk", None)
    header.update(x5c=x5c, kid=key.thumbprint())
    return sign_raw(header, payload, key)


def test_x509_provider_leaf(pki: Pki, provider_key: Key, x509_trust: TrustStore,
                            device_key: Key) -> None:
    """A provider leaf naming mimi://example.com signs credentials issued by it: trusted by
    the x509 path, the chain in its steps."""
    token = provider_credential(provider_key, pki.x5c(provider_key, [PROVIDER]),
                                holder_key=device_key.public())
    report = verify(token, x509_trust)
    assert_valid(report)
    assert list(report.trust) == [x509_path(pki, provider_key, PROVIDER)]
    assert report.check("issuer_key").reason == (
        f"Certificate CN=Example IM,O=example.com, key {provider_key.thumbprint()}.")
    credential = report.verified
    assert isinstance(credential, Credential)
    assert credential.issuer == PROVIDER


def test_x509_through_an_intermediate_ca(pki: Pki, provider_key: Key,
                                         x509_trust: TrustStore) -> None:
    """A leaf issued by an intermediate CA, both in x5c, chains to the root."""
    from vc_im.trust.x509 import x5c_of
    from vc_im.trust.x509_mint import mint_ca, mint_leaf

    intermediate, intermediate_key = mint_ca(name="Example IM CA", now=NOW - DAY,
                                             issuer_cert_pem=pki.cert_pem, issuer_key=pki.key)
    leaf = mint_leaf(ca_cert_pem=intermediate, ca_key=intermediate_key,
                     subject_key=provider_key, san_uris=[PROVIDER], subject_name="Example IM",
                     now=NOW - DAY)
    report = verify(provider_credential(provider_key, x5c_of(leaf + intermediate)), x509_trust)
    assert_valid(report)
    assert path_of(report, "x509")["steps"] == [
        "CN=Example IM,O=example.com is certified by CN=Example IM CA",
        f"CN=Example IM CA is certified by CN={pki.name}",
        f"CN={pki.name} is a configured root",
        f"the leaf certifies {PROVIDER} for key {provider_key.thumbprint()}"]


@pytest.mark.parametrize(("constraint", "code"), [
    ({"permitted_domains": ["example.com"]}, None),
    ({"permitted_domains": ["example.org"]}, "untrusted_issuer"),
    ({"excluded_domains": ["example.com"]}, "untrusted_issuer"),
], ids=["permitted", "outside-permitted", "excluded"])
def test_x509_name_constraints_confine_a_sub_ca(constraint: dict[str, list[str]], code: str | None,
                                                pki: Pki, provider_key: Key,
                                                x509_trust: TrustStore) -> None:
    """A sub-CA's dNSName name constraints apply to the IM identifiers its leaves certify: a
    provider leaf for mimi://example.com under a sub-CA confined to example.org (or with
    example.com excluded) fails issuer_key with untrusted_issuer."""
    from vc_im.trust.x509 import x5c_of
    from vc_im.trust.x509_mint import mint_ca, mint_leaf

    sub, sub_key = mint_ca(name="Example IM CA", now=NOW - DAY, issuer_cert_pem=pki.cert_pem,
                           issuer_key=pki.key, **constraint)  # type: ignore[arg-type]
    leaf = mint_leaf(ca_cert_pem=sub, ca_key=sub_key, subject_key=provider_key,
                     san_uris=[PROVIDER], subject_name="Example IM", now=NOW - DAY)
    report = verify(provider_credential(provider_key, x5c_of(leaf + sub)), x509_trust)
    if code is None:
        assert_valid(report)
        return
    assert_fails_at(report, "issuer_key", code)
    subtree = next(iter(constraint.values()))[0]
    verb = "permits only" if "permitted_domains" in constraint else "excludes"
    assert report.check("issuer_key").reason == (
        f"The CA certificate 'CN=Example IM CA' {verb} names in {subtree} (name constraints), "
        f"and the leaf certifies {PROVIDER} in example.com.")


def test_x509_device_leaf_self_issued(pki: Pki, device_key: Key,
                                      x509_trust: TrustStore) -> None:
    """A device's own leaf (SAN: the device and the handle, as the seed's mock-up) signs a
    self-issued credential: trusted by the x509 path."""
    x5c = pki.x5c(device_key, [DEVICE, HANDLE], name="Alice M. Smith")
    token = issue_credential(device_key, issuer=DEVICE, subject=DEVICE, fn="Alice M. Smith",
                             now=NOW, instant_messages=[HANDLE], x5c=x5c)
    header, _ = claims_of(token)
    assert set(header) == {"alg", "typ", "kid", "x5c"}
    report = verify(token, x509_trust)
    assert_valid(report)
    assert list(report.trust) == [x509_path(pki, device_key, f"{DEVICE}, {HANDLE}",
                                            leaf="Alice M. Smith")]


@pytest.mark.parametrize(("case", "check", "code", "reason"), [
    ("SAN is neither iss nor sub", "issuer_key", "untrusted_issuer",
     f"The certificate certifies {MALLORY}, which is neither the credential's subject nor its "
     "issuer as a provider (a domain identifier)."),
    ("subject in another domain", "identifiers", "untrusted_issuer",
     "The signer's certificate speaks for example.com, not for example.org "
     "(im:bob/B1@example.org)."),
    ("handle in another domain", "identifiers", "untrusted_issuer",
     "The signer's certificate speaks for example.com, not for example.net "
     "(im:%40alice@example.net)."),
    ("expired leaf", "issuer_key", "expired",
     "The leaf certificate 'CN=Example IM,O=example.com' expired at 2023-09-05T22:13:19Z."),
    ("another CA", "issuer_key", "untrusted_issuer",
     "The x5c chain does not lead to a configured CA root: no configured CA root issued the "
     "chain, directly or through its x5c CAs."),
    ("kid of another key", "issuer_key", "unknown_key",
     "The header's kid 'provider-1' is not the certificate's key."),
    ("signed by another key", "signature", "bad_signature", None),
])
def test_x509_refusals(case: str, check: str, code: str, reason: str | None, pki: Pki,
                       provider_key: Key, x509_trust: TrustStore, sign_raw: SignRaw,
                       attacker_key: Key) -> None:
    """A leaf that certifies neither party, a party outside the leaf's domain, an expired
    leaf, a foreign CA, a kid or a signature of another key: each refused exactly."""
    x5c = pki.x5c(provider_key, [PROVIDER])
    if case == "SAN is neither iss nor sub":
        token = signed_anyway(provider_key, pki.x5c(provider_key, [MALLORY]), sign_raw,
                              **_provider(instant_messages=[HANDLE]))
    elif case == "subject in another domain":
        token = signed_anyway(provider_key, x5c, sign_raw, **_provider(subject=B1))
    elif case == "handle in another domain":
        token = signed_anyway(provider_key, x5c, sign_raw,
                              **_provider(instant_messages=["im:%40alice@example.net"]))
    elif case == "expired leaf":
        token = provider_credential(provider_key, pki.x5c(provider_key, [PROVIDER],
                                                          now=NOW - 100 * DAY, days=30))
    elif case == "another CA":
        token = provider_credential(provider_key,
                                    Pki.mint("other CA").x5c(provider_key, [PROVIDER]))
    else:
        header, payload = claims_of(provider_credential(provider_key, x5c))
        if case == "kid of another key":
            header["kid"] = "provider-1"
            token = sign_raw(header, payload, provider_key)
        else:
            token = sign_raw(header, payload, attacker_key)
    report = verify(token, x509_trust)
    assert_fails_at(report, check, code)
    if reason is not None:
        assert report.check(check).reason == reason
    assert report.trust == ()  # no trust decision was reached


def test_x5c_without_roots_is_bad_header(pki: Pki, provider_key: Key, trust: TrustStore) -> None:
    """An x5c header is refused when the trust file names no x509_roots to check it against."""
    report = verify(provider_credential(provider_key, pki.x5c(provider_key, [PROVIDER])), trust)
    assert_fails_at(report, "header", "bad_header")
    assert report.check("header").reason == (
        "The header parameter 'x5c' is refused: the trust file names no x509_roots to validate "
        "a certificate chain against.")


@pytest.mark.parametrize("case", ["another device", "an uncertified handle"])
def test_x509_device_leaf_speaks_only_for_its_identifiers(case: str, pki: Pki, device_key: Key,
                                                          attacker_key: Key,
                                                          x509_trust: TrustStore,
                                                          sign_raw: SignRaw) -> None:
    """A device's leaf (SAN: the device alone) neither lets it issue a credential for another
    device of its domain nor lets it claim a handle the certificate does not name."""
    x5c = pki.x5c(device_key, [DEVICE], name="Alice M. Smith")
    if case == "another device":
        token = signed_anyway(device_key, x5c, sign_raw, issuer=DEVICE,
                              subject=OTHER_USERS_DEVICE, fn="Bob", now=NOW,
                              holder_key=attacker_key.public())
    else:
        token = signed_anyway(device_key, x5c, sign_raw, issuer=DEVICE, subject=DEVICE,
                              fn="Alice", now=NOW, instant_messages=[MALLORY])
    report = verify(token, x509_trust)
    assert (report.ok, report.code) == (False, "untrusted_issuer")


# --------------------------------------------------------------------------------------------
# Web of trust (§4.2, Figure 2): Alice's verifier trusts Bob's self-issued device credential


@pytest.fixture(scope="module")
def fig() -> Figure2:
    """Figure 2's keys, shared by the web-of-trust tests."""
    return Figure2()


@pytest.fixture(scope="module")
def wot_trust(fig: Figure2) -> TrustStore:
    """A trust file whose only anchor is Alice's master key."""
    return store_of(trust_document(web_of_trust=fig.anchor()))


@pytest.fixture(scope="module")
def bob_credential(fig: Figure2) -> str:
    """B1's self-issued device credential, signed by B1's key (which the header carries)."""
    return self_issued(fig["b1"], B1, holder=fig["b1"].public())


def test_wot_self_issued_device_credential(fig: Figure2, wot_trust: TrustStore,
                                           bob_credential: str) -> None:
    """With Figure 2's four statements, Alice's master key reaches B1's key: ok, and the
    report's trust path explains each link."""
    header, _ = claims_of(bob_credential)
    assert header["jwk"] == public_members(fig["b1"])
    report = verify(bob_credential, wot_trust, statements=fig.all())
    assert_valid(report)
    assert report.check("issuer_key").reason == (
        f"Self-issued by {B1} with key {fig['b1'].thumbprint()}; statements must vouch for it.")
    am, ausk, bm, bdsk = (short(fig[n]) for n in ("alice-master", "alice-usk", "bob-master",
                                                   "bob-dsk"))
    assert list(report.trust) == [{
        "method": "web_of_trust", "ok": True, "reason": "", "contradiction": False,
        "steps": [f"your master key {am} anchors {ALICE}",
                  f"{ALICE}'s master key {am} signed its user-signing key {ausk}",
                  f"{ALICE}'s user-signing key {ausk} signed {BOB}'s master key {bm}",
                  f"{BOB}'s master key {bm} signed its device-signing key {bdsk}",
                  f"{BOB}'s device-signing key {bdsk} signed device {B1}'s key "
                  f"{short(fig['b1'])}"]}]


def test_wot_missing_cross_signature(fig: Figure2, wot_trust: TrustStore,
                                     bob_credential: str) -> None:
    """Without Alice's cross-signature of Bob's master key, trust_path is untrusted_issuer and
    says which link is missing."""
    report = verify(bob_credential, wot_trust, statements=(fig.usk(), fig.dsk(), fig.device()))
    assert_fails_at(report, "trust_path", "untrusted_issuer")
    why = (f"no user you trust vouched for {BOB}'s master key: no user-signing link leads to "
           f"{BOB}.")
    assert report.check("trust_path").reason == (
        f"0 of 1 trust methods vouch for it, 1 needed: web_of_trust: {why}")
    assert list(report.trust) == [{"method": "web_of_trust", "ok": False, "steps": [],
                                   "reason": why, "contradiction": False}]


def test_wot_forged_device_statement(fig: Figure2, wot_trust: TrustStore,
                                     bob_credential: str) -> None:
    """A device statement signed by a key Bob's master key never named is not a link."""
    report = verify(bob_credential, wot_trust,
                    statements=(fig.usk(), fig.cross(), fig.dsk(), fig.device("forger")))
    assert_fails_at(report, "trust_path", "untrusted_issuer")
    assert path_of(report, "web_of_trust")["reason"] == (
        f"the statement binding device {B1} to key {short(fig['b1'])} is signed by key "
        f"{short(fig['forger'])}, which {BOB}'s master key {short(fig['bob-master'])} did not "
        "sign as a device-signing key.")


def test_wot_revoked_cross_signature(fig: Figure2, wot_trust: TrustStore,
                                     bob_credential: str) -> None:
    """Alice's user-signing key revoking its cross-signature removes the trust, and the
    reason names the revocation."""
    cross = fig.cross()
    revoke = revocation(fig["alice-usk"], ALICE, cross)
    report = verify(bob_credential, wot_trust,
                    statements=(fig.usk(), cross, fig.dsk(), fig.device(), revoke))
    assert_fails_at(report, "trust_path", "untrusted_issuer")
    assert path_of(report, "web_of_trust")["reason"] == (
        f"{ALICE}'s user-signing key {short(fig['alice-usk'])} signed {BOB}'s master key "
        f"{short(fig['bob-master'])}, but key {short(fig['alice-usk'])} of {ALICE} revoked that "
        f"statement ({cross.jti}).")


def test_wot_max_hops_zero(fig: Figure2, bob_credential: str) -> None:
    """The trust file's max_hops 0 trusts only Alice's own devices: Bob's is one hop away."""
    trust = store_of(trust_document(web_of_trust=fig.anchor(max_hops=0)))
    report = verify(bob_credential, trust, statements=fig.all())
    assert_fails_at(report, "trust_path", "untrusted_issuer")
    assert path_of(report, "web_of_trust")["reason"] == (
        f"{BOB} is 1 hop from you, more than max_hops 0 allows.")


def test_self_issued_without_statement_anchors_is_bad_header(
        fig: Figure2, bob_credential: str, trust: TrustStore) -> None:
    """A header jwk is refused when the trust file has neither a web of trust nor well-known
    services to vouch for a self-issued credential."""
    report = verify(bob_credential, trust, statements=fig.all())
    assert_fails_at(report, "header", "bad_header")
    assert report.check("header").reason.startswith("The header parameter 'jwk' is refused: ")


def test_self_issued_header_jwk_of_another_subject_is_bad_header(
        fig: Figure2, wot_trust: TrustStore, sign_raw: SignRaw, issuer_key: Key,
        make_credential: MakeCredential) -> None:
    """A header jwk is allowed only on a self-issued credential: an issuer's is refused."""
    header, payload = claims_of(make_credential())
    header["jwk"] = public_members(issuer_key)
    report = verify(sign_raw(header, payload, issuer_key), wot_trust, statements=fig.all())
    assert_fails_at(report, "header", "bad_header")


def test_wot_presentation_of_a_self_issued_credential(fig: Figure2, wot_trust: TrustStore,
                                                      bob_credential: str,
                                                      tmp_path: Path) -> None:
    """Statements given to a presentation reach its self-issued credential."""
    token = create_presentation(fig["b1"], [bob_credential], audience=VERIFIER, nonce=NONCE,
                                now=NOW)
    report = verify_presentation(token, wot_trust, now=NOW, audience=VERIFIER, nonce=NONCE,
                                 store=tmp_path / "replay.sqlite3",
                                 evidence=Evidence(statements=fig.all()))
    assert_valid(report)
    assert paths(report.credentials[0]) == [("web_of_trust", True)]


def test_self_issued_credential_must_be_signed_by_the_vouched_key(
        fig: Figure2, wot_trust: TrustStore, attacker_key: Key) -> None:
    """A credential claiming to be B1's own but signed by another key (binding B1's key in
    cnf) is untrusted: statements vouch for B1's key, not for its signer."""
    token = self_issued(attacker_key, B1, holder=fig["b1"].public())
    report = verify(token, wot_trust, statements=fig.all())
    assert (report.ok, report.code) == (False, "untrusted_issuer")


@pytest.mark.parametrize("victim", ["anchor", "reached"])
def test_wot_planted_master_key_is_a_contradiction(victim: str, fig: Figure2) -> None:
    """Attack: with max_hops 2, Bob (one hop from Alice) vouches for a second master key of
    Alice's, or of Dave's whom Alice already vouched for, and a device under that key issues
    its own credential. It verified as valid; now trust_path fails with trust_contradiction,
    and with "contradiction": "report" it is still not trusted."""
    dave, dave_master = "im:dave@example.com", keys.generate()
    planted, planted_dsk, rogue = keys.generate(), keys.generate(), keys.generate()
    owner = ALICE if victim == "anchor" else dave
    device = owner.replace("@", "/rogue@")
    statements = (*fig.all(),
                  statement(fig["alice-usk"], "user", ALICE, subject=dave,
                            key=dave_master.public()),
                  statement(fig["bob-master"], "usk", BOB, key=fig["bob-usk"].public()),
                  statement(fig["bob-usk"], "user", BOB, subject=owner, key=planted.public()),
                  statement(planted, "dsk", owner, key=planted_dsk.public()),
                  statement(planted_dsk, "device", owner, subject=device, key=rogue.public()))
    token = self_issued(rogue, device, holder=rogue.public())
    for contradiction, code in (("fail", "trust_contradiction"),
                                ("report", "untrusted_issuer")):
        trust = store_of(trust_document(web_of_trust=fig.anchor(max_hops=2), policy=[
            rule(["web_of_trust"], contradiction=contradiction)]))
        report = verify(token, trust, statements=statements)
        assert_fails_at(report, "trust_path", code)
        found = path_of(report, "web_of_trust")
        assert (found["ok"], found["contradiction"]) == (False, True)
        pinned = (f"of yours ({ALICE}), {short(planted)}, but the trust file pins your master "
                  f"key {short(fig['alice-master'])}" if victim == "anchor" else
                  f"of {dave}, {short(planted)}, but your web of trust reaches {dave} with "
                  f"master key {short(dave_master)}")
        assert found["reason"] == (f"a contradiction: {BOB}'s user-signing key "
                                   f"{short(fig['bob-usk'])} vouches for another master key "
                                   f"{pinned}.")


def test_wot_disputed_user_fails_or_warns(fig: Figure2, bob_credential: str) -> None:
    """Carol, one hop from Alice like Bob, vouches for another master key of Bob's. B1, which
    Bob's real key reaches, fails with trust_contradiction by default; with "contradiction":
    "report" it is valid and the report warns of the contradiction."""
    carol, carol_master, carol_usk = "im:carol@example.net", keys.generate(), keys.generate()
    statements = (*fig.all(),
                  statement(fig["alice-usk"], "user", ALICE, subject=carol,
                            key=carol_master.public()),
                  statement(carol_master, "usk", carol, key=carol_usk.public()),
                  statement(carol_usk, "user", carol, subject=BOB, key=keys.generate().public()))
    reasons = []
    for contradiction in ("fail", "report"):
        trust = store_of(trust_document(web_of_trust=fig.anchor(max_hops=2), policy=[
            rule(["web_of_trust"], contradiction=contradiction)]))
        report = verify(bob_credential, trust, statements=statements)
        found = path_of(report, "web_of_trust")
        assert (found["ok"], found["contradiction"]) == (True, True)
        assert str(found["reason"]).startswith(f"a contradiction: {carol}'s user-signing key ")
        reasons.append(f"trust methods contradict each other: {found['reason']}")
        if contradiction == "fail":
            assert_fails_at(report, "trust_path", "trust_contradiction")
            assert report.check("trust_path").reason == reasons[0][:1].upper() + reasons[0][1:]
        else:
            assert_valid(report)
            assert report.warnings == (reasons[1],)


# --------------------------------------------------------------------------------------------
# Well-known service cross-signing (§4.3)


@pytest.fixture(scope="module")
def wk_trust() -> TrustStore:
    """A trust file whose only anchor is well-known services, two of which must agree."""
    return store_of(trust_document(well_known={"threshold": 2}))


ACCOUNTS = ("https://social.example/alice", "acct:alice@forge.example",
            "https://alice.example/.well-known/im")


def _wk_steps(key: Key, identity: str, accounts: tuple[str, ...]) -> list[str]:
    """The well-known path's steps for statements on ``accounts``, each agreeing."""
    hosts = {"https://social.example/alice": "social.example",
             "acct:alice@forge.example": "forge.example",
             "https://alice.example/.well-known/im": "alice.example"}
    return [f"{hosts[a]}: {a} binds {identity} to key {short(key)}" for a in accounts]


def _vouch(key: Key, accounts: tuple[str, ...],
           identities: tuple[str, ...] = (USER, HANDLE)) -> tuple[Statement, ...]:
    """Well-known statements binding each identity (by default the device's user, then the
    handle) to ``key`` on each account."""
    return tuple(wellknown(key, identity, a) for identity in identities for a in accounts)


def _not_counted(identity: str, accounts: tuple[str, ...]) -> list[str]:
    """The steps of the device user's well-known path for statements about ``identity``."""
    return [f"not counted: {a}: the statement is for {identity}, not {USER}" for a in accounts]


@pytest.mark.parametrize("pair", [(0, 1), (0, 2), (1, 2)])
def test_wellknown_two_of_three_services(pair: tuple[int, int], device_key: Key,
                                         wk_trust: TrustStore) -> None:
    """A self-issued device credential naming the handle verifies when any 2 of the 3
    services Alice published on bind the device's user, and the handle, to the device key;
    the report's path is the user's."""
    accounts = tuple(ACCOUNTS[i] for i in pair)
    token = self_issued(device_key, DEVICE, ims=(HANDLE,))
    report = verify(token, wk_trust, statements=_vouch(device_key, accounts))
    assert_valid(report)
    assert list(report.trust) == [{
        "method": "well_known", "ok": True, "reason": "", "contradiction": False,
        "steps": _wk_steps(device_key, USER, accounts) + _not_counted(HANDLE, accounts)}]


def test_wellknown_for_the_devices_user(device_key: Key, wk_trust: TrustStore) -> None:
    """Statements for the device's user (not in hasInstantMessage) vouch for the device."""
    token = self_issued(device_key, DEVICE)
    report = verify(token, wk_trust,
                    statements=tuple(wellknown(device_key, USER, a) for a in ACCOUNTS[:2]))
    assert_valid(report)
    assert path_of(report, "well_known")["steps"] == _wk_steps(device_key, USER, ACCOUNTS[:2])


def test_wellknown_one_service_is_not_enough(device_key: Key, wk_trust: TrustStore) -> None:
    """One service of the two needed for the device's user is untrusted_issuer, naming the
    count, even when two services vouch for the handle the credential lists."""
    token = self_issued(device_key, DEVICE, ims=(HANDLE,))
    statements = (wellknown(device_key, USER, ACCOUNTS[0]),
                  *_vouch(device_key, ACCOUNTS[:2], (HANDLE,)))
    report = verify(token, wk_trust, statements=statements)
    assert_fails_at(report, "trust_path", "untrusted_issuer")
    why = (f"only 1 independent service (social.example) binds {USER} to key "
           f"{short(device_key)}, and at least 2 must.")
    assert report.check("trust_path").reason == (
        f"0 of 1 trust methods vouch for it, 1 needed: well_known: {why}")
    assert list(report.trust) == [{
        "method": "well_known", "ok": False, "reason": why, "contradiction": False,
        "steps": _wk_steps(device_key, USER, ACCOUNTS[:1]) + _not_counted(HANDLE,
                                                                            ACCOUNTS[:2])}]


def test_wellknown_contradiction(device_key: Key, attacker_key: Key,
                                 wk_trust: TrustStore) -> None:
    """One service binding the handle to another key is trust_contradiction, even when two
    others agree."""
    token = self_issued(device_key, DEVICE, ims=(HANDLE,))
    statements = (wellknown(device_key, HANDLE, ACCOUNTS[0]),
                  wellknown(device_key, HANDLE, ACCOUNTS[1]),
                  wellknown(attacker_key, HANDLE, "https://blog.example/alice"))
    report = verify(token, wk_trust, statements=statements)
    assert_fails_at(report, "trust_path", "trust_contradiction")
    why = (f"a contradiction: blog.example names key {short(attacker_key)}, not key "
           f"{short(device_key)}, for {HANDLE}.")
    assert report.check("trust_path").reason == f"Trust methods contradict each other: {why}"
    found = path_of(report, "well_known")
    assert (found["ok"], found["contradiction"], found["reason"]) == (False, True, why)


def test_self_issued_by_a_key_with_its_own_kid(wk_trust: TrustStore) -> None:
    """A self-issued credential signed by a key with a chosen kid (vc-im keygen --kid)
    names its header jwk by the key's thumbprint, not the chosen kid, and verifies like any
    other."""
    key = keys.generate("Ed25519", kid="device-1")
    token = self_issued(key, DEVICE, ims=(HANDLE,))
    header, _ = claims_of(token)
    assert (header["kid"], header["jwk"]) == (key.thumbprint(), key.header_jwk())
    assert "kid" not in header["jwk"]
    report = verify(token, wk_trust, statements=_vouch(key, ACCOUNTS[:2]))
    assert_valid(report)


@pytest.mark.parametrize(("vouched", "named"), [
    ((USER,), HANDLE),
    ((USER, HANDLE), "im:%40alice.smith@example.com"),
], ids=["only-the-user-vouched", "a-second-handle"])
def test_wellknown_unvouched_identity(vouched: tuple[str, ...], named: str, device_key: Key,
                                      wk_trust: TrustStore) -> None:
    """A self-issued credential naming an identity no statement vouches for is
    untrusted_issuer, even when the device's user (and another handle) is vouched for."""
    ims = (HANDLE,) if named == HANDLE else (HANDLE, named)
    token = self_issued(device_key, DEVICE, ims=ims)
    report = verify(token, wk_trust, statements=_vouch(device_key, ACCOUNTS[:2], vouched))
    assert_fails_at(report, "trust_path", "untrusted_issuer")
    assert report.check("trust_path").reason == (
        f"The self-issued credential names {named}, which no trust path vouches for.")


# --------------------------------------------------------------------------------------------
# Policy (§4.4): which methods, for which domains, combined how


@pytest.fixture(scope="module")
def both_x5c(pki: Pki, provider_key: Key) -> list[str]:
    """The provider's leaf: the same key the trust file lists for mimi://example.com."""
    return pki.x5c(provider_key, [PROVIDER])


def policy_trust(pki: Pki, provider_key: Key, combine: object, **extra: Any) -> TrustStore:
    """A trust file listing the provider AND the CA, with a policy over central and x509."""
    return store_of(trust_document([issuer_entry(PROVIDER, provider_key)],
                                   x509_roots=[pki.root],
                                   policy=[rule(["central", "x509"], combine, **extra)]))


def test_policy_any_accepts_central_or_x509(pki: Pki, provider_key: Key, both_x5c: list[str],
                                            device_key: Key) -> None:
    """combine any: a credential without x5c (central) and one with it (x509) both pass."""
    trust = policy_trust(pki, provider_key, "any")
    holder = device_key.public()
    central = verify(provider_credential(provider_key, None, holder_key=holder), trust)
    assert_valid(central)
    assert list(central.trust) == [central_path(provider_key, PROVIDER), not_given("x509")]
    chained = verify(provider_credential(provider_key, both_x5c, holder_key=holder), trust)
    assert_valid(chained)
    assert path_of(chained, "x509") == x509_path(pki, provider_key, PROVIDER)


@pytest.mark.parametrize("combine", ["all", {"k": 2}], ids=["all", "k2"])
def test_policy_all_passes_when_both_vouch(combine: object, pki: Pki, provider_key: Key,
                                           both_x5c: list[str], device_key: Key) -> None:
    """combine all (or k 2): a listed provider signing under its own leaf passes, both paths
    vouching."""
    trust = policy_trust(pki, provider_key, combine)
    report = verify(provider_credential(provider_key, both_x5c,
                                        holder_key=device_key.public()), trust)
    assert_valid(report)
    assert paths(report) == [("central", True), ("x509", True)]


@pytest.mark.parametrize("combine", ["all", {"k": 2}], ids=["all", "k2"])
def test_policy_all_fails_when_only_central(combine: object, pki: Pki, provider_key: Key,
                                            device_key: Key) -> None:
    """combine all (or k 2) with only the central path vouching: every check before
    trust_path passes, and trust_path alone fails as untrusted_issuer."""
    trust = policy_trust(pki, provider_key, combine)
    report = verify(provider_credential(provider_key, None, holder_key=device_key.public()),
                    trust)
    assert_fails_at(report, "trust_path", "untrusted_issuer")
    assert report.check("trust_path").reason == (
        f"1 of 2 trust methods vouch for it, 2 needed: x509: {not_given('x509')['reason']}.")
    assert list(report.trust) == [central_path(provider_key, PROVIDER), not_given("x509")]


@pytest.fixture(scope="module")
def mixed_trust(issuer_key: Key) -> Callable[..., TrustStore]:
    """Central issuer + well-known services, with one policy rule over both."""
    def make(combine: object = "any", **extra: Any) -> TrustStore:
        return store_of(trust_document(
            [issuer_entry(ISSUER, issuer_key)], well_known={"threshold": 2},
            policy=[rule(["central", "well_known"], combine, **extra)]))
    return make


@pytest.mark.parametrize(("combine", "services", "code"), [
    ({"k": 2}, 2, None),
    ({"k": 2}, 1, "untrusted_issuer"),
    ("all", 2, None),
    ("any", 0, None),
], ids=["k2-both", "k2-one", "all-both", "any-central"])
def test_policy_k_of_n_central_and_wellknown(combine: object, services: int, code: str | None,
                                             make_credential: MakeCredential, device_key: Key,
                                             issuer_key: Key,
                                             mixed_trust: Callable[..., TrustStore]) -> None:
    """k 2 (and all) over central + well_known pass only when the services also bind the
    device's user to the key the issuer bound; any passes on the issuer alone."""
    statements = _vouch(device_key, ACCOUNTS[:services], (USER,))
    report = verify(make_credential(), mixed_trust(combine), statements=statements)
    if code is None:
        assert_valid(report)
    else:
        assert_fails_at(report, "trust_path", code)
        assert report.check("trust_path").reason.startswith(
            "1 of 2 trust methods vouch for it, 2 needed: well_known: only 1 independent "
            "service (social.example) binds ")
    assert paths(report) == [("central", True), ("well_known", services >= 2)]


@pytest.mark.parametrize("contradiction", ["fail", "report"])
def test_policy_contradiction_central_against_wellknown(
        contradiction: str, make_credential: MakeCredential, attacker_key: Key,
        mixed_trust: Callable[..., TrustStore]) -> None:
    """The issuer binds the device key, two services bind the handle to another key: a
    contradiction fails by default, and with "report" passes, the contradiction reported."""
    statements = tuple(wellknown(attacker_key, HANDLE, a) for a in ACCOUNTS[:2])
    report = verify(make_credential(), mixed_trust(contradiction=contradiction),
                    statements=statements)
    found = path_of(report, "well_known")
    assert (found["ok"], found["contradiction"]) == (False, True)
    assert paths(report) == [("central", True), ("well_known", False)]
    if contradiction == "fail":
        assert_fails_at(report, "trust_path", "trust_contradiction")
        assert report.check("trust_path").reason == (
            f"Trust methods contradict each other: {found['reason']}")
        assert report.warnings == ()
    else:
        assert_valid(report)
        assert report.warnings == (f"trust methods contradict each other: {found['reason']}",)


def test_policy_contradiction_central_against_wot(issuer_key: Key, fig: Figure2,
                                                  attacker_key: Key) -> None:
    """A central issuer binding B1 to one key while Bob's device-signing key binds B1 to
    another is trust_contradiction."""
    trust = store_of(trust_document([issuer_entry(ISSUER, issuer_key, ["example.org"])],
                                    web_of_trust=fig.anchor(),
                                    policy=[rule(["central", "web_of_trust"])]))
    token = issue_credential(issuer_key, issuer=ISSUER, subject=B1, fn="Bob", now=NOW,
                             holder_key=attacker_key.public())
    report = verify(token, trust, statements=fig.all())
    assert_fails_at(report, "trust_path", "trust_contradiction")
    found = path_of(report, "web_of_trust")
    assert (found["ok"], found["contradiction"]) == (False, True)
    assert found["reason"] == (
        f"{BOB}'s device-signing key {short(fig['bob-dsk'])} binds device {B1} to another key, "
        f"{short(fig['b1'])}, not to key {short(attacker_key)}.")


def test_policy_domain_rules(pki: Pki, issuer_key: Key, make_credential: MakeCredential,
                             device_key: Key) -> None:
    """A rule allowing only x509 for example.com refuses a central credential there, while
    the "*" rule accepts central for example.org; the rule's methods alone count."""
    trust = store_of(trust_document(
        [issuer_entry(ISSUER, issuer_key, ["example.com", "example.org"])],
        x509_roots=[pki.root],
        policy=[rule(["x509"], domains=["example.com"]), rule(["central"])]))
    refused = verify(make_credential(), trust)
    assert_fails_at(refused, "trust_path", "untrusted_issuer")
    assert refused.check("trust_path").reason == (
        f"0 of 1 trust methods vouch for it, 1 needed: x509: {not_given('x509')['reason']}.")
    assert list(refused.trust) == [not_given("x509"), central_path(issuer_key)]
    accepted = verify(make_credential(subject=B1, instant_messages=[]), trust)
    assert_valid(accepted)
    assert list(accepted.trust) == [central_path(issuer_key)]


UNCOVERED = ("no rule of the trust policy covers example.org, and it has no default rule "
             '(domains ["*"]).')


def test_policy_without_a_rule_for_the_domain_fails_closed(
        issuer_key: Key, make_credential: MakeCredential) -> None:
    """A policy with a rule for example.com only: a credential for example.org, which the
    trust file's issuer covers, used to pass on the central path alone; it is now
    untrusted_issuer, the reason saying no rule covers example.org. A default rule ("*")
    covers it again."""
    issuers = [issuer_entry(ISSUER, issuer_key, ["example.com", "example.org"])]
    strict = store_of(trust_document(issuers, policy=[
        rule(["central"], "all", domains=["example.com"])]))
    token = make_credential(subject=B1, instant_messages=[])
    report = verify(token, strict)
    assert_fails_at(report, "trust_path", "untrusted_issuer")
    assert report.check("trust_path").reason == UNCOVERED[:1].upper() + UNCOVERED[1:]
    assert list(report.trust) == [central_path(issuer_key)]
    assert_valid(verify(make_credential(), strict))
    with_default = store_of(trust_document(issuers, policy=[
        rule(["central"], "all", domains=["example.com"]), rule(["central"])]))
    assert_valid(verify(token, with_default))


def test_policy_without_a_rule_for_another_named_domain(
        issuer_key: Key, make_credential: MakeCredential) -> None:
    """Every domain a credential names needs a rule: a device in example.com listing a
    handle in example.org fails for example.org."""
    trust = store_of(trust_document(
        [issuer_entry(ISSUER, issuer_key, ["example.com", "example.org"])],
        policy=[rule(["central"], domains=["example.com"])]))
    report = verify(make_credential(instant_messages=[HANDLE, "im:%40alice@example.org"]),
                    trust)
    assert_fails_at(report, "trust_path", "untrusted_issuer")
    assert report.check("trust_path").reason == f"For example.org, {UNCOVERED}"


# --------------------------------------------------------------------------------------------
# Nothing is fetched unless a URL was named


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every socket connection and name lookup fails and is recorded."""
    return block_network(monkeypatch)


def test_trust_models_never_touch_the_network(no_network: list[str], pki: Pki,
                                              provider_key: Key, fig: Figure2,
                                              device_key: Key, x509_trust: TrustStore,
                                              wot_trust: TrustStore, wk_trust: TrustStore,
                                              bob_credential: str) -> None:
    """X.509 chains, web-of-trust and well-known statements are judged offline: no socket is
    opened and no name is looked up."""
    reports = [
        verify(provider_credential(provider_key, pki.x5c(provider_key, [PROVIDER])),
               x509_trust),
        verify(bob_credential, wot_trust, statements=fig.all()),
        verify(self_issued(device_key, DEVICE, ims=(HANDLE,)), wk_trust,
               statements=_vouch(device_key, ACCOUNTS[:2])),
    ]
    assert [report.ok for report in reports] == [True, True, True]
    assert no_network == []
    # The guard does catch what a fetch would do: a named URL is attempted, and recorded.
    fetched = fetch_statements(["https://alice.example/im"], ca_file=None, timeout=1)
    assert [item.token for item in fetched] == [None]
    assert fetched[0].failure == "the statement at https://alice.example/im could not be fetched"
    assert no_network != []
