"""The typer application every command module registers on."""

from __future__ import annotations

from enum import Enum
from pathlib import Path, PurePath
from typing import Annotated, Any, get_args, get_origin

import typer

from vc_im.cli._common import PASSWORD_ENV

app = typer.Typer(
    name="vc-im",
    help="Identity for interoperable E2EE instant messaging: IM URIs and Verifiable Credentials.",
    no_args_is_help=True,
    add_completion=False,
    # Keys must never reach a traceback, and bad input never produces one anyway.
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def readable_metavars(command: Any) -> Any:
    """Give every option of ``command`` (typer's click command) and its subcommands a metavar
    people read easily (``FILE``, ``TEXT``, ``INTEGER``, ``a|b``, nothing for a flag) where
    typer would show Python types (``<path>``, ``<list[Path]>``, ``<bool>``); returns it."""
    from typer.core import TyperArgument, TyperOption

    for param in command.params:
        if isinstance(param, TyperOption) and param.metavar is None:
            param.metavar = _metavar(param)
        elif isinstance(param, TyperArgument):
            # An argument's name column already reads like a metavar ([TOKEN_FILE | -]).
            param.display_type_rich = _no_type  # type: ignore[method-assign]
    made = command.get_help_option

    def help_option(context: Any) -> Any:
        """typer makes --help lazily; it is a flag, so it shows no type either."""
        option = made(context)
        if option is not None and option.metavar is None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        readable_metavars(sub)
    return command


def _no_type(ctx: Any) -> None:
    return None


def _metavar(option: Any) -> str:
    if option.is_flag or option.count:
        return ""
    kind: object = option.type_descriptor.annotation
    if get_origin(kind) is list:
        kind = get_args(kind)[0]
    if isinstance(kind, type) and issubclass(kind, Enum):
        return "|".join(str(member.value) for member in kind)
    if isinstance(kind, type) and issubclass(kind, PurePath):
        return "DIR" if (option.name or "").endswith("dir") else "FILE"
    if kind is int:
        return "INTEGER"
    return "TEXT"


def version() -> str:
    """This installation's version, from its package metadata."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("vc-im")
    except PackageNotFoundError:
        return "unknown"


#: Set by ``-v``/``--debug``: an internal error then shows its traceback.
DEBUG = {"on": False}


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"vc-im {version()}")
        raise typer.Exit(0)


@app.callback()
def _global_options(
    debug: Annotated[bool, typer.Option(
        "-v", "--debug", help="On an internal error (a bug), print its traceback.")] = False,
    show_version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """Identity for interoperable E2EE instant messaging: IM URIs and Verifiable Credentials."""
    DEBUG["on"] = debug


PasswordFileOption = Annotated[Path | None, typer.Option(
    "--password-file", metavar="FILE", help=f"The password of an encrypted PEM key (its first "
    f"line; default: the {PASSWORD_ENV} environment variable).")]
KeyIdOption = Annotated[str | None, typer.Option(
    "--kid", metavar="KID", help="The key to use when --key is a JWKS holding several.")]
#: The options every verifying command shares, spelled once.
VerifyNowOption = Annotated[str | None, typer.Option("--now", help="Verify as of this time.")]
LeewayOption = Annotated[int, typer.Option("--leeway", min=0, max=86400,
                                           help="Clock leeway in seconds.")]
ReportJsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
