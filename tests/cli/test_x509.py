"""``vc-im x509 ca | leaf | show``: minting and showing certificates from the command line."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import Result

from tests.helpers.cli import run_cli, run_process
from vc_im import keys
from vc_im.identifiers import parse
from vc_im.trust.x509 import load_roots, verify_chain, x5c_of

#: The seed's mock-up dates: Not Before Jul 6 06:41:50 2022 GMT.
SEED_NOT_BEFORE = "2022-07-06T06:41:50Z"
SEED_NOW = 1_657_089_710
SEED_DEVICE = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
SEED_HANDLE = "im:%40alice.smith@example.com"
SEED_LEAF_SHOW = (
    "subject: CN=Alice M. Smith,O=example.com\n"
    "issuer: CN=acme.example.com\n"
    "not before: 2022-07-06T06:41:50Z\n"
    "not after: 2022-10-04T06:41:49Z\n"
    "ca: no\n"
    "key: Ed25519\n"
    f"san: device {SEED_DEVICE}\n"
    f"san: handle {SEED_HANDLE}\n"
)


@pytest.fixture
def ca_files(tmp_path: Path) -> tuple[Path, Path]:
    """A root CA minted by ``vc-im x509 ca`` at the seed's date: (certificate, key)."""
    cert, key = tmp_path / "ca.pem", tmp_path / "ca.jwk"
    result = run_cli("x509", "ca", "--out-cert", str(cert), "--out-key", str(key),
                     "--name", "acme.example.com", "--now", SEED_NOT_BEFORE)
    assert (result.exit_code, result.stderr) == (0, "")
    return cert, key


@pytest.fixture
def device_public(tmp_path: Path) -> tuple[Path, keys.Key]:
    """Alice's device public key as a JWK file, and the key."""
    key = keys.generate("Ed25519")
    path = tmp_path / "device.pub.jwk"
    keys.write_public_key(path, key)
    return path, key


def mint_seed_leaf(ca_files: tuple[Path, Path], device: Path, out: Path) -> Result:
    """``vc-im x509 leaf`` with the seed's subject and SANs."""
    return run_cli("x509", "leaf", "--ca-cert", str(ca_files[0]), "--ca-key", str(ca_files[1]),
                   "--key", str(device), "--san", SEED_DEVICE, "--san", SEED_HANDLE,
                   "--name", "Alice M. Smith", "--out", str(out), "--now", SEED_NOT_BEFORE)


def test_ca_writes_a_root_and_a_private_key(ca_files: tuple[Path, Path]) -> None:
    """The CA file is one self-signed P-256 CA certificate; the key file is a private JWK, 0600."""
    cert, key = ca_files
    ca_key = keys.read_key_file(key, require="private")
    assert ca_key.alg == "ES256"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    (root,) = load_roots(cert.read_bytes())
    assert root.subject == root.issuer
    assert run_cli("x509", "show", str(cert)).stdout == (
        "subject: CN=acme.example.com\n"
        "issuer: CN=acme.example.com\n"
        "not before: 2022-07-06T06:41:50Z\n"
        "not after: 2032-07-03T06:41:49Z\n"
        "ca: yes\n"
        "key: ES256\n")


def test_leaf_mints_the_seed_certificate(ca_files: tuple[Path, Path],
                                         device_public: tuple[Path, keys.Key],
                                         tmp_path: Path) -> None:
    """The leaf prints its description, and validates against the CA with both identifiers."""
    out = tmp_path / "leaf.pem"
    result = mint_seed_leaf(ca_files, device_public[0], out)
    assert (result.exit_code, result.stdout, result.stderr) == (0, SEED_LEAF_SHOW, "")
    certified = verify_chain(x5c_of(out.read_bytes()), load_roots(ca_files[0].read_bytes()),
                             now=SEED_NOW + 60)
    assert certified.key == device_public[1].public()
    assert certified.identifiers == (parse(SEED_DEVICE), parse(SEED_HANDLE))


def test_show_prints_the_seed_leaf_and_reads_stdin(ca_files: tuple[Path, Path],
                                                   device_public: tuple[Path, keys.Key],
                                                   tmp_path: Path) -> None:
    """show prints the same block from a file and from stdin."""
    out = tmp_path / "leaf.pem"
    assert mint_seed_leaf(ca_files, device_public[0], out).exit_code == 0
    assert run_cli("x509", "show", str(out)).stdout == SEED_LEAF_SHOW
    from_stdin = run_cli("x509", "show", "-", input=out.read_bytes())
    assert (from_stdin.exit_code, from_stdin.stdout) == (0, SEED_LEAF_SHOW)


def test_show_prints_every_certificate_and_every_san_kind(tmp_path: Path,
                                                          ca_files: tuple[Path, Path]) -> None:
    """Several certificates print as blocks; non-IM and invalid URIs are labelled as such."""
    ca_key = keys.read_key_file(ca_files[1], require="private")
    signer = serialization.load_pem_private_key(ca_key.to_pem(private=True), password=None)
    assert isinstance(signer, ec.EllipticCurvePrivateKey)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "odd")])
    root = x509.load_pem_x509_certificate(ca_files[0].read_bytes())
    odd = (x509.CertificateBuilder().subject_name(subject).issuer_name(root.subject)
           .public_key(ec.generate_private_key(ec.SECP224R1()).public_key())
           .serial_number(7).not_valid_before(root.not_valid_before_utc)
           .not_valid_after(root.not_valid_after_utc)
           .add_extension(x509.SubjectAlternativeName([
               x509.UniformResourceIdentifier("https://example.com/alice"),
               x509.UniformResourceIdentifier("im:#projectX@example.com"),
               x509.UniformResourceIdentifier("mimi://example.com/u/alice.smith")]),
               critical=False)
           .sign(signer, hashes.SHA256()))
    both = tmp_path / "both.pem"
    both.write_bytes(odd.public_bytes(serialization.Encoding.PEM) + ca_files[0].read_bytes())
    result = run_cli("x509", "show", str(both))
    assert result.exit_code == 0
    first, second = result.stdout.split("\n\n")
    lines = first.splitlines()
    assert lines[:2] == ["subject: CN=odd", "issuer: CN=acme.example.com"]
    assert lines[4:6] == ["ca: no", "key: EC secp224r1 (vc_im does not sign with it)"]
    assert lines[6] == "san: uri https://example.com/alice"
    assert lines[7].startswith("san: invalid im:#projectX@example.com (")
    assert lines[8] == "san: user mimi://example.com/u/alice.smith"
    assert second.startswith("subject: CN=acme.example.com\n")


def test_intermediate_ca_chain_of_three(ca_files: tuple[Path, Path],
                                        device_public: tuple[Path, keys.Key],
                                        tmp_path: Path) -> None:
    """ca --issuer-cert/--issuer-key makes an intermediate; leaf + intermediate validate."""
    inter, inter_key, leaf = (tmp_path / "user-ca.pem", tmp_path / "user-ca.jwk",
                              tmp_path / "leaf.pem")
    made = run_cli("x509", "ca", "--out-cert", str(inter), "--out-key", str(inter_key),
                   "--name", "alice.smith", "--now", SEED_NOT_BEFORE, "--days", "365",
                   "--issuer-cert", str(ca_files[0]), "--issuer-key", str(ca_files[1]),
                   "--path-length", "0")
    assert made.exit_code == 0
    assert made.stdout.splitlines()[:5] == [
        "subject: CN=alice.smith", "issuer: CN=acme.example.com",
        "not before: 2022-07-06T06:41:50Z", "not after: 2023-07-06T06:41:49Z", "ca: yes"]
    assert mint_seed_leaf((inter, inter_key), device_public[0], leaf).exit_code == 0
    chain = x5c_of(leaf.read_bytes() + inter.read_bytes())
    certified = verify_chain(chain, load_roots(ca_files[0].read_bytes()), now=SEED_NOW)
    assert certified.chain == ("CN=Alice M. Smith,O=example.com", "CN=alice.smith",
                               "CN=acme.example.com")


@pytest.mark.parametrize(("extra", "message"), [
    (["--san", "im:#x@example.com"],
     "vc-im: the subjectAltName URI 'im:#x@example.com' is not a valid identifier: "),
    (["--san", SEED_DEVICE, "--san", "im:bob@example.org"],
     "vc-im: the subjectAltName identifiers name more than one domain "),
])
def test_leaf_refuses_bad_sans_with_exit_2(extra: list[str], message: str,
                                           ca_files: tuple[Path, Path],
                                           device_public: tuple[Path, keys.Key],
                                           tmp_path: Path) -> None:
    """An invalid --san exits 2 with one sentence on stderr and writes nothing."""
    out = tmp_path / "leaf.pem"
    result = run_cli("x509", "leaf", "--ca-cert", str(ca_files[0]), "--ca-key", str(ca_files[1]),
                     "--key", str(device_public[0]), "--name", "Alice", "--out", str(out), *extra)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert not out.exists()


def test_leaf_refuses_a_private_subject_key(ca_files: tuple[Path, Path],
                                            tmp_path: Path) -> None:
    """--key must be the subject's public key: a private key is refused with exit 2."""
    private = tmp_path / "device.jwk"
    keys.write_private_key(private, keys.generate("Ed25519"))
    result = run_cli("x509", "leaf", "--ca-cert", str(ca_files[0]), "--ca-key", str(ca_files[1]),
                     "--key", str(private), "--san", SEED_DEVICE, "--name", "Alice",
                     "--out", str(tmp_path / "leaf.pem"))
    assert result.exit_code == 2
    assert result.stderr == (f"vc-im: the key file {private} is unusable: the key holds a "
                             "private key where a public key is expected; give its public part "
                             "only.\n")


def test_leaf_refuses_a_ca_key_of_another_ca(ca_files: tuple[Path, Path],
                                             device_public: tuple[Path, keys.Key],
                                             tmp_path: Path) -> None:
    """A --ca-key that does not belong to --ca-cert exits 2."""
    stranger = tmp_path / "stranger.jwk"
    keys.write_private_key(stranger, keys.generate("ES256"))
    result = run_cli("x509", "leaf", "--ca-cert", str(ca_files[0]), "--ca-key", str(stranger),
                     "--key", str(device_public[0]), "--san", SEED_DEVICE, "--name", "Alice",
                     "--out", str(tmp_path / "leaf.pem"))
    assert (result.exit_code, result.stderr) == (
        2, "vc-im: the CA key does not belong to the CA certificate.\n")


def test_ca_refuses_half_an_issuer(ca_files: tuple[Path, Path], tmp_path: Path) -> None:
    """--issuer-cert without --issuer-key is a usage error."""
    result = run_cli("x509", "ca", "--out-cert", str(tmp_path / "i.pem"), "--out-key",
                     str(tmp_path / "i.jwk"), "--name", "inter", "--issuer-cert", str(ca_files[0]))
    assert (result.exit_code, result.stderr) == (
        2, "vc-im: --issuer-cert and --issuer-key go together.\n")


@pytest.mark.parametrize(("content", "message"), [
    (None, "vc-im: cannot use {path}: No such file or directory.\n"),
    (b"hello\n", "vc-im: the certificate file holds no readable PEM or DER X.509 "
                 "certificate.\n"),
])
def test_show_refuses_unreadable_files(content: bytes | None, message: str,
                                       tmp_path: Path) -> None:
    """A missing or unreadable certificate file exits 2 with one sentence."""
    path = tmp_path / "cert.pem"
    if content is not None:
        path.write_bytes(content)
    result = run_cli("x509", "show", str(path))
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", message.format(path=path))


def test_days_must_be_positive(tmp_path: Path) -> None:
    """--days 0 is a usage error (exit 2)."""
    result = run_cli("x509", "ca", "--out-cert", str(tmp_path / "c.pem"), "--out-key",
                     str(tmp_path / "c.jwk"), "--name", "root", "--days", "0")
    assert result.exit_code == 2
    assert not (tmp_path / "c.pem").exists()


@pytest.mark.slow
def test_end_to_end_in_a_real_process(tmp_path: Path) -> None:
    """A real process mints a CA and the seed's leaf, shows it, and the chain validates."""
    made = run_process("x509", "ca", "--out-cert", "ca.pem", "--out-key", "ca.jwk",
                       "--name", "acme.example.com", "--now", SEED_NOT_BEFORE, cwd=tmp_path)
    assert (made.returncode, made.stderr) == (0, "")
    device = keys.generate("Ed25519")
    keys.write_public_key(tmp_path / "device.pub.jwk", device)
    leaf = run_process("x509", "leaf", "--ca-cert", "ca.pem", "--ca-key", "ca.jwk",
                       "--key", "device.pub.jwk", "--san", SEED_DEVICE, "--san", SEED_HANDLE,
                       "--name", "Alice M. Smith", "--out", "leaf.pem", "--now", SEED_NOT_BEFORE,
                       cwd=tmp_path)
    assert (leaf.returncode, leaf.stdout, leaf.stderr) == (0, SEED_LEAF_SHOW, "")
    shown = run_process("x509", "show", "leaf.pem", cwd=tmp_path)
    assert (shown.returncode, shown.stdout) == (0, SEED_LEAF_SHOW)
    bad = run_process("x509", "show", "ca.jwk", cwd=tmp_path)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == ("vc-im: the certificate file holds no readable PEM or DER X.509 "
                          "certificate.\n")
    x5c = x5c_of((tmp_path / "leaf.pem").read_bytes())
    assert base64.b64decode(x5c[0], validate=True)
    certified = verify_chain(x5c, load_roots((tmp_path / "ca.pem").read_bytes()),
                             now=SEED_NOW + 89 * 86_400)
    assert certified.key == device.public()
