"""``vc-im present`` and ``vc-im dpop create | verify``: what a holder shows a verifier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vc_im.cli._app import app
from vc_im.cli._common import (
    KeyIdOption,
    PasswordFileOption,
    errors_to_exit,
    read_private_key,
    read_text_file,
    resolve_now,
)
from vc_im.cli.credentials import Format, emit_token_json, print_report, read_token
from vc_im.cli.replay import STORE_HELP, replay_store_location

dpop_app = typer.Typer(help="Create and verify RFC 9449 DPoP proofs.", no_args_is_help=True)
app.add_typer(dpop_app, name="dpop")


@app.command()
def present(
    key: Annotated[Path, typer.Option("--key", help="The holder's private key.")],
    credential: Annotated[list[Path], typer.Option("--credential", help="A credential JWT "
                                                   "file (repeatable).")],
    audience: Annotated[str, typer.Option("--audience", help="The verifier's id.")],
    nonce: Annotated[str, typer.Option("--nonce", help="The verifier's nonce.")],
    valid_for: Annotated[str, typer.Option("--valid-for", help="Lifetime, at most 600s.")]
    = "300s",
    now: Annotated[str | None, typer.Option("--now", help="Present as of this time.")] = None,
    format_: Annotated[Format, typer.Option("--format", help="vc1 or vc2.")] = Format.VC1,
    check: Annotated[bool, typer.Option(
        "--check", help="Refuse (exit 2) credentials that bind another key than --key, or "
        "none, and expired credentials, which every verifier refuses.")] = False,
    password_file: PasswordFileOption = None,
    key_id: KeyIdOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (errors too).")] = False,
) -> None:
    """Sign a verifiable presentation of credentials for one verifier and one nonce."""
    from vc_im.presentations import check_presentable, create_presentation
    from vc_im.times import parse_duration

    with errors_to_exit():
        holder = read_private_key(key, password_file=password_file, kid=key_id)
        tokens = [read_text_file(path, limit=65536, what="credential").strip()
                  for path in credential]
        at = resolve_now(now)
        if check:
            check_presentable(holder, tokens, now=at)
        token = create_presentation(holder, tokens, audience=audience, nonce=nonce, now=at,
                                    valid_for=parse_duration(valid_for), encoding=format_.value)
    if as_json:
        emit_token_json(token)
    else:
        typer.echo(token)


@dpop_app.command("create")
def dpop_create(
    key: Annotated[Path, typer.Option("--key", help="The holder's private key.")],
    htm: Annotated[str, typer.Option("--htm", help="The HTTP method.")],
    htu: Annotated[str, typer.Option("--htu", help="The HTTP URI (no query or fragment).")],
    nonce: Annotated[str | None, typer.Option("--nonce", help="The server's DPoP nonce.")]
    = None,
    access_token: Annotated[str | None, typer.Option("--access-token", help="Bind this access "
                                                     "token (ath).")] = None,
    sub: Annotated[str | None, typer.Option("--sub", help="The device identifier.")] = None,
    now: Annotated[str | None, typer.Option("--now", help="Create as of this time.")] = None,
    password_file: PasswordFileOption = None,
    key_id: KeyIdOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (errors too).")] = False,
) -> None:
    """Print an RFC 9449 DPoP proof signed with the holder's key."""
    from vc_im.dpop import create_proof

    with errors_to_exit():
        holder = read_private_key(key, password_file=password_file, kid=key_id)
        token = create_proof(holder, htm=htm, htu=htu, now=resolve_now(now), nonce=nonce,
                             access_token=access_token, sub=sub)
    if as_json:
        emit_token_json(token)
    else:
        typer.echo(token)


@dpop_app.command("verify")
def dpop_verify(
    htm: Annotated[str, typer.Option("--htm", help="The request's HTTP method.")],
    htu: Annotated[str, typer.Option("--htu", help="The request's URI.")],
    token_file: Annotated[str | None, typer.Argument(metavar="[TOKEN_FILE | -]",
                                                     help="The proof; stdin when absent or -.")]
    = None,
    nonce: Annotated[str | None, typer.Option("--nonce", help="The nonce the server "
                                              "supplied.")] = None,
    access_token: Annotated[str | None, typer.Option("--access-token", help="The access token "
                                                     "the proof comes with.")] = None,
    credential: Annotated[Path | None, typer.Option("--credential", help="A credential that "
                                                    "must bind the proof key.")] = None,
    trust: Annotated[Path | None, typer.Option("--trust", help="The trust file, to verify "
                                               "--credential.")] = None,
    now: Annotated[str | None, typer.Option("--now", help="Verify as of this time.")] = None,
    leeway: Annotated[int, typer.Option("--leeway", min=0, max=86400,
                                        help="Clock leeway in seconds.")] = 60,
    store: Annotated[str | None, typer.Option("--store", metavar="PATH|URL",
                                              help=STORE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Verify a DPoP proof for one request; exit 0 when valid, 1 when not."""
    from vc_im.dpop import verify_proof
    from vc_im.errors import InputError
    from vc_im.trust import read_trust_file

    with errors_to_exit():
        if (credential is None) != (trust is None):
            raise InputError("--credential and --trust go together.")
        trust_store = read_trust_file(trust) if trust is not None else None
        bound = (read_text_file(credential, limit=65536, what="credential").strip()
                 if credential is not None else None)
        report = verify_proof(read_token(token_file), htm=htm, htu=htu, now=resolve_now(now),
                              leeway=leeway, nonce=nonce, access_token=access_token,
                              credential=bound, trust=trust_store,
                              store=replay_store_location(store))
    print_report(report, as_json=as_json)
