"""The check steps of every token kind, in order: credentials, presentations, DPoP proofs,
access tokens.

Private: the public facades (:mod:`vc_im.credentials`, :mod:`vc_im.presentations`,
:mod:`vc_im.dpop`, :mod:`vc_im.access_tokens`, :mod:`vc_im.verify`) reach the steps through
this module only. Each
kind's steps are a table of ``(name, check)`` pairs run by :func:`vc_im.report.run_checks`;
the issuer runs the same content steps before it signs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vc_im._checks.common import DEFAULT_LEEWAY, MAX_LEEWAY
from vc_im._checks.credential import (
    CONTENT_STEPS,
    CREDENTIAL_STEPS,
    MAX_INSTANT_MESSAGES,
    verify_credential,
    verify_credentials,
)
from vc_im._checks.state import CredentialState, PresentationState, Step

if TYPE_CHECKING:  # loaded on first use (see __getattr__)
    from vc_im._checks.access_token import (
        ACCESS_TOKEN_STEPS,
        DEFAULT_TOKEN_LIFETIME,
        MAX_TOKEN_LIFETIME,
        issue_access_token,
        verify_access_token,
    )
    from vc_im._checks.dpop import (
        DPOP_STEPS,
        access_token_hash,
        create_proof,
        normalize_htu,
        verify_proof,
    )
    from vc_im._checks.presentation import (
        DEFAULT_LIFETIME,
        MAX_CREDENTIALS,
        PRESENTATION_STEPS,
        prepare_presentation,
        settle_replay,
        verify_presentation,
        verify_presentations,
    )
    from vc_im._checks.presenting import check_presentable, create_presentation
    from vc_im._checks.profiled_presentation import W3C_PRESENTATION_STEPS, without_jwts
    from vc_im._checks.signer import accept_certificate

#: The names of the other token kinds' steps, by module: imported when first asked for, so
#: that verifying a credential or a presentation does not load the DPoP and access-token code.
_LAZY = {
    "access_token": ("ACCESS_TOKEN_STEPS", "DEFAULT_TOKEN_LIFETIME", "MAX_TOKEN_LIFETIME",
                     "issue_access_token", "verify_access_token"),
    "dpop": ("DPOP_STEPS", "access_token_hash", "create_proof", "normalize_htu",
             "verify_proof"),
    "presentation": ("DEFAULT_LIFETIME", "MAX_CREDENTIALS", "PRESENTATION_STEPS",
                     "prepare_presentation", "settle_replay",
                     "verify_presentation", "verify_presentations"),
    "presenting": ("check_presentable", "create_presentation"),
    "profiled_presentation": ("W3C_PRESENTATION_STEPS", "without_jwts"),
    "signer": ("accept_certificate",),
}
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ACCESS_TOKEN_STEPS",
    "CONTENT_STEPS",
    "CREDENTIAL_STEPS",
    "DEFAULT_LEEWAY",
    "DEFAULT_LIFETIME",
    "DEFAULT_TOKEN_LIFETIME",
    "DPOP_STEPS",
    "MAX_CREDENTIALS",
    "MAX_INSTANT_MESSAGES",
    "MAX_LEEWAY",
    "MAX_TOKEN_LIFETIME",
    "PRESENTATION_STEPS",
    "W3C_PRESENTATION_STEPS",
    "CredentialState",
    "PresentationState",
    "Step",
    "accept_certificate",
    "access_token_hash",
    "check_presentable",
    "create_presentation",
    "create_proof",
    "issue_access_token",
    "normalize_htu",
    "prepare_presentation",
    "settle_replay",
    "verify_access_token",
    "verify_credential",
    "verify_credentials",
    "verify_presentation",
    "verify_presentations",
    "verify_proof",
    "without_jwts",
]
