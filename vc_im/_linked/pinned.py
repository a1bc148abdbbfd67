"""What vc_im ships for JSON-LD: the context URLs it accepts, the files that hold them with
their pinned SHA-256, and the expanded types a credential or a presentation may carry.

Editing a context file requires updating its pin here; :mod:`vc_im._linked.jsonld` refuses
a file that does not match.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CREDENTIAL_TYPES", "PINNED_CONTEXTS", "PRESENTATION_TYPES", "STATUS_LIST_2021_CONTEXT",
           "V1_CONTEXT", "V2_CONTEXT", "VCARD_NAMESPACE", "VCIM_CONTEXT", "PinnedContext"]

V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VCIM_CONTEXT = "https://vc-im.example/contexts/v1"
STATUS_LIST_2021_CONTEXT = "https://w3id.org/vc/status-list/2021/v1"
VCARD_NAMESPACE = "http://www.w3.org/2006/vcard/ns"

_CRED = "https://www.w3.org/2018/credentials#"
_VCIM = "https://vc-im.example/ns#"

CREDENTIAL_TYPES = frozenset(
    {f"{_CRED}VerifiableCredential", f"{_VCIM}ImDeviceCredential", f"{_VCIM}ImUserCredential",
     "https://w3id.org/vc/status-list#StatusList2021Entry",
     "https://www.w3.org/ns/credentials/status#BitstringStatusListEntry"}
)
"""Expanded IRIs of the types a credential may carry."""

PRESENTATION_TYPES = frozenset(
    {f"{_CRED}VerifiablePresentation", f"{_CRED}EnvelopedVerifiableCredential"}
)
"""Expanded IRIs of the types a presentation may carry (with VC 2.0 enveloped credentials)."""


@dataclass(frozen=True, slots=True)
class PinnedContext:
    """A context URL that may be loaded, the file holding it, and that file's SHA-256."""

    url: str
    filename: str
    sha256: str


PINNED_CONTEXTS: tuple[PinnedContext, ...] = (
    PinnedContext(
        V1_CONTEXT,
        "credentials-v1.jsonld",
        "ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc",
    ),
    PinnedContext(
        V2_CONTEXT,
        "credentials-v2.jsonld",
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
    ),
    PinnedContext(
        VCIM_CONTEXT,
        "vc-im-v1.jsonld",
        "6911aa076dc2eecd15c9e7fdbd0b93c2ca8f2ecee2ace8f985551210f0076f14",
    ),
    PinnedContext(  # npm @digitalbazaar/vc-status-list-context 3.1.1 (contexts/SOURCES.md)
        STATUS_LIST_2021_CONTEXT,
        "status-list-2021-v1.jsonld",
        "634d71c159289f068c96012e4511c657fdf82ac4231900081bda3ba24e2e1160",
    ),
)
"""The only contexts vc_im ever loads (W3C's exact bytes for v1 and v2, and ours)."""
