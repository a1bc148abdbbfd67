"""The cascade inside a presentation: a device presents its device credential with the user
credential that issued it, and the verifier uses the presented user credential as the parent.
The holder-binding rule exempts such a parent (bound through the device credential's
signature) from the key-binding and hasInstantMessage-listing rules, and only it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEVICE, HANDLE, ISSUER, NOW, VERIFIER
from tests.helpers.presentations import NONCE, assert_fails_at, assert_valid
from tests.helpers.trust_models import USER
from vc_im import keys
from vc_im._checks.presentation import verify_presentation
from vc_im._checks.presenting import create_presentation
from vc_im.credentials import issue_credential
from vc_im.keys import Key
from vc_im.model import NO_EVIDENCE, CredentialType, Encoding, Evidence, Presentation
from vc_im.report import Report
from vc_im.trust import TrustStore

MakeCredential = Callable[..., str]
LAPTOP = "im:SvPfLlwBQi-6oddVRrkqpw/5d1e@example.com"
BOB_USER = "im:bob@example.com"


@pytest.fixture(scope="module")
def user_key() -> Key:
    """Alice's user key."""
    return keys.generate()


@pytest.fixture(scope="module")
def laptop_key() -> Key:
    """The key of Alice's laptop, whose credential her user key issues."""
    return keys.generate()


def user_credential(make_credential: MakeCredential, holder: Key, subject: str = USER,
                    **overrides: Any) -> str:
    """The domain's ImUserCredential for ``subject``, binding ``holder``, allowed to issue."""
    arguments: dict[str, Any] = {"credential_type": CredentialType.USER, "subject": subject,
                                 "instant_messages": [HANDLE], "holder_key": holder.public(),
                                 "may_issue_devices": True, "organization": None,
                                 "unit": None}
    arguments.update(overrides)
    return make_credential(**arguments)


def laptop_credential(key: Key, laptop_key: Key, issuer: str = USER,
                      subject: str = LAPTOP, encoding: Encoding = Encoding.VC1) -> str:
    """A device credential for the laptop, signed by ``key`` as ``issuer``."""
    return issue_credential(key, issuer=issuer, subject=subject, fn="Alice M. Smith", now=NOW,
                            instant_messages=[HANDLE], holder_key=laptop_key.public(),
                            encoding=encoding)


def present(key: Key, *credentials: str, trust: TrustStore, tmp_path: Path,
            evidence: Evidence = NO_EVIDENCE, encoding: str = "vc1") -> Report:
    """Present ``credentials`` with ``key`` and verify the presentation."""
    token = create_presentation(key, list(credentials), audience=VERIFIER, nonce=NONCE,
                                now=NOW, encoding=encoding)
    return verify_presentation(token, trust, now=NOW, audience=VERIFIER, nonce=NONCE,
                               store=tmp_path / "replay.sqlite3", evidence=evidence)


@pytest.mark.parametrize("encoding", [Encoding.VC1, Encoding.VC2])
def test_presented_user_credential_is_the_parent(
        make_credential: MakeCredential, user_key: Key, laptop_key: Key, trust: TrustStore,
        tmp_path: Path, encoding: Encoding) -> None:
    """Device credential + the user credential that issued it: valid without --parent; the
    device credential's trust path is the cascade, and the parent binds another key."""
    parent = user_credential(make_credential, user_key, encoding=encoding)
    report = present(laptop_key, laptop_credential(user_key, laptop_key, encoding=encoding),
                     parent, trust=trust, tmp_path=tmp_path, encoding=encoding.value)
    assert_valid(report)
    assert report.check("holder_binding").reason == (
        f"The device credentials bind key {laptop_key.thumbprint()}; the user credential of "
        f"{USER} issued them.")
    device_report = report.credentials[0]
    assert [path["method"] for path in device_report.trust if path["ok"]] == ["cascade"]
    assert device_report.check("issuer_key").reason == (
        f"Issued by the user {USER} under {ISSUER}.")
    presentation = report.verified
    assert isinstance(presentation, Presentation)
    assert presentation.holder_key.thumbprint() == laptop_key.thumbprint()
    assert [c.type for c in presentation.credentials] == [CredentialType.DEVICE,
                                                          CredentialType.USER]


def test_the_order_of_the_credentials_does_not_matter(
        make_credential: MakeCredential, user_key: Key, laptop_key: Key, trust: TrustStore,
        tmp_path: Path) -> None:
    """The parent may come first."""
    parent = user_credential(make_credential, user_key)
    assert_valid(present(laptop_key, parent, laptop_credential(user_key, laptop_key),
                         trust=trust, tmp_path=tmp_path))


def test_parent_option_keeps_working(make_credential: MakeCredential, user_key: Key,
                                     laptop_key: Key, trust: TrustStore,
                                     tmp_path: Path) -> None:
    """The parent given out of band (--parent), the presentation holding only the device's."""
    parent = user_credential(make_credential, user_key)
    assert_valid(present(laptop_key, laptop_credential(user_key, laptop_key), trust=trust,
                         tmp_path=tmp_path, evidence=Evidence(parents=(parent,))))


def test_user_credential_presented_for_a_device_it_did_not_issue(
        make_credential: MakeCredential, user_key: Key, device_key: Key, trust: TrustStore,
        tmp_path: Path) -> None:
    """Alice's user credential with a device credential the domain issued: it is no parent,
    so it must bind the presentation key, and it does not."""
    report = present(device_key, make_credential(), user_credential(make_credential, user_key),
                     trust=trust, tmp_path=tmp_path)
    assert_fails_at(report, "holder_binding", "holder_binding")
    assert report.check("holder_binding").reason == (
        f"The user credential of {USER} binds another key than the device credential, and "
        "issued no presented device credential (its key signed none), so nothing binds it "
        "to this presentation.")


def test_another_users_credential_cannot_issue_alices_device(
        make_credential: MakeCredential, laptop_key: Key, trust: TrustStore,
        tmp_path: Path) -> None:
    """Bob's user credential, presented with a credential his key issued for Alice's laptop:
    the device credential fails the cascade (the device is not his)."""
    bob_key = keys.generate()
    bob = user_credential(make_credential, bob_key, subject=BOB_USER, instant_messages=[
        "im:%40bob@example.com"])
    device = laptop_credential(bob_key, laptop_key, issuer=BOB_USER)
    report = present(laptop_key, device, bob, trust=trust, tmp_path=tmp_path)
    assert_fails_at(report, "credentials", "untrusted_issuer")
    assert report.check("credentials").reason == (
        f"Credential 1: The device {LAPTOP} does not belong to the issuing user {BOB_USER}.")


def test_user_credential_that_may_not_issue_is_no_parent(
        make_credential: MakeCredential, user_key: Key, laptop_key: Key, trust: TrustStore,
        tmp_path: Path) -> None:
    """Without mayIssueDeviceCredentials the presented user credential cannot be the parent."""
    parent = user_credential(make_credential, user_key, may_issue_devices=False)
    report = present(laptop_key, laptop_credential(user_key, laptop_key), parent, trust=trust,
                     tmp_path=tmp_path)
    assert_fails_at(report, "credentials", "untrusted_issuer")
    assert report.check("credentials").reason == (
        f"Credential 1: The parent credential of {USER} does not allow it to issue device "
        "credentials.")


def test_parent_from_an_untrusted_issuer(make_credential: MakeCredential, user_key: Key,
                                         laptop_key: Key, trust: TrustStore,
                                         tmp_path: Path) -> None:
    """A presented user credential whose own issuer is not trusted makes no parent."""
    stranger = keys.generate()
    parent = user_credential(make_credential, user_key, key=stranger,
                             issuer="https://stranger.example.net")
    report = present(laptop_key, laptop_credential(user_key, laptop_key), parent, trust=trust,
                     tmp_path=tmp_path)
    assert_fails_at(report, "credentials", "untrusted_issuer")
    assert report.check("credentials").reason == (
        f"Credential 1: The parent credential of {USER} is not valid (untrusted_issuer): the "
        "issuer 'https://stranger.example.net' is not in the trust file.")


def test_device_credential_not_signed_by_the_parents_key(
        make_credential: MakeCredential, user_key: Key, laptop_key: Key, trust: TrustStore,
        tmp_path: Path) -> None:
    """A device credential naming Alice as issuer but signed with another key."""
    parent = user_credential(make_credential, user_key)
    forged = laptop_credential(keys.generate(), laptop_key)
    report = present(laptop_key, forged, parent, trust=trust, tmp_path=tmp_path)
    assert_fails_at(report, "credentials", "unknown_key")


def test_parent_of_no_presented_device_listed_by_none(
        make_credential: MakeCredential, user_key: Key, laptop_key: Key, device_key: Key,
        trust: TrustStore, tmp_path: Path) -> None:
    """Only a parent is exempt: a second user credential, for Bob, binding the laptop key
    but listed by no device credential, still fails the listing rule."""
    parent = user_credential(make_credential, user_key)
    bob = user_credential(make_credential, laptop_key, subject=BOB_USER,
                          instant_messages=["im:%40bob@example.com"], may_issue_devices=False)
    report = present(laptop_key, laptop_credential(user_key, laptop_key), parent, bob,
                     trust=trust, tmp_path=tmp_path)
    assert_fails_at(report, "holder_binding", "holder_binding")
    assert report.check("holder_binding").reason == (
        f"The user credential's subject {BOB_USER} is not listed in any presented device "
        "credential's hasInstantMessage.")
    assert device_key.thumbprint() != laptop_key.thumbprint()
    assert DEVICE != LAPTOP


def test_parent_presented_first_the_presenter_key_is_verified_ahead(
        make_credential: MakeCredential, user_key: Key, laptop_key: Key, trust: TrustStore,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the user credential first, the signature verified ahead is under the key the
    device credential binds (the presenter's), not the parent's: the presentation is valid
    and the ahead verdict is the laptop key's."""
    from vc_im import _jwk
    from vc_im._jose import b64url_decode

    monkeypatch.setattr(_jwk, "_AHEAD", {})  # nothing an earlier test verified
    monkeypatch.setattr(_jwk, "_PROVEN", {})
    parent = user_credential(make_credential, user_key)
    report = present(laptop_key, parent, laptop_credential(user_key, laptop_key),
                     trust=trust, tmp_path=tmp_path)
    assert_valid(report)
    assert laptop_key.alg == "Ed25519"
    assert list(_jwk._PROVEN) == [b64url_decode(laptop_key.public_jwk["x"], what="x")]
    assert _jwk._AHEAD == {}  # and the presentation's signature check took its verdict
