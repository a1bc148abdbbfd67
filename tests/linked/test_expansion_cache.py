"""The JSON-LD expansion cache (documents of one shape share a skeleton's expansion) gives
exactly what full pyld expansion gives: a differential property test over generated
credentials, presentations and hostile values, on the miss path and on the hit path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vc_im._jose.jws as jose
from vc_im._linked import jsonld, pinned
from vc_im._linked.shapes import expand_by_shape
from vc_im.model import Encoding, data_model

LOADER = jsonld.document_loader()
TERMS = sorted(LOADER.terms())


def cached(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The expansion as verification gets it: through the loader's shape cache."""
    return expand_by_shape(document, terms=LOADER.terms(), cache=LOADER.expansions,
                           expand=lambda doc: jsonld.expand_uncached(doc, LOADER))

#: Strings meant to break the substitution: terms, compact IRIs over terms, keywords,
#: blank nodes, dates (a colon, no scheme), '//' after a colon, pyld's comma-scheme quirk,
#: slot look-alikes, the empty string, whitespace, plain and absolute text.
_TRICKY = st.one_of(
    st.sampled_from(TERMS),
    st.builds(lambda term, rest: f"{term}:{rest}", st.sampled_from(TERMS),
              st.text("abc/#", max_size=4)),
    st.sampled_from(["", "@id", "@type", "@foo", "_:b0", "_x", ":x", "a b://x", "a,b:c",
                     "2023-11-14T22:13:20Z", "urn:vcimslot:0", "vcimslot0z", "x\ny", " ",
                     "im:%40alice@example.com", "https://example.com/a b", "mailto:a@b"]),
    st.text(max_size=12),
    st.builds(lambda scheme, rest: f"{scheme}:{rest}",
              st.from_regex(r"[A-Za-z][A-Za-z0-9+.,-]{0,5}", fullmatch=True),
              st.text(max_size=8)),
)


def _string_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Where the document holds strings (outside @context)."""
    if isinstance(node, str):
        return [path]
    if isinstance(node, dict):
        return [p for key, value in node.items() if key != "@context"
                for p in _string_paths(value, (*path, key))]
    if isinstance(node, list):
        return [p for index, item in enumerate(node) for p in _string_paths(item, (*path, index))]
    return []


def _set(document: Any, path: tuple[Any, ...], value: str) -> None:
    for step in path[:-1]:
        document = document[step]
    document[path[-1]] = value


def _outcome(expand: Callable[[], object]) -> object:
    """The expansion, or the refusal (its message and path) as a comparable value."""
    try:
        return expand()
    except jsonld.JsonLdRejected as exc:
        return ("rejected", exc.message, exc.path)


@pytest.fixture(scope="module")
def documents(make_credential: Callable[..., str]) -> list[dict[str, Any]]:
    """The data models of a vc1 and a vc2 credential (bare and with a proof), and of a vc2
    presentation."""
    out = []
    for encoding in (Encoding.VC1, Encoding.VC2):
        token = make_credential(encoding=encoding)
        out.append(data_model(dict(jose.peek_unverified(token).payload), encoding))
    # Proofs bring @vocab-typed values (proofPurpose) and type-scoped contexts (the W3C
    # contexts alone: vc_im's own conflicts with their proof contexts).
    for context, proof_type in ((pinned.V1_CONTEXT, "Ed25519Signature2018"),
                                (pinned.V2_CONTEXT, "DataIntegrityProof")):
        out.append({"@context": [context], "type": ["VerifiableCredential"],
                    "issuer": "https://im.example.com", "credentialSubject": {"id": "im:a@b.c"},
                    "proof": {"type": proof_type, "proofPurpose": "assertionMethod",
                              "created": "2023-11-14T22:13:20Z",
                              "verificationMethod": "https://im.example.com/keys#1"}})
    out.append({"@context": [pinned.V2_CONTEXT], "type": ["VerifiablePresentation"],
                "holder": "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com",
                "verifiableCredential": [{"@context": [pinned.V2_CONTEXT],
                                          "type": ["EnvelopedVerifiableCredential"],
                                          "id": "data:application/vc+jwt,eyJ.eyJ.sig"}]})
    return out


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_cached_expansion_equals_pyld(documents: list[dict[str, Any]], data: st.DataObject,
                                      ) -> None:
    """Two documents of one shape with generated values (types and identifiers included):
    each one's cached expansion, miss or hit, equals pyld's full expansion of it, refusals
    included."""
    base = data.draw(st.sampled_from(documents))
    paths = _string_paths(base)
    chosen = data.draw(st.lists(st.sampled_from(paths), max_size=6, unique=True))
    for _ in range(2):
        document = copy.deepcopy(base)
        for path in chosen:
            _set(document, path, data.draw(_TRICKY))
        if data.draw(st.booleans()):
            document[data.draw(st.sampled_from(["extra", "fn", "name", "@foo"]))] = "x"
        expected = _outcome(lambda doc=document: jsonld.expand_uncached(doc, LOADER))
        for _attempt in ("miss or hit", "hit"):
            assert _outcome(lambda doc=document: cached(doc)) \
                == expected


def test_same_shape_hits_the_cache(documents: list[dict[str, Any]]) -> None:
    """Another credential of the same shape (other name, id and dates) reuses the skeleton:
    no new cache entry, and its own values come out."""
    document = copy.deepcopy(documents[0])
    cached(document)
    before = len(LOADER.expansions)
    other = copy.deepcopy(document)
    other["credentialSubject"]["fn"] = "Bob B. Builder"
    other["id"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
    other["issuanceDate"] = "2030-01-01T00:00:00Z"
    expanded = cached(other)
    assert len(LOADER.expansions) == before
    assert expanded == jsonld.expand_uncached(other, LOADER)
    assert "Bob B. Builder" in repr(expanded)


_CONTEXT_ITEMS = st.sampled_from(sorted(LOADER.urls)) | st.sampled_from([
    "https://example.com/unknown", pinned.VCARD_NAMESPACE, {"@vocab": "https://x.example/"}, 7])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["fn", "id", "type", "a:b", "@context", "http://x/y", "name"]),
        inner | st.lists(_CONTEXT_ITEMS, max_size=2) | _CONTEXT_ITEMS, max_size=4),
    max_leaves=12)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON)
def test_quick_member_scan_gives_the_full_checks_verdict(document: Any) -> None:
    """The scan that skips writing paths accepts exactly the documents the full member check
    accepts (contexts from the allow-list only, no IRI names, no nulls)."""
    try:
        jsonld._check_members(document, "$", LOADER)
    except jsonld.JsonLdRejected:
        refused = True
    else:
        refused = False
    assert jsonld._members_fine(document, LOADER.urls) is not refused


def _verdict(check: Callable[[], object]) -> tuple[str, str | None] | None:
    try:
        check()
    except jsonld.JsonLdRejected as exc:
        return exc.message, exc.path
    return None


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_checking_without_the_expansion_gives_the_same_verdicts(
        documents: list[dict[str, Any]], data: st.DataObject) -> None:
    """Checking a document against the cached expansion of its shape, filling only the
    strings the checks read, refuses exactly what checking its filled expansion refuses,
    with the same reason and path (types, identifiers and datatypes from generated values)."""
    base = data.draw(st.sampled_from(documents))
    chosen = data.draw(st.lists(st.sampled_from(_string_paths(base)), max_size=6, unique=True))
    allowed = data.draw(st.sampled_from([pinned.CREDENTIAL_TYPES, pinned.PRESENTATION_TYPES,
                                         None, frozenset()]))
    for _ in range(2):
        document = copy.deepcopy(base)
        for path in chosen:
            _set(document, path, data.draw(_TRICKY))
        full = _verdict(lambda doc=document: jsonld.expand_checked(doc, allowed_types=allowed))
        assert _verdict(lambda doc=document: jsonld.check_expansion(
            doc, allowed_types=allowed)) == full
