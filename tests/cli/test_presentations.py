"""``vc-im present``, ``vc-im verify`` on presentations and ``vc-im dpop``: real processes,
their exit codes, their output lines and their refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import vc_im._jose.jws as jose
from tests.conftest import DEVICE, HANDLE, NOW, VERIFIER
from tests.helpers.cli import run_process
from tests.helpers.presentations import (
    HTM,
    HTU,
    NONCE,
    PRESENTATION_CHECKS,
    RFC9449_ACCESS_TOKEN,
    RFC9449_ATH,
    SignRaw,
    dpop_claims,
    dpop_header,
    first_line,
    json_report,
)
from vc_im import keys
from vc_im._checks.dpop import create_proof
from vc_im._checks.presentation import create_presentation, verify_presentation
from vc_im.keys import Key
from vc_im.model import CredentialType, Encoding
from vc_im.trust import TrustStore

pytestmark = pytest.mark.slow

MakeCredential = Callable[..., str]


@dataclass(frozen=True)
class Files:
    """Key and credential files for the command, written by the library."""

    where: Path
    device_key: Path
    device_public: Path
    attacker_key: Path
    device_vc: Path
    user_vc: Path
    device_vc2: Path
    user_vc2: Path
    expired_vc: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, device_key: Key, attacker_key: Key,
          make_credential: MakeCredential) -> Files:
    """The device's and the attacker's private keys, and Alice's credentials, as files."""
    where = tmp_path_factory.mktemp("cli")
    keys.write_private_key(where / "device.jwk", device_key)
    keys.write_public_key(where / "device.pub.jwk", device_key)
    keys.write_private_key(where / "attacker.jwk", attacker_key)
    user = {"credential_type": CredentialType.USER, "subject": HANDLE, "instant_messages": []}
    tokens = {
        "device.vc.jwt": make_credential(),
        "user.vc.jwt": make_credential(**user),
        "device.vc2.jwt": make_credential(encoding=Encoding.VC2),
        "user.vc2.jwt": make_credential(encoding=Encoding.VC2, **user),
        "expired.vc.jwt": make_credential(now=NOW - 91 * 86400),
    }
    for name, token in tokens.items():
        (where / name).write_text(token + "\n")
    return Files(where, where / "device.jwk", where / "device.pub.jwk",
                 where / "attacker.jwk", where / "device.vc.jwt", where / "user.vc.jwt",
                 where / "device.vc2.jwt", where / "user.vc2.jwt", where / "expired.vc.jwt")


def present_args(key: Path, *credentials: Path) -> list[str | Path]:
    """``present`` for VERIFIER and NONCE at NOW."""
    args: list[str | Path] = ["present", "--key", key]
    for credential in credentials:
        args += ["--credential", credential]
    return [*args, "--audience", VERIFIER, "--nonce", NONCE, "--now", str(NOW)]


def verify_args(token: Path, trust_file: Path, store: Path) -> list[str | Path]:
    """``verify`` of ``token`` at NOW with its own store (no --audience, no --nonce yet)."""
    return ["verify", token, "--trust", trust_file, "--now", str(NOW), "--store", store]


def test_present_prints_one_presentation(files: Files, trust: TrustStore,
                                         tmp_path: Path) -> None:
    """present prints exactly one compact JWS line (exit 0, nothing on stderr) presenting the
    handle and device credentials, and it verifies."""
    result = run_process(*present_args(files.device_key, files.user_vc, files.device_vc),
                         cwd=files.where)
    assert result.returncode == 0
    assert result.stdout.endswith("\n")
    assert result.stdout.count("\n") == 1
    token = result.stdout.strip()
    unverified = jose.peek_unverified(token)
    assert (unverified.payload["iss"], unverified.payload["iat"], unverified.payload["exp"]) == (
        DEVICE, NOW, NOW + 300)
    assert unverified.payload["vp"]["verifiableCredential"] == [
        files.user_vc.read_text().strip(), files.device_vc.read_text().strip()]
    report = verify_presentation(token, trust, now=NOW, audience=VERIFIER, nonce=NONCE,
                                 store=tmp_path / "s.sqlite3")
    assert report.ok


def test_present_vc2(files: Files, trust: TrustStore, tmp_path: Path) -> None:
    """present --format vc2 --valid-for 60s prints a vp+jwt presentation valid for 60 s."""
    args = present_args(files.device_key, files.user_vc2, files.device_vc2)
    result = run_process(*args, "--format", "vc2", "--valid-for", "60s", cwd=files.where)
    assert result.returncode == 0
    token = result.stdout.strip()
    unverified = jose.peek_unverified(token)
    assert unverified.header["typ"] == "vp+jwt"
    assert unverified.payload["exp"] == NOW + 60
    report = verify_presentation(token, trust, now=NOW, audience=VERIFIER, nonce=NONCE,
                                 store=tmp_path / "s.sqlite3")
    assert report.ok


@pytest.mark.parametrize(("case", "message"), [
    ("vc2 with vc1 credentials", "--format vc2"),
    ("public key", "public only"),
    ("missing credential", "cannot read credential"),
    ("lifetime 601s", "between 1 and 600"),
    ("bad duration", "is not a duration"),
    ("bad time", "is not a time"),
])
def test_present_refusals_exit_2(case: str, message: str, files: Files) -> None:
    """present refuses unusable input with exit 2, nothing on stdout and one sentence on stderr."""
    args = present_args(files.device_key, files.device_vc)
    if case == "vc2 with vc1 credentials":
        args += ["--format", "vc2"]
    elif case == "public key":
        args = present_args(files.device_public, files.device_vc)
    elif case == "missing credential":
        args = present_args(files.device_key, files.where / "absent.jwt")
    elif case == "lifetime 601s":
        args += ["--valid-for", "601s"]
    elif case == "bad duration":
        args += ["--valid-for", "5 minutes"]
    else:
        args[-1] = "yesterday"
    result = run_process(*args, cwd=files.where)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("vc-im: ")
    assert result.stderr.count("\n") == 1
    assert message in result.stderr


@pytest.fixture(scope="module")
def alice_vp(files: Files, device_key: Key, device_vc_token: str) -> Path:
    """Alice's presentation, made by the library, as a file."""
    path = files.where / "alice.vp.jwt"
    path.write_text(create_presentation(device_key, [device_vc_token], audience=VERIFIER,
                                        nonce=NONCE, now=NOW) + "\n")
    return path


@pytest.fixture(scope="module")
def device_vc_token(files: Files) -> str:
    """Alice's device credential."""
    return files.device_vc.read_text().strip()


@pytest.mark.parametrize(("options", "verdict"), [
    ((), "invalid: audience_mismatch"),
    (("--nonce", NONCE), "invalid: audience_mismatch"),
    (("--audience", VERIFIER), "invalid: nonce_mismatch"),
    (("--audience", "https://other.example", "--nonce", NONCE), "invalid: audience_mismatch"),
    (("--audience", VERIFIER, "--nonce", "other"), "invalid: nonce_mismatch"),
])
def test_verify_needs_this_audience_and_nonce(options: tuple[str, ...], verdict: str,
                                              files: Files, trust_file: Path, alice_vp: Path,
                                              tmp_path: Path) -> None:
    """A presentation verified without --audience, without --nonce, or with other ones exits 1
    with the exact verdict line."""
    result = run_process(*verify_args(alice_vp, trust_file, tmp_path / "s.sqlite3"), *options,
                         cwd=files.where)
    assert (result.returncode, first_line(result)) == (1, verdict)


def test_stolen_credential(files: Files, trust_file: Path, tmp_path: Path) -> None:
    """The attacker's key presenting Alice's credential (made with present --no-check, since
    present refuses it by default) exits 1 with ``invalid: holder_binding``."""
    made = run_process(*present_args(files.attacker_key, files.device_vc), "--no-check",
                       cwd=files.where)
    assert made.returncode == 0
    stolen = tmp_path / "stolen.jwt"
    stolen.write_text(made.stdout)
    result = run_process(*verify_args(stolen, trust_file, tmp_path / "s.sqlite3"), "--audience",
                         VERIFIER, "--nonce", NONCE, cwd=files.where)
    assert (result.returncode, first_line(result)) == (1, "invalid: holder_binding")


def test_bare_credential_where_a_presentation_is_expected(files: Files, trust_file: Path,
                                                          tmp_path: Path) -> None:
    """verify --audience --nonce given a bare credential exits 1 with ``invalid: bad_type``."""
    result = run_process(*verify_args(files.device_vc, trust_file, tmp_path / "s.sqlite3"),
                         "--audience", VERIFIER, "--nonce", NONCE, cwd=files.where)
    assert (result.returncode, first_line(result)) == (1, "invalid: bad_type")


def test_verify_json_with_an_invalid_credential(files: Files, device_key: Key,
                                                trust_file: Path, tmp_path: Path) -> None:
    """verify --json of a presentation holding an expired credential: exit 1, ok false, the
    credentials check failed with expired, the later checks skipped, and the nested report
    failing at time with expired."""
    token = tmp_path / "vp.jwt"
    token.write_text(create_presentation(device_key, [files.expired_vc.read_text().strip()],
                                         audience=VERIFIER, nonce=NONCE, now=NOW))
    result = run_process(*verify_args(token, trust_file, tmp_path / "s.sqlite3"), "--audience",
                         VERIFIER, "--nonce", NONCE, "--json", cwd=files.where)
    assert result.returncode == 1
    report = json_report(result)
    assert (report["ok"], report["kind"]) == (False, "presentation")
    assert [(c["name"], c["status"], c["code"]) for c in report["checks"]] == (
        [(name, "passed", None) for name in PRESENTATION_CHECKS[:7]]
        + [("credentials", "failed", "expired")]
        + [(name, "skipped", None) for name in PRESENTATION_CHECKS[8:]])
    [nested] = report["credentials"]
    assert (nested["ok"], nested["kind"], nested["credentials"]) == (False, "credential", [])
    assert [c["code"] for c in nested["checks"] if c["status"] == "failed"] == ["expired"]
    assert next(c["name"] for c in nested["checks"] if c["status"] == "failed") == "time"


@pytest.mark.parametrize(("suffix", "outcome"), [
    ("\n", (0, "valid")),
    ("", (0, "valid")),
    ("\n\n", (1, "invalid: malformed")),
    (" \n", (1, "invalid: malformed")),
], ids=["one-newline", "no-newline", "two-newlines", "trailing-space"])
def test_verify_from_stdin(suffix: str, outcome: tuple[int, str], files: Files,
                           device_key: Key, device_vc_token: str, trust_file: Path,
                           tmp_path: Path) -> None:
    """verify - reads the presentation from stdin; one trailing newline is tolerated and
    nothing else."""
    token = create_presentation(device_key, [device_vc_token], audience=VERIFIER, nonce=NONCE,
                                now=NOW)
    result = run_process("verify", "-", "--trust", trust_file, "--audience", VERIFIER, "--nonce",
                         NONCE, "--now", str(NOW), "--store", tmp_path / "s.sqlite3",
                         cwd=files.where, stdin=token + suffix)
    assert (result.returncode, first_line(result)) == outcome


def test_verify_with_an_unusable_store(files: Files, trust_file: Path, alice_vp: Path,
                                       tmp_path: Path) -> None:
    """A --store that is a directory exits 2 with one sentence on stderr and no report."""
    result = run_process(*verify_args(alice_vp, trust_file, tmp_path), "--audience", VERIFIER,
                         "--nonce", NONCE, "--json", cwd=files.where)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("vc-im: cannot use the replay store")
    assert result.stderr.count("\n") == 1


def test_dpop_create_with_access_token(files: Files) -> None:
    """dpop create --access-token binds the RFC 9449 example token as its ath."""
    result = run_process("dpop", "create", "--key", files.device_key, "--htm", HTM, "--htu", HTU,
                         "--access-token", RFC9449_ACCESS_TOKEN, "--nonce", "server-nonce",
                         "--now", str(NOW), cwd=files.where)
    assert result.returncode == 0
    claims = dict(jose.peek_unverified(result.stdout.strip()).payload)
    del claims["jti"]
    assert claims == {"htm": HTM, "htu": HTU, "iat": NOW, "nonce": "server-nonce",
                      "ath": RFC9449_ATH}


def test_dpop_verify_method_mismatch_json(files: Files, device_key: Key,
                                          tmp_path: Path) -> None:
    """dpop verify --json of a POST proof for a GET request exits 1 with a dpop report whose
    method check failed with claim_mismatch."""
    proof = tmp_path / "proof.jwt"
    proof.write_text(create_proof(device_key, htm=HTM, htu=HTU, now=NOW))
    result = run_process("dpop", "verify", proof, "--htm", "GET", "--htu", HTU, "--now", str(NOW),
                         "--store", tmp_path / "s.sqlite3", "--json", cwd=files.where)
    assert result.returncode == 1
    report = json_report(result)
    assert (report["ok"], report["kind"], report["credentials"]) == (False, "dpop", [])
    assert [(c["name"], c["code"]) for c in report["checks"] if c["status"] == "failed"] == [
        ("method", "claim_mismatch")]


def test_dpop_verify_attacker_key(files: Files, attacker_key: Key, trust_file: Path,
                                  tmp_path: Path) -> None:
    """dpop verify --credential of a proof signed by the attacker exits 1 with
    ``invalid: holder_binding``."""
    proof = create_proof(attacker_key, htm=HTM, htu=HTU, now=NOW, sub=DEVICE)
    result = run_process("dpop", "verify", "--htm", HTM, "--htu", HTU, "--credential",
                         files.device_vc, "--trust", trust_file, "--now", str(NOW), "--store",
                         tmp_path / "s.sqlite3", cwd=files.where, stdin=proof)
    assert (result.returncode, first_line(result)) == (1, "invalid: holder_binding")


@pytest.mark.parametrize("args", [
    ("--credential", "CREDENTIAL"),
    ("--trust", "TRUST"),
    ("--htu", "ftp://im.example.com/x"),
], ids=["credential-without-trust", "trust-without-credential", "ftp-htu"])
def test_dpop_verify_usage_errors(args: tuple[str, str], files: Files, trust_file: Path,
                                  device_key: Key, tmp_path: Path) -> None:
    """dpop verify with --credential but no --trust (or the reverse), or a request URI that is
    not http(s), exits 2 with one sentence on stderr and no report."""
    value = {"CREDENTIAL": str(files.device_vc), "TRUST": str(trust_file)}.get(args[1], args[1])
    htu = value if args[0] == "--htu" else HTU
    extra = () if args[0] == "--htu" else (args[0], value)
    proof = create_proof(device_key, htm=HTM, htu=HTU, now=NOW)
    result = run_process("dpop", "verify", "--htm", HTM, "--htu", htu, *extra, "--now", str(NOW),
                         "--store", tmp_path / "s.sqlite3", "--json", cwd=files.where, stdin=proof)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("vc-im: ")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_dpop_verify_lone_surrogate_in_htu(as_json: bool, files: Files, sign_raw: SignRaw,
                                           device_key: Key, tmp_path: Path) -> None:
    """A proof whose htu holds a lone surrogate exits 1 with ``invalid: claim_mismatch`` (or
    ``invalid: malformed`` where the JSON reader refuses it, or the JSON report), never a
    traceback."""
    token = sign_raw(dpop_header(device_key),
                     dpop_claims(htu="https://im.example.com/\ud800"), device_key)
    result = run_process("dpop", "verify", "-", "--htm", HTM, "--htu", HTU, "--now", str(NOW),
                         "--store", tmp_path / "s.sqlite3", *(["--json"] if as_json else []),
                         cwd=files.where, stdin=token)
    assert result.returncode == 1
    if as_json:
        assert json_report(result)["ok"] is False
    else:
        assert first_line(result) in {"invalid: claim_mismatch", "invalid: malformed"}


def test_verify_prints_nested_reports_in_text(files: Files, alice_vp: Path, trust_file: Path,
                                              tmp_path: Path) -> None:
    """verify without --json prints ``valid``, one line per check, then ``credential 1: valid``
    and its checks."""
    result = run_process(*verify_args(alice_vp, trust_file, tmp_path / "s.sqlite3"), "--audience",
                         VERIFIER, "--nonce", NONCE, cwd=files.where)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "valid"
    assert lines[1].startswith("verified: id=im:")
    assert [line.split()[1] for line in lines[2:13]] == list(PRESENTATION_CHECKS)
    assert all(line.startswith("  ok   ") for line in lines[2:13])
    assert lines[13] == "  credential 1: valid"
    assert json.dumps(lines).count("FAIL") == 0
