"""Output files: nothing existing is overwritten without --force, a symlink at an output path
is never written through, two outputs never share a file, private keys are 0600 from birth.

The library function first (vc_im.files), then every command that writes files, in process
and in real ``vc-im`` processes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import NOW
from tests.helpers.cli import vc_im_command
from vc_im import keys
from vc_im.cli import app
from vc_im.errors import InputError
from vc_im.files import (
    OutputExistsError,
    OutputFileError,
    SameOutputError,
    check_distinct_outputs,
    write_new_file,
)

VC_IM = vc_im_command()

OLD = b"precious old content\n"
REFUSED = "overwrites nothing unless told --force"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """A usual umask, whatever the test runner's."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _only(directory: Path) -> list[str]:
    """What a directory holds: no temporary file may be left behind."""
    return sorted(os.listdir(directory))


# --- vc_im.files.write_new_file ---------------------------------------------------------------

@pytest.mark.usefixtures("umask_022")
@pytest.mark.parametrize("mode", [0o600, 0o644])
def test_a_new_file_is_written_with_its_mode(tmp_path: Path, mode: int) -> None:
    """The content arrives whole, with the mode asked (umask 022), and nothing else."""
    path = tmp_path / "out.jwk"
    write_new_file(path, b"data", mode=mode)
    assert path.read_bytes() == b"data"
    assert _mode(path) == mode
    assert _only(tmp_path) == ["out.jwk"]


def test_the_mode_is_set_without_fchmod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """os.open gives the mode, so Windows Python (no os.fchmod before 3.13) writes 0600 too."""
    monkeypatch.delattr(os, "fchmod", raising=False)
    old = os.umask(0)
    try:
        write_new_file(tmp_path / "k.jwk", b"secret", mode=0o600)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "k.jwk") == 0o600


def test_an_existing_file_is_refused_and_untouched(tmp_path: Path) -> None:
    """OutputExistsError (an InputError: exit 2), one sentence, the old bytes kept."""
    path = tmp_path / "out.jwk"
    path.write_bytes(OLD)
    with pytest.raises(OutputExistsError) as raised:
        write_new_file(path, b"new")
    assert isinstance(raised.value, InputError)
    assert raised.value.exit_code == 2
    assert raised.value.message == (f"{path} already exists (a file), and vc-im {REFUSED}.")
    assert path.read_bytes() == OLD
    assert _only(tmp_path) == ["out.jwk"]


def test_force_replaces_a_file(tmp_path: Path) -> None:
    """With force the old file is replaced whole, with the new mode."""
    path = tmp_path / "out.jwk"
    path.write_bytes(OLD)
    path.chmod(0o644)
    write_new_file(path, b"new", mode=0o600, force=True)
    assert path.read_bytes() == b"new"
    assert _mode(path) == 0o600
    assert _only(tmp_path) == ["out.jwk"]


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symlink_is_refused_without_force(tmp_path: Path, dangling: bool) -> None:
    """A symlink, even one pointing nowhere, counts as existing; its target is not created."""
    target = tmp_path / "target"
    if not dangling:
        target.write_bytes(OLD)
    link = tmp_path / "link.jwk"
    link.symlink_to(target)
    with pytest.raises(OutputExistsError, match="a symlink"):
        write_new_file(link, b"new")
    assert link.is_symlink()
    assert target.exists() is not dangling
    if not dangling:
        assert target.read_bytes() == OLD


@pytest.mark.parametrize("dangling", [False, True])
def test_force_replaces_the_symlink_never_its_target(tmp_path: Path, dangling: bool) -> None:
    """The link itself becomes the new file; the file it pointed to is left as it was."""
    target = tmp_path / "target"
    if not dangling:
        target.write_bytes(OLD)
    link = tmp_path / "link.jwk"
    link.symlink_to(target)
    write_new_file(link, b"new", mode=0o600, force=True)
    assert not link.is_symlink()
    assert link.read_bytes() == b"new"
    assert _mode(link) == 0o600
    if dangling:
        assert not target.exists()
    else:
        assert target.read_bytes() == OLD


def test_a_directory_is_never_replaced(tmp_path: Path) -> None:
    """Not even with force."""
    (tmp_path / "d").mkdir()
    with pytest.raises(OutputFileError, match="is a directory"):
        write_new_file(tmp_path / "d", b"new", force=True)
    assert (tmp_path / "d").is_dir()


def test_a_missing_directory_is_one_sentence(tmp_path: Path) -> None:
    """OutputFileError naming the path; no traceback material."""
    path = tmp_path / "missing" / "out.jwk"
    with pytest.raises(OutputFileError) as raised:
        write_new_file(path, b"new")
    assert raised.value.message == (f"the file {path} cannot be written: No such file or "
                                    "directory.")


def test_a_name_taken_while_writing_is_not_replaced(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The final step is a hard link, which fails if the name appeared after the check."""
    path = tmp_path / "out.jwk"
    real_link = os.link

    def racing_link(src: str | Path, dst: str | Path) -> None:
        Path(dst).write_bytes(OLD)  # another process wins the race
        real_link(src, dst)

    monkeypatch.setattr(os, "link", racing_link)
    with pytest.raises(OutputExistsError):
        write_new_file(path, b"new")
    assert path.read_bytes() == OLD
    assert _only(tmp_path) == ["out.jwk"]


def test_without_hard_links_it_still_refuses(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """On a file system without hard links: check, then rename."""
    def no_link(src: str | Path, dst: str | Path) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    write_new_file(tmp_path / "a", b"new")
    assert (tmp_path / "a").read_bytes() == b"new"
    with pytest.raises(OutputExistsError):
        write_new_file(tmp_path / "a", b"newer")
    assert (tmp_path / "a").read_bytes() == b"new"
    assert _only(tmp_path) == ["a"]


def test_two_outputs_may_not_share_a_file(tmp_path: Path) -> None:
    """Compared resolved: the same name, another spelling, a symlink to it."""
    out = tmp_path / "k.jwk"
    with pytest.raises(SameOutputError) as raised:
        check_distinct_outputs({"--out": out, "--public-out": out})
    assert raised.value.message == (f"--out and --public-out both name {out}; each output "
                                    "needs its own file.")
    with pytest.raises(SameOutputError):
        check_distinct_outputs({"--out": out, "--public-out": tmp_path / "." / "sub" / ".." /
                                "k.jwk"})
    out.write_bytes(OLD)
    (tmp_path / "alias.jwk").symlink_to(out)
    with pytest.raises(SameOutputError):
        check_distinct_outputs({"--out": out, "--public-out": tmp_path / "alias.jwk"})
    check_distinct_outputs({"--out": out, "--public-out": None})
    check_distinct_outputs({"--out": out, "--public-out": tmp_path / "k.pub.jwk"})


def test_write_private_key_refuses_an_existing_file(tmp_path: Path) -> None:
    """keys.write_private_key follows the same rule (force to replace)."""
    path = tmp_path / "issuer.jwk"
    path.write_bytes(OLD)
    key = keys.generate("Ed25519")
    with pytest.raises(OutputExistsError):
        keys.write_private_key(path, key)
    assert path.read_bytes() == OLD
    keys.write_private_key(path, key, force=True)
    assert keys.read_key_file(path) == key
    assert _mode(path) == 0o600


# --- the commands, in process -----------------------------------------------------------------

runner = CliRunner()


def _invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(arg) for arg in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.stdout, result.stderr


def _refused(code: int, stdout: str, stderr: str, phrase: str) -> None:
    """Exit 2, no stdout, exactly one sentence on stderr saying ``phrase``."""
    assert code == 2, stderr
    assert stdout == ""
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("vc-im: ")
    assert phrase in stderr
    assert "Traceback" not in stderr


def test_keygen_refuses_an_existing_out(tmp_path: Path) -> None:
    """--out over an existing file: refused, the file kept; --force replaces it (0600)."""
    out = tmp_path / "k.jwk"
    out.write_bytes(OLD)
    _refused(*_invoke("keygen", "--out", out), REFUSED)
    assert out.read_bytes() == OLD
    code, stdout, _ = _invoke("keygen", "--out", out, "--force")
    assert code == 0
    assert keys.read_key_file(out).public_jwk == json.loads(stdout)
    assert _mode(out) == 0o600


def test_keygen_refuses_an_existing_public_out_before_writing(tmp_path: Path) -> None:
    """A refused --public-out leaves no new --out behind: outputs are checked first."""
    public = tmp_path / "k.pub.jwk"
    public.write_bytes(OLD)
    _refused(*_invoke("keygen", "--out", tmp_path / "k.jwk", "--public-out", public), REFUSED)
    assert _only(tmp_path) == ["k.pub.jwk"]
    assert public.read_bytes() == OLD


@pytest.mark.parametrize("force", [False, True])
def test_keygen_refuses_one_file_for_both_outputs(tmp_path: Path, force: bool) -> None:
    """--out X --public-out X would lose the private key: refused, even with --force."""
    out = tmp_path / "k.jwk"
    args = ["keygen", "--out", out, "--public-out", tmp_path / "." / "k.jwk"]
    _refused(*_invoke(*args, *(["--force"] if force else [])), "both name")
    assert _only(tmp_path) == []


def test_keygen_force_never_writes_through_a_symlink(tmp_path: Path) -> None:
    """--force replaces a symlink at --out by the key file; the link's target is untouched."""
    target = tmp_path / "authorized_keys"
    target.write_bytes(OLD)
    link = tmp_path / "k.jwk"
    link.symlink_to(target)
    _refused(*_invoke("keygen", "--out", link), REFUSED)
    assert _invoke("keygen", "--out", link, "--force")[0] == 0
    assert target.read_bytes() == OLD
    assert not link.is_symlink()
    assert _mode(link) == 0o600


def test_x509_commands_refuse_existing_and_shared_outputs(tmp_path: Path) -> None:
    """x509 ca and leaf: existing outputs refused and kept, one file for two outputs refused,
    --force replaces."""
    cert, key = tmp_path / "ca.pem", tmp_path / "ca.jwk"
    now = ("--now", str(NOW))
    _refused(*_invoke("x509", "ca", "--name", "CA", "--out-cert", cert, "--out-key", cert,
                      *now), "both name")
    assert _only(tmp_path) == []
    cert.write_bytes(OLD)
    _refused(*_invoke("x509", "ca", "--name", "CA", "--out-cert", cert, "--out-key", key,
                      *now), REFUSED)
    assert _only(tmp_path) == ["ca.pem"]
    assert cert.read_bytes() == OLD
    assert _invoke("x509", "ca", "--name", "CA", "--out-cert", cert, "--out-key", key,
                   "--force", *now)[0] == 0
    assert cert.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert _mode(key) == 0o600
    subject = tmp_path / "subject.pub.jwk"
    keys.write_public_key(subject, keys.generate("Ed25519"))
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(OLD)
    args = ["x509", "leaf", "--ca-cert", cert, "--ca-key", key, "--key", subject, "--san",
            "mimi://example.com", "--name", "leaf", "--out", leaf, *now]
    _refused(*_invoke(*args), REFUSED)
    assert leaf.read_bytes() == OLD
    assert _invoke(*args, "--force")[0] == 0
    assert leaf.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_demo_refuses_a_directory_holding_its_files(tmp_path: Path) -> None:
    """An existing demo file (or replay store) is refused before anything is written."""
    where = tmp_path / "demo"
    where.mkdir()
    (where / "trust.json").write_bytes(OLD)
    (where / "notes.txt").write_bytes(OLD)
    _refused(*_invoke("demo", "--dir", where), REFUSED)
    assert _only(where) == ["notes.txt", "trust.json"]
    assert (where / "trust.json").read_bytes() == OLD


def test_demo_into_a_fresh_or_forced_directory(tmp_path: Path) -> None:
    """A new --dir works; running it again needs --force, which starts a new replay store."""
    where = tmp_path / "demo"
    assert _invoke("demo", "--dir", where)[0] == 0
    assert _mode(where / "issuer.jwk") == 0o600
    _refused(*_invoke("demo", "--dir", where), REFUSED)
    (where / "unrelated.txt").write_bytes(OLD)
    code, stdout, stderr = _invoke("demo", "--dir", where, "--force")
    assert code == 0, stderr
    assert "(replay is refused)" in stdout
    assert (where / "unrelated.txt").read_bytes() == OLD


def test_demo_dir_that_is_a_file(tmp_path: Path) -> None:
    """--dir naming a file is a usage error, the file untouched."""
    where = tmp_path / "demo"
    where.write_bytes(OLD)
    _refused(*_invoke("demo", "--dir", where, "--force"), "is not a directory")
    assert where.read_bytes() == OLD


# --- real processes ---------------------------------------------------------------------------

def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VC_IM, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.slow
def test_cli_keygen_never_loses_a_key(tmp_path: Path) -> None:
    """The review's case: --out X --public-out X used to leave only the public key."""
    same = _run("keygen", "--out", "x.jwk", "--public-out", "x.jwk", cwd=tmp_path)
    assert same.returncode == 2
    assert same.stdout == ""
    assert same.stderr == ("vc-im: --out and --public-out both name x.jwk; each output needs "
                           "its own file.\n")
    assert _only(tmp_path) == []
    first = _run("keygen", "--out", "x.jwk", cwd=tmp_path)
    assert first.returncode == 0
    kept = (tmp_path / "x.jwk").read_bytes()
    again = _run("keygen", "--out", "x.jwk", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr == f"vc-im: x.jwk already exists (a file), and vc-im {REFUSED}.\n"
    assert (tmp_path / "x.jwk").read_bytes() == kept


@pytest.mark.slow
def test_cli_demo_and_x509_refuse_to_overwrite(tmp_path: Path) -> None:
    """demo --dir over its own files and x509 leaf --out over a file: exit 2, data kept."""
    (tmp_path / "issuer.jwk").write_bytes(OLD)
    demo = _run("demo", "--dir", ".", cwd=tmp_path)
    assert demo.returncode == 2
    assert demo.stderr == f"vc-im: issuer.jwk already exists (a file), and vc-im {REFUSED}.\n"
    assert _only(tmp_path) == ["issuer.jwk"]
    assert (tmp_path / "issuer.jwk").read_bytes() == OLD
    ca = _run("x509", "ca", "--name", "CA", "--out-cert", "ca.pem", "--out-key", "issuer.jwk",
              cwd=tmp_path)
    assert ca.returncode == 2
    assert (tmp_path / "issuer.jwk").read_bytes() == OLD
    assert _only(tmp_path) == ["issuer.jwk"]
