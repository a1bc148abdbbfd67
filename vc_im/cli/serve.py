"""``vc-im serve``: the HTTP verifier service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vc_im.cli._app import app
from vc_im.cli._common import errors_to_exit
from vc_im.cli.replay import StoreOption


@app.command("serve")
def serve(
    trust: Annotated[Path | None, typer.Option("--trust", help="The trust file (reloaded on "
                                               "SIGHUP).")] = None,
    store: StoreOption = None,
    audience: Annotated[str | None, typer.Option("--audience", help="This verifier's id.")]
    = None,
    host: Annotated[str | None, typer.Option("--host", help="Bind address (default "
                                             "127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 8080).")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="A TOML configuration "
                                                "file.")] = None,
) -> None:
    """Run the HTTP verifier service (VC API shapes) until SIGINT or SIGTERM."""
    with errors_to_exit():
        from vc_im.service import load_config
        from vc_im.service import serve as run

        settings = load_config(config, trust=trust, store=store, audience=audience, host=host,
                               port=port)
        run(settings)
