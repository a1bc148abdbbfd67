"""A cache of JSON-LD expansions by document shape.

pyld processes a credential's type-scoped contexts again for every document, which costs
most of an expansion. Credentials of one issuer share their shape: the same members, types
and contexts, different values. So a document's *skeleton* (each string value that expands
to itself, or to the @vocab followed by itself, replaced by a numbered slot of the same
kind) is expanded once, and each document of that shape gets the skeleton's expansion with
its own values put back in the slots. A value that could expand otherwise (a term, a
compact IRI, a keyword-like or blank node string, a type, anything under a keyword) stays
in the skeleton as it is. ``tests/linked/test_expansion_cache.py`` holds the result equal to
full expansion over generated documents.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from vc_im.errors import TokenError

__all__ = ["MAX_CACHED_SHAPES", "expand_by_shape", "expand_unfilled", "fill", "slotted"]

#: Skeletons kept per loader (a verifier sees few shapes; an attacker gains nothing by more).
MAX_CACHED_SHAPES = 256
_SLOT_MARK = "vcimslot"
_ABSOLUTE_SLOT = "urn:" + _SLOT_MARK + ":{}"
_RELATIVE_SLOT = _SLOT_MARK + "{}z"
_SLOT = re.compile("urn:" + _SLOT_MARK + r":(\d+)|" + _SLOT_MARK + r"(\d+)z")
#: pyld's own test of an absolute IRI (``+-.`` is a range there, so a comma passes).
_PYLD_ABSOLUTE = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")
#: Members whose string values choose contexts or types, or are keywords: never slotted.
_VERBATIM_MEMBERS = frozenset({"type"})
_CACHE_LOCK = threading.Lock()


def expand_by_shape(document: Mapping[str, Any], *, terms: frozenset[str],
                    cache: OrderedDict[str, list[dict[str, Any]]],
                    expand: Callable[[Mapping[str, Any]], list[dict[str, Any]]],
                    ) -> list[dict[str, Any]]:
    """``expand(document)``, through ``cache``: the expansions of skeletons, by skeleton.

    ``terms`` are every name the contexts define; ``expand`` is the full expansion (which
    raises a :class:`~vc_im.errors.TokenError` for a document it refuses)."""
    expanded, values = expand_unfilled(document, terms=terms, cache=cache, expand=expand)
    return expanded if values is None else fill(expanded, values)


def expand_unfilled(document: Mapping[str, Any], *, terms: frozenset[str],
                    cache: OrderedDict[str, list[dict[str, Any]]],
                    expand: Callable[[Mapping[str, Any]], list[dict[str, Any]]],
                    ) -> tuple[list[dict[str, Any]], list[str] | None]:
    """:func:`expand_by_shape` before the document's values go back into their slots: the
    skeleton's expansion (shared: never to be changed) and the values (None: the expansion
    is the document's own). A caller that only checks the expansion fills what it reads."""
    values: list[str] = []
    skeleton = _skeleton(document, values, terms, verbatim=False)
    if skeleton is None:
        return expand(document), None
    key = json.dumps(skeleton, separators=(",", ":"))
    with _CACHE_LOCK:
        cached = cache.get(key)
        if cached is not None:
            cache.move_to_end(key)
    if cached is None:
        try:
            cached = expand(skeleton)
        except TokenError:  # the document's own expansion says why, with its own values
            return expand(document), None
        with _CACHE_LOCK:  # a service verifies in threads: the LRU order must stay whole
            cache[key] = cached
            if len(cache) > MAX_CACHED_SHAPES:
                cache.popitem(last=False)
    return cached, values


def fill(node: Any, values: list[str]) -> Any:
    """A fresh copy of a skeleton's expansion with the document's values in their slots."""
    return _fill(node, values)


def slotted(value: object) -> bool:
    """Whether ``value``, read from a skeleton's expansion, holds a slot (its text then
    depends on the document's values)."""
    return isinstance(value, str) and _SLOT_MARK in value


def _skeleton(node: Any, values: list[str], terms: frozenset[str], *, verbatim: bool) -> Any:
    """``node`` with its slot-able strings replaced by numbered slots (their values appended
    to ``values``); None when the document holds slot-like text already."""
    kind = type(node)
    if kind is str:
        if _SLOT_MARK in node:
            return None
        slot = None if verbatim else _slot_kind(node, terms)
        if slot is None:
            return node
        values.append(node)
        return slot.format(len(values) - 1)
    if kind is dict or (kind is not list and isinstance(node, Mapping)):
        out: dict[str, Any] = {}
        for name, value in node.items():
            if _SLOT_MARK in name:
                return None
            keep = verbatim or name.startswith("@") or name in _VERBATIM_MEMBERS
            item = _skeleton(value, values, terms, verbatim=keep)
            if item is None and value is not None:
                return None
            out[name] = item
        return out
    if kind is list:
        items = []
        for original in node:
            item = _skeleton(original, values, terms, verbatim=verbatim)
            if item is None and original is not None:
                return None
            items.append(item)
        return items
    if isinstance(node, str):  # a str subclass: as a str
        return _skeleton(str(node), values, terms, verbatim=verbatim)
    if isinstance(node, list):
        return _skeleton(list(node), values, terms, verbatim=verbatim)
    return node


def _slot_kind(value: str, terms: frozenset[str]) -> str | None:
    """The slot that expands as ``value`` does, or None when it must stay as it is.

    pyld's IRI expansion (``_expand_iri``) keeps a string that is no term, no keyword-like
    text, no blank node and no compact IRI as it is when it is absolute (its own test: a
    scheme, or ``//`` after the first colon), and otherwise puts the @vocab in front of it
    or keeps it; an absolute slot, or a relative one without a colon, does the same."""
    if not value or value[0] == "@" or value.startswith("_:") or value in terms:
        return None
    prefix, colon, suffix = value.partition(":")
    if not colon or not prefix:
        return _RELATIVE_SLOT
    if prefix in terms:
        return None
    if suffix.startswith("//") or _PYLD_ABSOLUTE.match(value):
        return _ABSOLUTE_SLOT
    return _RELATIVE_SLOT


def _fill(node: Any, values: list[str]) -> Any:
    """A fresh copy of a skeleton's expansion with the document's values in their slots
    (pyld's output: plain dicts, lists and strings)."""
    kind = type(node)
    if kind is str:
        if _SLOT_MARK not in node:
            return node
        return _SLOT.sub(lambda match: values[int(match.group(1) or match.group(2))], node)
    if kind is dict:
        return {name: _fill(value, values) for name, value in node.items()}
    if kind is list:
        return [_fill(item, values) for item in node]
    return node
