"""Verify and issue at scale: JSON Lines in, one result per line out, in input order.

A federation peer or an audit verifies presentations by the thousand; a provider issues a
credential for every device of every user. A batch runs the very checks of one token, and:

* worker processes (``jobs``) take the lines in chunks; only a few chunks are in flight at
  once, so memory stays flat however long the input is, and results come back in input order;
* the replay store belongs to this process alone: workers verify presentations with their
  consumption deferred, and each chunk's presentations are then consumed here, in input
  order, in one transaction (a group commit where the store offers one). So the verdicts do
  not depend on the number of workers, a nonce is never accepted twice, and a result is
  handed out only once its chunk's transaction committed: a presentation reported valid is
  durably consumed, whatever crashes afterwards;
* this process does little per line: workers get the lines' bytes as read, and read,
  verify and (:func:`verify_batch_text`) render each line to its final JSON text as if the
  store accepts it; this process consumes, and only where the store refused a presentation
  writes the verdict into its line (:mod:`vc_im.report_lines`);
* a worker that dies ends the batch with :class:`WorkerLost`, never a hang;
* an issuing batch checks every line before it signs any; only this process signs.

The library never prints: the CLI writes what these generators yield.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Self

from vc_im import _jose as jose
from vc_im._checks import CREDENTIAL_STEPS, DEFAULT_LEEWAY, settle_replay
from vc_im._workers import WorkerLost, chunks, resolve_jobs, run, tune_collector
from vc_im.errors import InputError, TokenError
from vc_im.model import NO_EVIDENCE, CredentialType, Encoding, Evidence
from vc_im.replay import (
    DEFAULT_NONCE_TTL,
    GroupConsumer,
    PresentationUse,
    ReplayBackend,
    ReplayOutcome,
    ReplayStoreError,
    StoreStats,
    StoreUnavailable,
    open_store,
)
from vc_im.report import Report, failed_report
from vc_im.report_lines import RenderedLine, render_line, settle_line

if TYPE_CHECKING:
    from vc_im.keys import Key
    from vc_im.profiles import Profile
    from vc_im.replay import StoreLike
    from vc_im.trust import TrustStore

__all__ = ["CHUNK_LINES", "MAX_LINE_BYTES", "IssueResult", "IssueSettings", "LineReport",
           "VerifySettings", "WorkerLost", "issue_batch", "read_lines", "resolve_jobs",
           "tune_collector", "verify_batch", "verify_batch_text"]

#: The longest line read: a token of the largest size and its JSON object's other members.
MAX_LINE_BYTES = jose.MAX_TOKEN_BYTES + 4096
#: Lines a worker takes at once.
CHUNK_LINES = 64
#: Chunks whose presentations are consumed in one transaction (one fsync), before any of
#: their lines is written.
GROUP_CHUNKS = 4

_VERIFY_MEMBERS = frozenset({"token", "audience", "nonce", "id"})
_ISSUE_MEMBERS = frozenset({"subject", "fn", "type", "org", "unit", "im", "holder_key",
                            "no_holder_key", "id", "valid_for", "may_issue_devices"})


def read_lines(stream: BinaryIO, *, limit: int = MAX_LINE_BYTES) -> Iterator[bytes | None]:
    """Each line of ``stream`` without its line ending, read one at a time; None for a line
    longer than ``limit`` bytes, which is skipped without ever being held whole."""
    while True:
        data = stream.readline(limit + 1)
        if not data:
            return
        if not data.endswith(b"\n") and len(data) > limit:
            while (more := stream.readline(limit + 1)) and not more.endswith(b"\n"):
                pass
            yield None
            continue
        yield data.removesuffix(b"\n").removesuffix(b"\r")


def _line_object(data: bytes | None, number: int, members: frozenset[str],
                 ) -> dict[str, Any]:
    """A line's JSON object, strictly parsed, with only allowed members."""
    if data is None:
        raise TokenError(f"line {number} is longer than {MAX_LINE_BYTES} bytes.",
                         code="too_large")
    value = jose.loads(data, what=f"line {number}", max_bytes=MAX_LINE_BYTES)
    if not isinstance(value, dict):
        raise TokenError(f"line {number} is not a JSON object.")
    unknown = sorted(set(value) - members)
    if unknown:
        raise TokenError(f"line {number} has the member {unknown[0]!r}; the members allowed "
                         f"are {', '.join(sorted(members))}.")
    return value


def _optional_text(value: object, name: str, number: int) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TokenError(f"line {number}: {name} must be a string.")


# --- verifying -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class VerifySettings:
    """What every line of a verifying batch is verified against. ``now`` None: the clock,
    read as each chunk starts; ``audience`` and ``nonce`` apply where a line names none."""

    trust: TrustStore
    now: int | None = None
    leeway: int = DEFAULT_LEEWAY
    audience: str | None = None
    nonce: str | None = None
    evidence: Evidence = NO_EVIDENCE
    #: ``--profile``: applied to every bare credential whatever its types.
    profile: Profile | None = None


@dataclass(frozen=True, slots=True)
class LineReport:
    """One line's report, with the line's number (from 1) and the ``id`` it gave."""

    line: int
    id: str | int | None
    report: Report


@dataclass(frozen=True, slots=True)
class _VerifyLine:
    line: int
    id: str | int | None
    token: bytes
    audience: str | None
    nonce: str | None


def _malformed(number: int, exc: TokenError) -> LineReport:
    """The report of a line that could not be read: its ``format`` check failed."""
    return LineReport(number, None, failed_report(
        "credential", [name for name, _ in CREDENTIAL_STEPS], exc.code, exc.message))


def _read_verify_line(number: int, data: bytes | None) -> _VerifyLine | LineReport:
    """A line: a bare token, or ``{"token", "audience", "nonce", "id"}``."""
    try:
        if data is not None and not data.lstrip().startswith(b"{"):
            return _VerifyLine(number, None, data.strip(), None, None)
        value = _line_object(data, number, _VERIFY_MEMBERS)
        token = value.get("token")
        if not isinstance(token, str):
            raise TokenError(f"line {number} has no token string.")
        line_id = value.get("id")
        if isinstance(line_id, bool) or not isinstance(line_id, str | int | None):
            raise TokenError(f"line {number}: id must be a string or an integer.")
        return _VerifyLine(number, line_id, token.encode("utf-8", "surrogatepass"),
                           _optional_text(value.get("audience"), "audience", number),
                           _optional_text(value.get("nonce"), "nonce", number))
    except TokenError as exc:
        return _malformed(number, exc)


class _Deferred:
    """A replay store that only notes what a presentation would consume: the batch then
    consumes it in the real store, in input order, and settles the report."""

    location = "deferred"

    def __init__(self) -> None:
        self.use: PresentationUse | None = None

    def consume_presentation(self, *, nonce: str | None, issuer: str, jti: str, now: int,
                             expires_at: int) -> ReplayOutcome:
        """Note the use; the replay check passes for now and is settled later."""
        self.use = PresentationUse(nonce, issuer, jti, now, expires_at)
        return ReplayOutcome.ACCEPTED

    def _refuse(self) -> ReplayStoreError:
        return ReplayStoreError("a batch verifies credentials and presentations only.")

    def issue_nonce(self, *, now: float, ttl: int = DEFAULT_NONCE_TTL, purge: bool = True,
                    ) -> str:
        """Not part of a batch."""
        raise self._refuse()

    def consume_dpop(self, *, htu: str, jti: str, nonce: str | None, now: int,
                     expires_at: int) -> ReplayOutcome:
        """Not part of a batch."""
        raise self._refuse()

    def purge(self, *, now: int) -> int:
        """Not part of a batch."""
        raise self._refuse()

    def stats(self, *, now: int) -> StoreStats:
        """Not part of a batch."""
        raise self._refuse()

    def ping(self) -> None:
        """Always answers: nothing is stored here."""

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class _VerifyJob:
    """What a worker needs for every chunk: the settings, and how to render a line (None:
    hand back :class:`LineReport` objects)."""

    settings: VerifySettings
    render: Callable[..., RenderedLine] | None = None


#: A worker's answer for one line: its report (or the line rendered), and what its replay
#: check would consume.
_Verified = tuple[LineReport | RenderedLine, PresentationUse | None]


def _verify_lines(job: _VerifyJob, first: int, lines: Sequence[bytes | None],
                  ) -> list[_Verified]:
    """Read and verify ``lines`` (numbered from ``first``) with consumption deferred, and
    render each (in a worker, or here with one job)."""
    from vc_im.times import now_seconds
    from vc_im.verify import Request, verify_tokens

    settings, render = job.settings, job.render
    now = settings.now if settings.now is not None else now_seconds()
    items = [_read_verify_line(number, data) for number, data in enumerate(lines, start=first)]
    verifying = [(item, _Deferred()) for item in items if isinstance(item, _VerifyLine)]
    reports = iter(verify_tokens(
        [Request(item.token, item.audience or settings.audience, item.nonce or settings.nonce,
                 deferred) for item, deferred in verifying],
        settings.trust, now=now, leeway=settings.leeway, evidence=settings.evidence,
        profile=settings.profile))
    stores = iter(deferred for _, deferred in verifying)
    out: list[_Verified] = []
    for item in items:
        use = None
        if isinstance(item, _VerifyLine):
            use = next(stores).use
            item = LineReport(item.line, item.id, next(reports))
        out.append((item if render is None else render(
            item.line, item.id, item.report, deferred=use is not None), use))
    return out


def _consume_group(store: ReplayBackend, uses: Sequence[PresentationUse],
                   ) -> list[ReplayOutcome | StoreUnavailable]:
    """Each use's outcome, in order: one transaction where the store offers it, else one
    durable consumption after another. An unreachable store fails the uses closed."""
    if isinstance(store, GroupConsumer):
        try:
            return list(store.consume_presentations(uses))
        except StoreUnavailable as exc:
            return [exc] * len(uses)
    outcomes: list[ReplayOutcome | StoreUnavailable] = []
    for use in uses:
        try:
            outcomes.append(store.consume_presentation(
                nonce=use.nonce, issuer=use.issuer, jti=use.jti, now=use.now,
                expires_at=use.expires_at))
        except StoreUnavailable as exc:
            outcomes.append(exc)
    return outcomes


class _StoreHandle:
    """The batch's one replay store connection, opened at the first presentation (after the
    workers started, so that none inherits it), closed at the end if the batch opened it."""

    def __init__(self, store: StoreLike | None) -> None:
        self._given = store
        self._open: ReplayBackend | None = None if isinstance(store, str | Path) else store
        self._owned = False

    def get(self) -> ReplayBackend:
        if self._open is None:
            if self._given is None:
                raise ReplayStoreError("accepting a presentation or proof consumes it in a "
                                       "replay store, and none was given.")
            assert isinstance(self._given, str | Path)
            self._open = open_store(self._given)
            self._owned = True
        return self._open

    def close(self) -> None:
        if self._owned and self._open is not None:
            self._open.close()


def verify_batch(lines: Iterable[bytes | None], settings: VerifySettings,
                 store: StoreLike | None, *, jobs: int = 1) -> Iterator[LineReport]:
    """A report per line, in input order, as :func:`vc_im.verify.verify_token` gives it.

    ``lines`` as :func:`read_lines` yields them (None: too long). ``store`` is the replay
    store (open, or a location opened once for the batch). A line that cannot be read gets
    a ``malformed`` report and the batch goes on. Raises :class:`WorkerLost` when a worker
    dies and :class:`~vc_im.replay.ReplayStoreError` when the store cannot be used (the
    reports yielded before stay true).
    """
    for answers, outcomes in _verified(lines, _VerifyJob(settings), store, jobs):
        for item, use in answers:
            assert isinstance(item, LineReport)
            yield item if use is None else LineReport(
                item.line, item.id, settle_replay(item.report, next(outcomes)))


def verify_batch_text(lines: Iterable[bytes | None], settings: VerifySettings,
                      store: StoreLike | None, *, jobs: int = 1,
                      render: Callable[..., RenderedLine] = render_line,
                      ) -> Iterator[tuple[str, list[str]]]:
    """:func:`verify_batch`, each chunk of lines as the text to write (a JSON line per
    input line, :func:`~vc_im.report_lines.render_line`'s) and each line's code (``valid``
    or the failure code).

    Workers render the lines as the store accepting them would have them; this process only
    consumes each chunk's presentations and, where the store refused one, writes its verdict
    into its line (:func:`~vc_im.report_lines.settle_line`). ``render`` must be picklable
    (a module's function, or a partial of one) when ``jobs`` is above 1.
    """
    for answers, outcomes in _verified(lines, _VerifyJob(settings, render), store, jobs):
        texts: list[str] = []
        codes: list[str] = []
        for rendered, use in answers:
            assert isinstance(rendered, RenderedLine)
            if use is not None and (outcome := next(outcomes)) is not ReplayOutcome.ACCEPTED:
                rendered = settle_line(rendered, outcome)
            texts.append(rendered.text)
            codes.append(rendered.code)
        yield "".join(texts), codes


def _verified(lines: Iterable[bytes | None], job: _VerifyJob, store: StoreLike | None,
              jobs: int) -> Iterator[tuple[list[_Verified], Iterator[ReplayOutcome
                                                                        | StoreUnavailable]]]:
    """Each chunk's answers, and the outcomes of its presentations in order, once their
    consumption committed (:data:`GROUP_CHUNKS` chunks at a time)."""
    handle = _StoreHandle(store)
    try:
        numbered = ((index * CHUNK_LINES + 1, chunk)
                    for index, chunk in enumerate(chunks(lines, CHUNK_LINES)))
        group: list[list[_Verified]] = []
        for _, answers in run(numbered, _verify_lines, job, jobs=jobs):
            group.append(answers)
            if len(group) == GROUP_CHUNKS:
                yield from _settled(group, handle)
                group = []
        yield from _settled(group, handle)
    finally:
        handle.close()


def _settled(group: list[list[_Verified]], handle: _StoreHandle,
             ) -> Iterator[tuple[list[_Verified], Iterator[ReplayOutcome | StoreUnavailable]]]:
    """The chunks of ``group``, their presentations consumed in one transaction first."""
    uses = [use for answers in group for _, use in answers if use is not None]
    outcomes = iter(_consume_group(handle.get(), uses) if uses else ())
    for answers in group:
        yield answers, outcomes


# --- issuing -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class IssueSettings:
    """What every credential of an issuing batch shares: the issuer, its key and chain, the
    time and the encoding."""

    key: Key
    issuer: str
    now: int
    encoding: Encoding = Encoding.VC1
    x5c: tuple[str, ...] | None = None
    #: The lifetime of a line's credential when the line names none.
    valid_for: int = 90 * 86400


@dataclass(frozen=True, slots=True)
class IssueResult:
    """One line's credential (its subject and token), or why it was not issued."""

    line: int
    subject: str | None = None
    token: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        """``{"line", "subject", "token"}`` or ``{"line", "error"}``."""
        if self.error is not None:
            return {"line": self.line, "error": self.error}
        return {"line": self.line, "subject": self.subject, "token": self.token}


@dataclass(frozen=True, slots=True)
class _IssueLine:
    line: int
    fields: dict[str, Any]


def _read_issue_line(number: int, data: bytes | None) -> _IssueLine | IssueResult:
    """A line: the members of ``vc-im issue``'s options, the holder key as a JWK."""
    from vc_im.times import parse_duration

    try:
        value = _line_object(data, number, _ISSUE_MEMBERS)
        for name in ("subject", "fn"):
            if not isinstance(value.get(name), str):
                raise InputError(f"line {number} has no {name} string.")
        kind = value.get("type", "device")
        if kind not in ("device", "user"):
            raise InputError(f"line {number}: type must be device or user.")
        im = value.get("im", [])
        if not isinstance(im, list) or not all(isinstance(item, str) for item in im):
            raise InputError(f"line {number}: im must be a list of strings.")
        valid_for = value.get("valid_for")
        if valid_for is not None and not isinstance(valid_for, str):
            raise InputError(f"line {number}: valid_for must be a duration like 90d.")
        may_issue = value.get("may_issue_devices", False)
        if not isinstance(may_issue, bool):
            raise InputError(f"line {number}: may_issue_devices must be true or false.")
        jwk = value.get("holder_key")
        if jwk is not None and not isinstance(jwk, dict):
            raise InputError(f"line {number}: holder_key must be a public JWK object.")
        unbound = value.get("no_holder_key", False)
        if not isinstance(unbound, bool):
            raise InputError(f"line {number}: no_holder_key must be true or false.")
        if unbound and jwk is not None:
            raise InputError(f"line {number}: no_holder_key and holder_key contradict each other.")
        if kind == "device" and jwk is None and not unbound:
            raise InputError(f"line {number}: a device credential without holder_key binds no "
                             "key, so every presentation of it is refused; give the device's "
                             "public JWK as holder_key (or no_holder_key: true if that is meant).")
        fields = {
            "subject": value["subject"], "fn": value["fn"],
            "credential_type": CredentialType.DEVICE if kind == "device" else CredentialType.USER,
            "organization": _optional_text(value.get("org"), "org", number),
            "unit": _optional_text(value.get("unit"), "unit", number),
            "instant_messages": tuple(im), "holder_jwk": jwk,
            "credential_id": _optional_text(value.get("id"), "id", number),
            "valid_for": None if valid_for is None else parse_duration(valid_for),
            "may_issue_devices": may_issue}
    except (InputError, TokenError) as exc:
        return IssueResult(number, error=exc.message)
    return _IssueLine(number, fields)


@functools.lru_cache(maxsize=1024)
def _holder_key(canonical: bytes) -> Key:
    """A holder JWK parsed once per distinct key (re-issuing for one device repeats it)."""
    from vc_im.keys import key_from_jwk

    return key_from_jwk(jose.loads(canonical, what="holder key"), require="public")


#: A worker's answer for one line: what to sign, or why not.
_Prepared = jose.Parts | str


def _prepare_lines(settings: IssueSettings, first: int,
                   lines: Sequence[_IssueLine | IssueResult]) -> list[_Prepared]:
    """Run every pre-sign check on the readable ``lines`` (in a worker, or here with one
    job)."""
    from vc_im.credentials import prepare_credentials

    out: list[_Prepared] = []
    each: list[dict[str, Any]] = []
    checked: list[tuple[int, int]] = []  # (line, where its answer goes in out)
    for item in lines:
        if not isinstance(item, _IssueLine):
            continue
        fields = dict(item.fields)
        jwk = fields.pop("holder_jwk")
        if fields["valid_for"] is None:
            fields["valid_for"] = settings.valid_for
        try:
            fields["holder_key"] = None if jwk is None else _holder_key(jose.dumps_compact(
                dict(sorted(jwk.items()))))
        except (InputError, TokenError) as exc:
            out.append(f"line {item.line}: {exc.message}")
            continue
        checked.append((item.line, len(out)))
        each.append(fields)
        out.append("")  # what to sign, or why not: decided below
    prepared = prepare_credentials(settings.key, each, issuer=settings.issuer, now=settings.now,
                                   encoding=settings.encoding, x5c=settings.x5c)
    for (line, at), answer in zip(checked, prepared, strict=True):
        out[at] = f"line {line}: {answer.message}" if isinstance(answer, InputError) else answer
    return out


def issue_batch(lines: Iterable[bytes | None], settings: IssueSettings, *,
                jobs: int = 1) -> Iterator[IssueResult]:
    """A credential per line, in input order; a line that fails a check gets its error.

    Every line is read and checked (workers share the checks) before the first credential
    is signed, here: the checked credentials of the whole input wait in memory. Raises
    :class:`WorkerLost` when a worker dies (nothing is signed then).
    """
    numbered = ((chunk[0].line, chunk) for chunk in chunks(
        (_read_issue_line(number, data) for number, data in enumerate(lines, start=1)),
        CHUNK_LINES))
    checked: list[tuple[int, str | None, _Prepared]] = []
    for (_, chunk), prepared in run(numbered, _prepare_lines, settings, jobs=jobs):
        answers = iter(prepared)
        for item in chunk:
            if isinstance(item, IssueResult):
                checked.append((item.line, None, item.error or ""))
            else:
                checked.append((item.line, item.fields["subject"], next(answers)))
    for number, subject, answer in checked:
        if isinstance(answer, str):
            yield IssueResult(number, error=answer)
            continue
        yield IssueResult(number, subject=subject,
                          token=jose.sign(answer.header, answer.payload, settings.key))
