"""``vc-im keygen | issue | verify | inspect``: keys, credentials and their verification."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vc_im.cli._app import app
from vc_im.cli._common import (
    EXIT_INVALID,
    EXIT_OK,
    KeyIdOption,
    LeewayOption,
    PasswordFileOption,
    ReportJsonOption,
    VerifyNowOption,
    emit_json,
    errors_to_exit,
    json_printable,
    printable,
    read_input_bytes,
    read_private_key,
    read_text_file,
    resolve_now,
)
from vc_im.cli.replay import StoreOption, replay_store_location
from vc_im.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from vc_im.report import Report
    from vc_im.report_lines import RenderedLine
    from vc_im.status import StatusSources
    from vc_im.trust.statements import Statement
    from vc_im.trust.wellknown import FetchedStatement
    from vc_im.verify import Evidence


class Alg(StrEnum):
    """Signature algorithms ``keygen`` can make keys for."""

    ED25519 = "Ed25519"
    ES256 = "ES256"
    ES256K = "ES256K"
    ES384 = "ES384"
    ES512 = "ES512"
    RS256 = "RS256"


class CredentialKind(StrEnum):
    """``--type``: what the credential's subject is."""

    DEVICE = "device"
    USER = "user"


class Format(StrEnum):
    """``--format``: VC Data Model 1.1 JWT or 2.0 with JOSE."""

    VC1 = "vc1"
    VC2 = "vc2"


@app.command()
def keygen(
    out: Annotated[Path, typer.Option("--out", help="Where to write the private JWK (mode 0600).")],
    alg: Annotated[Alg, typer.Option("--alg", help="Signature algorithm.")] = Alg.ED25519,
    kid: Annotated[str | None, typer.Option("--kid", help="Key id (default: RFC 7638 "
                                            "thumbprint).")] = None,
    public_out: Annotated[Path | None, typer.Option("--public-out",
                                                    help="Also write the public JWK here.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing output files "
                                        "(a symlink is replaced, never followed).")] = False,
) -> None:
    """Make a key pair: the private JWK goes to --out, the public JWK to stdout."""
    from vc_im import keys
    from vc_im.files import check_distinct_outputs, check_new_file
    with errors_to_exit():
        check_distinct_outputs({"--out": out, "--public-out": public_out})
        for path in (out, public_out):
            if path is not None:
                check_new_file(path, force=force)
        key = keys.generate(alg.value, kid=kid)
        keys.write_private_key(out, key, force=force)
        if public_out is not None:
            keys.write_public_key(public_out, key, force=force)
        emit_json(dict(key.public_jwk))


@app.command()
def issue(
    key: Annotated[Path, typer.Option("--key", help="The issuer's private key (JWK or PEM).")],
    issuer: Annotated[str | None, typer.Option("--issuer", help="The issuer's id, an absolute "
                                               "URI.")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="The subject's IM "
                                                "identifier.")] = None,
    fn: Annotated[str | None, typer.Option("--fn", help="The subject's formatted name (vCard "
                                           "fn).")] = None,
    type_: Annotated[CredentialKind, typer.Option("--type", help="device: ImDeviceCredential; "
                                                  "user: ImUserCredential.")]
    = CredentialKind.DEVICE,
    org: Annotated[str | None, typer.Option("--org", help="hasOrganizationName.")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="hasOrganizationalUnit.")] = None,
    im: Annotated[list[str] | None, typer.Option("--im", help="Another hasInstantMessage "
                                                 "identifier (repeatable).")] = None,
    holder_key: Annotated[Path | None, typer.Option("--holder-key", help="The holder's public "
                                                    "key, bound as cnf.jwk.")] = None,
    no_holder_key: Annotated[bool, typer.Option(
        "--no-holder-key", help="Issue a device credential that binds no key (no cnf), which "
        "no presentation can then use; without it, a device credential needs --holder-key.")]
    = False,
    credential_id: Annotated[str | None, typer.Option("--id", help="The credential's id "
                                                      "(default: a urn:uuid).")] = None,
    valid_for: Annotated[str, typer.Option("--valid-for", help="Lifetime, like 90d or 12h.")]
    = "90d",
    now: Annotated[str | None, typer.Option("--now", help="Issue as of this time (RFC 3339 or "
                                            "epoch seconds).")] = None,
    format_: Annotated[Format, typer.Option("--format", help="vc1: VC Data Model 1.1 JWT; "
                                            "vc2: VC Data Model 2.0 with JOSE.")] = Format.VC1,
    may_issue_devices: Annotated[bool, typer.Option(
        "--may-issue-devices", help="(--type user) let the user's key (--holder-key) issue "
        "its own devices' credentials.")] = False,
    x5c: Annotated[Path | None, typer.Option("--x5c", help="PEM certificate chain of the "
                                             "issuer key (leaf first), put in the header.")]
    = None,
    registry: Annotated[Path | None, typer.Option(
        "--registry", help="Record the credential in this registry and give it a random index "
        "in each of its status lists.")] = None,
    document: Annotated[Path | None, typer.Option(
        "--document", metavar="CRED.json", help="Sign this credential document as it is, after "
        "every check of its profile (instead of --issuer, --subject, --fn ...).")] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", metavar="NAME|FILE", help="(--document) check it under this profile "
        "(im-device, im-user, w3c or a profile file) instead of choosing by type.")] = None,
    password_file: PasswordFileOption = None,
    key_id: KeyIdOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (errors too).")] = False,
    batch: Annotated[str | None, typer.Option(
        "--batch", metavar="FILE|-", help="Issue a credential for each line of this JSON Lines "
        "file (- for stdin), each an object of subject, fn, type, org, unit, im, holder_key "
        "(a JWK), id, valid_for, may_issue_devices; every line is checked before any is "
        "signed.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", min=0, help="Worker processes for --batch "
                                      "(0: one per core).")] = 1,
) -> None:
    """Issue an ImDeviceCredential (or ImUserCredential), or sign a credential document
    (--document), and print it as a compact JWS."""
    from vc_im import keys
    from vc_im.credentials import issue_credential
    from vc_im.errors import InputError
    from vc_im.model import CredentialType, Encoding
    from vc_im.times import parse_duration

    with errors_to_exit():
        if document is not None:
            if batch is not None:
                raise InputError("--document and --batch exclude each other; give one.")
            given = [name for name, value in (
                ("--issuer", issuer), ("--subject", subject), ("--fn", fn), ("--org", org),
                ("--unit", unit), ("--im", im), ("--holder-key", holder_key),
                ("--no-holder-key", no_holder_key or None),
                ("--id", credential_id), ("--x5c", x5c), ("--registry", registry),
                ("--may-issue-devices", may_issue_devices or None)) if value is not None]
            if given:
                raise InputError(f"--document signs the document as it is; {given[0]} does "
                                 "not apply to it.")
            print_token(_issue_document(key, document, format_.value, profile, now,
                                        password_file=password_file, key_id=key_id), as_json)
            return
        if profile is not None:
            raise InputError("--profile applies to --document; without it, issue makes an "
                             "ImDeviceCredential or ImUserCredential.")
        check_batch_options(batch, jobs, {
            "--subject": subject, "--fn": fn, "--org": org, "--unit": unit, "--im": im,
            "--holder-key": holder_key, "--no-holder-key": no_holder_key or None,
            "--id": credential_id, "--registry": registry, "--json": as_json or None,
            "--may-issue-devices": may_issue_devices or None,
            "--type": None if type_ is CredentialKind.DEVICE else type_})
        if issuer is None:
            raise InputError("issue needs --issuer (or --document CRED.json).")
        issuer_key = read_private_key(key, password_file=password_file, kid=key_id)
        chain = None
        if x5c is not None:
            from vc_im.trust.x509 import x5c_of

            chain = x5c_of(read_text_file(x5c, what="certificate chain").encode("ascii"))
        if batch is not None:
            from vc_im.batch import IssueSettings
            from vc_im.cli.batch import run_issue_batch

            run_issue_batch(batch, IssueSettings(
                issuer_key, issuer, resolve_now(now), Encoding(format_.value),
                tuple(chain) if chain else None, parse_duration(valid_for)), jobs=jobs)
        missing = [name for name, value in (("--subject", subject), ("--fn", fn))
                   if value is None]
        if missing:
            raise InputError(f"issue needs {' and '.join(missing)} (or --batch FILE, or "
                             "--document CRED.json).")
        if no_holder_key and holder_key is not None:
            raise InputError("--no-holder-key and --holder-key contradict each other; give one.")
        if holder_key is None and type_ is CredentialKind.DEVICE and not no_holder_key:
            raise InputError("a device credential without --holder-key binds no key, so every "
                             "presentation of it is refused; give the device's public key with "
                             "--holder-key (or --no-holder-key if that is meant).")
        holder = (keys.read_key_file(holder_key, require="public")
                  if holder_key is not None else None)
        fields: dict[str, Any] = dict(
            subject=subject, fn=fn, credential_type=(
                CredentialType.DEVICE if type_ is CredentialKind.DEVICE else CredentialType.USER),
            organization=org, unit=unit, instant_messages=im or (), holder_key=holder,
            credential_id=credential_id, valid_for=parse_duration(valid_for),
            may_issue_devices=may_issue_devices, x5c=chain)
        if registry is not None:
            from vc_im.status import Registry

            with Registry.open(registry) as reg:
                token = reg.issue(issuer_key, issuer=issuer, encoding=Encoding(format_.value),
                                  now=resolve_now(now), **fields)
        else:
            token = issue_credential(issuer_key, issuer=issuer, now=resolve_now(now),
                                     encoding=Encoding(format_.value), **fields)
    print_token(token, as_json)


def _issue_document(key: Path, document: Path, encoding: str, profile: str | None,
                    now: str | None, *, password_file: Path | None,
                    key_id: str | None) -> str:
    """``issue --document``: read the document strictly and sign it under its profile."""
    from vc_im import _jose
    from vc_im.credentials import issue_document
    from vc_im.model import Encoding

    issuer_key = read_private_key(key, password_file=password_file, kid=key_id)
    applied = None
    if profile is not None:
        from vc_im.profiles import resolve

        applied = resolve(profile)
    data = read_input_bytes(str(document), limit=_jose.MAX_TOKEN_BYTES, what="document")
    try:
        parsed = _jose.loads(data, what=f"credential document {document}",
                             max_bytes=_jose.MAX_TOKEN_BYTES)
    except _jose.StrictJSONError as exc:
        raise InputError(exc.message) from exc
    return issue_document(issuer_key, parsed, now=resolve_now(now),
                          encoding=Encoding(encoding), profile=applied)


def emit_token_json(token: str) -> None:
    """``--json`` for a command that signs a token: the token, its header and its claims."""
    from vc_im import _jose as jose

    unverified = jose.peek_unverified(token)
    emit_json({"token": token, "header": unverified.header, "payload": unverified.payload})


def print_token(token: str, as_json: bool) -> None:
    """Print a token a command signed: the compact JWS, or with ``--json`` its parts."""
    if as_json:
        emit_token_json(token)
    else:
        typer.echo(token)


def read_token(source: str | None) -> bytes:
    """The token from a file or stdin, tolerating exactly one trailing newline."""
    from vc_im.verify import MAX_TOKEN_BYTES

    data = read_input_bytes(source, limit=MAX_TOKEN_BYTES + 1)
    return data[:-1] if data.endswith(b"\n") else data


def report_json(report: Report) -> dict[str, object]:
    """The object ``verify --json`` prints for one report: the contract's report with the
    top-level ``code`` and the ``subject`` summary (every JSON report goes through here)."""
    return report.to_json()


def print_report(report: Report, *, as_json: bool) -> None:
    """The report on stdout, then exit 0 when valid; otherwise also the failure's one
    sentence on stderr, and exit 1."""
    if as_json:
        emit_json(report_json(report))
    else:
        typer.echo("valid" if report.ok else f"invalid: {report.code}")
        summary = report.summary_line()
        if summary is not None:
            typer.echo(f"verified: {summary}")
        for warning in _warnings(report):
            typer.echo(f"warning: {warning}")  # one line, escaped by the report
        _print_checks(report, indent="")
    if report.ok:
        raise typer.Exit(EXIT_OK)
    failure = report.failure  # its reason already quotes a nested report's, where one decided
    reason = failure.reason if failure is not None else "an embedded credential is invalid."
    typer.echo(f"vc-im: invalid ({report.code}): {reason}", err=True)
    raise typer.Exit(EXIT_INVALID)


def check_batch_options(batch: str | None, jobs: int, single: dict[str, object]) -> None:
    """--jobs needs --batch; --batch takes the place of the one-token inputs."""
    from vc_im.errors import InputError

    if batch is None:
        if jobs != 1:
            raise InputError("--jobs applies to --batch only.")
        return
    given = [name for name, value in single.items() if value is not None]
    if given:
        raise InputError(f"--batch reads every input from its lines; drop {given[0]}.")


def _warnings(report: Report) -> list[str]:
    """The report's warnings and its nested reports', each once."""
    found = dict.fromkeys(report.warnings)
    for nested in report.credentials:
        found.update(dict.fromkeys(_warnings(nested)))
    return list(found)


def _print_checks(report: Report, *, indent: str) -> None:
    for check in report.checks:
        mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}[check.status.value]
        code = f" [{check.code}]" if check.code else ""
        reason = f" {check.reason}" if check.reason else ""
        typer.echo(f"{indent}  {mark} {check.name}{code}{reason}")
    for number, nested in enumerate(report.credentials, start=1):
        verdict = "valid" if nested.ok else f"invalid: {nested.code}"
        label = "DPoP proof" if nested.kind == "dpop" else "credential"
        typer.echo(f"{indent}  {label} {number}: {verdict}")
        _print_checks(nested, indent=indent + "    ")


@app.command()
def verify(
    trust: Annotated[Path, typer.Option("--trust", help="The trust file (JSON).")],
    token_file: Annotated[str | None, typer.Argument(metavar="[TOKEN_FILE | -]",
                                                     help="The token; stdin when absent or -.")]
    = None,
    audience: Annotated[str | None, typer.Option("--audience", help="This verifier's id; "
                                                 "expects a presentation.")] = None,
    nonce: Annotated[str | None, typer.Option("--nonce", help="The nonce the presentation "
                                              "must carry.")] = None,
    now: VerifyNowOption = None,
    leeway: LeewayOption = 60,
    store: StoreOption = None,
    as_json: ReportJsonOption = False,
    parent: Annotated[list[Path] | None, typer.Option(
        "--parent", help="A user credential that lets its key issue device credentials "
        "(cascade; repeatable).")] = None,
    statement: Annotated[list[Path] | None, typer.Option(
        "--statement", help="A signed statement file: web of trust or well-known service "
        "(repeatable).")] = None,
    statement_url: Annotated[list[str] | None, typer.Option(
        "--statement-url", help="Fetch a well-known statement from this https:// URL "
        "(repeatable; nothing else is ever fetched).")] = None,
    ca_file: Annotated[Path | None, typer.Option(
        "--ca-file", help="CA certificates (PEM) for the TLS of --statement-url and "
        "--status-url.")] = None,
    allow_private_network: Annotated[bool, typer.Option(
        "--allow-private-network", help="Let --statement-url and --status-url reach loopback, "
        "private and link-local addresses, and count a loopback host as a service (for "
        "tests).")] = False,
    status_list: Annotated[list[Path] | None, typer.Option(
        "--status-list", help="A status list credential file (repeatable; matched by id).")]
    = None,
    status_url: Annotated[list[str] | None, typer.Option(
        "--status-url", help="Fetch a status list credential from this https:// URL "
        "(repeatable; matched by id; cached in the state directory while it is valid).")]
    = None,
    status_optional: Annotated[bool, typer.Option(
        "--status-optional", help="A status list that was not given only warns.")] = False,
    profile: Annotated[str | None, typer.Option(
        "--profile", metavar="NAME|FILE", help="Apply this credential profile (im-device, "
        "im-user, w3c, a profile_files name, or a profile file) instead of choosing by type.")]
    = None,
    batch: Annotated[str | None, typer.Option(
        "--batch", metavar="FILE|-", help="Verify each line of this JSON Lines file (- for "
        "stdin): a token, or {\"token\", \"audience\", \"nonce\", \"id\"}; one JSON report "
        "per line out, a summary on stderr.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", min=0, help="Worker processes for --batch "
                                      "(0: one per core).")] = 1,
) -> None:
    """Verify a credential or presentation; exit 0 when valid, 1 when not."""
    from vc_im.trust import read_trust_file
    from vc_im.verify import verify_token

    with errors_to_exit():
        check_batch_options(batch, jobs, {"TOKEN_FILE": token_file})
        trust_store = read_trust_file(trust)
        applied = None
        if profile is not None:
            from vc_im.profiles import resolve

            applied = resolve(profile, trust_store.profiles)
        at = resolve_now(now)
        evidence = gather_evidence(parent or [], statement or [], statement_url or [],
                                   ca_file, now=at, leeway=leeway,
                                   allow_private_network=allow_private_network)
        notes: tuple[str, ...] = ()
        if status_list or status_url or status_optional:
            from dataclasses import replace

            sources, notes = gather_status(status_list or [], status_url or [], ca_file,
                                           now=at, optional=status_optional,
                                           allow_private_network=allow_private_network)
            evidence = replace(evidence, status=sources)
        if batch is not None:
            from vc_im.batch import VerifySettings
            from vc_im.cli.batch import run_verify_batch

            settings = VerifySettings(trust_store, now=None if now is None else at,
                                      leeway=leeway, audience=audience, nonce=nonce,
                                      evidence=evidence, profile=applied)
            run_verify_batch(batch, settings, replay_store_location(store), jobs=jobs,
                             render=batch_renderer(evidence, notes))
        data = read_token(token_file)
        report = verify_token(data, trust_store, now=at, leeway=leeway, audience=audience,
                              nonce=nonce, store=replay_store_location(store),
                              evidence=evidence, profile=applied)
    print_report(with_fetch_failures(report, evidence, notes), as_json=as_json)


def gather_status(files: list[Path], urls: list[str], ca_file: Path | None, *, now: int,
                  optional: bool, allow_private_network: bool,
                  ) -> tuple[StatusSources, tuple[str, ...]]:
    """The status lists given as files and fetched from the named URLs (through the cache in
    the state directory), and the sentences worth a warning (a list that was not cached)."""
    from vc_im.errors import InputError
    from vc_im.status import StatusSources
    from vc_im.status.sources import MAX_STATUS_LISTS

    if len(files) + len(dict.fromkeys(urls)) > MAX_STATUS_LISTS:
        raise InputError(f"at most {MAX_STATUS_LISTS} status lists (--status-list and "
                         "--status-url together) are accepted.")
    tokens = [read_text_file(path, limit=65537, what="status list").strip() for path in files]
    if not urls:
        return StatusSources(tuple(tokens), optional=optional), ()
    from vc_im.status.remote import fetch_lists

    fetched = fetch_lists(urls, now=now, cache_dir=status_cache_dir(), ca_file=ca_file,
                          allow_private_network=allow_private_network)
    tokens.extend(item.token for item in fetched if item.token is not None)
    failures = tuple((item.url, item.failure) for item in fetched if item.token is None)
    notes = tuple(item.note for item in fetched if item.note)
    return StatusSources(tuple(tokens), optional=optional, failures=failures), notes


def status_cache_dir() -> Path | None:
    """``status-cache`` in the state directory, beside the default replay store; None (no
    cache) when no home is known."""
    from vc_im.replay import ReplayStoreError, default_store_path

    try:
        return default_store_path().parent / "status-cache"
    except ReplayStoreError:
        return None


#: Statements or parents one verification reads at most (each costs a signature check).
MAX_EVIDENCE = 64


def gather_evidence(parents: list[Path], statements: list[Path], urls: list[str],
                    ca_file: Path | None, *, now: int, leeway: int,
                    allow_private_network: bool = False) -> Evidence:
    """Read parent credentials and statements, and fetch the statements the user named."""
    from vc_im.verify import NO_EVIDENCE, Evidence

    if not (parents or statements or urls):
        return NO_EVIDENCE
    if len(parents) > MAX_EVIDENCE or len(statements) + len(urls) > MAX_EVIDENCE:
        from vc_im.errors import InputError

        raise InputError(f"at most {MAX_EVIDENCE} parent credentials and {MAX_EVIDENCE} "
                         "statements are accepted.")
    from vc_im.errors import InputError
    from vc_im.trust.statements import StatementError, read_statement_file
    from vc_im.trust.wellknown import fetch_statements

    read: list[Statement | FetchedStatement] = []
    for path in statements:
        try:
            read.append(read_statement_file(path, now, leeway=leeway))
        except StatementError as exc:
            raise InputError(f"the statement {path} is not usable: {exc.message}") from exc
    if urls:
        read.extend(fetch_statements(urls, ca_file=ca_file,
                                     allow_private_network=allow_private_network))
    tokens = tuple(read_text_file(path, limit=65536, what="parent credential").strip()
                   for path in parents)
    return Evidence(tokens, tuple(read))


def fetch_failures(evidence: Evidence, notes: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A warning for each statement or status URL that could not be fetched, then each of
    ``notes``: a failed fetch is never silent, whether or not a check used what it would have
    given."""
    from vc_im.trust.wellknown import FetchedStatement

    failures = tuple(item.failure for item in evidence.statements
                     if isinstance(item, FetchedStatement) and item.token is None)
    if evidence.status is not None:
        failures += tuple(sentence for _url, sentence in evidence.status.failures)
    return failures + notes


def with_fetch_failures(report: Report, evidence: Evidence,
                        notes: tuple[str, ...] = ()) -> Report:
    """The report, with :func:`fetch_failures` among its warnings."""
    from dataclasses import replace

    failures = fetch_failures(evidence, notes)
    return replace(report, warnings=(*report.warnings, *failures)) if failures else report


def batch_renderer(evidence: Evidence, notes: tuple[str, ...] = ()) -> Callable[..., RenderedLine]:
    """How a batch's workers render each line: as ``verify --json`` prints the report (with
    :func:`fetch_failures`), plus ``line`` and ``id``. A library function, so that workers
    can import it."""
    import functools

    from vc_im.report_lines import render_line

    return functools.partial(render_line, warnings=fetch_failures(evidence, notes))


@app.command("inspect")
def inspect_command(
    token_file: Annotated[str | None, typer.Argument(metavar="[TOKEN_FILE | -]",
                                                     help="A compact JWS or a JSON claims set.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Decode WITHOUT verifying, and explain known pitfalls (the MIMI draft's included)."""
    import json

    from vc_im.lint import MAX_INSPECT_BYTES, inspect

    with errors_to_exit():
        result = inspect(read_input_bytes(token_file, limit=MAX_INSPECT_BYTES))
    pitfalls = [{"code": p.code, "path": p.path, "message": p.message} for p in result.pitfalls]
    notes = [{"code": p.code, "path": p.path, "message": p.message} for p in result.notes]
    if as_json:
        emit_json({"verified": False, "header": result.header, "payload": result.payload,
                   "pitfalls": pitfalls, "notes": notes})
        return
    typer.echo("UNVERIFIED: decoded only; nothing below has been checked (use vc-im verify).")
    if result.header is not None:
        typer.echo("header (UNVERIFIED):")
        typer.echo(json_printable(json.dumps(result.header, indent=2, ensure_ascii=False)))
    typer.echo("payload (UNVERIFIED):")
    typer.echo(json_printable(json.dumps(result.payload, indent=2, ensure_ascii=False)))
    if pitfalls:
        typer.echo(f"{len(pitfalls)} problem(s) that verification would reject:")
        for item in pitfalls:
            typer.echo(printable(f"  - {item['path']}: {item['message']}"))
    else:
        typer.echo("no known pitfalls found.")
    for item in notes:
        typer.echo(printable(f"note: {item['path']}: {item['message']}"))

