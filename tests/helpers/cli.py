"""The one way tests run ``vc-im``: in process (:func:`run_cli`) or as a real process
(:func:`run_process`).

Both hold every run to the rules CONTRACT.md sets for every command: the exit code is 0, 1 or
2; nothing prints a traceback; a success writes nothing to stderr. A real process starts from
a clean environment whose home, state directory and temporary directory are inside the test's
own directory, so no run reads or writes the user's files, and it imports the same vc_im as
the tests.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, overload

from typer.testing import CliRunner, Result

#: The exit codes of CONTRACT.md: valid, invalid, usage or input error.
EXIT_CODES = (0, 1, 2)
#: What a real process inherits from the test run: only what starting a program needs.
INHERITED = ("PATH", "SYSTEMROOT")


def _import_root() -> Path:
    """The directory this Python imports vc_im from (found without importing it, so that the
    contract's helpers stay independent of the library), for a real process to use too."""
    spec = importlib.util.find_spec("vc_im")
    assert spec is not None, "vc_im is not importable: pip install -e '.[test]'"
    assert spec.origin is not None
    return Path(spec.origin).resolve().parents[1]


#: The directory vc_im is imported from, so a real process runs the code under test.
IMPORT_ROOT = _import_root()
#: A real process may wait this long, in seconds (a loaded 2-core machine is slow to start).
TIMEOUT = 120.0

_RUNNER = CliRunner()

Argument = str | bytes | os.PathLike[str] | int


def run_cli(*args: object, input: bytes | str | None = None) -> Result:
    """``vc-im ARGS`` in process (typer's CliRunner), held to the rules of every command."""
    from vc_im.cli import app  # here, so that importing this module does not import vc_im

    result = _RUNNER.invoke(app, [str(a) for a in args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    _check_rules(" ".join(map(str, args)), result.exit_code, result.stdout, result.stderr)
    return result


def vc_im_command() -> list[str]:
    """The argv prefix that starts ``vc-im`` in a real process: ``python -m vc_im``."""
    return [sys.executable, "-m", "vc_im"]


def process_env(root: Path, overrides: Mapping[str, str | None] | None = None,
                ) -> dict[str, str]:
    """A clean environment for a real process: HOME, XDG_STATE_HOME and TMPDIR inside ``root``
    (neither is created: vc-im makes the state directory when it needs one), no colour, a
    fixed width, no byte-code written; then ``overrides`` (None removes a variable)."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update({
        "HOME": str(root / "home"), "XDG_STATE_HOME": str(root / "state"), "TMPDIR": str(root),
        "PYTHONPATH": str(IMPORT_ROOT), "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200",
    })
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@overload
def run_process(*args: Argument, cwd: Path, stdin: str | None = None,
                env: Mapping[str, str | None] | None = None, text: Literal[True] = True,
                ) -> subprocess.CompletedProcess[str]: ...


@overload
def run_process(*args: Argument, cwd: Path, stdin: bytes | None = None,
                env: Mapping[str, str | None] | None = None, text: Literal[False],
                ) -> subprocess.CompletedProcess[bytes]: ...


def run_process(*args: Argument, cwd: Path, stdin: str | bytes | None = None,
                env: Mapping[str, str | None] | None = None, text: bool = True,
                ) -> subprocess.CompletedProcess[str] | subprocess.CompletedProcess[bytes]:
    """``python -m vc_im ARGS`` in a real process, run in ``cwd`` with :func:`process_env`
    (plus ``env``) and ``stdin`` as its whole input (empty when None: it never reads the
    terminal), held to the rules of every command. Byte arguments reach it as they are."""
    argv: list[str | bytes] = [*vc_im_command()]
    argv += [a if isinstance(a, str | bytes) else str(a) for a in args]
    given = stdin if stdin is not None else ("" if text else b"")
    result = subprocess.run(argv, cwd=cwd, env=process_env(cwd, env), input=given,
                            capture_output=True, text=text, timeout=TIMEOUT, check=False)
    if text:
        stdout, stderr = str(result.stdout), str(result.stderr)
    else:
        stdout = bytes(result.stdout).decode("utf-8", "replace")
        stderr = bytes(result.stderr).decode("utf-8", "replace")
    _check_rules(" ".join(map(repr, args)), result.returncode, stdout, stderr)
    return result


def _check_rules(args: str, code: int, stdout: str, stderr: str) -> None:
    """CONTRACT.md's rules for every command and every input."""
    shown = f"vc-im {args} -> exit {code}\nstdout: {stdout[:2000]}\nstderr: {stderr[:2000]}"
    assert code in EXIT_CODES, shown
    assert "Traceback" not in stdout + stderr, shown
    if code == 0 and "--batch" in args:  # a batch's one exception: its summary line
        assert re.fullmatch(r"vc-im: (verified|issued) [^\n]*\.\n", stderr), shown
    elif code == 0:
        assert stderr == "", shown
