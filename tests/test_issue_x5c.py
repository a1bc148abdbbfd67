"""``issue --x5c`` refuses, before signing, a credential that ``verify`` would reject because of
what the certificate's leaf certifies: the verifier's own rule, applied by the issuer."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DEVICE, NOW
from tests.helpers.cli import vc_im_command
from tests.helpers.trust_models import PROVIDER, Pki, store_of, trust_document
from vc_im import keys
from vc_im.credentials import issue_credential
from vc_im.errors import InputError
from vc_im.report import Status
from vc_im.verify import verify_token

VC_IM = vc_im_command()

ELSEWHERE = "im:bob/phone@example.org"


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.mint("Issue CA")


@pytest.fixture(scope="module")
def provider_key() -> keys.Key:
    return keys.generate("Ed25519")


def _refusal(pki: Pki, signer: keys.Key, leaf_key: keys.Key, sans: list[str], *, issuer: str,
             subject: str, instant_messages: tuple[str, ...] = ()) -> str:
    """The issuer's one-sentence refusal."""
    with pytest.raises(InputError) as raised:
        issue_credential(signer, issuer=issuer, subject=subject, fn="Someone", now=NOW,
                         instant_messages=instant_messages, x5c=pki.x5c(leaf_key, sans))
    assert raised.value.exit_code == 2
    return raised.value.message


def _verify_failure(pki: Pki, token: str) -> tuple[str, str | None]:
    report = verify_token(token, store_of(trust_document(x509_roots=[pki.root])), now=NOW)
    failure = next(c for c in report.checks if c.status is Status.FAILED)
    return failure.name, failure.code


def test_a_subject_outside_the_providers_domain_is_refused(pki: Pki,
                                                           provider_key: keys.Key) -> None:
    """The review's case: a provider certificate for example.com, a subject in example.org."""
    message = _refusal(pki, provider_key, provider_key, [PROVIDER], issuer=PROVIDER,
                       subject=ELSEWHERE)
    assert message == ("refusing to issue an invalid credential (untrusted_issuer): The "
                       "signer's certificate speaks for example.com, not for example.org "
                       f"({ELSEWHERE}).")


def test_an_other_domain_instant_message_is_refused(pki: Pki, provider_key: keys.Key) -> None:
    """Every hasInstantMessage value must lie in the certified domain too."""
    message = _refusal(pki, provider_key, provider_key, [PROVIDER], issuer=PROVIDER,
                       subject=DEVICE, instant_messages=("im:%40bob@example.org",))
    assert message.startswith("refusing to issue an invalid credential (untrusted_issuer): "
                              "The signer's certificate speaks for example.com, not for "
                              "example.org")


def test_a_leaf_for_another_key_is_refused(pki: Pki, provider_key: keys.Key) -> None:
    """The leaf must certify the very key that signs."""
    message = _refusal(pki, provider_key, keys.generate("Ed25519"), [PROVIDER],
                       issuer=PROVIDER, subject=DEVICE)
    assert message == ("refusing to issue: the x5c leaf certificate certifies another key, "
                       "not the issuer key that signs.")


def test_a_leaf_naming_neither_issuer_nor_subject_is_refused(pki: Pki,
                                                             provider_key: keys.Key) -> None:
    """An https issuer under a certificate for mimi://example.com: the verifier's rule."""
    message = _refusal(pki, provider_key, provider_key, [PROVIDER],
                       issuer="https://im.example.com", subject=DEVICE)
    assert message == ("refusing to issue an invalid credential (untrusted_issuer): The "
                       "certificate certifies mimi://example.com, which is neither the "
                       "credential's subject nor its issuer as a provider (a domain "
                       "identifier).")


def test_a_subjects_certificate_names_only_what_it_certifies(pki: Pki) -> None:
    """Self-issued under the subject's own certificate: an uncertified value is refused."""
    device = keys.generate("Ed25519")
    message = _refusal(pki, device, device, [DEVICE], issuer=DEVICE, subject=DEVICE,
                       instant_messages=("im:%40alice_smith@example.com",))
    assert message == ("refusing to issue an invalid credential (untrusted_issuer): The "
                       "signer's certificate does not certify im:%40alice_smith@example.com.")


def test_an_unreadable_chain_is_refused(provider_key: keys.Key) -> None:
    """A chain verify would call malformed is refused as such."""
    with pytest.raises(InputError, match=r"^refusing to issue under this x5c chain \(malformed\)"):
        issue_credential(provider_key, issuer=PROVIDER, subject=DEVICE, fn="A", now=NOW,
                         x5c=["not base64 DER"])


def test_what_the_issuer_signs_the_verifier_accepts(pki: Pki, provider_key: keys.Key) -> None:
    """The pre-check refuses nothing verify accepts: both certificate kinds still issue."""
    trust = store_of(trust_document(x509_roots=[pki.root]))
    token = issue_credential(provider_key, issuer=PROVIDER, subject=DEVICE, fn="A", now=NOW,
                             instant_messages=["im:%40alice_smith@example.com"],
                             x5c=pki.x5c(provider_key, [PROVIDER]))
    assert verify_token(token, trust, now=NOW).ok
    device = keys.generate("Ed25519")
    own = issue_credential(device, issuer=DEVICE, subject=DEVICE, fn="A", now=NOW,
                           x5c=pki.x5c(device, [DEVICE, "im:%40alice_smith@example.com"]),
                           instant_messages=["im:%40alice_smith@example.com"])
    assert verify_token(own, trust, now=NOW).ok


@pytest.mark.slow
def test_cli_issue_refuses_before_signing(tmp_path: Path) -> None:
    """Real processes: exit 2, nothing on stdout, one sentence; the README's case still works."""
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*VC_IM, *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60, check=False)

    assert run("x509", "ca", "--name", "CA", "--out-cert", "ca.pem", "--out-key", "ca.jwk",
               "--now", str(NOW - 86400)).returncode == 0
    assert run("keygen", "--out", "p.jwk", "--public-out", "p.pub.jwk").returncode == 0
    assert run("x509", "leaf", "--ca-cert", "ca.pem", "--ca-key", "ca.jwk", "--key",
               "p.pub.jwk", "--san", PROVIDER, "--name", "im.example.com", "--out", "p.pem",
               "--now", str(NOW - 86400)).returncode == 0
    common = ["issue", "--key", "p.jwk", "--issuer", PROVIDER, "--x5c", "p.pem", "--fn", "B",
              "--now", str(NOW), "--no-holder-key"]
    refused = run(*common, "--subject", ELSEWHERE)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr == (
        "vc-im: refusing to issue an invalid credential (untrusted_issuer): The signer's "
        f"certificate speaks for example.com, not for example.org ({ELSEWHERE}).\n")
    issued = run(*common, "--subject", DEVICE)
    assert issued.returncode == 0, issued.stderr
    (tmp_path / "vc.jwt").write_text(issued.stdout)
    (tmp_path / "trust.json").write_text(json.dumps(
        {"issuers": [], "x509_roots": [(tmp_path / "ca.pem").read_text()]}))
    verified = run("verify", "vc.jwt", "--trust", "trust.json", "--now", str(NOW))
    assert verified.returncode == 0, verified.stdout + verified.stderr
