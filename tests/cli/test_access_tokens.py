"""``vc-im token issue`` and ``vc-im token verify``: the draft's §5.2 flow (a device's DPoP
proof obtains an access token; a third party verifies it with a fresh proof) in real
processes, with its refusals and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import claims_of
from tests.helpers.cli import run_process

pytestmark = pytest.mark.slow

DEVICE = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
TOKEN_ENDPOINT = "https://im.example.com/client/token"
RESOURCE = "https://rs.example.com/profile"
NOW = "2026-01-31T12:00:00Z"


def vc_im(where: Path, *args: str, stdin: str | None = None) -> str:
    """Run a command that must succeed; its stdout."""
    result = run_process(*args, cwd=where, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """Keys for the IM provider, its token service and Alice's device; Alice's device
    credential; a trust file listing both services for example.com."""
    for name in ("issuer", "as", "device", "thief"):
        (tmp_path / f"{name}.pub.jwk").write_text(
            vc_im(tmp_path, "keygen", "--out", f"{name}.jwk"))
    (tmp_path / "alice.vc.jwt").write_text(vc_im(
        tmp_path, "issue", "--key", "issuer.jwk", "--issuer", "https://im.example.com",
        "--subject", DEVICE, "--fn", "Alice M. Smith", "--holder-key", "device.pub.jwk",
        "--now", NOW))
    issuers = [{"id": "https://im.example.com", "domains": ["example.com"],
                "keys": [json.loads((tmp_path / "issuer.pub.jwk").read_text())]},
               {"id": "https://as.example.com", "domains": ["example.com"],
                "keys": [json.loads((tmp_path / "as.pub.jwk").read_text())]}]
    (tmp_path / "trust.json").write_text(json.dumps({"issuers": issuers}))
    return tmp_path


def proof(where: Path, key: str, htm: str, htu: str, out: str, *extra: str) -> None:
    """Write a DPoP proof made with ``key`` for ``htm htu``."""
    (where / out).write_text(vc_im(where, "dpop", "create", "--key", key, "--htm", htm,
                                   "--htu", htu, "--now", NOW, *extra))


def mint(where: Path, *extra: str) -> str:
    """Issue a token on a fresh token-endpoint proof from the device."""
    proof(where, "device.jwk", "POST", TOKEN_ENDPOINT, "token-proof.jwt", "--sub", DEVICE)
    return vc_im(where, "token", "issue", "--key", "as.jwk", "--issuer",
                 "https://as.example.com", "--dpop", "token-proof.jwt", "--htm", "POST",
                 "--htu", TOKEN_ENDPOINT, "--audience", "https://rs.example.com",
                 "--store", "as.sqlite3", "--now", NOW, *extra)


def verify(where: Path, proof_file: str, *extra: str) -> tuple[int, str, str]:
    """token verify at.jwt with ``proof_file`` for GET RESOURCE: exit code, stdout, stderr."""
    result = run_process("token", "verify", "at.jwt", "--trust", "trust.json", "--dpop",
                         proof_file, "--htm", "GET", "--htu", RESOURCE, "--store",
                         "rs.sqlite3", "--now", NOW, *extra, cwd=where)
    return result.returncode, result.stdout, result.stderr


def test_figure_5_flow_proof_token_third_party(world: Path) -> None:
    """A proof from the device mints a token for its credential's subject, bound to its key;
    the resource accepts it once with a fresh proof, and refuses that proof a second time."""
    token = mint(world, "--credential", "alice.vc.jwt", "--trust", "trust.json")
    (world / "at.jwt").write_text(token)
    header, payload = claims_of(token.strip())
    assert header["typ"] == "at+jwt"
    device_jkt = json.loads(vc_im(world, "key", "show", "device.pub.jwk", "--output",
                                  "json"))["thumbprint"]
    assert (payload["sub"], payload["cnf"]) == (DEVICE, {"jkt": device_jkt})
    proof(world, "device.jwk", "GET", RESOURCE, "rs-proof.jwt", "--access-token",
          token.strip())
    code, out, err = verify(world, "rs-proof.jwt")
    assert (code, out.splitlines()[0], err) == (0, "valid", "")
    assert "  DPoP proof 1: valid" in out.splitlines()
    code, out, err = verify(world, "rs-proof.jwt")
    assert (code, out.splitlines()[0]) == (1, "invalid: replay")
    assert err == ("vc-im: invalid (replay): The DPoP proof: This proof's jti was already used "
                   "for this URI.\n")


def test_token_replayed_with_a_proof_from_another_key(world: Path) -> None:
    """A stolen token with the thief's own proof exits 1 with holder_binding."""
    token = mint(world).strip()
    (world / "at.jwt").write_text(token)
    proof(world, "thief.jwk", "GET", RESOURCE, "thief-proof.jwt", "--access-token", token)
    code, out, err = verify(world, "thief-proof.jwt", "--json")
    assert code == 1
    report = json.loads(out)
    assert (report["ok"], report["kind"]) == (False, "access_token")
    assert report["checks"][-1]["name"] == "proof"
    assert report["checks"][-1]["code"] == "holder_binding"
    assert report["credentials"][0]["kind"] == "dpop"
    assert err.startswith("vc-im: invalid (holder_binding): The DPoP proof: The proof key ")
    assert "is not the key the access token is bound to (cnf.jkt" in err


def test_one_proof_mints_one_token(world: Path) -> None:
    """The token-endpoint proof is consumed: issuing on it again exits 1, naming replay."""
    mint(world)
    result = run_process("token", "issue", "--key", "as.jwk", "--issuer",
                         "https://as.example.com", "--dpop", "token-proof.jwt", "--htm", "POST",
                         "--htu", TOKEN_ENDPOINT, "--audience", "https://rs.example.com",
                         "--store", "as.sqlite3", "--now", NOW, cwd=world)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("vc-im: invalid (replay): the DPoP proof is refused: This proof's "
                             "jti was already used for this URI.\n")


def test_a_credential_that_binds_another_key_mints_nothing(world: Path) -> None:
    """The thief's proof with Alice's credential exits 1 with holder_binding."""
    proof(world, "thief.jwk", "POST", TOKEN_ENDPOINT, "thief-proof.jwt")
    result = run_process("token", "issue", "--key", "as.jwk", "--issuer",
                         "https://as.example.com", "--dpop", "thief-proof.jwt", "--htm", "POST",
                         "--htu", TOKEN_ENDPOINT, "--audience", "https://rs.example.com",
                         "--credential", "alice.vc.jwt", "--trust", "trust.json",
                         "--store", "as.sqlite3", "--now", NOW, cwd=world)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("vc-im: invalid (holder_binding): the DPoP proof is refused: The "
                             "proof key is not the key the credential binds.\n")


def test_audience_defaults_to_the_origin_of_htu(world: Path) -> None:
    """Without --audience the resource is the origin of --htu; another origin's token fails
    with audience_mismatch."""
    token = mint(world).strip()
    (world / "at.jwt").write_text(token)
    proof(world, "device.jwk", "GET", "https://other.example.com/profile", "other.jwt",
          "--access-token", token)
    result = run_process("token", "verify", "at.jwt", "--trust", "trust.json", "--dpop",
                         "other.jwt", "--htm", "GET", "--htu",
                         "https://other.example.com/profile", "--store", "rs.sqlite3", "--now",
                         NOW, cwd=world)
    assert (result.returncode, result.stdout.splitlines()[0]) == (1, "invalid: audience_mismatch")


def test_token_read_from_stdin(world: Path) -> None:
    """The token may come on stdin."""
    token = mint(world).strip()
    proof(world, "device.jwk", "GET", RESOURCE, "rs-proof.jwt", "--access-token", token)
    result = run_process("token", "verify", "-", "--trust", "trust.json", "--dpop",
                         "rs-proof.jwt", "--htm", "GET", "--htu", RESOURCE, "--store",
                         "rs.sqlite3", "--now", NOW, cwd=world, stdin=token + "\n")
    assert (result.returncode, result.stdout.splitlines()[0]) == (0, "valid")


@pytest.mark.parametrize(("args", "message"), [
    (("--credential", "alice.vc.jwt"), "vc-im: --credential and --trust go together.\n"),
    (("--valid-for", "2d"), "vc-im: an access token lives 1 s to 86400 s (1 day); 172800 s "
     "was asked.\n"),
    (("--valid-for", "soon"), "vc-im: 'soon' is not a duration; write a number and a unit, "
     "like 90d, 12h, 30m or 3600s.\n"),
])
def test_issue_usage_errors_exit_2(world: Path, args: tuple[str, ...], message: str) -> None:
    """Options that cannot be used exit 2 with one sentence, and print no token."""
    proof(world, "device.jwk", "POST", TOKEN_ENDPOINT, "token-proof.jwt", "--sub", DEVICE)
    result = run_process("token", "issue", "--key", "as.jwk", "--issuer",
                         "https://as.example.com", "--dpop", "token-proof.jwt", "--htm", "POST",
                         "--htu", TOKEN_ENDPOINT, "--audience", "https://rs.example.com",
                         "--store", "as.sqlite3", "--now", NOW, *args, cwd=world)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message)


def test_issue_needs_a_private_key_and_a_proof_file(world: Path) -> None:
    """A public key or a missing proof file is a usage error."""
    base = ["token", "issue", "--issuer", "https://as.example.com", "--htm", "POST", "--htu",
            TOKEN_ENDPOINT, "--audience", "https://rs.example.com", "--store", "as.sqlite3"]
    result = run_process(*base, "--key", "as.pub.jwk", "--dpop", "nothing.jwt", cwd=world)
    assert (result.returncode, result.stdout) == (2, "")
    proof(world, "device.jwk", "POST", TOKEN_ENDPOINT, "token-proof.jwt", "--sub", DEVICE)
    result = run_process(*base, "--key", "as.jwk", "--dpop", "nothing.jwt", cwd=world)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("vc-im: cannot read DPoP proof nothing.jwt")
