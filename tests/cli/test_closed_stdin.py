"""Commands that read standard input, run with file descriptor 0 closed (``0<&-``): a usage
error in one sentence and exit 2, never an internal error."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import vc_im_command
from vc_im.cli._common import read_input_bytes
from vc_im.errors import InputError

VC_IM = vc_im_command()

CLOSED = "standard input is closed"

#: Every command that reads stdin, with the arguments it needs besides the input.
COMMANDS = {
    "verify": ["verify", "--trust", "trust.json"],
    "verify -": ["verify", "-", "--trust", "trust.json"],
    "inspect": ["inspect"],
    "inspect -": ["inspect", "-"],
    "dpop verify": ["dpop", "verify", "--htm", "GET", "--htu", "https://example.com/"],
    "dpop verify -": ["dpop", "verify", "-", "--htm", "GET", "--htu", "https://example.com/"],
    "statement inspect -": ["statement", "inspect", "-"],
    "x509 show -": ["x509", "show", "-"],
}


def _closed_stdin(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``vc-im ARGS`` in a real process whose fd 0 is closed, as ``0<&-`` does."""
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run([bash, "-c", 'exec "$@" 0<&-', "bash", *VC_IM, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_closed_stdin_is_a_usage_error(command: str, tmp_path: Path) -> None:
    """Exit 2, nothing on stdout, one sentence on stderr that says stdin is closed."""
    (tmp_path / "trust.json").write_text('{"issuers": []}')
    result = _closed_stdin(COMMANDS[command], tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vc-im: ")
    assert CLOSED in lines[0]
    assert "internal error" not in result.stderr


@pytest.mark.slow
def test_a_file_argument_does_not_need_stdin(tmp_path: Path) -> None:
    """With a file named, a closed stdin does not matter: the token is judged (exit 1)."""
    (tmp_path / "trust.json").write_text('{"issuers": []}')
    (tmp_path / "token.jwt").write_text("not-a-token\n")
    result = _closed_stdin(["verify", "token.jwt", "--trust", "trust.json"], tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[0] == "invalid: malformed"


@pytest.mark.parametrize("source", [None, "-"])
def test_read_input_bytes_without_stdin(source: str | None,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Python sets sys.stdin to None when fd 0 is closed; that is an InputError (exit 2)."""
    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(InputError) as raised:
        read_input_bytes(source, limit=16)
    assert raised.value.exit_code == 2
    assert raised.value.message.startswith(f"{CLOSED};")
