"""Verifiable presentations: a device presents its credentials to one verifier, for one nonce.

:func:`create_presentation` signs a presentation with the holder's key (VC Data Model 1.1
``vp`` claim, or 2.0 ``vp+jwt`` with enveloped credentials); :func:`verify_presentation`
reports every check, with one nested report per embedded credential.
"""

from __future__ import annotations

from vc_im._checks import (
    DEFAULT_LIFETIME,
    MAX_CREDENTIALS,
    PRESENTATION_STEPS,
    check_presentable,
    create_presentation,
    verify_presentation,
)
from vc_im.model import Presentation

__all__ = [
    "DEFAULT_LIFETIME",
    "MAX_CREDENTIALS",
    "PRESENTATION_STEPS",
    "Presentation",
    "check_presentable",
    "create_presentation",
    "verify_presentation",
]
