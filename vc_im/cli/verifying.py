"""``vc-im verify``'s work, without typer: the typer command and the start-up fast path
(:mod:`vc_im.cli._fast`) both call :func:`run_verify`, so that a cold verification of one
token imports neither typer nor the other commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from vc_im.cli._common import (
    EXIT_INVALID,
    EXIT_OK,
    echo,
    emit_json,
    errors_to_exit,
    read_input_bytes,
    read_text_file,
    replay_store_location,
    resolve_now,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from vc_im.report import Report
    from vc_im.report_lines import RenderedLine
    from vc_im.status import StatusSources
    from vc_im.trust.statements import Statement
    from vc_im.trust.wellknown import FetchedStatement
    from vc_im.verify import Evidence


def run_verify(*, trust: Path, token_file: str | None, audience: str | None,
               nonce: str | None, now: str | None, leeway: int, store: str | None,
               as_json: bool, parent: list[Path] | None, statement: list[Path] | None,
               statement_url: list[str] | None, ca_file: Path | None,
               allow_private_network: bool, status_list: list[Path] | None,
               status_url: list[str] | None, status_optional: bool, profile: str | None,
               batch: str | None, jobs: int) -> NoReturn:
    """``vc-im verify`` with its options parsed: the report on stdout, then exit 0 when
    valid, 1 when not (2 for a usage or input error, one sentence on stderr)."""
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




def read_token(source: str | None) -> bytes:
    """The token from a file or stdin, tolerating exactly one trailing newline."""
    from vc_im.verify import MAX_TOKEN_BYTES

    data = read_input_bytes(source, limit=MAX_TOKEN_BYTES + 1)
    return data[:-1] if data.endswith(b"\n") else data


def report_json(report: Report) -> dict[str, object]:
    """The object ``verify --json`` prints for one report: the contract's report with the
    top-level ``code`` and the ``subject`` summary (every JSON report goes through here)."""
    return report.to_json()


def print_report(report: Report, *, as_json: bool) -> NoReturn:
    """The report on stdout, then exit 0 when valid; otherwise also the failure's one
    sentence on stderr, and exit 1."""
    if as_json:
        emit_json(report_json(report))
    else:
        echo("valid" if report.ok else f"invalid: {report.code}")
        summary = report.summary_line()
        if summary is not None:
            echo(f"verified: {summary}")
        for warning in _warnings(report):
            echo(f"warning: {warning}")  # one line, escaped by the report
        _print_checks(report, indent="")
    if report.ok:
        raise SystemExit(EXIT_OK)
    failure = report.failure  # its reason already quotes a nested report's, where one decided
    reason = failure.reason if failure is not None else "an embedded credential is invalid."
    echo(f"vc-im: invalid ({report.code}): {reason}", err=True)
    raise SystemExit(EXIT_INVALID)


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
        echo(f"{indent}  {mark} {check.name}{code}{reason}")
    for number, nested in enumerate(report.credentials, start=1):
        verdict = "valid" if nested.ok else f"invalid: {nested.code}"
        label = "DPoP proof" if nested.kind == "dpop" else "credential"
        echo(f"{indent}  {label} {number}: {verdict}")
        _print_checks(nested, indent=indent + "    ")


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
    failures: tuple[str, ...] = ()
    if evidence.statements:  # the statements' module only when there are statements
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


def batch_renderer(evidence: Evidence, notes: tuple[str, ...] = ()
                   ) -> Callable[..., RenderedLine]:
    """How a batch's workers render each line: as ``verify --json`` prints the report (with
    :func:`fetch_failures`), plus ``line`` and ``id``. A library function, so that workers
    can import it."""
    import functools

    from vc_im.report_lines import render_line

    return functools.partial(render_line, warnings=fetch_failures(evidence, notes))
