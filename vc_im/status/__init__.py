"""Credential status: revocation and suspension lists, the issuer's registry, renewal.

Two encodings, each exactly per its specification: StatusList2021 for VC Data Model 1.1
(``vc1``) credentials and W3C Bitstring Status List v1.0 for 2.0 (``vc2``). The verifier's
``status`` check lives in the credential checks; this package holds the codec
(:mod:`vc_im.status.bitstring`), the entries and signed list credentials
(:mod:`vc_im.status.lists`), the issuer's SQLite registry (:mod:`vc_im.status.registry`)
and the lists a verifier is handed (:mod:`vc_im.status.sources`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vc_im.status.bitstring import MAX_BITS, MIN_ENTRIES, StatusUnavailable, decode, encode
from vc_im.status.lists import Purpose, StatusEntry, StatusList, sign_list, verify_list
from vc_im.status.sources import StatusSources

if TYPE_CHECKING:
    from vc_im.status.registry import (
        DEFAULT_LIST_SIZE,
        IssuedCredential,
        Registry,
        StatusListInfo,
    )


def __getattr__(name: str) -> Any:
    """The registry (and sqlite3) load only when an issuer asks for them."""
    if name in ("DEFAULT_LIST_SIZE", "IssuedCredential", "Registry", "StatusListInfo"):
        from vc_im.status import registry

        return getattr(registry, name)
    raise AttributeError(name)

__all__ = ["DEFAULT_LIST_SIZE", "MAX_BITS", "MIN_ENTRIES", "IssuedCredential", "Purpose",
           "Registry", "StatusEntry", "StatusList", "StatusListInfo", "StatusSources",
           "StatusUnavailable", "decode", "encode", "sign_list", "verify_list"]
