"""End to end through the CLI: a device's life with status lists (issue, revoke, suspend,
reinstate, renew, publish) and what verifiers then say, as real subprocess runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ISSUER = "https://im.example.com"
USER = "im:alice@im.example.com"
NOW = "2025-01-01T00:00:00Z"
LATER = "2025-01-01T01:00:00Z"


def vc_im(*args: object, ok: bool | None = True) -> subprocess.CompletedProcess[str]:
    """Run the CLI; with ``ok`` True or False, assert exit 0 or exit 1."""
    result = subprocess.run([sys.executable, "-m", "vc_im", *map(str, args)],
                            capture_output=True, text=True, check=False, timeout=120)
    assert "Traceback" not in result.stderr
    if ok is True:
        assert result.returncode == 0, result.stderr
    elif ok is False:
        assert result.returncode == 1, (result.stdout, result.stderr)
    return result


def device(n: int) -> str:
    return f"im:alice/phone{n}@im.example.com"


class Provider:
    """An issuer with a registry and published lists, and a verifier's trust file."""

    def __init__(self, root: Path, fmt: str) -> None:
        self.root, self.fmt = root, fmt
        self.key = root / "issuer.jwk"
        public = json.loads(vc_im("keygen", "--out", self.key).stdout)
        self.trust = root / "trust.json"
        self.trust.write_text(json.dumps({"issuers": [{"id": ISSUER, "keys": [public],
                                                       "domains": ["im.example.com"]}]}))
        self.registry = root / "registry.db"
        self.lists = root / "www"
        self.lists.mkdir()
        for purpose in ("revocation", "suspension"):
            vc_im("status", "init", "--registry", self.registry, "--key", self.key,
                  "--issuer", ISSUER, "--url", f"https://im.example.com/status/{fmt}-{purpose}",
                  "--purpose", purpose, "--format", fmt)

    def issue(self, subject: str) -> Path:
        token = vc_im("issue", "--key", self.key, "--issuer", ISSUER, "--subject", subject,
                      "--fn", "Alice", "--format", self.fmt, "--registry", self.registry,
                      "--now", NOW, "--no-holder-key").stdout.strip()
        path = self.root / f"{subject.split('/')[1].split('@')[0]}.jwt"
        path.write_text(token)
        return path

    def publish(self, now: str) -> list[Path]:
        vc_im("status", "publish", "--registry", self.registry, "--key", self.key,
              "--out-dir", self.lists, "--now", now)
        return sorted(self.lists.iterdir())

    def verify(self, token: Path, now: str, *extra: object,
               ok: bool | None = None) -> dict[str, Any]:
        args: list[object] = ["verify", "--trust", self.trust, "--now", now, "--json"]
        for path in sorted(self.lists.iterdir()):
            args += ["--status-list", path]
        result = vc_im(*args, *extra, token, ok=ok)
        report: dict[str, Any] = json.loads(result.stdout)
        return report


def status_check(report: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["name"] == "status")


@pytest.mark.parametrize("fmt", ["vc1", "vc2"])
def test_revoke_suspend_reinstate_three_devices(tmp_path: Path, fmt: str) -> None:
    """Revoked fails with revoked, suspended with suspended until reinstated, the third
    device of the same user stays valid throughout."""
    p = Provider(tmp_path, fmt)
    one, two, three = (p.issue(device(n)) for n in (1, 2, 3))
    p.publish(NOW)
    for token in (one, two, three):
        report = p.verify(token, NOW, ok=True)
        assert status_check(report)["status"] == "passed"
        assert {e["purpose"] for e in report["status"]} == {"revocation", "suspension"}
    vc_im("status", "revoke", "--registry", p.registry, "--subject", device(1), "--now", NOW)
    vc_im("status", "suspend", "--registry", p.registry, "--subject", device(2), "--now", NOW)
    p.publish(LATER)
    revoked = p.verify(one, LATER, ok=False)
    assert (status_check(revoked)["status"], status_check(revoked)["code"]) == ("failed",
                                                                                 "revoked")
    assert revoked["status"][-1]["purpose"] == "revocation"
    assert p.verify(two, LATER, ok=False)["checks"][-1]["code"] == "suspended"
    assert p.verify(three, LATER, ok=True)["ok"] is True
    vc_im("status", "reinstate", "--registry", p.registry, "--subject", device(2),
          "--now", LATER)
    p.publish(LATER)
    assert p.verify(two, LATER, ok=True)["ok"] is True
    assert p.verify(one, LATER, ok=False)["checks"][-1]["code"] == "revoked"
    again = vc_im("status", "reinstate", "--registry", p.registry, "--subject", device(1),
                  "--now", LATER, ok=None)
    assert again.returncode == 2
    assert "final" in again.stderr


def test_revoke_user_revokes_every_current_device(tmp_path: Path) -> None:
    p = Provider(tmp_path, "vc1")
    tokens = [p.issue(device(n)) for n in (1, 2)]
    vc_im("status", "revoke", "--registry", p.registry, "--user", USER, "--now", NOW)
    p.publish(NOW)
    for token in tokens:
        assert p.verify(token, NOW, ok=False)["checks"][-1]["code"] == "revoked"
    listed = json.loads(vc_im("issued", "list", "--registry", p.registry, "--user", USER,
                              "--json", "--now", NOW).stdout)
    assert [item["status"] for item in listed] == ["revoked", "revoked"]
    assert {item["subject"] for item in listed} == {device(1), device(2)}


def test_missing_list_fails_closed_unless_optional(tmp_path: Path) -> None:
    p = Provider(tmp_path, "vc2")
    token = p.issue(device(1))
    report = p.verify(token, NOW, ok=False)  # nothing published yet
    assert status_check(report)["code"] == "status_unavailable"
    assert "missing" in status_check(report)["reason"]
    optional = p.verify(token, NOW, "--status-optional", ok=True)
    assert "unchecked" in status_check(optional)["reason"]
    assert len(optional["warnings"]) == 2  # one per list: the report says what went unchecked
    assert all("was not given" in warning for warning in optional["warnings"])


def test_renew_links_old_and_new_with_new_indexes(tmp_path: Path) -> None:
    p = Provider(tmp_path, "vc1")
    old = p.issue(device(1))
    old_id = json.loads(vc_im("issued", "list", "--registry", p.registry, "--json").stdout)[0]
    new = vc_im("renew", "--registry", p.registry, "--credential", old_id["id"], "--key",
                p.key, "--now", LATER).stdout.strip()
    (tmp_path / "new.jwt").write_text(new)
    listed = json.loads(vc_im("issued", "list", "--registry", p.registry, "--json").stdout)
    assert listed[0]["renewed_by"] == listed[1]["id"]
    assert listed[1]["renews"] == old_id["id"]
    assert listed[0]["subject"] == listed[1]["subject"] == device(1)
    old_indexes = {(e["list"], e["index"]) for e in listed[0]["entries"]}
    new_indexes = {(e["list"], e["index"]) for e in listed[1]["entries"]}
    assert not old_indexes & new_indexes
    p.publish(LATER)
    assert p.verify(tmp_path / "new.jwt", LATER, ok=True)["ok"]
    assert old.exists()


def test_publish_replaces_its_lists_and_refuses_other_files(tmp_path: Path) -> None:
    p = Provider(tmp_path, "vc1")
    first = p.publish(NOW)
    assert [f.name for f in first] == ["vc1-revocation", "vc1-suspension"]
    p.publish(LATER)  # re-run: replaces its own files
    assert not [f for f in p.lists.iterdir() if f.name.startswith(".")]
    (p.lists / "vc1-revocation").write_text("something else\n")
    result = vc_im("status", "publish", "--registry", p.registry, "--key", p.key,
                   "--out-dir", p.lists, ok=None)
    assert result.returncode == 2
    assert "refusing" in result.stderr
    assert (p.lists / "vc1-revocation").read_text() == "something else\n"


def test_a_presentation_holding_a_revoked_credential_fails_with_revoked(tmp_path: Path) -> None:
    p = Provider(tmp_path, "vc1")
    holder = tmp_path / "holder.jwk"
    vc_im("keygen", "--out", holder, "--public-out", tmp_path / "holder.pub")
    credential = tmp_path / "bound.jwt"
    credential.write_text(vc_im(
        "issue", "--key", p.key, "--issuer", ISSUER, "--subject", device(1), "--fn", "Alice",
        "--holder-key", tmp_path / "holder.pub", "--registry", p.registry,
        "--now", NOW).stdout.strip())
    vc_im("status", "revoke", "--registry", p.registry, "--subject", device(1), "--now", NOW)
    p.publish(NOW)
    presentation = tmp_path / "vp.jwt"
    presentation.write_text(vc_im(
        "present", "--key", holder, "--credential", credential, "--audience",
        "https://verifier.example", "--nonce", "n-0123456789abcdef", "--now", LATER
    ).stdout.strip())
    report = p.verify(presentation, LATER, "--audience", "https://verifier.example",
                      "--nonce", "n-0123456789abcdef", "--store", tmp_path / "replay.db",
                      ok=False)
    nested = report["credentials"][0]
    assert status_check(nested)["code"] == "revoked"
    assert nested["status"][0]["list"].endswith("vc1-revocation")
