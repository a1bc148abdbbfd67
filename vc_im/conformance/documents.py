"""What both conformance adapters share: reading a document, judging it, and their refusal.

A document is judged in two steps. First every data-model rule (:mod:`vc_im.vcdm`); then,
when every ``@context`` in it is a URL vc_im holds a pinned copy of (the W3C base contexts,
and for the suites' documents the W3C examples contexts v1 and v2, with the ODRL context
that examples v1 imports), a lossless JSON-LD expansion: a term no context defines would be
dropped, and is refused instead. A document whose contexts vc_im does not hold (an inline
context object, an unknown URL) is judged by the data model alone: nothing is fetched, ever.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from vc_im import _jose, _linked, vcdm
from vc_im.errors import VcImError

#: The W3C examples contexts, which the suites' documents use; the adapters' loader only.
EXAMPLES_V1_CONTEXT = "https://www.w3.org/2018/credentials/examples/v1"
EXAMPLES_V2_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"
ODRL_CONTEXT = "https://www.w3.org/ns/odrl.jsonld"

#: Contexts the adapters load beside vc_im's own (sources and digests: contexts/SOURCES.md).
#: They are not in :data:`vc_im._linked.PINNED_CONTEXTS`: credential verification never
#: accepts them.
EXAMPLES_CONTEXTS: tuple[_linked.PinnedContext, ...] = (
    _linked.PinnedContext(
        EXAMPLES_V1_CONTEXT,
        "credentials-examples-v1.jsonld",
        "2070ae4e75bc3b4c2cfe2b8b6e86ec45119672bbb5da283f0399ea96c60a0104",
    ),
    _linked.PinnedContext(
        EXAMPLES_V2_CONTEXT,
        "credentials-examples-v2.jsonld",
        "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c",
    ),
    _linked.PinnedContext(
        ODRL_CONTEXT,
        "odrl.jsonld",
        "bb55ab32bc6041c6ef723cbce89510128a4dfb9bec6024777240791b112c8b6c",
    ),
)

#: The largest document an adapter reads (the JWS limit: every document may become a JWT).
MAX_DOCUMENT_BYTES = _jose.MAX_TOKEN_BYTES


class DocumentRefused(VcImError):
    """A document breaks a data-model rule or does not expand losslessly (exit 1)."""

    code = "document_invalid"
    exit_code = 1

    def __init__(self, message: str, *, violations: tuple[vcdm.Violation, ...] = ()) -> None:
        super().__init__(message)
        self.violations = violations


def read_document(data: bytes, *, what: str = "document") -> dict[str, Any]:
    """A JSON object from ``data``, parsed strictly (duplicate names, NaN, depth, size)."""
    value = _jose.loads(data.strip(), what=what, max_bytes=MAX_DOCUMENT_BYTES)
    if not isinstance(value, dict):
        raise DocumentRefused(f"the {what} is not a JSON object.")
    return value


def is_presentation(document: Mapping[str, Any]) -> bool:
    """Whether ``document``'s ``type`` names a presentation (else it is read as a credential)."""
    return "VerifiablePresentation" in vcdm.types_of(document.get("type"))


def refuse(violations: tuple[vcdm.Violation, ...]) -> None:
    """Raise :class:`DocumentRefused` for the first violation, if there is one."""
    if not violations:
        return
    first = violations[0]
    more = f" ({len(violations) - 1} more rule(s) broken)" if len(violations) > 1 else ""
    raise DocumentRefused(f"{first.path}: {first.message} [{first.rule}]{more}",
                          violations=violations)


def check_document(document: Mapping[str, Any], *, presentation: bool,
                   version: int | None = None) -> None:
    """Refuse ``document`` unless it keeps the data model and expands losslessly."""
    check = vcdm.check_presentation if presentation else vcdm.check_credential
    refuse(check(document, version=version))
    check_linked_data(_without_jwt_credentials(document) if presentation else document)


def check_linked_data(document: Mapping[str, Any]) -> None:
    """Expand ``document`` offline when vc_im holds all its contexts; refuse a lost term."""
    known = loader().urls
    if not all(isinstance(url, str) and url in known for url in _contexts(document)):
        return
    try:
        _linked.expand_checked(document, allowed_types=None, loader=loader())
    except _linked.JsonLdRejected as exc:
        where = f"{exc.path}: " if exc.path else ""
        raise DocumentRefused(f"{where}{exc.message} [jsonld-lossless]") from exc


def _without_jwt_credentials(presentation: Mapping[str, Any]) -> Mapping[str, Any]:
    """A VC 1.1 presentation may carry credentials as JWT strings ([1.1] §6.3.1): each is
    secured and read on its own, not JSON-LD of the presentation, so expansion skips them."""
    value = presentation.get("verifiableCredential")
    if not isinstance(value, list) or not any(isinstance(item, str) for item in value):
        return presentation
    kept = [item for item in value if not isinstance(item, str)]
    rest = {key: item for key, item in presentation.items() if key != "verifiableCredential"}
    return {**rest, "verifiableCredential": kept} if kept else rest


@cache
def loader() -> _linked.ContextLoader:
    """The adapters' offline loader: vc_im's pinned contexts and the W3C examples contexts."""
    return _linked.ContextLoader(_linked.contexts_dir(),
                                 (*_linked.PINNED_CONTEXTS, *EXAMPLES_CONTEXTS))


def _contexts(node: object) -> Iterator[object]:
    """Every ``@context`` value in ``node``, items of arrays one by one."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "@context":
                yield from (value if isinstance(value, list) else [value])
            else:
                yield from _contexts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _contexts(item)
