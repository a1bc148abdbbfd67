"""``vc-im x509 ca | leaf | show | verify``: certificates for IM identifiers.

The certificates follow the seed's mock-up (§5.1): a leaf names its IM identifiers as
subjectAltName URIs. Each file written holds exactly the new certificate; a chain is the
leaf followed by its intermediate CAs (``cat leaf.pem intermediate.pem``). ``x509 ca
--user`` makes a user certificate, which issues its devices' certificates (the cascade).

Exit codes: 0 success (``verify``: the chain is valid); 1 ``verify`` found the chain
invalid; 2 a usage error or an unusable input (a key, a certificate file, an invalid --san).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vc_im.cli._app import ReportJsonOption, app
from vc_im.cli._common import (
    errors_to_exit,
    read_input_bytes,
    read_private_key,
    resolve_now,
)

if TYPE_CHECKING:
    from vc_im.trust.x509 import CertificateInfo

x509_app = typer.Typer(help="Mint test CA and leaf certificates carrying IM identifiers, and "
                            "show certificates.", no_args_is_help=True)
app.add_typer(x509_app, name="x509")

NowOption = Annotated[str | None, typer.Option(
    "--now", help="Valid from this time (RFC 3339 or epoch seconds; default: now).")]
ForceOption = Annotated[bool, typer.Option(
    "--force", help="Replace existing output files (a symlink is replaced, never followed).")]


@x509_app.command("ca")
def ca_command(
    out_cert: Annotated[Path, typer.Option("--out-cert", help="Where to write the CA "
                                           "certificate (PEM).")],
    out_key: Annotated[Path, typer.Option("--out-key", help="Where to write the CA's new "
                                          "private key (JWK, mode 0600).")],
    name: Annotated[str, typer.Option("--name", help="The CA's common name (CN).")],
    now: NowOption = None,
    days: Annotated[int, typer.Option("--days", min=1, max=36500,
                                      help="Validity in days.")] = 3650,
    issuer_cert: Annotated[Path | None, typer.Option(
        "--issuer-cert", help="Make an intermediate CA issued by this CA certificate (PEM) "
                              "instead of a self-signed root.")] = None,
    issuer_key: Annotated[Path | None, typer.Option(
        "--issuer-key", help="The private key of --issuer-cert.")] = None,
    path_length: Annotated[int | None, typer.Option(
        "--path-length", min=0, help="At most this many CAs below this one.")] = None,
    user: Annotated[list[str] | None, typer.Option(
        "--user", help="Make a user certificate for this user or handle (repeatable, one "
                       "domain): it may issue only that user's device certificates. Needs "
                       "--issuer-cert and --issuer-key.")] = None,
    alg: Annotated[str, typer.Option(
        "--alg", help="The new key's algorithm: ES256, Ed25519 or RS256.")] = "ES256",
    force: ForceOption = False,
) -> None:
    """Make a CA with a new key: a self-signed root, an intermediate CA, or a user
    certificate (--user)."""
    from vc_im import keys
    from vc_im.errors import InputError
    from vc_im.files import check_distinct_outputs, check_new_file, write_new_file
    from vc_im.trust.x509 import MAX_PEM_BYTES, describe
    from vc_im.trust.x509_mint import mint_ca

    with errors_to_exit():
        if (issuer_cert is None) != (issuer_key is None):
            raise InputError("--issuer-cert and --issuer-key go together.")
        check_distinct_outputs({"--out-cert": out_cert, "--out-key": out_key})
        check_new_file(out_cert, force=force)
        check_new_file(out_key, force=force)
        issuer_pem = (read_input_bytes(str(issuer_cert), limit=MAX_PEM_BYTES)
                      if issuer_cert is not None else None)
        signer = (read_private_key(issuer_key)
                  if issuer_key is not None else None)
        if alg not in ("ES256", "Ed25519", "RS256"):
            raise InputError(f"--alg must be ES256, Ed25519 or RS256, not {alg!r}.")
        certificate, key = mint_ca(name=name, now=resolve_now(now), days=days,
                                   issuer_cert_pem=issuer_pem, issuer_key=signer,
                                   path_length=path_length, users=user or (), alg=alg)
        keys.write_private_key(out_key, key, force=force)
        write_new_file(out_cert, certificate, force=force)
        _print(describe(certificate))


@x509_app.command("leaf")
def leaf_command(
    ca_cert: Annotated[Path, typer.Option("--ca-cert", help="The issuing CA's certificate "
                                          "(PEM; its first certificate issues).")],
    ca_key: Annotated[Path, typer.Option("--ca-key", help="The issuing CA's private key.")],
    key: Annotated[Path, typer.Option("--key", help="The subject's public key (JWK or PEM).")],
    san: Annotated[list[str], typer.Option("--san", help="An im: or mimi:// identifier the "
                                           "certificate names (repeatable).")],
    name: Annotated[str, typer.Option("--name", help="The subject's common name (CN).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the certificate (PEM).")],
    now: NowOption = None,
    days: Annotated[int, typer.Option("--days", min=1, max=36500,
                                      help="Validity in days.")] = 90,
    force: ForceOption = False,
) -> None:
    """Make a client certificate like the seed's mock-up, naming the --san identifiers.

    Issued by a user certificate, it names the user in issuerAltName and may name only
    that user's devices."""
    from vc_im import keys
    from vc_im.files import check_new_file, write_new_file
    from vc_im.trust.x509 import MAX_PEM_BYTES, describe
    from vc_im.trust.x509_mint import mint_leaf

    with errors_to_exit():
        check_new_file(out, force=force)
        ca_pem = read_input_bytes(str(ca_cert), limit=MAX_PEM_BYTES)
        signer = read_private_key(ca_key)
        subject_key = keys.read_key_file(key, require="public")
        certificate = mint_leaf(ca_cert_pem=ca_pem, ca_key=signer, subject_key=subject_key,
                                san_uris=san, subject_name=name, now=resolve_now(now),
                                days=days)
        write_new_file(out, certificate, force=force)
        _print(describe(certificate))


@x509_app.command("show")
def show_command(
    cert: Annotated[str, typer.Argument(metavar="CERT", show_default=False,
                                        help="A PEM (or DER) certificate file, or - for "
                                             "stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (errors too).")] = False,
) -> None:
    """Print each certificate's subject, issuer, validity, key and subjectAltName URIs."""
    from vc_im.trust.x509 import MAX_PEM_BYTES, describe

    with errors_to_exit():
        certificates = describe(read_input_bytes(cert, limit=MAX_PEM_BYTES))
    if as_json:
        from vc_im.cli._common import emit_json
        from vc_im.times import seconds_to_rfc3339

        emit_json([{"subject": info.subject, "issuer": info.issuer,
                    "not_before": seconds_to_rfc3339(info.not_before),
                    "not_after": seconds_to_rfc3339(info.not_after), "ca": info.is_ca,
                    "key": info.key_type, "san_uris": list(info.san_uris)}
                   for info in certificates])
    else:
        _print(certificates)


@x509_app.command("verify")
def verify_command(
    ca_file: Annotated[Path, typer.Option("--ca-file", help="The CA roots the chain must "
                                          "lead to (PEM).")],
    chain: Annotated[str, typer.Argument(metavar="CHAIN", show_default=False,
                                         help="The client's chain (PEM, leaf first), or - "
                                              "for stdin.")] = "-",
    identifier: Annotated[str | None, typer.Option(
        "--identifier", help="Fail unless the chain certifies this IM identifier.")] = None,
    now: Annotated[str | None, typer.Option(
        "--now", help="Judge at this time (RFC 3339 or epoch seconds; default: now).")] = None,
    as_json: ReportJsonOption = False,
) -> None:
    """Validate a client certificate chain on its own and say which IM identifiers it
    vouches for, and as what."""
    from vc_im.cli._common import EXIT_INVALID, EXIT_OK, emit_json
    from vc_im.cli.verifying import print_report
    from vc_im.errors import InputError
    from vc_im.identifiers import IdentifierError, parse
    from vc_im.trust.x509 import MAX_PEM_BYTES, load_roots
    from vc_im.trust.x509_chain import verify_certificate_chain

    with errors_to_exit():
        wanted = None
        if identifier is not None:
            try:
                wanted = parse(identifier)
            except IdentifierError as exc:
                raise InputError(f"--identifier: {exc.message}") from exc
        roots = load_roots(read_input_bytes(str(ca_file), limit=MAX_PEM_BYTES,
                                            what="CA roots file"))
        data = read_input_bytes(chain, limit=MAX_PEM_BYTES + 1, what="certificate chain")
        at = resolve_now(now)
    report, certified = verify_certificate_chain(data, roots, now=at, identifier=wanted)
    if not as_json:
        print_report(report, as_json=False)
    emit_json({**report.to_json(), "certifies": [
        {"id": str(value), "type": value.type.value} for value in certified.identifiers]
        if certified is not None else []})
    if report.ok:
        raise typer.Exit(EXIT_OK)
    failure = report.failure
    if failure is not None:
        typer.echo(f"vc-im: invalid ({report.code}): {failure.reason}", err=True)
    raise typer.Exit(EXIT_INVALID)


def _print(certificates: tuple[CertificateInfo, ...]) -> None:
    """One block per certificate; each subjectAltName URI with its identifier type."""
    from vc_im.identifiers import IdentifierError, parse
    from vc_im.report import printable
    from vc_im.times import seconds_to_rfc3339

    for index, info in enumerate(certificates):
        if index:
            typer.echo("")
        typer.echo(f"subject: {printable(info.subject, lines=False)}")
        typer.echo(f"issuer: {printable(info.issuer, lines=False)}")
        typer.echo(f"not before: {seconds_to_rfc3339(info.not_before)}")
        typer.echo(f"not after: {seconds_to_rfc3339(info.not_after)}")
        typer.echo(f"ca: {'yes' if info.is_ca else 'no'}")
        typer.echo(f"key: {info.key_type}")
        for uri in info.san_uris:
            shown = printable(uri.encode("ascii", "backslashreplace").decode("ascii"),
                              lines=False)
            if uri.partition(":")[0].lower() not in ("im", "mimi"):
                typer.echo(f"san: uri {shown}")
                continue
            try:
                identifier = parse(uri)
            except IdentifierError as exc:
                typer.echo(f"san: invalid {shown} ({exc.message.rstrip('.')})")
            else:
                typer.echo(f"san: {identifier.type.value} {identifier}")
