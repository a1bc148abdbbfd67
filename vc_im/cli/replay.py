"""``vc-im nonce``: issue a verifier nonce and record it in the replay store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vc_im.cli._app import app
from vc_im.cli._common import errors_to_exit


@app.command("nonce")
def nonce(
    ttl: Annotated[
        str,
        typer.Option("--ttl", metavar="DURATION", help="How long the nonce stays usable."),
    ] = "300s",
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            metavar="TIME",
            help="Issue as of this time (RFC 3339 or epoch seconds); nothing is purged then.",
        ),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            metavar="PATH",
            help="The replay store (default: $XDG_STATE_HOME/vc-im/replay.sqlite3).",
        ),
    ] = None,
) -> None:
    """Print a fresh verifier nonce (256 bits, base64url) and record it with a TTL."""
    with errors_to_exit():
        from vc_im.replay import ReplayStore, default_store_path
        from vc_im.times import now_seconds, parse_duration, parse_time

        ttl_seconds = parse_duration(ttl)
        at = now_seconds() if now is None else parse_time(now)
        path = default_store_path() if store is None else store
        with ReplayStore.open(path) as replay_store:
            # A simulated clock must not purge rows that are still live in real time.
            value = replay_store.issue_nonce(now=at, ttl=ttl_seconds, purge=now is None)
        typer.echo(value)
