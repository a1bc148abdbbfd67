"""Deprecated alias of :mod:`vc_im.credentials` (moved in 0.2.0; removed in 0.3.0)."""

from __future__ import annotations

import warnings

from vc_im.credentials import DEFAULT_VALIDITY, issue_credential

warnings.warn("vc_im.issue is deprecated; import issue_credential from vc_im or "
              "vc_im.credentials", DeprecationWarning, stacklevel=2)

__all__ = ["DEFAULT_VALIDITY", "issue_credential"]
