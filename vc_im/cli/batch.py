"""``vc-im verify --batch`` and ``vc-im issue --batch``: JSON Lines in, one JSON line out per
input line and in input order, a summary on stderr, a progress bar when stderr is a terminal.

The commands in :mod:`vc_im.cli.credentials` read their options and hand over here; the
batch itself runs in :mod:`vc_im.batch`.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NoReturn

import typer

from vc_im.cli._common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, errors_to_exit, json_printable
from vc_im.errors import InputError, VcImError

if TYPE_CHECKING:
    from vc_im.batch import IssueSettings, VerifySettings
    from vc_im.replay import StoreLike
    from vc_im.report_lines import RenderedLine

#: The progress bar redraws at most this often (seconds): drawing is not free.
_REDRAW = 0.1


@contextlib.contextmanager
def _lines_source(source: str) -> Iterator[BinaryIO]:
    """The batch's input: the named file, or stdin for ``-``."""
    if source == "-":
        stream: BinaryIO | None = getattr(sys.stdin, "buffer", None)
        if stream is None:
            raise InputError("standard input is closed; name the batch file, or pipe the "
                             "lines in.")
        yield stream
        return
    path = Path(source)
    if path.is_dir():
        raise InputError(f"the batch file {source} is a directory.")
    with path.open("rb") as handle:
        yield handle


class _Bar:
    """A rich progress bar on stderr, redrawn by hand (no thread: workers are forked)."""

    def __init__(self, what: str) -> None:
        from rich.console import Console
        from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

        self._progress = Progress(SpinnerColumn(), TextColumn(what), MofNCompleteColumn(),
                                  TextColumn("lines"), console=Console(stderr=True),
                                  auto_refresh=False, transient=True, redirect_stdout=False,
                                  redirect_stderr=False)
        self._task = self._progress.add_task(what, total=None)
        self._drawn = 0.0

    def __enter__(self) -> _Bar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def advance(self, count: int) -> None:
        self._progress.advance(self._task, count)
        now = time.monotonic()
        if now - self._drawn >= _REDRAW:
            self._drawn = now
            self._progress.refresh()


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def advance(self, count: int) -> None:
        """Nothing to draw: stderr is not a terminal."""


def _progress(what: str) -> _Bar | _NoBar:
    """A progress bar only when stderr is a terminal: a pipe or a log gets the summary only."""
    return _Bar(what) if sys.stderr.isatty() else _NoBar()


def _write(value: dict[str, object]) -> None:
    """One compact JSON line on stdout, inert on a terminal."""
    import json

    sys.stdout.write(json_printable(json.dumps(value, ensure_ascii=False,
                                               separators=(",", ":"))) + "\n")


def _output_closed() -> str:
    """The reader of stdout went away (``| head``): nothing more can be written there."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # so that the exit's own flush stays quiet
    os.close(devnull)
    return "the output was closed before every report was written."


def _rate(count: int, started: float) -> str:
    elapsed = time.monotonic() - started
    rate = count / elapsed if elapsed > 0 else 0.0
    return f"{count} line{'s' if count != 1 else ''} in {elapsed:.1f} s ({rate:.0f}/s)"


def run_verify_batch(source: str, settings: VerifySettings, store: StoreLike | None, *,
                     jobs: int, render: Callable[..., RenderedLine]) -> NoReturn:
    """Verify every line of ``source``; each report (as ``render``, a library function a
    worker can import, makes it: the object ``verify --json`` prints) goes out with its
    ``line`` and ``id``, a chunk of lines at a time. Exit 0 only when every line is valid."""
    from vc_im.batch import read_lines, resolve_jobs, tune_collector, verify_batch_text

    tune_collector()
    counts: Counter[str] = Counter()
    started = time.monotonic()
    failure: str | None = None
    with errors_to_exit():
        workers = resolve_jobs(jobs)
        with _lines_source(source) as stream, _progress("verifying") as bar:
            try:
                for text, lines in verify_batch_text(read_lines(stream), settings, store,
                                                     jobs=workers, render=render):
                    sys.stdout.write(text)
                    counts.update(lines)
                    bar.advance(len(lines))
            except VcImError as exc:  # the store or a worker failed: stop, say where
                failure = exc.message
            except BrokenPipeError:
                failure = _output_closed()
            except OSError as exc:
                failure = f"cannot read the batch: {exc.strerror or exc}."
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        failure = _output_closed()
    total = sum(counts.values())
    invalid = total - counts["valid"]
    codes = ", ".join(f"{code} {n}" for code, n in sorted(counts.items()) if code != "valid")
    summary = (f"vc-im: verified {_rate(total, started)}: {counts['valid']} valid, "
               f"{invalid} invalid" + (f" ({codes})" if codes else "") + ".")
    typer.echo(summary, err=True)
    if failure is not None:
        typer.echo(f"vc-im: {failure}", err=True)
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_OK if invalid == 0 else EXIT_INVALID)


def run_issue_batch(source: str, settings: IssueSettings, *, jobs: int) -> NoReturn:
    """Issue a credential per line of ``source``: ``{"line", "subject", "token"}`` or
    ``{"line", "error"}`` per line. Exit 0 when every line was issued, 2 otherwise."""
    from vc_im.batch import issue_batch, read_lines, resolve_jobs, tune_collector

    tune_collector()
    issued = refused = 0
    started = time.monotonic()
    with errors_to_exit():
        workers = resolve_jobs(jobs)
        with _lines_source(source) as stream, _progress("issuing") as bar:
            for result in issue_batch(read_lines(stream), settings, jobs=workers):
                _write(result.to_json())
                if result.error is None:
                    issued += 1
                else:
                    refused += 1
                bar.advance(1)
    sys.stdout.flush()
    typer.echo(f"vc-im: issued {_rate(issued + refused, started)}: {issued} issued, "
               f"{refused} refused.", err=True)
    raise typer.Exit(EXIT_OK if refused == 0 else EXIT_USAGE)
