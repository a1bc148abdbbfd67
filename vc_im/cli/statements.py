"""``vc-im statement create | inspect | wot | wellknown``: signed statements and the trust
models built from them (the MIMI identity draft's §4.2 web of trust and §4.3 well-known
service cross-signing).

Exit codes: ``create`` and ``inspect`` 0 on success, 1 for an invalid statement;
``wot`` and ``wellknown`` 0 when the key is trusted, 1 when it is not; 2 a usage error
or an unusable input (a key file, an identifier, a non-https URL).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vc_im.cli._app import app
from vc_im.cli._common import (
    EXIT_INVALID,
    emit_json,
    errors_to_exit,
    fail,
    read_private_key,
    resolve_now,
)

if TYPE_CHECKING:
    from vc_im.identifiers import ImId
    from vc_im.trust.paths import TrustPath
    from vc_im.trust.statements import Statement

statement_app = typer.Typer(help="Create and inspect signed statements, and evaluate a web of "
                                 "trust or well-known service cross-signatures.",
                            no_args_is_help=True)
app.add_typer(statement_app, name="statement")

NowOption = Annotated[str | None, typer.Option(
    "--now", help="The time to judge at (RFC 3339 or epoch seconds; default: now).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _identifier(text: str, option: str) -> ImId:
    from vc_im.errors import InputError
    from vc_im.identifiers import IdentifierError, parse

    try:
        return parse(text)
    except IdentifierError as exc:
        raise InputError(f"{option} {text!r} is not an IM identifier: {exc.message}") from exc


def _read_statements(paths: list[Path], now: int) -> tuple[list[Statement], list[dict[str, str]]]:
    """The statements that read, and for each that did not, its file, code and reason.

    An invalid statement is evidence of nothing: it is set aside, not fatal. A file that
    cannot be read at all is a usage error.
    """
    from vc_im.trust.statements import StatementError, read_statement_file

    statements: list[Statement] = []
    ignored: list[dict[str, str]] = []
    for path in paths:
        try:
            statements.append(read_statement_file(path, now))
        except StatementError as exc:
            ignored.append({"file": str(path), "code": exc.code, "reason": exc.message})
    return statements, ignored


def _print_path(path: TrustPath, ignored: list[dict[str, str]], *, as_json: bool) -> None:
    """The decision, then its steps; exit 1 when not trusted."""
    if as_json:
        emit_json({
            "ok": path.ok,
            "method": path.method,
            "key": path.key.thumbprint() if path.key is not None else None,
            "steps": list(path.steps),
            "reason": path.reason,
            "contradiction": path.contradiction,
            "ignored": ignored,
        })
    else:
        if path.ok:
            assert path.key is not None
            typer.echo(f"trusted ({path.method}): key {path.key.thumbprint()}")
            if path.contradiction:
                typer.echo(f"warning: {path.reason}")
        else:
            typer.echo(f"not trusted ({path.method}): {path.reason}")
        for step in path.steps:
            typer.echo(f"  {step}")
        for item in ignored:
            typer.echo(f"  ignored {item['file']} ({item['code']}): {item['reason']}")
    if not path.ok:
        raise typer.Exit(EXIT_INVALID)


@statement_app.command("create")
def create_command(
    kind: Annotated[str, typer.Option("--kind", help="dsk, usk, device, user, revoke or "
                                      "wellknown.")],
    key: Annotated[Path, typer.Option("--key", help="The signer's private key (JWK or PEM): "
                                      "the master key for dsk and usk, the device-signing key "
                                      "for device, the user-signing key for user, the bound "
                                      "key for wellknown, the original signer for revoke.")],
    issuer: Annotated[str, typer.Option("--issuer", help="The user (or, for wellknown, the "
                                        "IM identity) the statement speaks for.")],
    subject: Annotated[str | None, typer.Option(
        "--subject", help="device: the device id; user: the other user; wellknown: the "
                          "service account (https://host/... or acct:user@host); dsk and usk: "
                          "the issuer (the default).")] = None,
    subject_key: Annotated[Path | None, typer.Option(
        "--subject-key", help="The public key the statement binds (the device-signing, "
                              "user-signing, device or other user's master key).")] = None,
    revokes: Annotated[str | None, typer.Option("--revokes", help="revoke: the jti of the "
                                                "statement withdrawn.")] = None,
    valid_for: Annotated[str | None, typer.Option("--valid-for", help="Lifetime, like 365d "
                                                  "(default: no expiry).")] = None,
    now: Annotated[str | None, typer.Option("--now", help="Issue as of this time.")] = None,
) -> None:
    """Sign a statement and print it as a compact JWS."""
    from vc_im import keys
    from vc_im.times import parse_duration
    from vc_im.trust.statements import create_statement

    with errors_to_exit():
        signer = read_private_key(key)
        bound = (keys.read_key_file(subject_key, require="public")
                 if subject_key is not None else None)
        typer.echo(create_statement(
            signer, kind, issuer=issuer, subject=subject, key=bound, now=resolve_now(now),
            valid_for=parse_duration(valid_for) if valid_for is not None else None,
            revokes=revokes))


@statement_app.command("inspect")
def inspect_command(
    file: Annotated[str, typer.Argument(metavar="FILE", show_default=False,
                                        help="The statement, or - for stdin.")],
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify a statement's own signature and times, and say what it means."""
    from vc_im.cli._common import read_input_bytes
    from vc_im.trust.statements import StatementError, read_statement
    from vc_im.verify import MAX_TOKEN_BYTES

    with errors_to_exit():
        data = read_input_bytes(file, limit=MAX_TOKEN_BYTES + 1024)
        try:
            statement = read_statement(data.strip(b" \t\r\n"), now=resolve_now(now))
        except StatementError as exc:
            fail(f"the statement is invalid ({exc.code}): {exc.message}", EXIT_INVALID,
                 code="invalid")
        if as_json:
            emit_json(statement.to_json())
        else:
            typer.echo(f"{statement.kind.short}: {statement.describe()}")


@statement_app.command("wot")
def wot_command(
    me: Annotated[str, typer.Option("--me", help="Your own user identifier.")],
    master_key: Annotated[Path, typer.Option("--master-key", help="Your master public key.")],
    device: Annotated[str, typer.Option("--device", help="The device identifier to judge.")],
    device_key: Annotated[Path, typer.Option("--device-key", help="The device's public key.")],
    statement: Annotated[list[Path] | None, typer.Option(
        "--statement", help="A statement file (repeatable).")] = None,
    max_hops: Annotated[int, typer.Option("--max-hops", min=0, max=4, help="User-signing "
                                          "links allowed: 0 trusts only your own devices.")]
    = 1,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decide from your master key whether a device key is trusted, and explain the path."""
    from vc_im import keys
    from vc_im.trust.wot import evaluate_web_of_trust

    with errors_to_exit():
        me_id = _identifier(me, "--me")
        device_id = _identifier(device, "--device")
        master = keys.read_key_file(master_key, require="public")
        target = keys.read_key_file(device_key, require="public")
        statements, ignored = _read_statements(statement or [], resolve_now(now))
        path = evaluate_web_of_trust(me=me_id, master_key=master, statements=statements,
                                     device=device_id, device_key=target, max_hops=max_hops)
    _print_path(path, ignored, as_json=as_json)


@statement_app.command("wellknown")
def wellknown_command(
    identity: Annotated[str, typer.Option("--identity", help="The IM identity to judge.")],
    key: Annotated[Path, typer.Option("--key", help="The public key it should be bound to.")],
    statement: Annotated[list[Path] | None, typer.Option(
        "--statement", help="A well-known statement file (repeatable).")] = None,
    url: Annotated[list[str] | None, typer.Option(
        "--url", help="An https:// URL to fetch a statement from (repeatable).")] = None,
    threshold: Annotated[int, typer.Option("--threshold", min=1, max=16,
                                           help="Independent services that must agree.")] = 2,
    ca_file: Annotated[Path | None, typer.Option("--ca-file", help="Trust these CA "
                                                 "certificates (PEM) for --url instead of the "
                                                 "system's.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, max=60.0, help="Seconds per "
                                           "URL.")] = 5.0,
    allow_private_network: Annotated[bool, typer.Option(
        "--allow-private-network", help="Let --url reach loopback, private and link-local "
        "addresses, and count a loopback host as a service (for tests).")] = False,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Accept a key when k independent services bind the identity to it and none to another."""
    from vc_im import keys
    from vc_im.errors import InputError
    from vc_im.trust.wellknown import FetchedStatement, evaluate_well_known, fetch_statements

    with errors_to_exit():
        if not statement and not url:
            raise InputError("give at least one --statement or --url.")
        identity_id = _identifier(identity, "--identity")
        bound = keys.read_key_file(key, require="public")
        moment = resolve_now(now)
        read, ignored = _read_statements(statement or [], moment)
        evidence: list[Statement | FetchedStatement] = list(read)
        if url:
            evidence.extend(fetch_statements(url, ca_file=ca_file, timeout=timeout,
                                             allow_private_network=allow_private_network))
        path = evaluate_well_known(identity=identity_id, key=bound, statements=evidence,
                                   threshold=threshold, now=moment)
    _print_path(path, ignored, as_json=as_json)
