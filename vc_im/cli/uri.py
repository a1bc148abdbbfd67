"""``vc-im uri``: parse, normalise, compare and convert IM identifiers.

Exit codes: 0 success (``compare``: equal); 1 not a valid identifier, not convertible, or
(``compare``) not equal; 2 a usage error, and for ``compare`` an argument that is not a valid
identifier.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from vc_im.cli._app import app
from vc_im.cli._common import EXIT_INVALID, EXIT_USAGE, fail

uri_app = typer.Typer(help="Parse, normalise, compare and convert im: and mimi:// identifiers.",
                      no_args_is_help=True)
app.add_typer(uri_app, name="uri")


class Scheme(StrEnum):
    """The forms ``convert --to`` writes: the two IM forms, a Matrix id, another scheme's URI."""

    IM = "im"
    MIMI = "mimi"
    MATRIX = "matrix"
    URI = "uri"


class Native(StrEnum):
    """The protocol-native forms ``convert --from`` reads."""

    XMPP = "xmpp"
    SIP = "sip"
    IRC = "irc"
    WIRE = "wire"
    EMAIL = "email"
    MATRIX = "matrix"
    URI = "uri"


UriArgument = Annotated[str, typer.Argument(metavar="URI", help="An im: or mimi:// identifier.",
                                            show_default=False)]


@uri_app.command("parse")
def parse_command(
    uri: UriArgument,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print scheme, protocol, type, parts, domain and normal form as JSON.")
    ] = False,
) -> None:
    """Print an identifier's type and normal form ("TYPE NORMALIZED")."""
    from vc_im.identifiers import IdentifierError, parse

    try:
        value = parse(uri)
    except IdentifierError as exc:
        fail(exc.message, EXIT_INVALID, code="invalid")
    if as_json:
        typer.echo(json.dumps(value.to_json()))
    else:
        typer.echo(f"{value.type.value} {value}")


@uri_app.command("normalize")
def normalize_command(uri: UriArgument) -> None:
    """Print an identifier's canonical form."""
    from vc_im.identifiers import IdentifierError, normalize

    try:
        typer.echo(normalize(uri))
    except IdentifierError as exc:
        fail(exc.message, EXIT_INVALID, code="invalid")


@uri_app.command("compare")
def compare_command(
    uri1: Annotated[str, typer.Argument(metavar="URI1", help="An im: or mimi:// identifier.",
                                        show_default=False)],
    uri2: Annotated[str, typer.Argument(metavar="URI2", help="An im: or mimi:// identifier.",
                                        show_default=False)],
) -> None:
    """Exit 0 when both name the same identifier (same scheme and protocol tag), 1 otherwise."""
    from vc_im.identifiers import IdentifierError, parse

    values = []
    for name, text in (("URI1", uri1), ("URI2", uri2)):
        try:
            values.append(parse(text))
        except IdentifierError as exc:
            fail(f"{name} is not a valid identifier: {exc.message}", EXIT_USAGE)
    if values[0] != values[1]:
        typer.echo("not equal")
        raise typer.Exit(EXIT_INVALID)
    typer.echo("equal")


@uri_app.command("convert")
def convert_command(
    value: Annotated[str, typer.Argument(
        metavar="VALUE", show_default=False,
        help="An im: or mimi:// identifier, or with --from a protocol's native form.")],
    to: Annotated[Scheme, typer.Option(
        "--to", show_default=False,
        help="The form to write: im, mimi, matrix (@user:server, #alias:server, "
             "!room:server) or uri (the scheme:rest URI of an im:scheme= identifier).")],
    source: Annotated[Native | None, typer.Option(
        "--from", show_default=False,
        help="Read VALUE as a native form: an XMPP JID, a SIP address of record, an IRC URL, "
             "a Wire id (wireapp://...), an email address, a Matrix id or matrix: URI, or "
             "any scheme:rest URI (uri: im:scheme=rest).")] = None,
) -> None:
    """Convert between im:, mimi:// and protocols' own forms (the MIMI drafts' mappings)."""
    from vc_im import protocols
    from vc_im.identifiers import IdentifierError, convert, from_native, parse

    try:
        parsed = parse(value) if source is None else from_native(value, source.value)
        if to is Scheme.MATRIX:
            typer.echo(protocols.to_matrix(parsed))
        elif to is Scheme.URI:
            typer.echo(protocols.to_uri(parsed))
        elif to is Scheme.IM and source is Native.URI:
            typer.echo(parsed)  # Figure 1's im:scheme= form keeps its tag
        else:
            typer.echo(convert(parsed, "im" if to is Scheme.IM else "mimi"))
    except IdentifierError as exc:
        fail(exc.message, EXIT_INVALID, code="invalid")
