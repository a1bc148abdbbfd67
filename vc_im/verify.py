"""The one front door of verification: a credential or a presentation, told apart by header.

:func:`verify_token` is what `vc-im verify` runs. Credentials alone are verified by
:func:`vc_im.credentials.verify_credential`, presentations by
:func:`vc_im.presentations.verify_presentation` and DPoP proofs by
:func:`vc_im.dpop.verify_proof`; all return a :class:`~vc_im.report.Report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vc_im import _jose as jose
from vc_im._checks import (
    CREDENTIAL_STEPS,
    DEFAULT_LEEWAY,
    MAX_LEEWAY,
    CredentialState,
    PresentationState,
    verify_credentials,
)
from vc_im._jose import MAX_TOKEN_BYTES
from vc_im.errors import TokenError
from vc_im.model import NO_EVIDENCE, Evidence
from vc_im.report import Report, failed_report
from vc_im.trust import TrustStore

if TYPE_CHECKING:
    from vc_im.profiles import Profile
    from vc_im.replay import StoreLike

__all__ = ["DEFAULT_LEEWAY", "MAX_LEEWAY", "MAX_TOKEN_BYTES", "NO_EVIDENCE", "Evidence",
           "Request", "is_presentation", "verify_token", "verify_tokens"]


def is_presentation(unverified: jose.Unverified) -> bool:
    """``typ: vp+jwt`` (VC DM 2.0), or a ``vp`` claim under ``typ`` JWT or none (VC DM 1.1)."""
    typ = unverified.header.get("typ", "JWT")
    return typ == "vp+jwt" or (typ == "JWT" and "vp" in unverified.payload)


def verify_token(token: bytes | str, trust: TrustStore, *, now: float,
                 leeway: int = DEFAULT_LEEWAY, audience: str | None = None,
                 nonce: str | None = None, store: StoreLike | None = None,
                 evidence: Evidence = NO_EVIDENCE, profile: Profile | None = None) -> Report:
    """Verify a credential or a presentation and report every check; never raises for bad input.

    ``audience`` or ``nonce`` mean a presentation is expected, so a bare credential fails
    with ``bad_type``. ``store`` is the replay store in which accepting a presentation
    consumes it (an open store, or a path; a presentation needs one). ``evidence`` (parent
    credentials, signed statements) feeds the trust models of every credential. ``profile``
    (``--profile``) applies that credential profile's rules to a bare credential whatever its
    types (see :mod:`vc_im.profiles`); ``w3c`` or a profile file's verifies a presentation
    under the ``w3c`` presentation rules, each credential in it under that profile.
    ``now`` is seconds since the epoch; a float is floored (:func:`vc_im.times.as_now`).
    """
    return verify_tokens([Request(token, audience, nonce, store)], trust, now=now,
                         leeway=leeway, evidence=evidence, profile=profile)[0]


@dataclass(frozen=True, slots=True)
class Request:
    """A token for :func:`verify_tokens`, with what :func:`verify_token` takes for it alone:
    the audience and nonce a presentation must answer, and the replay store it is consumed
    in."""

    token: bytes | str
    audience: str | None = None
    nonce: str | None = None
    store: StoreLike | None = None


def verify_tokens(requests: Sequence[Request], trust: TrustStore, *, now: float,
                  leeway: int = DEFAULT_LEEWAY, evidence: Evidence = NO_EVIDENCE,
                  profile: Profile | None = None) -> list[Report]:
    """:func:`verify_token` of each request, in order: the very reports (a test holds them
    equal), each check run over every token before the next one, which costs a batch line
    about a sixth less than one token after another (:func:`vc_im.report.run_checks_many`).

    Presentations consume their nonces in request order, in the replay check, the last.
    """
    import vc_im._checks as checks  # the presentation checks load on first use
    from vc_im.times import as_now

    now = as_now(now)
    reports: list[Report | None] = []
    credentials: list[tuple[int, CredentialState]] = []
    presentations: list[tuple[int, PresentationState]] = []
    for request in requests:
        try:
            unverified = jose.peek_unverified(request.token)
        except TokenError as exc:
            reports.append(failed_report("credential", [name for name, _ in CREDENTIAL_STEPS],
                                         exc.code, exc.message))
            continue
        if is_presentation(unverified):
            prepared = checks.prepare_presentation(
                unverified, trust, now=now, leeway=leeway, audience=request.audience,
                nonce=request.nonce, store=request.store, evidence=evidence, profile=profile)
            if isinstance(prepared, Report):  # the w3c rules applied: verified
                reports.append(prepared)
                continue
            presentations.append((len(reports), prepared))
            reports.append(None)
            continue
        expect_presentation = request.audience is not None or request.nonce is not None
        credentials.append((len(reports), CredentialState(
            unverified, trust, now, leeway, expect_presentation, evidence=evidence,
            forced_profile=profile)))
        reports.append(None)
    if presentations:
        for (at, _), report in zip(presentations, checks.verify_presentations(
                [state for _, state in presentations]), strict=True):
            reports[at] = report
    for (at, _), report in zip(credentials, verify_credentials(
            [state for _, state in credentials]), strict=True):
        reports[at] = report
    done = [report for report in reports if report is not None]
    assert len(done) == len(requests)  # every request got its report
    return done
