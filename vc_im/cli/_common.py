"""What every command shares: error reporting, exit codes, reading inputs.

The library raises :class:`vc_im.errors.VcImError`; this module turns it into
one sentence on stderr and the documented exit code.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NoReturn

import typer

from vc_im.errors import InputError, VcImError

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def fail(message: str, exit_code: int = EXIT_USAGE) -> NoReturn:
    """Print one sentence on stderr and exit with ``exit_code``."""
    typer.echo(f"vc-im: {message}", err=True)
    raise typer.Exit(exit_code)


@contextlib.contextmanager
def errors_to_exit() -> Iterator[None]:
    """Map library errors to one sentence on stderr and their exit code."""
    try:
        yield
    except VcImError as exc:
        fail(exc.message, exc.exit_code)
    except OSError as exc:
        name = exc.filename if exc.filename is not None else "input"
        fail(f"cannot use {name}: {exc.strerror or exc}.")


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


def emit_json(value: object) -> None:
    """One JSON document on stdout."""
    import json

    typer.echo(json_printable(json.dumps(value, indent=2, ensure_ascii=False)))


def json_printable(text: str) -> str:
    """JSON text whose strings hold no raw control or unprintable character: each becomes a
    JSON ``\\uXXXX`` escape, so the output stays valid JSON and inert on a terminal."""
    if text.replace("\n", "").isprintable():  # the common case, checked in C
        return text
    out = []
    for char in text:
        if char.isprintable() or char == "\n":
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            high, low = divmod(ord(char) - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}")
    return "".join(out)


def printable(text: str) -> str:
    """Text safe to write to a terminal, whatever it quotes (see vc_im.report.printable)."""
    from vc_im.report import printable as safe

    return safe(text)

