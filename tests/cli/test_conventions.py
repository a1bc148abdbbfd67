"""What a new user meets first: who ``verify`` verified, keys from other tools, refusals before
signing, and the command line's conventions (usage errors, help, --version, --debug, JSON
errors, --json everywhere, the demo)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tests.helpers.cli import process_env, run_cli, run_process, vc_im_command
from vc_im import keys

ISSUER = "https://im.example.com"
DEVICE = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
HANDLE = "im:%40alice_smith@example.com"
VERIFIER = "https://verifier.example.org"
NOW = "1900000000"


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """An issuer key, a device key pair, a trust file and a bound device credential."""
    issuer, device = keys.generate("Ed25519"), keys.generate("Ed25519")
    keys.write_private_key(tmp_path / "issuer.jwk", issuer)
    keys.write_private_key(tmp_path / "device.jwk", device)
    keys.write_public_key(tmp_path / "device.pub.jwk", device)
    trust = {"issuers": [{"id": ISSUER, "keys": [dict(issuer.public_jwk)],
                          "domains": ["example.com"]}]}
    (tmp_path / "trust.json").write_text(json.dumps(trust))
    result = run_cli("issue", "--key", tmp_path / "issuer.jwk", "--issuer", ISSUER,
                     "--subject", DEVICE, "--fn", "Alice M. Smith", "--im", HANDLE,
                     "--holder-key", tmp_path / "device.pub.jwk", "--now", NOW)
    assert result.exit_code == 0, result.stderr
    (tmp_path / "vc.jwt").write_text(result.stdout)
    return {name: tmp_path / f for name, f in (
        ("issuer", "issuer.jwk"), ("device", "device.jwk"), ("device_pub", "device.pub.jwk"),
        ("trust", "trust.json"), ("vc", "vc.jwt"))} | {"root": tmp_path}


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# --- 1. who was verified -------------------------------------------------------------------

def test_verify_json_names_who_was_verified(world: dict[str, Path]) -> None:
    """verify --json carries code null and the subject summary of the credential."""
    result = run_cli("verify", world["vc"], "--trust", world["trust"], "--now", NOW, "--json")
    report = json.loads(result.stdout)
    device = keys.read_key_file(world["device_pub"], require="public")
    assert report["code"] is None
    assert report["subject"] == {
        "id": DEVICE, "type": "ImDeviceCredential", "fn": "Alice M. Smith",
        "im": [HANDLE, DEVICE], "issuer": ISSUER, "credential_id": report["subject"][
            "credential_id"], "valid_from": "2030-03-17T17:46:40Z",
        "valid_until": "2030-06-15T17:46:40Z", "holder_key": device.thumbprint()}
    assert report["subject"]["credential_id"].startswith("urn:uuid:")


def test_a_failed_verify_has_its_code_and_no_subject(world: dict[str, Path]) -> None:
    """An expired credential: top-level code expired, subject null; the plain output prints
    no verified line."""
    late = str(int(NOW) + 91 * 86400)
    result = run_cli("verify", world["vc"], "--trust", world["trust"], "--now", late, "--json")
    report = json.loads(result.stdout)
    assert (result.exit_code, report["code"], report["subject"]) == (1, "expired", None)
    plain = run_cli("verify", world["vc"], "--trust", world["trust"], "--now", late)
    assert plain.stdout.splitlines()[0] == "invalid: expired"
    assert "verified:" not in plain.stdout


def test_a_presentation_names_its_holder_and_nested_reports_their_subjects(
        world: dict[str, Path]) -> None:
    """A verified presentation's subject is the holder's device credential, with the
    presenting key; the nested report carries the same summary."""
    vp = run_cli("present", "--key", world["device"], "--credential", world["vc"],
                 "--audience", VERIFIER, "--nonce", "n" * 22, "--now", NOW)
    assert vp.exit_code == 0, vp.stderr
    (world["root"] / "vp.jwt").write_text(vp.stdout)
    result = run_cli("verify", world["root"] / "vp.jwt", "--trust", world["trust"], "--now",
                     NOW, "--audience", VERIFIER, "--nonce", "n" * 22, "--store",
                     world["root"] / "s.sqlite3", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0
    assert report["subject"]["id"] == DEVICE
    assert report["credentials"][0]["subject"] == report["subject"]


# --- 2. keys from other tools --------------------------------------------------------------

def test_issue_with_an_encrypted_pkcs8_key(world: dict[str, Path]) -> None:
    """An encrypted PKCS#8 issuer key works with --password-file or VC_IM_KEY_PASSWORD, and
    without a password it is one sentence that says how to give one."""
    root = world["root"]
    issuer = keys.read_key_file(world["issuer"], require="private")
    native = serialization.load_pem_private_key(issuer.to_pem(private=True), None)
    (root / "enc.pem").write_bytes(native.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"correct horse")))
    (root / "pw.txt").write_text("correct horse\n")
    base = ("issue", "--key", "enc.pem", "--issuer", ISSUER, "--subject", DEVICE, "--fn", "A",
            "--holder-key", "device.pub.jwk")
    refused = run_process(*base, cwd=root)
    assert refused.returncode == 2
    assert "VC_IM_KEY_PASSWORD" in one_line(refused.stderr)
    assert run_process(*base, "--password-file", "pw.txt", cwd=root).returncode == 0
    by_env = run_process(*base, cwd=root, env={"VC_IM_KEY_PASSWORD": "correct horse"})
    assert by_env.returncode == 0


def test_issue_with_a_jwks_and_kid(world: dict[str, Path]) -> None:
    """--kid picks the issuer key from a JWKS; without it a JWKS of two keys is refused."""
    root = world["root"]
    issuer = keys.read_key_file(world["issuer"], require="private")
    other = keys.generate("ES256", kid="other")
    (root / "keys.jwks").write_text(json.dumps({"keys": [other.private_jwk(),
                                                         issuer.private_jwk()]}))
    base = ("issue", "--key", root / "keys.jwks", "--issuer", ISSUER, "--subject", DEVICE,
            "--fn", "A", "--holder-key", world["device_pub"])
    refused = run_cli(*base)
    assert refused.exit_code == 2
    assert "--kid" in refused.stderr
    chosen = run_cli(*base, "--kid", issuer.kid)
    assert chosen.exit_code == 0


# --- 3. refusing before signing ------------------------------------------------------------

#: What issue says of a device credential without --holder-key or --no-holder-key.
NO_HOLDER_KEY = ("vc-im: a device credential without --holder-key binds no key, so every "
                 "presentation of it is refused; give the device's public key with --holder-key "
                 "(or --no-holder-key if that is meant).\n")


def issue_args(world: dict[str, Path], *extra: object) -> tuple[object, ...]:
    """``issue`` of a device credential by the world's issuer at NOW, with ``extra``."""
    return ("issue", "--key", world["issuer"], "--issuer", ISSUER, "--subject", DEVICE,
            "--fn", "Alice M. Smith", "--now", NOW, *extra)


def test_issue_refuses_a_device_credential_without_a_holder_key(
        world: dict[str, Path]) -> None:
    """A real process: issue of a device credential with neither --holder-key nor
    --no-holder-key exits 2 with the one sentence and prints nothing on stdout."""
    result = run_process(*issue_args(world), cwd=world["root"])
    assert (result.returncode, result.stdout, result.stderr) == (2, "", NO_HOLDER_KEY)
    typed = run_cli(*issue_args(world, "--type", "device"))
    assert (typed.exit_code, typed.stdout, typed.stderr) == (2, "", NO_HOLDER_KEY)


def test_issue_no_holder_key_issues_an_unbound_device_credential(
        world: dict[str, Path]) -> None:
    """A real process: --no-holder-key issues a device credential without cnf; verify of the
    credential alone is valid, and verify --json's subject has holder_key null."""
    root = world["root"]
    issued = run_process(*issue_args(world, "--no-holder-key"), cwd=root)
    assert (issued.returncode, issued.stderr) == (0, "")
    (root / "unbound.jwt").write_text(issued.stdout)
    payload = json.loads(base64.urlsafe_b64decode(issued.stdout.split(".")[1] + "=="))
    assert "cnf" not in payload
    verified = run_process("verify", "unbound.jwt", "--trust", world["trust"], "--now", NOW,
                           "--json", cwd=root)
    report = json.loads(verified.stdout)
    assert (verified.returncode, report["ok"], report["code"]) == (0, True, None)
    assert (report["subject"]["id"], report["subject"]["holder_key"]) == (DEVICE, None)


def test_issue_no_holder_key_contradicts_holder_key(world: dict[str, Path]) -> None:
    """--no-holder-key with --holder-key exits 2 with one sentence and signs nothing."""
    result = run_cli(*issue_args(world, "--no-holder-key", "--holder-key",
                                 world["device_pub"]))
    assert (result.exit_code, result.stdout) == (2, "")
    assert one_line(result.stderr) == ("vc-im: --no-holder-key and --holder-key contradict "
                                       "each other; give one.")


def test_issue_of_a_user_credential_needs_no_holder_key(world: dict[str, Path]) -> None:
    """The holder-key rule is for device credentials: --type user without one still issues."""
    result = run_cli("issue", "--key", world["issuer"], "--issuer", ISSUER, "--subject", HANDLE,
                     "--fn", "Alice M. Smith", "--type", "user", "--now", NOW)
    assert (result.exit_code, result.stderr) == (0, "")


def test_present_check_refuses_unbound_or_expired_credentials(
        world: dict[str, Path]) -> None:
    """present checks by default: it refuses a key the credential does not bind, an expired
    credential and an unbound one (exit 2, one sentence, nothing printed); --check says the
    same explicitly; --no-check signs what it is given, and verify refuses it."""
    other = keys.generate("Ed25519")
    keys.write_private_key(world["root"] / "other.jwk", other)
    base = ("present", "--credential", world["vc"], "--audience", VERIFIER, "--nonce", "n" * 22)
    late = str(int(NOW) + 91 * 86400)
    for flags in ((), ("--check",)):
        wrong = run_cli(*base, *flags, "--key", world["root"] / "other.jwk", "--now", NOW)
        assert (wrong.exit_code, wrong.stdout) == (2, "")
        assert "not the presenting key" in one_line(wrong.stderr)
        expired = run_cli(*base, *flags, "--key", world["device"], "--now", late)
        assert (expired.exit_code, expired.stdout) == (2, "")
        assert "expired" in one_line(expired.stderr)
    unbound = run_cli(*issue_args(world, "--no-holder-key"))
    (world["root"] / "unbound.jwt").write_text(unbound.stdout)
    none = run_cli("present", "--credential", world["root"] / "unbound.jwt", "--audience",
                   VERIFIER, "--nonce", "n" * 22, "--key", world["device"], "--now", NOW)
    assert (none.exit_code, none.stdout) == (2, "")
    assert "binds no holder key" in one_line(none.stderr)
    unchecked = run_cli(*base, "--no-check", "--key", world["root"] / "other.jwk", "--now", NOW)
    assert (unchecked.exit_code, unchecked.stderr) == (0, "")


def _present_and_verify(world: dict[str, Path], key: Path, now: str, *flags: str,
                        ) -> tuple[subprocess.CompletedProcess[str],
                                   subprocess.CompletedProcess[str] | None]:
    """Real processes: present the world's credential with ``key`` at ``now`` (and
    ``flags``), then, if that signed, verify the presentation at ``now``."""
    root = world["root"]
    presented = run_process("present", "--credential", world["vc"], "--audience", VERIFIER,
                            "--nonce", "n" * 22, "--key", key, "--now", now, *flags, cwd=root)
    if presented.returncode != 0:
        return presented, None
    (root / "vp.jwt").write_text(presented.stdout)
    verified = run_process("verify", "vp.jwt", "--trust", world["trust"], "--now", now,
                           "--audience", VERIFIER, "--nonce", "n" * 22, "--store",
                           root / f"s{now}.sqlite3", "--json", cwd=root)
    return presented, verified


def test_present_refuses_another_key_and_no_check_leaves_it_to_verify(
        world: dict[str, Path]) -> None:
    """Real processes: present refuses by default a credential bound to another key (exit 2,
    nothing on stdout); with --no-check it signs it and verify refuses with holder_binding."""
    keys.write_private_key(world["root"] / "other.jwk", keys.generate("Ed25519"))
    refused, _ = _present_and_verify(world, world["root"] / "other.jwk", NOW)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert one_line(refused.stderr).startswith("vc-im: credential 1 binds the key ")
    signed, verified = _present_and_verify(world, world["root"] / "other.jwk", NOW,
                                           "--no-check")
    assert (signed.returncode, signed.stderr) == (0, "")
    assert verified is not None
    assert (verified.returncode, json.loads(verified.stdout)["code"]) == (1, "holder_binding")


def test_present_refuses_an_expired_credential_and_no_check_leaves_it_to_verify(
        world: dict[str, Path]) -> None:
    """Real processes: present refuses by default an expired credential (exit 2, nothing on
    stdout); with --no-check it signs it and verify refuses with expired."""
    late = str(int(NOW) + 91 * 86400)
    refused, _ = _present_and_verify(world, world["device"], late)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert one_line(refused.stderr).startswith("vc-im: credential 1 expired at ")
    signed, verified = _present_and_verify(world, world["device"], late, "--no-check")
    assert (signed.returncode, signed.stderr) == (0, "")
    assert verified is not None
    assert (verified.returncode, json.loads(verified.stdout)["code"]) == (1, "expired")


# --- 5. conventions ------------------------------------------------------------------------

def test_a_usage_error_off_a_terminal_is_one_plain_sentence(tmp_path: Path) -> None:
    """A missing option, piped: one line, no box, exit 2; with --json, a JSON error."""
    result = run_process("dpop", "create", "--key", "k.jwk", cwd=tmp_path)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith("vc-im: Missing option '--htm'")
    assert "╭" not in result.stderr
    as_json = run_process("nonce", "--json", "--bogus", cwd=tmp_path)
    error = json.loads(as_json.stdout)["error"]
    assert (as_json.returncode, error["code"]) == (2, "usage")
    assert one_line(as_json.stderr) == f"vc-im: {error['message']}"


def test_help_shows_readable_metavars(tmp_path: Path) -> None:
    """No Python type names (<bool>, <list[Path]>, <str>) anywhere in the help of verify,
    issue, present or uri parse; options show FILE, TEXT, INTEGER or their choices."""
    for command in (("verify",), ("issue",), ("present",), ("uri", "parse")):
        result = run_process(*command, "--help", cwd=tmp_path)
        for ugly in ("<bool>", "<list[", "<path>", "<str>", "<int>"):
            assert ugly not in result.stdout, (command, ugly)
    issue_help = run_process("issue", "--help", cwd=tmp_path).stdout
    assert "FILE" in issue_help
    assert "device|user" in issue_help


def test_version(tmp_path: Path) -> None:
    """--version prints vc-im and the installed version."""
    from importlib.metadata import version

    result = run_process("--version", cwd=tmp_path)
    assert result.stdout == f"vc-im {version('vc-im')}\n"


def _internal_error(tmp_path: Path, *debug: str) -> subprocess.CompletedProcess[str]:
    """A real process whose clock is broken (a stand-in for a bug): vc-im's clock raises."""
    code = ("import sys, vc_im.times\n"
            "def broken():\n    raise RuntimeError('a bug')\n"
            "vc_im.times.now_seconds = broken\n"
            "from vc_im.cli import main\n"
            f"sys.argv = ['vc-im', *{list(debug)!r}, 'nonce', '--store', 's.sqlite3']\n"
            "main()\n")
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=process_env(tmp_path),
                          capture_output=True, text=True, check=False, timeout=120)


def test_an_internal_error_is_one_sentence_unless_debug(tmp_path: Path) -> None:
    """A bug: exit 2 and a sentence that says to rerun with --debug; with -v, the traceback."""
    quiet = _internal_error(tmp_path)
    assert quiet.returncode == 2
    assert "rerun with --debug" in one_line(quiet.stderr)
    loud = _internal_error(tmp_path, "-v")
    assert loud.returncode == 2
    assert "Traceback" in loud.stderr
    assert "RuntimeError: a bug" in loud.stderr


def test_a_broken_trust_file_names_line_and_column(world: dict[str, Path]) -> None:
    """Invalid JSON in the trust file: the sentence says where."""
    (world["root"] / "bad.json").write_text('{"issuers": [\n  {"id": 1,}\n]}\n')
    result = run_cli("verify", world["vc"], "--trust", world["root"] / "bad.json")
    assert result.exit_code == 2
    assert "at line 2, column 12" in one_line(result.stderr)


@pytest.mark.parametrize(("args", "code"), [
    (("issue", "--key", "missing.jwk", "--issuer", ISSUER, "--subject", DEVICE, "--fn", "A"),
     "bad_key"),
    (("present", "--key", "device.jwk", "--credential", "missing.jwt", "--audience", VERIFIER,
      "--nonce", "n"), "bad_input"),
])
def test_json_errors(world: dict[str, Path], args: tuple[str, ...], code: str) -> None:
    """With --json an error is still one sentence on stderr, and stdout holds the JSON error
    object with a stable code."""
    result = run_process(*args, "--json", cwd=world["root"])
    assert result.returncode == 2
    error: dict[str, Any] = json.loads(result.stdout)["error"]
    assert error["code"] == code
    assert one_line(result.stderr) == f"vc-im: {error['message']}"


def test_verify_json_exit_2_keeps_stdout_empty(world: dict[str, Path]) -> None:
    """verify's exit 2 prints no report and no JSON error on stdout (CONTRACT.md)."""
    result = run_process("verify", "vc.jwt", "--trust", "missing.json", "--json",
                         cwd=world["root"])
    assert (result.returncode, result.stdout) == (2, "")
    assert one_line(result.stderr).startswith("vc-im: ")


def test_json_output_of_issue_present_nonce_and_dpop(world: dict[str, Path]) -> None:
    """issue, present, dpop create and nonce print one JSON object under --json."""
    issued = json.loads(run_cli("issue", "--key", world["issuer"], "--issuer", ISSUER,
                                "--subject", DEVICE, "--fn", "A", "--holder-key",
                                world["device_pub"], "--json").stdout)
    assert issued["payload"]["sub"] == DEVICE
    assert issued["token"].count(".") == 2
    presented = json.loads(run_cli("present", "--key", world["device"], "--credential",
                                   world["vc"], "--audience", VERIFIER, "--nonce", "n" * 22,
                                   "--now", NOW, "--json").stdout)
    assert presented["payload"]["iss"] == DEVICE
    proof = json.loads(run_cli("dpop", "create", "--key", world["device"], "--htm", "POST",
                               "--htu", "https://rs.example/x", "--json").stdout)
    assert proof["header"]["typ"] == "dpop+jwt"
    nonce = json.loads(run_cli("nonce", "--store", world["root"] / "s.sqlite3", "--now", NOW,
                               "--json").stdout)
    assert (len(nonce["nonce"]), nonce["expires_at"]) == (43, int(NOW) + 300)


def test_x509_show_json(tmp_path: Path) -> None:
    """x509 show --json lists each certificate's fields."""
    made = run_cli("x509", "ca", "--name", "Test CA", "--out-cert", tmp_path / "ca.pem",
                   "--out-key", tmp_path / "ca.jwk")
    if made.exit_code != 0:
        pytest.fail(made.stderr)
    shown = json.loads(run_cli("x509", "show", tmp_path / "ca.pem", "--json").stdout)
    assert shown[0]["ca"] is True
    assert "Test CA" in shown[0]["subject"]


# --- 6 and 7: files and the demo -------------------------------------------------------------

def test_keygen_without_fchmod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """keygen writes its 0600 key where os.fchmod does not exist (Windows before 3.13)."""
    monkeypatch.delattr(os, "fchmod", raising=False)
    result = run_cli("keygen", "--out", tmp_path / "k.jwk")
    assert result.exit_code == 0
    if os.name == "posix":
        assert (tmp_path / "k.jwk").stat().st_mode & 0o777 == 0o600


def test_demo_prints_a_summary_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """The demo prints no whole token and removes its temporary directory (TMPDIR is the
    test's directory); --dir keeps the files."""
    before = set(tmp_path.iterdir())
    result = run_process("demo", cwd=tmp_path)
    assert result.returncode == 0
    assert set(tmp_path.iterdir()) == before
    assert "verified: id=im:" in result.stdout
    assert all(line.count(".") < 2 or "eyJ" not in line or "chars)" in line
               for line in result.stdout.splitlines())
    kept = run_process("demo", "--dir", "demo", cwd=tmp_path)
    assert kept.returncode == 0
    token = (tmp_path / "demo" / "alice.vc.jwt").read_text().strip()
    assert token not in kept.stdout


def test_vc_im_command_is_the_module() -> None:
    """The tests' real processes start vc-im as python -m vc_im."""
    assert vc_im_command()[1:] == ["-m", "vc_im"]


def test_key_show_converts_a_sec1_key_to_a_jwk(tmp_path: Path) -> None:
    """key show reads a SEC1 EC key (as openssl ecparam writes it) and prints its public JWK,
    the same key the library reads from the JWK."""
    from cryptography.hazmat.primitives.asymmetric import ec

    native = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ec.pem").write_bytes(native.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    result = run_process("key", "show", "ec.pem", "--output", "jwk", cwd=tmp_path)
    jwk = json.loads(result.stdout)
    assert (jwk["kty"], jwk["crv"], "d" in jwk) == ("EC", "P-256", False)
    assert keys.key_from_jwk(jwk).thumbprint() == keys.read_key_file(
        tmp_path / "ec.pem").thumbprint()
