"""The one front door of verification: a credential or a presentation, told apart by header.

:func:`verify_token` is what `vc-im verify` runs. Credentials alone are verified by
:func:`vc_im.credentials.verify_credential`, presentations by
:func:`vc_im.presentations.verify_presentation` and DPoP proofs by
:func:`vc_im.dpop.verify_proof`; all return a :class:`~vc_im.report.Report`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vc_im import _jose as jose
from vc_im._checks import (
    CREDENTIAL_STEPS,
    DEFAULT_LEEWAY,
    MAX_LEEWAY,
    verify_credential,
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
           "is_presentation", "verify_token"]


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
    from vc_im.times import as_now

    now = as_now(now)
    try:
        unverified = jose.peek_unverified(token)
    except TokenError as exc:
        return failed_report("credential", [name for name, _ in CREDENTIAL_STEPS], exc.code,
                             exc.message)
    if is_presentation(unverified):
        from vc_im._checks import verify_presentation

        return verify_presentation(unverified, trust, now=now, leeway=leeway, audience=audience,
                                   nonce=nonce, store=store, evidence=evidence,
                                   profile=profile)
    return verify_credential(unverified, trust, now=now, leeway=leeway,
                             expect_presentation=audience is not None or nonce is not None,
                             evidence=evidence, profile=profile)
