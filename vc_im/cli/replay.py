"""``vc-im nonce`` and ``vc-im store``: verifier nonces and the replay store they live in."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from vc_im.cli._app import app
from vc_im.cli._common import errors_to_exit

store_app = typer.Typer(help="Create (PostgreSQL) and inspect a replay store.",
                        no_args_is_help=True)
app.add_typer(store_app, name="store")

STORE_HELP = ("The replay store: a path or sqlite:///PATH (default: "
              "$XDG_STATE_HOME/vc-im/replay.sqlite3), postgresql://... or redis://....")
StoreOption = Annotated[str | None, typer.Option("--store", metavar="PATH|URL", help=STORE_HELP)]


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
        str | None, typer.Option("--store", metavar="PATH|URL", help=STORE_HELP)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (errors too).")] = False,
) -> None:
    """Print a fresh verifier nonce (256 bits, base64url) and record it with a TTL."""
    with errors_to_exit():
        from vc_im.replay import default_store_path, open_store
        from vc_im.times import now_seconds, parse_duration, parse_time

        ttl_seconds = parse_duration(ttl)
        at = now_seconds() if now is None else parse_time(now)
        location = default_store_path() if store is None else store
        with open_store(location) as replay_store:
            # A simulated clock must not purge rows that are still live in real time.
            value = replay_store.issue_nonce(now=at, ttl=ttl_seconds, purge=now is None)
    if as_json:
        from vc_im.cli._common import emit_json

        emit_json({"nonce": value, "expires_at": at + ttl_seconds})
    else:
        typer.echo(value)


@store_app.command("migrate")
def migrate(
    url: Annotated[str, typer.Argument(metavar="URL", help="postgresql://... (or a path or "
                                       "redis://..., which need nothing).")],
) -> None:
    """Create or upgrade the store's schema to this version of vc-im (idempotent)."""
    with errors_to_exit():
        from vc_im.replay import open_store

        with open_store(url) as replay_store:
            migrate_now = getattr(replay_store, "migrate", None)
            version = migrate_now() if migrate_now is not None else 1
            where = replay_store.location
        typer.echo(f"replay store {where}: schema version {version}")


@store_app.command("stats")
def stats(
    url: Annotated[str, typer.Argument(metavar="PATH|URL", help="The replay store.")],
    now: Annotated[str | None, typer.Option("--now", metavar="TIME",
                                            help="Count as of this time.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Print how many nonces and tokens the store holds, and the oldest expiry."""
    with errors_to_exit():
        from vc_im.replay import open_store
        from vc_im.times import now_seconds, parse_time, seconds_to_rfc3339

        at = now_seconds() if now is None else parse_time(now)
        with open_store(url) as replay_store:
            counts = replay_store.stats(now=at)
    if as_json:
        typer.echo(json.dumps(counts.as_json(), sort_keys=True))
        return
    oldest = "none" if counts.oldest_expiry is None else seconds_to_rfc3339(counts.oldest_expiry)
    typer.echo(f"backend: {counts.backend}\n"
               f"nonces outstanding: {counts.nonces_outstanding}\n"
               f"nonces consumed: {counts.nonces_consumed}\n"
               f"tokens seen: {counts.tokens_seen}\n"
               f"oldest expiry: {oldest}")
