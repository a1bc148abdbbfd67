"""``vc-im present`` and ``vc-im dpop create | verify``: what a holder shows a verifier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vc_im.cli._app import (
    KeyIdOption,
    LeewayOption,
    PasswordFileOption,
    ReportJsonOption,
    VerifyNowOption,
    app,
)
from vc_im.cli._common import (
    errors_to_exit,
    read_private_key,
    read_text_file,
    replay_store_location,
    resolve_now,
)
from vc_im.cli.credentials import Format, print_token
from vc_im.cli.replay import StoreOption
from vc_im.cli.verifying import print_report, read_token

dpop_app = typer.Typer(help="Create and verify RFC 9449 DPoP proofs.", no_args_is_help=True)
app.add_typer(dpop_app, name="dpop")


@app.command()
def present(
    key: Annotated[Path, typer.Option("--key", help="The holder's private key.")],
    credential: Annotated[list[Path] | None, typer.Option(
        "--credential", help="A credential JWT file (repeatable).")] = None,
    audience: Annotated[str | None, typer.Option("--audience", help="The verifier's id.")]
    = None,
    nonce: Annotated[str | None, typer.Option("--nonce", help="The verifier's nonce.")] = None,
    valid_for: Annotated[str, typer.Option("--valid-for", help="Lifetime, at most 600s.")]
    = "300s",
    now: Annotated[str | None, typer.Option("--now", help="Present as of this time.")] = None,
    format_: Annotated[Format, typer.Option("--format", help="vc1 or vc2.")] = Format.VC1,
    document: Annotated[Path | None, typer.Option(
        "--document", metavar="VP.json", help="Sign this presentation document as it is, "
        "under the w3c profile (instead of --credential).")] = None,
    check: Annotated[bool, typer.Option(
        "--check/--no-check", help="Refuse (exit 2) credentials that bind another key than "
        "--key, or none, and expired credentials, which every verifier refuses; --no-check "
        "signs what it is given.")] = True,
    password_file: PasswordFileOption = None,
    key_id: KeyIdOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (errors too).")] = False,
) -> None:
    """Sign a verifiable presentation of credentials for one verifier and one nonce, or a
    presentation document (--document)."""
    from vc_im.errors import InputError
    from vc_im.presentations import check_presentable, create_presentation
    from vc_im.times import parse_duration

    with errors_to_exit():
        if document is not None:
            if credential:
                raise InputError("--document signs the document as it is; --credential does "
                                 "not apply to it.")
            print_token(_present_document(key, document, format_.value, audience, nonce,
                                          parse_duration(valid_for), now,
                                          password_file=password_file, key_id=key_id), as_json)
            return
        missing = [name for name, value in (("--credential", credential),
                                            ("--audience", audience), ("--nonce", nonce))
                   if value is None]
        if missing:
            raise InputError(f"present needs {', '.join(missing)} (or --document VP.json).")
        assert credential is not None
        assert audience is not None
        assert nonce is not None
        holder = read_private_key(key, password_file=password_file, kid=key_id)
        tokens = [read_text_file(path, limit=65536, what="credential").strip()
                  for path in credential]
        at = resolve_now(now)
        if check:
            check_presentable(holder, tokens, now=at)
        token = create_presentation(holder, tokens, audience=audience, nonce=nonce, now=at,
                                    valid_for=parse_duration(valid_for), encoding=format_.value)
    print_token(token, as_json)


def _present_document(key: Path, document: Path, encoding: str, audience: str | None,
                      nonce: str | None, valid_for: int, now: str | None, *,
                      password_file: Path | None, key_id: str | None) -> str:
    """``present --document``: read the document strictly and sign it under w3c."""
    from vc_im import _jose
    from vc_im.cli._common import read_input_bytes
    from vc_im.errors import InputError
    from vc_im.presentations import present_document

    holder = read_private_key(key, password_file=password_file, kid=key_id)
    data = read_input_bytes(str(document), limit=_jose.MAX_TOKEN_BYTES, what="document")
    try:
        parsed = _jose.loads(data, what=f"presentation document {document}",
                             max_bytes=_jose.MAX_TOKEN_BYTES)
    except _jose.StrictJSONError as exc:
        raise InputError(exc.message) from exc
    return present_document(holder, parsed, now=resolve_now(now), encoding=encoding,
                            audience=audience, nonce=nonce, valid_for=valid_for)


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
    print_token(token, as_json)


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
    now: VerifyNowOption = None,
    leeway: LeewayOption = 60,
    store: StoreOption = None,
    as_json: ReportJsonOption = False,
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
