"""The issuer -> holder -> verifier flow end to end through real ``vc-im`` processes: keygen,
issue, nonce, present, verify (and its replay), both encodings, DPoP through a pipe, the demo,
and several verifiers racing for one presentation."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import vc_im._jose.jws as jose
from tests.conftest import DEVICE, HANDLE, ISSUER, VERIFIER
from tests.helpers.cli import process_env, run_process, vc_im_command
from tests.helpers.presentations import (
    DPOP_CHECKS,
    HTM,
    HTU,
    PRESENTATION_CHECKS,
    first_line,
    json_report,
)

pytestmark = pytest.mark.slow

CREDENTIAL_CHECKS = ["format", "header", "alg", "issuer_key", "signature", "claims", "time",
                     "consistency", "types", "context", "jsonld", "schema", "identifiers",
                     "holder_key", "trust_path", "status"]
RACERS = 4


@dataclass(frozen=True)
class Pki:
    """What the issuer and Alice's device made with the real command, in one directory."""

    where: Path
    trust: Path
    device_key: Path
    device_vc: Path
    user_vc: Path

    def present(self, *credentials: Path, nonce: str, extra: tuple[str, ...] = ()) -> Path:
        """Run ``vc-im present`` and keep the presentation in a file."""
        args: list[str | Path] = ["present", "--key", self.device_key]
        for credential in credentials:
            args += ["--credential", credential]
        result = run_process(*args, "--audience", VERIFIER, "--nonce", nonce, *extra,
                             cwd=self.where)
        assert result.returncode == 0, result.stderr
        path = self.where / f"vp-{nonce}.jwt"
        path.write_text(result.stdout)
        return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """keygen for the issuer and the device, a trust file from the issuer's printed public JWK,
    and a device and a handle credential issued with --holder-key."""
    where = tmp_path_factory.mktemp("e2e")
    issuer = run_process("keygen", "--out", where / "issuer.jwk", cwd=where)
    assert issuer.returncode == 0, issuer.stderr
    public = json.loads(issuer.stdout)
    assert "d" not in public
    assert public["alg"] == "Ed25519"
    trust = where / "trust.json"
    trust.write_text(json.dumps({"issuers": [{"id": ISSUER, "keys": [public],
                                              "domains": ["example.com"]}]}))
    device = run_process("keygen", "--out", where / "device.jwk", "--public-out",
                         where / "device.pub.jwk", cwd=where)
    assert device.returncode == 0, device.stderr
    common: list[str | Path] = ["issue", "--key", where / "issuer.jwk", "--issuer", ISSUER,
                                "--fn", "Alice M. Smith", "--holder-key",
                                where / "device.pub.jwk"]
    device_vc = run_process(*common, "--subject", DEVICE, "--im", HANDLE, "--org", "Example Corp",
                            cwd=where)
    user_vc = run_process(*common, "--type", "user", "--subject", HANDLE, cwd=where)
    for result in (device_vc, user_vc):
        assert result.returncode == 0, result.stderr
        assert result.stdout.count(".") == 2
    (where / "device.vc.jwt").write_text(device_vc.stdout)
    (where / "user.vc.jwt").write_text(user_vc.stdout)
    return Pki(where, trust, where / "device.jwk", where / "device.vc.jwt",
               where / "user.vc.jwt")


def test_issue_present_verify_then_replay(pki: Pki) -> None:
    """nonce, present and verify --audience --nonce give exit 0 and ``valid``; verifying the
    same presentation again gives exit 1 and ``invalid: replay``."""
    store = pki.where / "flow.sqlite3"
    nonce = run_process("nonce", "--store", store, cwd=pki.where)
    assert nonce.returncode == 0
    challenge = nonce.stdout.strip()
    presentation = pki.present(pki.device_vc, nonce=challenge)
    args = ("verify", presentation, "--trust", pki.trust, "--audience", VERIFIER, "--nonce",
            challenge, "--store", store)
    first = run_process(*args, cwd=pki.where)
    assert (first.returncode, first_line(first)) == (0, "valid")
    again = run_process(*args, cwd=pki.where)
    assert (again.returncode, first_line(again)) == (1, "invalid: replay")
    assert not (pki.where / "state").exists(), "--store was given; the default store is unused"


def test_verify_json_report_shape(pki: Pki) -> None:
    """verify --json prints one report: ok, kind presentation, every check in order with
    status, code and reason, and one nested credential report per credential."""
    presentation = pki.present(pki.user_vc, pki.device_vc, nonce="json-nonce")
    result = run_process("verify", presentation, "--trust", pki.trust, "--audience", VERIFIER,
                         "--nonce", "json-nonce", "--store", pki.where / "json.sqlite3", "--json",
                         cwd=pki.where)
    assert result.returncode == 0
    report = json_report(result)
    # trust: per credential
    assert sorted(report) == ["checks", "code", "credentials", "kind", "ok", "subject"]
    assert (report["ok"], report["kind"]) == (True, "presentation")
    assert [check["name"] for check in report["checks"]] == list(PRESENTATION_CHECKS)
    for check in report["checks"]:
        assert (check["status"], check["code"]) == ("passed", None)
        assert isinstance(check["reason"], str)
    assert len(report["credentials"]) == 2
    for nested in report["credentials"]:
        assert (nested["ok"], nested["kind"], nested["credentials"]) == (True, "credential", [])
        assert [path["method"] for path in nested["trust"] if path["ok"]] == ["central"]
        assert [check["name"] for check in nested["checks"]] == CREDENTIAL_CHECKS
    assert "The type is ImUserCredential." in [c["reason"]
                                              for c in report["credentials"][0]["checks"]]


def test_vc2_flow(pki: Pki) -> None:
    """A vc2 credential presented with --format vc2 verifies: exit 0, ``valid``."""
    issued = run_process("issue", "--key", pki.where / "issuer.jwk", "--issuer", ISSUER,
                         "--subject", DEVICE, "--fn", "Alice M. Smith", "--holder-key",
                         pki.where / "device.pub.jwk", "--format", "vc2", cwd=pki.where)
    assert issued.returncode == 0
    credential = pki.where / "device.vc2.jwt"
    credential.write_text(issued.stdout)
    presentation = pki.present(credential, nonce="vc2-nonce", extra=("--format", "vc2"))
    assert jose.peek_unverified(presentation.read_text().strip()).header["typ"] == "vp+jwt"
    result = run_process("verify", presentation, "--trust", pki.trust, "--audience", VERIFIER,
                         "--nonce", "vc2-nonce", "--store", pki.where / "vc2.sqlite3",
                         cwd=pki.where)
    assert (result.returncode, first_line(result)) == (0, "valid")


def test_present_vc2_with_vc1_credentials_is_a_usage_error(pki: Pki) -> None:
    """present --format vc2 with a vc1 credential exits 2 with one sentence on stderr and
    nothing on stdout."""
    result = run_process("present", "--key", pki.device_key, "--credential", pki.device_vc,
                         "--audience", VERIFIER, "--nonce", "n", "--format", "vc2", cwd=pki.where)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("vc-im: ")
    assert "--format vc2" in result.stderr
    assert result.stderr.count("\n") == 1


def test_default_store_is_under_xdg_state_home(pki: Pki) -> None:
    """Without --store, nonce and verify share ${XDG_STATE_HOME}/vc-im/replay.sqlite3: the
    issued nonce is accepted once there."""
    home = pki.where / "xdg"
    home.mkdir()
    nonce = run_process("nonce", cwd=home).stdout.strip()
    presentation = pki.present(pki.device_vc, nonce=nonce)
    args = ("verify", presentation, "--trust", pki.trust, "--audience", VERIFIER, "--nonce",
            nonce)
    assert first_line(run_process(*args, cwd=home)) == "valid"
    assert (pki.where / "xdg" / "state" / "vc-im" / "replay.sqlite3").is_file()
    assert first_line(run_process(*args, cwd=home)) == "invalid: replay"


def test_issued_nonce_expired(pki: Pki) -> None:
    """A presentation answering a vc-im nonce whose TTL has passed exits 1 with
    ``invalid: nonce_mismatch``."""
    store = pki.where / "ttl.sqlite3"
    now = int(time.time())
    nonce = run_process("nonce", "--ttl", "300s", "--now", str(now - 400), "--store", store,
                        cwd=pki.where).stdout.strip()
    presentation = pki.present(pki.device_vc, nonce=nonce, extra=("--now", str(now - 150)))
    result = run_process("verify", presentation, "--trust", pki.trust, "--audience", VERIFIER,
                         "--nonce", nonce, "--now", str(now), "--store", store, cwd=pki.where)
    assert (result.returncode, first_line(result)) == (1, "invalid: nonce_mismatch")


def test_dpop_create_pipe_verify(pki: Pki) -> None:
    """dpop create's output piped to dpop verify - (bound to the device credential) exits 0
    with ``valid``; the same proof again exits 1 with ``invalid: replay``."""
    created = run_process("dpop", "create", "--key", pki.device_key, "--htm", HTM, "--htu", HTU,
                          "--sub", DEVICE, "--access-token", "token-1", cwd=pki.where)
    assert created.returncode == 0
    args = ("dpop", "verify", "-", "--htm", HTM, "--htu", HTU, "--access-token", "token-1",
            "--credential", pki.device_vc, "--trust", pki.trust, "--store",
            pki.where / "dpop.sqlite3", "--json")
    first = run_process(*args, cwd=pki.where, stdin=created.stdout)
    assert first.returncode == 0
    report = json_report(first)
    assert (report["ok"], report["kind"]) == (True, "dpop")
    assert [check["name"] for check in report["checks"]] == list(DPOP_CHECKS)
    assert [nested["ok"] for nested in report["credentials"]] == [True]
    again = run_process(*args[:-1], cwd=pki.where, stdin=created.stdout)
    assert (again.returncode, first_line(again)) == (1, "invalid: replay")


def test_demo(tmp_path: Path) -> None:
    """vc-im demo exits 0, shows the presentation accepted, then refused as a replay."""
    result = run_process("demo", cwd=tmp_path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert "invalid: replay   (replay is refused)" in lines
    verdicts = [line for line in lines if line == "valid" or line.startswith("invalid")]
    assert verdicts == ["valid", "valid", "invalid: replay   (replay is refused)"]


def test_verifiers_race_for_one_presentation(pki: Pki) -> None:
    """Four vc-im verify processes given one presentation at the same moment, sharing a store:
    exactly one exits 0 with ``valid``, the others exit 1 with ``invalid: replay``."""
    store = pki.where / "race.sqlite3"
    token = pki.present(pki.device_vc, nonce="race-nonce").read_text()
    command = [*vc_im_command(), "verify", "-", "--trust", str(pki.trust),
               "--audience", VERIFIER, "--nonce", "race-nonce", "--store", str(store)]
    racers = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=pki.where,
                               env=process_env(pki.where))
              for _ in range(RACERS)]
    # Every process is started (and busy importing) before any of them gets the token.
    for racer in racers:
        assert racer.stdin is not None
        racer.stdin.write(token)
        racer.stdin.close()
    outcomes = []
    for racer in racers:
        assert racer.stdout is not None
        assert racer.stderr is not None
        stdout, stderr = racer.stdout.read(), racer.stderr.read()
        racer.wait(timeout=60)
        assert "Traceback" not in stdout + stderr
        assert stdout, f"a verifier printed no verdict (exit {racer.returncode}): {stderr!r}"
        outcomes.append((racer.returncode, stdout.splitlines()[0]))
    assert sorted(outcomes) == [(0, "valid")] + [(1, "invalid: replay")] * (RACERS - 1)
