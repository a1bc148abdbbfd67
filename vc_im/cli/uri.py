"""``vc-im uri``: parse, normalise, compare and convert IM identifiers."""

from __future__ import annotations

import typer

from vc_im.cli._app import app

uri_app = typer.Typer(help="Parse, normalise, compare and convert im: and mimi:// identifiers.",
                      no_args_is_help=True)
app.add_typer(uri_app, name="uri")
