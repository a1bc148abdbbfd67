"""The ``vc-im`` command line: a thin layer over the library.

Each command module registers its commands on the shared typer app and
imports the library modules it needs inside the command, so that ``vc-im
--help`` stays fast. The command modules (and typer) are loaded only when a command
needs them: a plain ``vc-im verify`` of one token goes through :mod:`vc_im.cli._fast`
and never loads them.
"""

from __future__ import annotations

import sys
import traceback
import warnings
from typing import TYPE_CHECKING, Any, NoReturn

from vc_im.cli._common import error_line, printable

if TYPE_CHECKING:
    from typer._click.exceptions import ClickException

    from vc_im.cli._app import app


def _load_commands() -> Any:
    """The typer app with every command registered on it (each module registers its own)."""
    from vc_im.cli import (  # noqa: F401
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
    from vc_im.cli._app import app

    return app


def __getattr__(name: str) -> Any:
    """``app``, loaded on first use (see the module's docstring)."""
    if name == "app":
        return _load_commands()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    from vc_im.cli._fast import verify_options

    options = verify_options(args) if _utf8_streams() else None
    if options is not None:
        _verify_fast(options, args)
    import typer
    from typer._click import exceptions  # typer's own copy of click

    from vc_im.cli._app import DEBUG, readable_metavars

    command = readable_metavars(typer.main.get_command(_load_commands()))
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
        _internal_error(exc, args)
    raise SystemExit(code if isinstance(code, int) else 0)


def _utf8_streams() -> bool:
    """Whether stdout and stderr take UTF-8 text as they are (typer's echo re-wraps a stream
    it finds misconfigured; the fast path then leaves the writing to it)."""
    return all(
        (getattr(stream, "encoding", None) or "").lower().replace("-", "") == "utf8"
        for stream in (sys.stdout, sys.stderr)
    )


def _verify_fast(options: dict[str, Any], args: list[str]) -> NoReturn:
    """``vc-im verify`` without typer: the same work (:func:`~vc_im.cli.verifying.run_verify`)
    and the same endings as typer's ``main`` gives them (an interrupt, a closed pipe, an
    internal error)."""
    import errno

    from vc_im.cli.verifying import run_verify

    try:
        run_verify(**options)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except EOFError:
        sys.stderr.write("\nvc-im: aborted.\n")
        raise SystemExit(2) from None
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            _internal_error(exc, args)
        from typer._click.utils import PacifyFlushWrapper

        sys.stdout = PacifyFlushWrapper(sys.stdout)
        sys.stderr = PacifyFlushWrapper(sys.stderr)
        raise SystemExit(1) from None
    except Exception as exc:  # the last line of defence, by design
        # An error the command reported (errors_to_exit) ends in typer's Exit.
        exit_type = getattr(sys.modules.get("typer"), "Exit", None)
        if exit_type is not None and isinstance(exc, exit_type):
            raise SystemExit(exc.exit_code) from None
        _internal_error(exc, args)


def _internal_error(exc: Exception, args: list[str]) -> NoReturn:
    _error(f"internal error ({type(exc).__name__}), a bug in vc-im; rerun with --debug "
           "for its traceback, and please report it.", "internal", args)


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
