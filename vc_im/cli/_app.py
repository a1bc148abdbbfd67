"""The typer application every command module registers on."""

from __future__ import annotations

import typer

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
