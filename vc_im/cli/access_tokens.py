"""``vc-im token issue | verify``: DPoP-bound access tokens (RFC 9068, RFC 9449 §6).

The MIMI identity draft's §5.2 flow: a device's DPoP proof obtains an access token from the
token endpoint (``issue``), and a third party checks the token with a fresh proof from the
same key (``verify``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vc_im.cli._app import LeewayOption, ReportJsonOption, VerifyNowOption, app
from vc_im.cli._common import (
    EXIT_INVALID,
    errors_to_exit,
    fail,
    read_text_file,
    replay_store_location,
    resolve_now,
)
from vc_im.cli.replay import StoreOption
from vc_im.cli.verifying import print_report, read_token

token_app = typer.Typer(help="Mint and verify DPoP-bound access tokens (RFC 9068, RFC 9449).",
                        no_args_is_help=True)
app.add_typer(token_app, name="token")

#: A proof or credential file is one compact JWS.
_TOKEN_FILE_LIMIT = 65536


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL in normal form: the resource's default id."""
    from urllib.parse import urlsplit

    from vc_im.dpop import normalize_htu

    parts = urlsplit(normalize_htu(url))
    return f"{parts.scheme}://{parts.netloc}"


@token_app.command("issue")
def token_issue(
    key: Annotated[Path, typer.Option("--key", help="The token issuer's private key.")],
    issuer: Annotated[str, typer.Option("--issuer", help="The token issuer's id (iss), an "
                                        "absolute URI.")],
    dpop: Annotated[Path, typer.Option("--dpop", help="The device's DPoP proof for this "
                                       "token request.")],
    htm: Annotated[str, typer.Option("--htm", help="The token request's HTTP method.")],
    htu: Annotated[str, typer.Option("--htu", help="The token endpoint's URI.")],
    audience: Annotated[str, typer.Option("--audience", help="The resource the token is for "
                                          "(aud).")],
    credential: Annotated[Path | None, typer.Option(
        "--credential", help="The device's ImDeviceCredential: its cnf must be the proof key, "
        "and its subject becomes sub.")] = None,
    trust: Annotated[Path | None, typer.Option("--trust", help="The trust file, to verify "
                                               "--credential.")] = None,
    client_id: Annotated[str | None, typer.Option("--client-id", help="client_id (default: "
                                                  "the device's IM URI).")] = None,
    valid_for: Annotated[str, typer.Option("--valid-for", help="Lifetime, at most 1d.")]
    = "5m",
    nonce: Annotated[str | None, typer.Option("--nonce", help="The DPoP nonce the token "
                                              "endpoint supplied.")] = None,
    now: Annotated[str | None, typer.Option("--now", help="Issue as of this time.")] = None,
    leeway: LeewayOption = 60,
    store: StoreOption = None,
) -> None:
    """Verify a device's DPoP proof (consuming it) and print an access token bound to its key."""
    from vc_im import keys
    from vc_im.access_tokens import issue_access_token
    from vc_im.errors import InputError, VerificationFailed
    from vc_im.times import parse_duration
    from vc_im.trust import read_trust_file

    with errors_to_exit():
        if (credential is None) != (trust is None):
            raise InputError("--credential and --trust go together.")
        issuer_key = keys.read_key_file(key, require="private")
        trust_store = read_trust_file(trust) if trust is not None else None
        device = (read_text_file(credential, limit=_TOKEN_FILE_LIMIT, what="credential").strip()
                  if credential is not None else None)
        proof = read_text_file(dpop, limit=_TOKEN_FILE_LIMIT, what="DPoP proof").strip()
        try:
            token = issue_access_token(
                issuer_key, issuer=issuer, proof=proof, htm=htm, htu=htu, audience=audience,
                now=resolve_now(now), valid_for=parse_duration(valid_for), client_id=client_id,
                credential=device, trust=trust_store, nonce=nonce, leeway=leeway,
                store=replay_store_location(store))
        except VerificationFailed as exc:
            fail(f"invalid ({exc.code}): {exc.message}", EXIT_INVALID)
    typer.echo(token)


@token_app.command("verify")
def token_verify(
    trust: Annotated[Path, typer.Option("--trust", help="The trust file: the token issuer's "
                                        "keys and domains.")],
    dpop: Annotated[Path, typer.Option("--dpop", help="The DPoP proof that came with the "
                                       "token.")],
    htm: Annotated[str, typer.Option("--htm", help="The request's HTTP method.")],
    htu: Annotated[str, typer.Option("--htu", help="The request's URI.")],
    token_file: Annotated[str | None, typer.Argument(metavar="[TOKEN_FILE | -]",
                                                     help="The access token; stdin when "
                                                     "absent or -.")] = None,
    audience: Annotated[str | None, typer.Option(
        "--audience", help="This resource's id, which aud must contain (default: the origin "
        "of --htu, like https://rs.example.com).")] = None,
    nonce: Annotated[str | None, typer.Option("--nonce", help="The DPoP nonce this resource "
                                              "supplied.")] = None,
    now: VerifyNowOption = None,
    leeway: LeewayOption = 60,
    store: StoreOption = None,
    as_json: ReportJsonOption = False,
) -> None:
    """Verify an access token and the DPoP proof sent with it; exit 0 when valid, 1 when not."""
    from vc_im.access_tokens import verify_access_token
    from vc_im.trust import read_trust_file

    with errors_to_exit():
        trust_store = read_trust_file(trust)
        proof = read_text_file(dpop, limit=_TOKEN_FILE_LIMIT, what="DPoP proof").strip()
        report = verify_access_token(
            read_token(token_file), trust_store, proof=proof, htm=htm, htu=htu,
            audience=audience if audience is not None else _origin(htu), now=resolve_now(now),
            leeway=leeway, nonce=nonce, store=replay_store_location(store))
    print_report(report, as_json=as_json)
