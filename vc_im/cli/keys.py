"""``vc-im key show | resolve``: what a key file holds, and the key a did:key or did:jwk names."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from vc_im.cli._app import KeyIdOption, PasswordFileOption, app
from vc_im.cli._common import (
    emit_json,
    errors_to_exit,
    key_password,
)

key_app = typer.Typer(help="Show a key's public part, thumbprints and DIDs; resolve DIDs.",
                      no_args_is_help=True)
app.add_typer(key_app, name="key")


class Output(StrEnum):
    """How ``key show`` prints."""

    JSON = "json"
    JWK = "jwk"
    PEM = "pem"


@key_app.command("show")
def show(
    key_file: Annotated[Path, typer.Argument(metavar="KEY_FILE", help="A JWK or PEM key file, "
                                             "private or public.")],
    output: Annotated[Output, typer.Option("--output", help="json: kid, alg, thumbprints, "
                                           "DIDs and the public JWK; jwk or pem: the public "
                                           "key alone.")] = Output.JSON,
    password_file: PasswordFileOption = None,
    key_id: KeyIdOption = None,
) -> None:
    """Print the public part of a key (never its private members)."""
    from vc_im import keys
    with errors_to_exit():
        key = keys.read_key_file(key_file, password=key_password(password_file),
                                 kid=key_id).public()
        if output is Output.PEM:
            typer.echo(key.to_pem(private=False).decode("ascii"), nl=False)
            return
        if output is Output.JWK:
            emit_json(dict(key.public_jwk))
            return
        emit_json({"kid": key.kid, "alg": key.alg, "thumbprint": key.thumbprint(),
                   "thumbprint_uri": key.thumbprint_uri(), "did_key": key.did_key(),
                   "did_jwk": key.did_jwk(), "jwk": dict(key.public_jwk)})


@key_app.command("resolve")
def resolve(
    did: Annotated[str, typer.Argument(metavar="DID", help="A did:key or did:jwk (or its "
                                       "verification method's DID URL).")],
) -> None:
    """Print the public JWK a did:key or did:jwk names, resolved offline."""
    from vc_im import keys
    with errors_to_exit():
        emit_json(dict(keys.resolve_did(did).public_jwk))
