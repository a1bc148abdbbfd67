"""Verification reports: every check by name, in order, with a stable code.

A verifier runs a pipeline of small checks. Each check either passes (it may
say what it found) or fails with one of the stable codes of the CLI contract
and a one-sentence reason. The first failure ends the pipeline and the checks
after it are reported as skipped. Verifying never raises for invalid input:
callers get a :class:`Report`, and may call :meth:`Report.raise_for_failure`.

A check may pass with reservations (a contradiction the trust policy only
reports): it returns a :class:`Passed` sentence carrying warnings, which end up
in :attr:`Report.warnings`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

from vc_im._kept import Kept
from vc_im.errors import TokenError, VerificationFailed

if TYPE_CHECKING:
    from vc_im.model import (
        AccessToken,
        Credential,
        Presentation,
        ProfiledCredential,
        ProfiledPresentation,
        Proof,
    )

Kind = Literal["credential", "presentation", "dpop", "certificate", "access_token"]

class Code(StrEnum):
    """The stable failure codes of the CLI contract: they never change meaning."""

    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    UNSUPPORTED_ALG = "unsupported_alg"
    BAD_HEADER = "bad_header"
    BAD_TYPE = "bad_type"
    UNKNOWN_KEY = "unknown_key"
    UNTRUSTED_ISSUER = "untrusted_issuer"
    BAD_KEY = "bad_key"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    BAD_IAT = "bad_iat"
    MISSING_CLAIM = "missing_claim"
    CLAIM_MISMATCH = "claim_mismatch"
    BAD_IDENTIFIER = "bad_identifier"
    SCHEMA_INVALID = "schema_invalid"
    CONTEXT_REJECTED = "context_rejected"
    HOLDER_BINDING = "holder_binding"
    NONCE_MISMATCH = "nonce_mismatch"
    AUDIENCE_MISMATCH = "audience_mismatch"
    REPLAY = "replay"
    CREDENTIAL_NOT_SECURED = "credential_not_secured"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    TRUST_CONTRADICTION = "trust_contradiction"
    STORE_UNAVAILABLE = "store_unavailable"
    STATUS_UNAVAILABLE = "status_unavailable"


#: The codes' values, for callers that hold plain strings.
CODES = frozenset(code.value for code in Code)


S = TypeVar("S")


class Passed(str):
    """A passing check's sentence that carries warnings: it passed, but something deserves a
    look. :func:`run_checks` files the warnings with the check, and the report collects them."""

    warnings: tuple[str, ...]

    def __new__(cls, text: str, warnings: Iterable[str] = ()) -> Passed:
        sentence = super().__new__(cls, text)
        sentence.warnings = tuple(warnings)
        return sentence


class Status(StrEnum):
    """What became of one check."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Check:
    """One named check: passed, failed (with a code) or skipped."""

    name: str
    status: Status
    code: Code | None = None
    reason: str = ""
    path: str | None = None
    #: What a passing check found worth a look; the report lists them (not the check's JSON).
    warnings: tuple[str, ...] = ()
    #: The check's JSON text, once :meth:`json_text` made it.
    _text: str | None = field(init=False, repr=False, compare=False, default=None)

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled as its fields (a batch's workers send reports to the parent): several
        times cheaper than the dataclass default."""
        return (Check, (self.name, self.status, self.code, self.reason, self.path,
                        self.warnings))

    def json_text(self) -> str:
        """:meth:`to_json` as compact, inert JSON text (``report_lines.inert_json``), made
        once per check: a passing check is one object shared by every report that says the
        same, so a batch renders it once, without hashing it for a memo on every line."""
        text = self._text
        if text is None:
            from vc_im.report_lines import check_text

            text = check_text(self)
            object.__setattr__(self, "_text", text)
        return text

    def to_json(self) -> dict[str, object]:
        """The check as the CLI's ``--json`` report writes it."""
        out: dict[str, object] = {"name": self.name, "status": self.status.value,
                                  "code": self.code, "reason": self.reason}
        if self.path is not None:
            out["path"] = self.path
        return out


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of verifying one token, with nested reports for what it embeds."""

    kind: Kind
    checks: tuple[Check, ...]
    credentials: tuple[Report, ...] = ()
    #: The trust paths weighed for a credential (method, ok, steps, reason), JSON-ready.
    trust: tuple[Mapping[str, object], ...] = ()
    #: The status entries checked (list, index, purpose, status), JSON-ready.
    status: tuple[Mapping[str, object], ...] = ()
    #: What was verified, when ``ok``: the credential, presentation, proof or access token.
    verified: (Credential | ProfiledCredential | Presentation | ProfiledPresentation | Proof
               | AccessToken | None) = field(default=None, compare=False, repr=False)
    #: Sentences worth a look that fail nothing (a contradiction the policy only reports, a
    #: statement that could not be fetched): those of the checks, then those given, each once
    #: and on one line. Nested reports keep their own.
    warnings: tuple[str, ...] = ()
    #: The credential profile applied (``im-device``, ``im-user``, ``w3c`` or a profile
    #: file's), once the credential's types chose one.
    profile: str | None = None
    #: The first failed check and the verdict, settled when the report is built (a report
    #: is asked for them many times while it is rendered).
    _failure: Check | None = field(init=False, repr=False, compare=False, default=None)
    _ok: bool = field(init=False, repr=False, compare=False, default=False)

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled as its fields, like :class:`Check`."""
        return (Report, (self.kind, self.checks, self.credentials, self.trust, self.status,
                         self.verified, self.warnings, self.profile))

    def __post_init__(self) -> None:
        carried = [warning for check in self.checks for warning in check.warnings]
        if carried or self.warnings:
            lines = (printable(warning, lines=False) for warning in (*carried, *self.warnings))
            object.__setattr__(self, "warnings", tuple(dict.fromkeys(lines)))
        failure = next((c for c in self.checks if c.status is Status.FAILED), None)
        object.__setattr__(self, "_failure", failure)
        object.__setattr__(self, "_ok", failure is None and all(
            nested.ok for nested in self.credentials))

    @property
    def ok(self) -> bool:
        """True only when no check failed here or in any nested report."""
        return self._ok

    @property
    def failure(self) -> Check | None:
        """The first failed check of this report (nested reports are not searched)."""
        return self._failure

    @property
    def code(self) -> Code | None:
        """The failure code of this report, or None when it is valid."""
        failure = self.failure
        if failure is not None:
            return failure.code
        return next((nested.code for nested in self.credentials if not nested.ok), None)

    def check(self, name: str) -> Check:
        """The check called ``name``; KeyError if this report has none."""
        for item in self.checks:
            if item.name == name:
                return item
        raise KeyError(name)

    def raise_for_failure(self) -> Report:
        """Return self when valid; raise :class:`VerificationFailed` otherwise."""
        failure = self.failure
        if failure is None and self.ok:
            return self
        code = self.code or Code.MALFORMED
        reason = failure.reason if failure is not None else "an embedded credential is invalid."
        raise VerificationFailed(reason, code=code, report=self)

    def summary(self) -> dict[str, object] | None:
        """Who was verified, JSON-ready; None unless this report is ``ok``.

        A credential report summarises its credential. A presentation report summarises the
        device credential of its holder (its ``iss``), with the presenting key's thumbprint;
        a DPoP report the credential the proof is bound to, or only the proof key; an access
        token report the device it is for (``credential_id`` its ``jti``, ``holder_key`` its
        ``cnf.jkt``); a ``w3c`` or profile-file credential its subject's ``id``; a ``w3c``
        presentation the credential about its holder (else its first), with the presenting
        key, or only its holder and key when it presents none. Every
        summary has the same members (null where unknown): ``id`` (the subject), ``type``,
        ``fn``, ``im`` (the ``hasInstantMessage`` identifiers), ``issuer``, ``credential_id``,
        ``valid_from``, ``valid_until`` (RFC 3339) and ``holder_key`` (an RFC 7638
        thumbprint).
        """
        from vc_im.model import (
            AccessToken,
            Credential,
            Presentation,
            ProfiledCredential,
            ProfiledPresentation,
            Proof,
        )

        verified = self.verified
        if not self.ok or verified is None:
            return None
        if isinstance(verified, Credential):
            return _credential_summary(verified, verified.bound_thumbprint)
        if isinstance(verified, ProfiledCredential):
            return _profiled_summary(verified)
        if isinstance(verified, AccessToken):
            return _access_token_summary(verified)
        if isinstance(verified, Presentation):
            holder = str(verified.holder)
            chosen = next((c for c in verified.credentials if str(c.subject.id) == holder),
                          verified.credentials[0] if verified.credentials else None)
            thumbprint = verified.holder_key.thumbprint()
            if chosen is None:
                return {**_EMPTY_SUMMARY, "id": holder, "holder_key": thumbprint}
            return _credential_summary(chosen, thumbprint)
        if isinstance(verified, ProfiledPresentation):
            return _profiled_presentation_summary(verified)
        if not isinstance(verified, Proof):
            return None
        if verified.credential is not None:
            return _credential_summary(verified.credential, verified.key.thumbprint())
        return {**_EMPTY_SUMMARY, "holder_key": verified.key.thumbprint()}

    def summary_line(self) -> str | None:
        """:meth:`summary` in one printable line, or None when there is none."""
        found = self.summary()
        if found is None:
            return None
        parts = [f"{name}={_shown(found[name])}" for name in _SUMMARY_LINE if found[name]]
        return printable(" ".join(parts), lines=False)

    def to_json(self) -> dict[str, object]:
        """The report object of the CLI contract, plus ``code`` (the first failure, here or
        in a nested report; null when valid) and ``subject`` (:meth:`summary`)."""
        out: dict[str, object] = {
            "ok": self.ok,
            "kind": self.kind,
            "code": None if self.code is None else self.code.value,
            "subject": self.summary(),
            "checks": [c.to_json() for c in self.checks],
            "credentials": [nested.to_json() for nested in self.credentials],
        }
        if self.trust:
            out["trust"] = [dict(path) for path in self.trust]
        if self.status:
            out["status"] = [dict(entry) for entry in self.status]
        if self.warnings:  # only when there are some: the contract's reports stay as they were
            out["warnings"] = list(self.warnings)
        if self.profile is not None:
            out["profile"] = self.profile
        return out


#: A summary's members, every one present (null where unknown).
_EMPTY_SUMMARY: dict[str, object] = dict.fromkeys((
    "id", "type", "fn", "im", "issuer", "credential_id", "valid_from", "valid_until",
    "holder_key"))
#: The members the one-line summary shows, in order.
_SUMMARY_LINE = ("id", "type", "fn", "im", "issuer", "valid_from", "valid_until", "holder_key")


def _credential_summary(credential: Credential, holder_key: str | None) -> dict[str, object]:
    from vc_im.times import seconds_to_rfc3339

    subject = credential.subject
    return {"id": str(subject.id), "type": credential.type.value, "fn": subject.fn,
            "im": [str(value) for value in subject.instant_messages],
            "issuer": credential.issuer, "credential_id": credential.id,
            "valid_from": seconds_to_rfc3339(credential.issued_at),
            "valid_until": seconds_to_rfc3339(credential.expires_at),
            "holder_key": holder_key}


def _profiled_summary(credential: ProfiledCredential) -> dict[str, object]:
    """A ``w3c`` or profile-file credential: its subject's ``id`` and its most specific type."""
    from vc_im.times import seconds_to_rfc3339

    subjects = credential.document.get("credentialSubject")
    first = subjects[0] if isinstance(subjects, list) and subjects else subjects
    subject_id = first.get("id") if isinstance(first, Mapping) else None
    return {**_EMPTY_SUMMARY, "id": subject_id if isinstance(subject_id, str) else None,
            "type": credential.types[-1] if credential.types else None,
            "im": [str(value) for value in credential.identifiers],
            "issuer": credential.issuer, "credential_id": credential.id,
            "valid_from": None if credential.issued_at is None
            else seconds_to_rfc3339(credential.issued_at),
            "valid_until": None if credential.expires_at is None
            else seconds_to_rfc3339(credential.expires_at),
            "holder_key": credential.bound_thumbprint}


def _profiled_presentation_summary(presentation: ProfiledPresentation) -> dict[str, object]:
    """A ``w3c`` presentation: the credential about its holder (else its first one), with the
    presenting key; or only the holder and the key when it presents none."""
    thumbprint = presentation.holder_key.thumbprint()
    chosen = next((c for c in presentation.credentials
                   if _profiled_summary(c)["id"] == presentation.holder),
                  presentation.credentials[0] if presentation.credentials else None)
    if chosen is None:
        return {**_EMPTY_SUMMARY, "id": presentation.holder, "holder_key": thumbprint}
    return {**_profiled_summary(chosen), "holder_key": thumbprint}


def _access_token_summary(token: AccessToken) -> dict[str, object]:
    """An access token: the device it is for, its issuer, its lifetime and ``cnf.jkt``."""
    from vc_im.times import seconds_to_rfc3339

    return {**_EMPTY_SUMMARY, "id": str(token.subject), "type": "access_token",
            "issuer": token.issuer, "credential_id": token.jti,
            "valid_from": seconds_to_rfc3339(token.issued_at),
            "valid_until": seconds_to_rfc3339(token.expires_at), "holder_key": token.jkt}


def _shown(value: object) -> str:
    """A summary value in the one-line form: lists joined by commas, text with a space or a
    quote quoted."""
    if isinstance(value, list):
        return ",".join(map(str, value))
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (" " in text or '"' in text) else text


class CheckFailed(Exception):
    """Raised by a check to fail it; never escapes :func:`run_checks`."""

    def __init__(self, code: Code | str, reason: str, path: str | None = None) -> None:
        try:
            self.code = Code(code)
        except ValueError:
            raise ValueError(f"unknown failure code {code!r}") from None
        super().__init__(reason)
        self.reason = reason
        self.path = path


def run_checks(steps: Sequence[tuple[str, Callable[[S], str]]], state: S) -> tuple[Check, ...]:
    """Run ``steps`` in order on ``state``; stop at the first failure, skip the rest.

    A step passes by returning a sentence (possibly empty; a :class:`Passed` one carries
    warnings) and fails by raising :class:`CheckFailed`. A
    :class:`~vc_im.errors.TokenError` raised inside a step
    (malformed JSON, say) fails that step with the error's code. Other errors
    (an unusable replay store, a broken installation) are not the token's
    fault: they propagate to the caller.
    """
    return run_checks_many(steps, (state,))[0]


def run_checks_many(steps: Sequence[tuple[str, Callable[[S], str]]], states: Sequence[S],
                    ) -> list[tuple[Check, ...]]:
    """:func:`run_checks` on each of ``states``, one step over all of them, then the next.

    Each state gets the checks it would get alone (``tests/test_verify_tokens.py``): a
    state's steps run in order and stop at its first failure, and a step keeps nothing of
    one state for another. Over a batch, each check's code and data stay in the processor's
    caches from one state to the next: a batch line costs about a sixth less than with
    every check of one token run before the next. A :class:`GroupStep` gets the states
    still passing all at once.
    """
    checks: list[list[Check]] = [[] for _ in states]
    passing = list(range(len(states)))
    for index, (name, step) in enumerate(steps):
        if not passing:
            break
        still: list[int] = []
        outcome: str | CheckFailed | TokenError
        if isinstance(step, GroupStep):
            for at, outcome in zip(passing, step.many([states[at] for at in passing]),
                                   strict=True):
                if _file(checks[at], name, outcome, steps, index):
                    still.append(at)
        else:
            for at in passing:
                try:
                    outcome = step(states[at])
                except (CheckFailed, TokenError) as exc:
                    outcome = exc
                if type(outcome) is str:  # the common case, without a call
                    checks[at].append(_PASSED[name, outcome])
                    still.append(at)
                elif _file(checks[at], name, outcome, steps, index):
                    still.append(at)
        passing = still
    return [tuple(made) for made in checks]


def _file(checks: list[Check], name: str, outcome: str | CheckFailed | TokenError,
          steps: Sequence[tuple[str, object]], index: int) -> bool:
    """Add to ``checks`` what ``outcome`` of step ``index`` (``name``) makes of it, and the
    skipped steps after a failure; whether it passed."""
    if isinstance(outcome, str):
        checks.append(_PASSED[name, outcome] if type(outcome) is str else Check(
            name, Status.PASSED, None, _sentence(outcome),  # Passed, with its warnings
            warnings=getattr(outcome, "warnings", ())))
        return True
    if isinstance(outcome, CheckFailed):
        checks.append(failed_check(name, outcome))
    else:
        code = Code(outcome.code) if outcome.code in CODES else Code.MALFORMED
        checks.append(Check(name, Status.FAILED, code, _sentence(outcome.message)))
    checks.extend(Check(rest, Status.SKIPPED) for rest, _ in steps[index + 1:])
    return False


class GroupStep(Generic[S]):
    """A step that runs over many states at once (:func:`run_checks_many`), as a
    presentation's credentials are verified together with other presentations' ones, check
    by check. ``many`` gives each state's outcome in order: its sentence, or the
    :class:`CheckFailed` or :class:`~vc_im.errors.TokenError` that fails it. Called on one
    state, it is a group of one."""

    __slots__ = ("many",)

    def __init__(self, many: Callable[[Sequence[S]], Sequence[str | CheckFailed | TokenError]],
                 ) -> None:
        self.many = many

    def __call__(self, state: S) -> str:
        (outcome,) = self.many([state])
        if isinstance(outcome, str):
            return outcome
        raise outcome


def _passed(key: tuple[str, str]) -> Check:
    return Check(key[0], Status.PASSED, None, _sentence(key[1]))


#: The passing checks made so far, by name and reason: most repeat from token to token, and
#: a check is a frozen value, so one serves every report that says the same.
_PASSED: Kept[tuple[str, str], Check] = Kept(_passed)


def failed_check(name: str, exc: CheckFailed) -> Check:
    """The check ``name`` failed as ``exc`` says, its reason made one printable sentence."""
    return Check(name, Status.FAILED, exc.code, _sentence(exc.reason), exc.path)


#: Names a reason may start with, which keep their case (``htm is ...``, not ``Htm is ...``).
_NAMES = frozenset({"alg", "typ", "kid", "jwk", "cty", "iss", "sub", "aud", "jti", "nbf", "iat",
                    "exp", "htm", "htu", "ath", "nonce", "cnf", "cnf.jwk", "cnf.jkt", "vc", "vp",
                    "x5c", "validFrom", "validUntil", "hasInstantMessage"})


def printable(text: str, *, lines: bool = True) -> str:
    """``text`` safe to show anywhere: control characters (terminal escapes) and lone
    surrogates become escapes, so a reason quoting hostile input stays inert. With
    ``lines`` False, newlines and tabs are escaped too (a reason is one line)."""
    if text.isprintable():  # the common case, checked in C
        return text
    out = []
    for char in text:
        code = ord(char)
        if char.isprintable() or (lines and char in "\n\t"):
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def _sentence(text: str) -> str:
    """``text`` as one printable sentence: capitalised (but for a name), a full stop."""
    return _SENTENCES[text]


def _make_sentence(text: str) -> str:
    text = printable(text.strip(), lines=False)
    if text and text[-1] not in ".!?":
        text += "."
    first = text.split(" ", 1)[0].rstrip(":,")
    # Claim and member names keep their case ("htm is ...", "verifiableCredential[0] ...").
    keep = first in _NAMES or "[" in first or "." in first.rstrip(".")
    return text if keep else text[:1].upper() + text[1:]


#: Sentences made so far, by their text: most reasons repeat from token to token.
_SENTENCES: Kept[str, str] = Kept(_make_sentence)


def failed_report(kind: Kind, names: Iterable[str], code: Code | str, reason: str) -> Report:
    """A report whose first check failed before anything else could run."""
    names = list(names)
    checks = [Check(names[0], Status.FAILED, Code(code), _sentence(reason))]
    checks.extend(Check(name, Status.SKIPPED) for name in names[1:])
    return Report(kind, tuple(checks))
