"""``vc-im present`` with a device credential and the user credential that issued it, and
``vc-im verify`` using the presented user credential as the parent, in real processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import HANDLE, ISSUER, NOW, VERIFIER
from tests.helpers.cli import run_process
from tests.helpers.trust_models import USER, issuer_entry, trust_document
from vc_im import keys
from vc_im.keys import Key

LAPTOP = "im:SvPfLlwBQi-6oddVRrkqpw/5d1e@example.com"
PHONE = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"


def ok(directory: Path, *args: object) -> str:
    """``vc-im ARGS`` in a real process; it must succeed quietly."""
    result = run_process(*args, cwd=directory)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    return result.stdout


@pytest.fixture
def world(tmp_path: Path, issuer_key: Key) -> Path:
    """The domain's key and trust file, Alice's user credential (may issue devices), her
    laptop's credential issued by her user key, and her phone's issued by the domain."""
    keys.write_private_key(tmp_path / "issuer.jwk", issuer_key)
    (tmp_path / "trust.json").write_text(json.dumps(trust_document(
        [issuer_entry(ISSUER, issuer_key)])))
    for name in ("alice", "laptop", "phone"):
        ok(tmp_path, "keygen", "--out", f"{name}.jwk", "--public-out", f"{name}.pub.jwk")
    common = ("--fn", "Alice M. Smith", "--now", NOW, "--im", HANDLE)
    (tmp_path / "alice.user.jwt").write_text(ok(
        tmp_path, "issue", "--key", "issuer.jwk", "--issuer", ISSUER, "--type", "user",
        "--subject", USER, "--holder-key", "alice.pub.jwk", "--may-issue-devices", *common))
    (tmp_path / "laptop.jwt").write_text(ok(
        tmp_path, "issue", "--key", "alice.jwk", "--issuer", USER, "--subject", LAPTOP,
        "--holder-key", "laptop.pub.jwk", *common))
    (tmp_path / "phone.jwt").write_text(ok(
        tmp_path, "issue", "--key", "issuer.jwk", "--issuer", ISSUER, "--subject", PHONE,
        "--holder-key", "phone.pub.jwk", *common))
    return tmp_path


def present_and_verify(directory: Path, key: str, *credentials: str, check: bool = True,
                       ) -> tuple[int, str, dict[str, object]]:
    """Present ``credentials`` with ``key`` (``check=False``: with --no-check, to sign what
    the verifier must refuse), verify it: (exit code, stderr, JSON report)."""
    options = [item for credential in credentials for item in ("--credential", credential)]
    if not check:
        options.append("--no-check")
    (directory / "vp.jwt").write_text(ok(directory, "present", "--key", key, *options,
                                         "--audience", VERIFIER, "--nonce", "n-1",
                                         "--now", NOW))
    result = run_process("verify", "vp.jwt", "--trust", "trust.json", "--audience", VERIFIER,
                         "--nonce", "n-1", "--now", NOW, "--store", "replay.sqlite3", "--json",
                         cwd=directory)
    return result.returncode, result.stderr, json.loads(result.stdout)


def test_presented_parent_is_accepted(world: Path) -> None:
    """The laptop presents its credential and Alice's user credential: valid, no --parent."""
    code, stderr, report = present_and_verify(world, "laptop.jwk", "laptop.jwt",
                                              "alice.user.jwt")
    assert (code, stderr, report["ok"]) == (0, "", True)
    device = report["credentials"][0]
    assert isinstance(device, dict)
    assert [path["method"] for path in device["trust"] if path["ok"]] == ["cascade"]


def test_user_credential_presented_for_a_device_it_did_not_issue(world: Path) -> None:
    """The phone (issued by the domain) presents Alice's user credential too: refused."""
    code, stderr, report = present_and_verify(world, "phone.jwk", "phone.jwt",
                                              "alice.user.jwt", check=False)
    assert code == 1
    reason = (f"The user credential of {USER} binds another key than the device credential, "
              "and issued no presented device credential (its key signed none), so nothing "
              "binds it to this presentation.")
    assert stderr == f"vc-im: invalid (holder_binding): {reason}\n"
    assert report["ok"] is False


def test_present_refuses_a_user_credential_that_issued_no_presented_device(world: Path) -> None:
    """present checks by default: a user credential binding another key than --key is exempt
    only when its key signed a presented credential, so the phone's is refused (exit 2)."""
    result = run_process("present", "--key", "phone.jwk", "--credential", "phone.jwt",
                         "--credential", "alice.user.jwt", "--audience", VERIFIER, "--nonce",
                         "n-1", "--now", NOW, cwd=world)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("vc-im: credential 2 binds the key ")
    assert result.stderr.count("\n") == 1
