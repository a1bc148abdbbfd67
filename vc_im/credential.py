"""Deprecated alias of :mod:`vc_im.model` (moved in 0.2.0; removed in 0.3.0)."""

from __future__ import annotations

import warnings

from vc_im.model import Credential, CredentialType, Encoding, Subject, data_model

warnings.warn("vc_im.credential is deprecated; import its names from vc_im or vc_im.model",
              DeprecationWarning, stacklevel=2)

__all__ = ["Credential", "CredentialType", "Encoding", "Subject", "data_model"]
