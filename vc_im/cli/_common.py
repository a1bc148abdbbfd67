"""What every command shares: error reporting, exit codes, reading inputs.

The library raises :class:`vc_im.errors.VcImError`; this module turns it into
one sentence on stderr and the documented exit code. It imports typer only on an error,
so that a cold ``vc-im verify`` of one
valid token never loads it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn

from vc_im.errors import InputError, VcImError

if TYPE_CHECKING:
    from vc_im.keys import Key

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


#: The stable codes of ``--json`` errors (``{"error": {"code": ..., "message": ...}}``).
ERROR_CODES = ("usage", "bad_input", "bad_key", "bad_config", "io_error", "invalid", "internal")


def _click_context() -> Any:
    """The running command's click context, or None: outside typer (the fast path of
    ``vc-im verify``, which never imports it) there is none."""
    found = sys.modules.get("typer._click.globals")
    return None if found is None else found.get_current_context(silent=True)


def json_requested() -> bool:
    """Whether the running command was given ``--json`` (its errors are then JSON too)."""
    context = _click_context()
    return bool(context is not None and context.params.get("as_json"))


def error_line(message: str, code: str, *, as_json: bool) -> str:
    """An error as stderr shows it: ``vc-im: SENTENCE``, or with ``--json`` one line
    ``{"error": {"code": CODE, "message": SENTENCE}}``."""
    if not as_json:
        return f"vc-im: {message}"
    import json

    return json_printable(json.dumps({"error": {"code": code, "message": message}},
                                     ensure_ascii=False))


def fail(message: str, exit_code: int = EXIT_USAGE, *, code: str = "bad_input") -> NoReturn:
    """Print one sentence on stderr and exit with ``exit_code``. Under ``--json`` stdout also
    gets the JSON error object (``code`` is one of :data:`ERROR_CODES`), except from the
    verify commands, whose exit 2 prints nothing on stdout (CONTRACT.md)."""
    import typer

    typer.echo(f"vc-im: {message}", err=True)
    if json_requested() and not _is_verify_command():
        typer.echo(error_line(message, code, as_json=True))
    raise typer.Exit(exit_code)


def _is_verify_command() -> bool:
    context = _click_context()
    return context is not None and context.info_name == "verify"


def error_code(exc: VcImError) -> str:
    """The ``--json`` error code of a library error: what the user has to fix."""
    from vc_im.errors import KeyFileError, TrustFileError
    from vc_im.files import OutputFileError
    from vc_im.replay import ReplayStoreError

    if isinstance(exc, KeyFileError):
        return "bad_key"
    if isinstance(exc, TrustFileError):
        return "bad_config"
    if isinstance(exc, OutputFileError | ReplayStoreError):
        return "io_error"
    return "bad_input" if exc.exit_code == EXIT_USAGE else "invalid"


@contextlib.contextmanager
def errors_to_exit() -> Iterator[None]:
    """Map library errors to one sentence on stderr and their exit code."""
    try:
        yield
    except VcImError as exc:
        fail(exc.message, exc.exit_code, code=error_code(exc))
    except OSError as exc:
        name = exc.filename if exc.filename is not None else "input"
        fail(f"cannot use {name}: {exc.strerror or exc}.", code="io_error")


def read_input_bytes(source: str | None, *, limit: int, what: str = "input") -> bytes:
    """Read a file, or stdin for ``-``/None, refusing more than ``limit`` bytes.

    Reads at most ``limit + 1`` bytes so an oversized input costs no memory. A closed
    stdin (``0<&-``: Python then has no ``sys.stdin``) is a usage error, not a crash.
    """
    if source is None or source == "-":
        stream: BinaryIO | None = getattr(sys.stdin, "buffer", None)
        if stream is None:
            raise InputError(f"standard input is closed; name the {what} file, or pipe the "
                             f"{what} in.")
        data = stream.read(limit + 1)
    else:
        with Path(source).open("rb") as handle:
            data = handle.read(limit + 1)
    return data


def read_text_file(path: Path, *, limit: int = 1 << 20, what: str = "file") -> str:
    """Read a small UTF-8 file (a key, a trust file); exit 2 if it cannot be used."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}.") from exc
    if len(data) > limit:
        raise InputError(f"{what} {path} is larger than {limit} bytes.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} {path} is not UTF-8 text.") from exc


def resolve_now(now: str | None) -> int:
    """``--now`` as seconds since the epoch, or the clock when it is absent."""
    from vc_im.times import now_seconds, parse_time

    return now_seconds() if now is None else parse_time(now)


def echo(line: str, *, err: bool = False) -> None:
    """One line on stdout (``err``: stderr), flushed: what ``typer.echo`` writes for a line
    that holds no terminal escape, as every line vc-im writes is made printable first."""
    stream = sys.stderr if err else sys.stdout
    stream.write(line + "\n")
    stream.flush()


def emit_json(value: object) -> None:
    """One JSON document on stdout."""
    import json

    echo(json_printable(json.dumps(value, indent=2, ensure_ascii=False)))


def json_printable(text: str) -> str:
    """JSON text whose strings hold no raw control or unprintable character: each becomes a
    JSON ``\\uXXXX`` escape, so the output stays valid JSON and inert on a terminal."""
    from vc_im.report_lines import inert_text

    return inert_text(text, newlines=True)


def replay_store_location(option: str | None) -> str | Path | None:
    """The replay store a command uses: ``--store`` (a path or a URL), else the default
    under ``XDG_STATE_HOME`` (the library never picks one). None when no home is known: a
    presentation then fails to find a store, while a credential needs none."""
    if option is not None:
        return option
    from vc_im.replay import ReplayStoreError, default_store_path

    try:
        return default_store_path()
    except ReplayStoreError:
        return None


def printable(text: str) -> str:
    """Text safe to write to a terminal, whatever it quotes (see vc_im.report.printable)."""
    from vc_im.report import printable as safe

    return safe(text)



#: The environment variable that holds the password of an encrypted PKCS#8 key.
PASSWORD_ENV = "VC_IM_KEY_PASSWORD"  # noqa: S105  (a variable name, not a password)

def key_password(password_file: Path | None) -> bytes | None:
    """The password of an encrypted key: the first line of ``password_file``, else the
    environment variable, else None (never a prompt: scripts run vc-im)."""
    if password_file is not None:
        text = read_text_file(password_file, limit=4096, what="password file")
        first = text.splitlines()[0] if text else ""
        if not first:
            raise InputError(f"the password file {password_file} is empty.")
        return first.encode("utf-8")
    value = os.environ.get(PASSWORD_ENV)
    return value.encode("utf-8", "surrogateescape") if value else None


def read_private_key(path: Path, *, password_file: Path | None = None,
                     kid: str | None = None) -> Key:
    """The private key in ``path``: a JWK, a JWKS (``kid``) or any common PEM form, encrypted
    PKCS#8 included (``password_file`` or the environment variable)."""
    from vc_im import keys

    return keys.read_key_file(path, require="private", password=key_password(password_file),
                              kid=kid)
