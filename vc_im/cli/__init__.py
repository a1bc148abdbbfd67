"""The ``vc-im`` command line: a thin layer over the library.

Each command module registers its commands on the shared typer app and
imports the library modules it needs inside the command, so that ``vc-im
--help`` stays fast.
"""

from __future__ import annotations

import sys
import traceback
import warnings
from typing import TYPE_CHECKING, NoReturn

from vc_im.cli import (  # noqa: F401  (each module registers its commands)
    access_tokens,
    conformance,
    credentials,
    demo,
    keys,
    presentations,
    replay,
    serve,
    statements,
    status,
    uri,
    x509,
)
from vc_im.cli._app import DEBUG, app, readable_metavars
from vc_im.cli._common import error_line, printable

if TYPE_CHECKING:
    from typer._click.exceptions import ClickException


def _has_surrogate(text: str) -> bool:
    """Bytes that are not UTF-8 reach ``sys.argv`` as lone surrogates."""
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def main() -> None:
    """Entry point of the ``vc-im`` console script.

    Every expected failure already ends in one sentence and its exit code. A usage error
    is one plain sentence when stderr is not a terminal (typer's panel on a terminal). An
    unexpected error (a bug) ends in one sentence and exit 2, never a traceback that could
    show key material, unless ``-v``/``--debug`` asked for the traceback.
    """
    args = sys.argv[1:]
    # ``uri`` commands judge their argument as data (an invalid identifier, exit 1); the
    # others cannot use text that is not UTF-8 (a usage error, exit 2).
    if args[:1] != ["uri"] and any(_has_surrogate(arg) for arg in args):
        _error("every argument must be UTF-8 text.", "usage", args)
    # Library warnings (deprecations, odd certificate fields) are not the user's business:
    # a command that succeeds writes nothing to stderr.
    warnings.simplefilter("ignore")
    import typer
    from typer._click import exceptions  # typer's own copy of click

    command = readable_metavars(typer.main.get_command(app))
    try:
        code = command.main(args=args, prog_name="vc-im", standalone_mode=False)
    except exceptions.ClickException as exc:
        _usage_error(exc, args)
    except typer.Abort:
        sys.stderr.write("vc-im: aborted.\n")
        raise SystemExit(2) from None
    except Exception as exc:  # the last line of defence, by design
        if DEBUG["on"]:
            traceback.print_exc()
        _error(f"internal error ({type(exc).__name__}), a bug in vc-im; rerun with --debug "
               "for its traceback, and please report it.", "internal", args)
    raise SystemExit(code if isinstance(code, int) else 0)


def _error(sentence: str, code: str, args: list[str]) -> NoReturn:
    """One sentence on stderr, the JSON error on stdout under ``--json`` (not for verify,
    whose exit 2 prints nothing on stdout), and exit 2."""
    sys.stderr.write(f"vc-im: {sentence}\n")
    words = [arg for arg in args[:4] if not arg.startswith("-")][:2]  # the command's name
    if "--json" in args and "verify" not in words:
        sys.stdout.write(error_line(sentence, code, as_json=True) + "\n")
    raise SystemExit(2)


def _usage_error(exc: ClickException, args: list[str]) -> NoReturn:
    """A usage error: typer's panel on a terminal, else one plain sentence; exit 2."""
    from typer._click.exceptions import NoArgsIsHelpError

    if isinstance(exc, NoArgsIsHelpError) or sys.stderr.isatty():
        from typer import rich_utils

        rich_utils.rich_format_error(exc)
        raise SystemExit(2)
    message = exc.format_message().strip().rstrip(".")
    context = getattr(exc, "ctx", None)
    if context is not None:
        message += f"; see '{context.command_path} --help'"
    _error(printable(message + "."), "usage", args)


def vcdm11_generator_main() -> None:
    """Entry point of ``vc-im-vcdm11-generator``: ``vc-im conformance vcdm11-generator ARGS``,
    under one name that the VC Data Model 1.1 test suite's configuration can hold."""
    sys.argv[1:1] = ["conformance", "vcdm11-generator"]
    main()


__all__ = ["app", "main", "vcdm11_generator_main"]
