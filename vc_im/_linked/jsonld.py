"""JSON-LD checks of credentials and presentations: allow-listed contexts, lossless expansion.

A credential is JSON-LD, and a verifier that only reads it as JSON can be
shown one thing while a JSON-LD processor sees another. vc_im therefore
expands every credential and refuses it unless expansion is *lossless*:

* the ``@context`` list is exactly one of the lists its encoding expects
  (:func:`check_context`);
* only the contexts vc_im ships are ever loaded, from files whose SHA-256 is
  pinned (:mod:`vc_im._linked.pinned`), through pyld's offline ``FrozenDocumentLoader``; nothing is
  fetched from the network, ever, and inline context objects are refused
  because the allow-list is by URL;
* no property is dropped (a term the contexts do not define), no property name
  is a compact or absolute IRI standing in for a term, and every ``@type`` is an
  absolute IRI from the caller's allow-list (an undefined type does not drop:
  pyld keeps it as a relative IRI, hence the explicit check).

The vc_im context (``contexts/vc-im-v1.jsonld``, URL
``https://vc-im.example/contexts/v1``, vocabulary ``https://vc-im.example/ns#``)
exists because there is no JSON-LD context for vCard: the namespace URL
``http://www.w3.org/2006/vcard/ns`` serves an ontology, not a context, and the
seed draft's credential that lists it in ``@context`` cannot be expanded. The
context defines:

* the types ``ImDeviceCredential`` and ``ImUserCredential``;
* the vCard terms ``fn``, ``hasOrganizationName``, ``hasInstantMessage``
  (``@type: @id``: its values are IM URIs), ``hasOrganizationUnit`` (the
  ontology's own term) and ``hasOrganizationalUnit``. The last is the seed
  draft's spelling, kept so that its credentials keep their shape; the ontology
  has no such term, so it maps to the same ``vcard:hasOrganizationUnit``. The
  schema lets a credential use one of the two spellings, never both;
* the JWT claims that a VC Data Model 2.0 payload carries but the v2 context
  leaves undefined: ``jti`` (an IRI), ``nonce`` and ``jkt`` (inside ``cnf``),
  all in the IANA JWT claims namespace the v2 context uses for ``iss``,
  ``sub`` and ``cnf``. Without them strict expansion drops those claims.

Every term is written as a full IRI (no prefix terms such as ``vcard``), so the
context defines nothing but the terms credentials use, and it is
``@protected`` like the W3C contexts. Editing any context file requires
updating its pin in :data:`~vc_im._linked.pinned.PINNED_CONTEXTS`.

Processed contexts are reused across calls: the loader marks its documents as
static and keeps its own resolved-context cache, which pyld consults before
loading or processing a context again. The cache belongs to the loader rather
than to pyld's process-wide default, so no other pyld user in the process can
put a context into it.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from functools import cache
from pathlib import Path
from typing import Any, Literal

from vc_im._linked.pinned import (
    PINNED_CONTEXTS,
    STATUS_LIST_2021_CONTEXT,
    V1_CONTEXT,
    V2_CONTEXT,
    VCARD_NAMESPACE,
    VCIM_CONTEXT,
    PinnedContext,
)
from vc_im._linked.resources import contexts_dir
from vc_im._linked.shapes import MAX_CACHED_SHAPES, expand_by_shape, expand_unfilled, fill, slotted
from vc_im.errors import TokenError, VcImError

__all__ = ["ContextLoader", "JsonLdRejected", "check_context", "check_expansion",
           "document_loader", "expand_checked"]

_CONTEXT_PATH = "$['@context']"
# RFC 3986 scheme followed by a colon, or a blank node label, as JSON-LD judges absoluteness.
_ABSOLUTE_IRI = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*|_):[^\s]*$")
_PLAIN_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")
_KEYWORD_LIKE = re.compile(r"^@[a-zA-Z]+$")
_KEYWORDS = frozenset({
    "@base", "@container", "@context", "@direction", "@graph", "@id", "@import", "@included",
    "@index", "@json", "@language", "@list", "@nest", "@none", "@prefix", "@propagate",
    "@protected", "@reverse", "@set", "@type", "@value", "@version", "@vocab"})


class JsonLdRejected(TokenError):
    """The credential's ``@context`` or its JSON-LD expansion is not acceptable."""

    code = "context_rejected"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        """JSON path of the offending member in the input document, when one is known."""


class ContextLoader:
    """An offline pyld document loader over pinned context files.

    pyld's ``FrozenDocumentLoader`` serves the documents and refuses every other
    URL; this wrapper fills it one file at a time, on first use, after checking
    the file's SHA-256 against its pin (a mismatch raises :class:`VcImError`
    with code ``broken_install``; the file is never used). It also tags its
    documents as static so that pyld caches their processed form, in
    :attr:`resolved_contexts`, across expansions.

    Build one per set of files; :func:`document_loader` holds the process-wide
    one for the shipped contexts.
    """

    def __init__(self, directory: Path, pins: Iterable[PinnedContext] = PINNED_CONTEXTS) -> None:
        _import_pyld()
        from pyld.documentloader.frozen import FrozenDocumentLoader

        self._directory = directory
        self._pins = {pin.url: pin for pin in pins}
        self.urls = frozenset(self._pins)
        """The context URLs this loader serves; every other URL is refused."""
        self._frozen = FrozenDocumentLoader(documents={})
        self._terms: frozenset[str] | None = None
        self.expansions: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        """Expansions of document skeletons, by skeleton (see :func:`_skeleton`); bounded."""
        self.resolved_contexts: dict[str, Any] = {}
        """pyld's shared resolved-context cache for this loader.

        Bounded: only the pinned URLs and the scoped contexts inside them get in,
        since :func:`expand_checked` refuses inline contexts in documents.
        """

    def __call__(self, url: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """pyld's loader interface: the pinned document for ``url``, or pyld's refusal."""
        pin = self._pins.get(url)
        if pin is not None and url not in self._frozen.documents:
            self._frozen.documents[url] = self._read(pin)
        remote: dict[str, Any] = dict(self._frozen(url, dict(options)))
        remote["tag"] = "static"  # lets pyld keep the processed context across calls
        return remote

    def terms(self) -> frozenset[str]:
        """Every name any of the pinned contexts defines, at any depth (scoped contexts
        included): a value spelled like one of them may expand as a term or a prefix."""
        if self._terms is None:
            names: set[str] = set()
            pending: list[object] = [self._read(pin) for pin in self._pins.values()]
            while pending:
                item = pending.pop()
                if isinstance(item, dict):
                    names.update(key for key in item if isinstance(key, str))
                    pending.extend(item.values())
                elif isinstance(item, list):
                    pending.extend(item)
            self._terms = frozenset(names)
        return self._terms

    def _read(self, pin: PinnedContext) -> Any:
        path = self._directory / pin.filename
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise VcImError(
                f"the JSON-LD context file {path} for {pin.url} cannot be read",
                code="broken_install",
            ) from exc
        if hashlib.sha256(data).hexdigest() != pin.sha256:
            raise VcImError(
                f"the JSON-LD context file {path} does not match its pinned SHA-256, "
                "so it is not used; reinstall vc_im",
                code="broken_install",
            )
        return json.loads(data)


@cache
def document_loader() -> ContextLoader:
    """The process-wide loader over the shipped contexts (built on first use)."""
    return ContextLoader(contexts_dir())


def check_context(
    value: object, *, expected: Sequence[Sequence[str]], path: str = _CONTEXT_PATH
) -> None:
    """Raise :class:`JsonLdRejected` unless ``value`` is exactly one of the ``expected`` lists.

    ``path`` is where ``value`` sits in the token (for example ``$.vc['@context']``),
    used in messages and on the error.
    """
    if not isinstance(value, list):
        raise JsonLdRejected(f"{path} must be a list of context URLs", path=path)
    known = {V1_CONTEXT, V2_CONTEXT, VCIM_CONTEXT, STATUS_LIST_2021_CONTEXT}.union(
        *map(set, expected))
    for index, item in enumerate(value):
        _check_context_item(item, f"{path}[{index}]", known)
    firsts = list(dict.fromkeys(option[0] for option in expected if option))
    if not value or value[0] not in firsts:
        raise JsonLdRejected(f"{path} must start with {' or '.join(firsts)}", path=path)
    if not any(value == list(option) for option in expected):
        options = " or ".join(json.dumps(list(option)) for option in expected)
        raise JsonLdRejected(f"{path} must be exactly {options}", path=path)


def _import_pyld() -> None:
    """Import pyld with its network document loaders unavailable.

    At import, pyld picks a default document loader that fetches over the network (requests,
    else aiohttp, which pyhanko-certvalidator installs). vc_im always passes its own offline
    loader, so pyld is imported while neither library can be: its default becomes the dummy
    loader, which fetches nothing even if a caller forgot a loader, and a cold verification
    does not import aiohttp and its dependencies (about seventy modules).
    """
    with _PYLD_IMPORT:  # threads of a service must not see each other's blocked names
        if "pyld" in sys.modules:
            return
        blocked = [name for name in ("requests", "aiohttp") if name not in sys.modules]
        for name in blocked:
            sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
        try:
            import pyld  # noqa: F401
        finally:
            for name in blocked:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]


_PYLD_IMPORT = threading.Lock()


def expand_checked(
    document: Mapping[str, Any],
    *,
    allowed_types: frozenset[str] | None,
    loader: ContextLoader | None = None,
) -> list[dict[str, Any]]:
    """Expand ``document`` offline and return the result, or raise :class:`JsonLdRejected`.

    Refused: a context that is not a pinned URL of ``loader`` (default:
    :func:`document_loader`), anywhere in the document; any property that
    expansion would drop; a property name that is an IRI rather than a term; a
    ``null`` (which expansion silently drops); any expanded ``@type`` that is not
    an absolute IRI in ``allowed_types``, and any relative identifier or datatype; any
    error pyld reports, such as a protected term redefinition. With ``allowed_types``
    None only what expansion loses is refused: an undefined type or a relative
    identifier, which JSON-LD keeps as a relative IRI, is left to the caller's own rules.
    A context file that fails its pin raises :class:`VcImError` (``broken_install``)
    instead: the installation, not the token, is at fault.
    """
    loader = loader if loader is not None else document_loader()
    if not isinstance(document, Mapping):
        raise JsonLdRejected("a JSON-LD document must be a JSON object", path="$")
    try:
        if not _members_fine(document, loader.urls):
            _check_members(document, "$", loader)  # says what is wrong, and where
        expanded = expand_by_shape(document, terms=loader.terms(), cache=loader.expansions,
                                   expand=lambda doc: expand_uncached(doc, loader))
        if allowed_types is not None:
            _check_expanded_types(expanded, allowed_types, document)
    except RecursionError as exc:
        raise JsonLdRejected("the document is nested too deeply to expand") from exc
    return expanded


def check_expansion(document: Mapping[str, Any], *, allowed_types: frozenset[str] | None,
                    loader: ContextLoader | None = None) -> None:
    """What :func:`expand_checked` refuses, refused alike, for a caller that does not need
    the expansion: the checks read the cached expansion of the document's shape and put
    the document's values back only into the strings they read (``tests/linked`` holds the
    two to the same verdicts and reasons)."""
    loader = loader if loader is not None else document_loader()
    if not (type(document) is dict or isinstance(document, Mapping)):
        raise JsonLdRejected("a JSON-LD document must be a JSON object", path="$")
    try:
        if not _members_fine(document, loader.urls):
            _check_members(document, "$", loader)
        expanded, values = expand_unfilled(document, terms=loader.terms(),
                                           cache=loader.expansions,
                                           expand=lambda doc: expand_uncached(doc, loader))
        if allowed_types is not None and not (
                values is not None and _types_pass(expanded, allowed_types, values)):
            _check_expanded_types(expanded, allowed_types, document, values)
    except RecursionError as exc:
        raise JsonLdRejected("the document is nested too deeply to expand") from exc


def expand_uncached(document: Mapping[str, Any], loader: ContextLoader) -> list[dict[str, Any]]:
    """pyld's expansion of ``document``, refusing any dropped property: the reference the
    expansion cache is held to."""
    _import_pyld()
    from pyld import jsonld
    from pyld.context_resolver import ContextResolver

    dropped: list[str | None] = []
    options = {
        "documentLoader": loader,
        "contextResolver": ContextResolver(loader.resolved_contexts, loader),
        "base": None,  # an undefined type stays relative instead of becoming example.org/base/...
        "processingMode": "json-ld-1.1",
    }
    try:
        expanded: list[dict[str, Any]] = jsonld.expand(
            dict(document), options, on_property_dropped=dropped.append
        )
    except RecursionError:
        raise
    except Exception as exc:  # pyld's JsonLdError, or a pyld bug on odd input: never leak
        error = _from_pyld_error(exc)
        if isinstance(error, JsonLdRejected):
            raise error from exc
        # The loader's own error (a broken installation), raised again without pyld's
        # wrappers, whose cause chain already leads back to it.
        raise VcImError(error.message, code=error.code) from error
    if dropped:
        raise _dropped_error(dropped, document)
    return expanded


def _check_context_item(item: object, path: str, known: Set[str]) -> None:
    if type(item) is not str and isinstance(item, Mapping):  # a URL without the ABC's call
        raise JsonLdRejected(
            f"{path} is an inline context object; vc_im accepts contexts only by URL, "
            "from its allow-list",
            path=path,
        )
    if not isinstance(item, str):
        raise JsonLdRejected(f"{path} must be a context URL", path=path)
    if item.rstrip("#/") in (VCARD_NAMESPACE, VCARD_NAMESPACE.replace("http:", "https:", 1)):
        raise JsonLdRejected(
            f"{path} {json.dumps(item)} is the vCard namespace, not a JSON-LD context; "
            f"use {VCIM_CONTEXT}",
            path=path,
        )
    if item not in known:
        raise JsonLdRejected(f"{path} {json.dumps(item)} is not a context vc_im accepts", path=path)


def _members_fine(node: object, urls: Set[str]) -> bool:
    """Whether :func:`_check_members` refuses nothing, without writing a path per member
    (False for anything but plain JSON, which it then decides); a test holds them equal."""
    kind = type(node)
    if kind is dict:
        for key, value in node.items():  # type: ignore[attr-defined]
            if key == "@context":
                items = value if type(value) is list else [value]
                if not all(type(item) is str and item in urls for item in items):
                    return False
            elif type(key) is not str or ":" in key or not _members_fine(value, urls):
                return False
        return True
    if kind is list:
        return all(_members_fine(item, urls) for item in node)  # type: ignore[attr-defined]
    return kind is str or kind is int or kind is float or kind is bool


def _check_members(node: object, path: str, loader: ContextLoader) -> None:
    """Refuse what expansion would hide: foreign or inline contexts, IRI names, nulls."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            child = _child(path, key)
            if key == "@context":
                items = value if isinstance(value, list) else [value]
                for index, item in enumerate(items):
                    item_path = f"{child}[{index}]" if isinstance(value, list) else child
                    _check_context_item(item, item_path, loader.urls)
                continue
            if ":" in key:
                raise JsonLdRejected(
                    f"{child} is named by an IRI, not by a term of the document's contexts",
                    path=child,
                )
            _check_members(value, child, loader)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _check_members(item, f"{path}[{index}]", loader)
    elif node is None:
        raise JsonLdRejected(f"{path} is null, which JSON-LD expansion drops", path=path)


def _from_pyld_error(exc: BaseException) -> VcImError:
    """One sentence for a pyld failure; a broken context file keeps its own error.

    pyld wraps the root cause (a refused URL inside a scoped context, say) in
    more general errors, so the whole cause chain is searched.
    """
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in chain:
        if isinstance(link, VcImError):
            return link
        chain.append(link)
        link = link.__cause__ or link.__context__
    codes = [getattr(link, "code", None) for link in chain]
    for link, code in zip(chain, codes, strict=True):
        if code in ("loading remote context failed", "loading document failed"):
            details = getattr(link, "details", None)
            url = details.get("url") if isinstance(details, Mapping) else None
            where = f" {url}" if isinstance(url, str) else ""
            return JsonLdRejected(
                f"the context{where} is not one vc_im ships, and vc_im never fetches contexts"
            )
    if "protected term redefinition" in codes:
        return JsonLdRejected(
            "the @context list redefines a protected term, so its contexts conflict",
            path=_CONTEXT_PATH,
        )
    code = next((code for code in codes if isinstance(code, str)), "invalid document")
    return JsonLdRejected(f"JSON-LD expansion failed ({code})")


def _dropped_error(dropped: list[str | None], document: Mapping[str, Any]) -> JsonLdRejected:
    """Name the first dropped property, with its path in the input document."""
    found = [hit for name in dict.fromkeys(dropped) for hit in _paths_of_key(document, "$", name)]
    if not found:
        return JsonLdRejected("JSON-LD expansion drops a property of the document")
    path, name = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return JsonLdRejected(
        f"{json.dumps(name)} at {path} is not a term of the document's contexts, "
        f"so JSON-LD expansion would drop it{more}",
        path=path,
    )


def _paths_of_key(node: object, path: str, name: str | None) -> Iterator[tuple[str, str]]:
    """(path, name) of members called ``name``, or keyword-like ones when ``name`` is None.

    pyld reports a dropped property by its expanded name: the term itself when
    it is undefined, None for a keyword-like name such as ``@foo``.
    """
    if isinstance(node, Mapping):
        for key, value in node.items():
            child = _child(path, key)
            if (key == name) if name is not None else _is_unknown_keyword(key):
                yield child, key
            elif key != "@context":
                yield from _paths_of_key(value, child, name)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _paths_of_key(item, f"{path}[{index}]", name)


def _is_unknown_keyword(key: str) -> bool:
    return bool(_KEYWORD_LIKE.match(key)) and key not in _KEYWORDS


def _check_expanded_types(
    node: object, allowed: frozenset[str], document: Mapping[str, Any],
    values: list[str] | None = None,
) -> None:
    """Every node type absolute and allowed; every datatype and node id absolute. With
    ``values``, ``node`` is a skeleton's expansion: each string read is filled first."""
    if isinstance(node, list):
        for item in node:
            _check_expanded_types(item, allowed, document, values)
        return
    if not isinstance(node, dict):
        return
    if "@value" in node:
        datatype = _filled(node.get("@type"), values)
        if isinstance(datatype, str) and datatype != "@json" and not _ABSOLUTE_IRI.match(datatype):
            raise JsonLdRejected(
                f"the datatype {json.dumps(datatype)} is not defined by the document's contexts"
            )
        return
    for type_iri in node.get("@type", []):
        type_iri = _filled(type_iri, values)
        if not isinstance(type_iri, str):  # pyld turns a keyword-like type ("@foo") to null
            raise JsonLdRejected("a type is a keyword-like name that no context defines, "
                                 "which JSON-LD expansion drops")
        if not _ABSOLUTE_IRI.match(type_iri):
            path = next(_paths_of_value(document, "$", type_iri), None)
            raise JsonLdRejected(
                f"the type {json.dumps(type_iri)} is not defined by the document's contexts",
                path=path,
            )
        if type_iri not in allowed:
            local_name = re.split(r"[#/:]", type_iri)[-1]
            path = next(_paths_of_value(document, "$", type_iri), None) or next(
                _paths_of_value(document, "$", local_name), None
            )
            raise JsonLdRejected(f"the type {type_iri} is not one vc_im accepts here", path=path)
    node_id = _filled(node.get("@id"), values)
    if isinstance(node_id, str) and not _ABSOLUTE_IRI.match(node_id):
        raise JsonLdRejected(
            f"the identifier {json.dumps(node_id)} is a relative IRI; an absolute IRI is required",
            path=next(_paths_of_value(document, "$", node_id), None),
        )
    for key, value in node.items():
        if key not in ("@type", "@id"):
            _check_expanded_types(value, allowed, document, values)


#: The plans of the skeletons' expansions seen, by ``id`` (with the expansion, which the id
#: names only while it lives) and allowed types: the slotted strings the type check reads,
#: with their kind, or False when a string without a slot fails it. Bounded.
_Plan = tuple[tuple[str, str], ...] | Literal[False]
_PLANS: dict[int, tuple[object, dict[frozenset[str], _Plan]]] = {}


def _types_pass(expanded: list[dict[str, Any]], allowed: frozenset[str],
                values: list[str]) -> bool:
    """Whether :func:`_check_expanded_types` passes the skeleton's ``expanded`` filled with
    ``values``, reading only its slotted strings: the others say the same for every document
    of the shape, so they are read once per shape and allowed set. False: the full check
    decides, and says why (``tests/linked`` holds the two to the same verdicts)."""
    kept = _PLANS.get(id(expanded))
    if kept is None or kept[0] is not expanded:
        if len(_PLANS) >= 2 * MAX_CACHED_SHAPES:
            _PLANS.clear()
        kept = _PLANS[id(expanded)] = (expanded, {})
    plan = kept[1].get(allowed)
    if plan is None:
        reads: list[tuple[str, str]] = []
        plan = kept[1][allowed] = tuple(reads) if _plan(expanded, allowed, reads) else False
    return plan is not False and all(
        _read_passes(kind, fill(text, values), allowed) for kind, text in plan)


def _plan(node: object, allowed: frozenset[str], reads: list[tuple[str, str]]) -> bool:
    """The reads of :func:`_check_expanded_types` in ``node``: each slotted one added to
    ``reads``, each other one judged; False at the first that fails."""
    if isinstance(node, list):
        return all(_plan(item, allowed, reads) for item in node)
    if not isinstance(node, dict):
        return True
    if "@value" in node:
        return _planned("datatype", node.get("@type"), allowed, reads)
    return (all(_planned("type", iri, allowed, reads) for iri in node.get("@type", []))
            and _planned("id", node.get("@id"), allowed, reads)
            and all(_plan(value, allowed, reads) for key, value in node.items()
                    if key not in ("@type", "@id")))


def _planned(kind: str, value: object, allowed: frozenset[str],
             reads: list[tuple[str, str]]) -> bool:
    if slotted(value):
        reads.append((kind, str(value)))
        return True
    return _read_passes(kind, value, allowed)


def _read_passes(kind: str, value: object, allowed: frozenset[str]) -> bool:
    """What :func:`_check_expanded_types` asks of a datatype, a type or a node id it reads."""
    if kind == "type":
        return isinstance(value, str) and bool(_ABSOLUTE_IRI.match(value)) and value in allowed
    return not isinstance(value, str) or (kind == "datatype" and value == "@json") or bool(
        _ABSOLUTE_IRI.match(value))


def _filled(value: Any, values: list[str] | None) -> Any:
    """``value`` of a skeleton's expansion with the document's values in its slots."""
    return value if values is None or not isinstance(value, str) else fill(value, values)


def _paths_of_value(node: object, path: str, value: str) -> Iterator[str]:
    """Paths where the string ``value`` occurs in the input document."""
    if node == value:
        yield path
    elif isinstance(node, Mapping):
        for key, item in node.items():
            if key != "@context":
                yield from _paths_of_value(item, _child(path, key), value)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _paths_of_value(item, f"{path}[{index}]", value)


def _child(path: str, name: str) -> str:
    """JSON path of member ``name`` under ``path``, rendered as jsonschema does."""
    if _PLAIN_NAME.match(name):
        return f"{path}.{name}"
    escaped = name.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"
