"""DPoP-bound access tokens (RFC 9068, RFC 9449 §6): the MIMI identity draft's §5.2 flow.

A device's DPoP proof obtains an access token (:func:`issue_access_token`), which a third
party verifies with a fresh proof from the same key (:func:`verify_access_token`).
"""

from __future__ import annotations

from vc_im._checks import (
    ACCESS_TOKEN_STEPS,
    DEFAULT_TOKEN_LIFETIME,
    MAX_TOKEN_LIFETIME,
    issue_access_token,
    verify_access_token,
)
from vc_im.model import AccessToken

__all__ = ["ACCESS_TOKEN_STEPS", "DEFAULT_TOKEN_LIFETIME", "MAX_TOKEN_LIFETIME", "AccessToken",
           "issue_access_token", "verify_access_token"]
