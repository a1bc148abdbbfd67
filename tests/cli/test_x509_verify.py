"""``vc-im x509 verify`` and the cascade from the command line: ``x509 ca --user`` and
``x509 leaf`` from a user certificate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers.cli import run_cli, run_process
from tests.helpers.vectors import vector_path

MOCKUP_NOW = "2022-08-01T00:00:00Z"
DEVICE = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
HANDLE = "im:%40alice.smith@example.com"
USER = "im:SvPfLlwBQi-6oddVRrkqpw@example.com"


@pytest.fixture
def mockup(tmp_path: Path) -> Path:
    """The mock-up vectors, copied into the test's own directory."""
    for name in ("ca.pem", "figure3-leaf.pem", "figure4-user.pem", "figure4-device.pem",
                 "figure4-device-wrong-ian.pem", "bob-user.pem",
                 "bob-issues-alice-device.pem"):
        shutil.copyfile(vector_path("x509-mockup", name), tmp_path / name)
    return tmp_path


def chain(directory: Path, *names: str) -> Path:
    """A chain file of mock-up certificates, leaf first."""
    path = directory / ("-".join(name.removesuffix(".pem") for name in names) + ".chain.pem")
    path.write_bytes(b"".join((directory / name).read_bytes() for name in names))
    return path


def test_figure3_mockup_verifies_in_a_real_process(mockup: Path) -> None:
    """The draft's Ed25519 mock-up: valid, vouching for the device and the handle."""
    result = run_process("x509", "verify", "figure3-leaf.pem", "--ca-file", "ca.pem",
                         "--now", MOCKUP_NOW, cwd=mockup)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[0] == "valid"
    assert (f"  ok   names Certifies device {DEVICE}, handle {HANDLE}."
            in result.stdout.splitlines())


def test_json_report_lists_what_the_chain_certifies(mockup: Path) -> None:
    """--json: the report of every check, and each identifier with its type."""
    result = run_cli("x509", "verify", str(mockup / "figure3-leaf.pem"), "--ca-file",
                     str(mockup / "ca.pem"), "--now", MOCKUP_NOW, "--json",
                     "--identifier", "im:%40alice.smith@EXAMPLE.com")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["kind"] == "certificate"
    assert [check["name"] for check in report["checks"]] == [
        "format", "validity", "path", "usage", "names", "identifier"]
    assert report["certifies"] == [{"id": DEVICE, "type": "device"},
                                   {"id": HANDLE, "type": "handle"}]


def test_cascade_chain_from_stdin(mockup: Path) -> None:
    """Figure 4: device certificate then user certificate, read from standard input."""
    data = chain(mockup, "figure4-device.pem", "figure4-user.pem").read_text()
    result = run_cli("x509", "verify", "-", "--ca-file", str(mockup / "ca.pem"),
                     "--now", MOCKUP_NOW, "--identifier", DEVICE, input=data)
    assert result.exit_code == 0, result.stderr
    assert f"  ok   identifier Certifies {DEVICE} as a device." in result.stdout.splitlines()


@pytest.mark.parametrize(("names", "stderr"), [
    (("figure4-device-wrong-ian.pem", "figure4-user.pem"),
     "vc-im: invalid (untrusted_issuer): The leaf's issuerAltName names im:%40bob@example.com, "
     f"but its issuer 'CN=Alice M. Smith,O=example.com' certifies {HANDLE}, {USER} in its "
     "subjectAltName.\n"),
    (("bob-issues-alice-device.pem", "bob-user.pem"),
     "vc-im: invalid (untrusted_issuer): The user certificate for im:%40bob@example.com may "
     f"issue certificates only for its own devices, and the leaf certifies {DEVICE}, a device "
     "of another user.\n"),
])
def test_cascade_refusals(mockup: Path, names: tuple[str, ...], stderr: str) -> None:
    """An issuerAltName that does not match, and another user's certificate: exit 1."""
    result = run_process("x509", "verify", chain(mockup, *names).name, "--ca-file", "ca.pem",
                         "--now", MOCKUP_NOW, cwd=mockup)
    assert (result.returncode, result.stderr) == (1, stderr)
    assert "  FAIL names [untrusted_issuer]" in result.stdout


def test_identifier_the_chain_does_not_certify(mockup: Path) -> None:
    """--identifier names someone else: claim_mismatch, exit 1."""
    result = run_cli("x509", "verify", str(mockup / "figure3-leaf.pem"), "--ca-file",
                     str(mockup / "ca.pem"), "--now", MOCKUP_NOW,
                     "--identifier", "im:%40bob@example.com")
    assert result.exit_code == 1
    assert result.stderr == (
        "vc-im: invalid (claim_mismatch): The chain does not certify im:%40bob@example.com; "
        f"it certifies {DEVICE}, {HANDLE}.\n")


@pytest.mark.parametrize(("args", "code", "stderr"), [
    (("--identifier", "im:"), 2, "vc-im: --identifier: "),
    (("--ca-file", "figure3-leaf.pem"), 2, "vc-im: the CA root 'CN=Alice M. Smith,O=example.com' "
                                           "is not a CA certificate"),
    (("--ca-file", "missing.pem"), 2, "vc-im: cannot use "),
])
def test_unusable_inputs_exit_2(mockup: Path, args: tuple[str, ...], code: int,
                                stderr: str) -> None:
    """A bad --identifier or roots file is a usage error: one sentence, exit 2."""
    options = dict(zip(args[::2], args[1::2], strict=True))
    ca = options.pop("--ca-file", "ca.pem")
    extra = [item for pair in options.items() for item in pair]
    result = run_cli("x509", "verify", str(mockup / "figure3-leaf.pem"), "--ca-file",
                     str(mockup / ca), "--now", MOCKUP_NOW, *extra)
    assert result.exit_code == code
    assert result.stderr.startswith(stderr)
    assert result.stderr.count("\n") == 1


def test_not_a_certificate_is_malformed(mockup: Path) -> None:
    """A chain file that holds no certificate fails the format check."""
    (mockup / "junk.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n"
                                     "-----END CERTIFICATE-----\n")
    result = run_cli("x509", "verify", str(mockup / "junk.pem"), "--ca-file",
                     str(mockup / "ca.pem"))
    assert result.exit_code == 1
    assert result.stderr.startswith("vc-im: invalid (malformed): The certificate chain holds "
                                    "no readable PEM or DER X.509 certificate.")


def test_too_many_certificates(mockup: Path) -> None:
    """More than five certificates: too_large."""
    leaf = (mockup / "figure3-leaf.pem").read_bytes()
    (mockup / "six.pem").write_bytes(leaf * 6)
    result = run_cli("x509", "verify", str(mockup / "six.pem"), "--ca-file",
                     str(mockup / "ca.pem"), "--now", MOCKUP_NOW)
    assert result.exit_code == 1
    assert result.stderr.startswith("vc-im: invalid (too_large): The chain holds 6 certificates")


def test_chain_file_over_one_mib(mockup: Path) -> None:
    """A chain file larger than 1 MiB is too_large, refused before it is parsed."""
    (mockup / "huge.pem").write_bytes(b"#" * ((1 << 20) + 1))
    result = run_cli("x509", "verify", str(mockup / "huge.pem"), "--ca-file",
                     str(mockup / "ca.pem"))
    assert (result.exit_code, result.stderr) == (
        1, "vc-im: invalid (too_large): The certificate chain is larger than 1 MiB.\n")


def test_cascade_made_with_the_cli(tmp_path: Path) -> None:
    """ca (Ed25519) -> ca --user -> leaf from the user certificate -> verify: valid; and the
    user certificate refuses to issue for a device of another user (exit 2, nothing written)."""
    def ok(*args: str) -> str:
        result = run_process(*args, cwd=tmp_path)
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
        return result.stdout

    ok("x509", "ca", "--name", "acme.example.com", "--alg", "Ed25519",
       "--out-cert", "ca.pem", "--out-key", "ca.jwk")
    shown = ok("x509", "ca", "--name", "Alice M. Smith", "--user", HANDLE, "--user", USER,
               "--issuer-cert", "ca.pem", "--issuer-key", "ca.jwk", "--alg", "Ed25519",
               "--out-cert", "alice.pem", "--out-key", "alice.jwk")
    assert f"san: handle {HANDLE}\nsan: user {USER}\n" in shown
    ok("keygen", "--out", "phone.jwk", "--public-out", "phone.pub.jwk")
    ok("x509", "leaf", "--ca-cert", "alice.pem", "--ca-key", "alice.jwk", "--key",
       "phone.pub.jwk", "--san", DEVICE, "--name", "Alice's phone", "--out", "phone.pem")
    (tmp_path / "chain.pem").write_bytes((tmp_path / "phone.pem").read_bytes()
                                         + (tmp_path / "alice.pem").read_bytes())
    assert ok("x509", "verify", "chain.pem", "--ca-file", "ca.pem").startswith("valid\n")
    refused = run_process("x509", "leaf", "--ca-cert", "alice.pem", "--ca-key", "alice.jwk",
                          "--key", "phone.pub.jwk", "--san", "im:bob/1@example.com",
                          "--name", "x", "--out", "bob.pem", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"vc-im: the user certificate for {HANDLE}, {USER} may issue certificates only for "
        "its own devices, and the leaf certifies im:bob/1@example.com, a device of another "
        "user.\n")
    assert not (tmp_path / "bob.pem").exists()


@pytest.mark.parametrize(("args", "stderr"), [
    (("--alg", "ES256K"), "vc-im: --alg must be ES256, Ed25519 or RS256, not 'ES256K'.\n"),
    (("--user", HANDLE), "vc-im: a user certificate is issued by its domain's CA: give the "
                         "issuing CA's certificate and key.\n"),
])
def test_ca_refusals(tmp_path: Path, args: tuple[str, ...], stderr: str) -> None:
    """x509 ca: an algorithm no validator accepts, a user certificate with no issuer."""
    result = run_cli("x509", "ca", "--name", "n", "--out-cert", str(tmp_path / "c.pem"),
                     "--out-key", str(tmp_path / "c.jwk"), *args)
    assert (result.exit_code, result.stderr) == (2, stderr)
    assert not (tmp_path / "c.pem").exists()
