"""vc_im._linked.jsonld: the context allow-list, offline pinned loading and lossless expansion."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vc_im._linked.jsonld as jsonld
from tests.helpers.vectors import vector_json, vector_path
from vc_im._linked.jsonld import (
    ContextLoader,
    JsonLdRejected,
    check_context,
    document_loader,
    expand_checked,
)
from vc_im._linked.pinned import (
    CREDENTIAL_TYPES,
    PINNED_CONTEXTS,
    PRESENTATION_TYPES,
    V1_CONTEXT,
    V2_CONTEXT,
    VCARD_NAMESPACE,
    VCIM_CONTEXT,
    PinnedContext,
)
from vc_im._linked.resources import contexts_dir
from vc_im.errors import TokenError, VcImError

CRED = "https://www.w3.org/2018/credentials#"
VCARD = "http://www.w3.org/2006/vcard/ns#"
JWT = "https://www.iana.org/assignments/jwt#"
VC1_CREDENTIAL = [[V1_CONTEXT, VCIM_CONTEXT]]
VC2_CREDENTIAL = [[V2_CONTEXT, VCIM_CONTEXT]]
REMOTE = "https://example.org/ctx"


def vector(name: str) -> Any:
    """A decoded credential from tests/vectors/credentials."""
    return vector_json("credentials", name)


def rejection(document: Mapping[str, Any], **kwargs: Any) -> JsonLdRejected:
    """Expand ``document`` and return the JsonLdRejected it must raise."""
    with pytest.raises(JsonLdRejected) as info:
        expand_checked(document, allowed_types=CREDENTIAL_TYPES, **kwargs)
    assert info.value.code == "context_rejected"
    return info.value


def copy_contexts(directory: Path) -> Path:
    """Copy the shipped context files into ``directory``."""
    for pin in PINNED_CONTEXTS:
        shutil.copyfile(contexts_dir() / pin.filename, directory / pin.filename)
    return directory


def custom_loader(directory: Path, url: str, context: Mapping[str, Any]) -> ContextLoader:
    """A loader over the shipped contexts plus one extra context pinned to its own hash."""
    copy_contexts(directory)
    data = json.dumps({"@context": context}).encode()
    (directory / "extra.jsonld").write_bytes(data)
    extra = PinnedContext(url, "extra.jsonld", hashlib.sha256(data).hexdigest())
    return ContextLoader(directory, (*PINNED_CONTEXTS, extra))


# --- the context files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "public_name"),
    [("credentials-v1.jsonld", "credentials_v1.jsonld"),
     ("credentials-v2.jsonld", "credentials_v2.jsonld")],
)
def test_w3c_contexts_are_exact_copies(filename: str, public_name: str) -> None:
    """The shipped W3C contexts are byte-for-byte the public copies."""
    public = vector_path("contexts", public_name)
    assert (contexts_dir() / filename).read_bytes() == public.read_bytes()


def test_every_shipped_context_matches_its_pin() -> None:
    """Each context file's SHA-256 equals its pin (v1's is the W3C file's published digest)."""
    digests = {
        pin.url: hashlib.sha256((contexts_dir() / pin.filename).read_bytes()).hexdigest()
        for pin in PINNED_CONTEXTS
    }
    assert digests == {pin.url: pin.sha256 for pin in PINNED_CONTEXTS}
    assert digests[V1_CONTEXT] == (
        "ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc"
    )


def test_vcim_context_defines_exactly_our_terms() -> None:
    """Our context is protected and defines the vCard terms, both types, the cascade capability
    and jti/jkt/nonce only."""
    context = json.loads((contexts_dir() / "vc-im-v1.jsonld").read_text())["@context"]
    assert context["@protected"] is True
    assert sorted(k for k in context if not k.startswith("@")) == [
        "ImDeviceCredential", "ImUserCredential", "fn", "hasInstantMessage",
        "hasOrganizationName", "hasOrganizationUnit", "hasOrganizationalUnit", "jkt", "jti",
        "mayIssueDeviceCredentials", "nonce",
    ]
    assert context["hasOrganizationalUnit"] == f"{VCARD}hasOrganizationUnit"
    assert context["hasOrganizationUnit"] == f"{VCARD}hasOrganizationUnit"


def test_type_sets_hold_the_expected_iris() -> None:
    """The credential and presentation type allow-lists are the expanded IRIs."""
    assert frozenset({
        f"{CRED}VerifiableCredential",
        "https://vc-im.example/ns#ImDeviceCredential",
        "https://vc-im.example/ns#ImUserCredential",
        "https://w3id.org/vc/status-list#StatusList2021Entry",
        "https://www.w3.org/ns/credentials/status#BitstringStatusListEntry",
    }) == CREDENTIAL_TYPES
    assert frozenset({
        f"{CRED}VerifiablePresentation", f"{CRED}EnvelopedVerifiableCredential",
    }) == PRESENTATION_TYPES


# --- check_context ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([V1_CONTEXT, VCIM_CONTEXT], VC1_CREDENTIAL),
        ([V2_CONTEXT, VCIM_CONTEXT], VC2_CREDENTIAL),
        ([V1_CONTEXT], [[V1_CONTEXT], [V1_CONTEXT, VCIM_CONTEXT]]),
        ([V2_CONTEXT, VCIM_CONTEXT], [[V2_CONTEXT], [V2_CONTEXT, VCIM_CONTEXT]]),
    ],
)
def test_check_context_accepts_expected_lists(value: list[str], expected: list[list[str]]) -> None:
    """An @context list equal to one of the expected lists passes."""
    assert check_context(value, expected=expected) is None


@pytest.mark.parametrize(
    ("value", "path", "message"),
    [
        ([V1_CONTEXT, VCARD_NAMESPACE], "$.vc['@context'][1]",
         "$.vc['@context'][1] \"http://www.w3.org/2006/vcard/ns\" is the vCard namespace, "
         "not a JSON-LD context; use https://vc-im.example/contexts/v1"),
        ([V1_CONTEXT, "https://www.w3.org/2006/vcard/ns#"], "$.vc['@context'][1]",
         "$.vc['@context'][1] \"https://www.w3.org/2006/vcard/ns#\" is the vCard namespace, "
         "not a JSON-LD context; use https://vc-im.example/contexts/v1"),
        ([V1_CONTEXT, REMOTE], "$.vc['@context'][1]",
         "$.vc['@context'][1] \"https://example.org/ctx\" is not a context vc_im accepts"),
        ([V1_CONTEXT, {"fn": f"{VCARD}fn"}], "$.vc['@context'][1]",
         "$.vc['@context'][1] is an inline context object; vc_im accepts contexts only by URL, "
         "from its allow-list"),
        ([V1_CONTEXT, 7], "$.vc['@context'][1]", "$.vc['@context'][1] must be a context URL"),
        ([VCIM_CONTEXT, V1_CONTEXT], "$.vc['@context']",
         "$.vc['@context'] must start with https://www.w3.org/2018/credentials/v1"),
        ([], "$.vc['@context']",
         "$.vc['@context'] must start with https://www.w3.org/2018/credentials/v1"),
        (V1_CONTEXT, "$.vc['@context']", "$.vc['@context'] must be a list of context URLs"),
        ([V1_CONTEXT], "$.vc['@context']",
         "$.vc['@context'] must be exactly "
         "[\"https://www.w3.org/2018/credentials/v1\", \"https://vc-im.example/contexts/v1\"]"),
        ([V1_CONTEXT, VCIM_CONTEXT, VCIM_CONTEXT], "$.vc['@context']",
         "$.vc['@context'] must be exactly "
         "[\"https://www.w3.org/2018/credentials/v1\", \"https://vc-im.example/contexts/v1\"]"),
    ],
)
def test_check_context_refusals(value: object, path: str, message: str) -> None:
    """Each kind of wrong @context gets its own sentence and the path of the culprit."""
    with pytest.raises(JsonLdRejected) as info:
        check_context(value, expected=VC1_CREDENTIAL, path="$.vc['@context']")
    assert (info.value.code, info.value.path, info.value.message) == ("context_rejected", path,
                                                                      message)


def test_check_context_vc2_first_item() -> None:
    """A VC 1.1 context list where a VC 2.0 one is expected names the v2 URL."""
    with pytest.raises(JsonLdRejected) as info:
        check_context([V1_CONTEXT, VCIM_CONTEXT], expected=VC2_CREDENTIAL)
    assert info.value.message == (
        "$['@context'] must start with https://www.w3.org/ns/credentials/v2"
    )


def test_rejection_is_a_token_error() -> None:
    """JsonLdRejected is a TokenError, so verification reports it with exit code 1."""
    assert issubclass(JsonLdRejected, TokenError)
    assert JsonLdRejected("x").exit_code == 1


# --- expansion -----------------------------------------------------------------------------


def test_seed_decoded_expands_to_spec_notes_3_4() -> None:
    """SPEC-NOTES §6.2 expands to exactly the §3.4 output."""
    expanded = expand_checked(vector("seed-decoded.json"), allowed_types=CREDENTIAL_TYPES)
    assert expanded == vector("seed-decoded.expanded.json")


def test_expansion_leaves_the_input_unchanged() -> None:
    """Expansion does not modify the caller's document."""
    document = vector("seed-decoded.json")
    before = copy.deepcopy(document)
    expand_checked(document, allowed_types=CREDENTIAL_TYPES)
    assert document == before


def test_seed_vcard_namespace_context_is_rejected() -> None:
    """The seed's vCard namespace URL in @context is refused with its specific sentence."""
    error = rejection(vector("seed-decoded-vcard-namespace.json"))
    assert (error.path, error.message) == (
        "$['@context'][1]",
        "$['@context'][1] \"http://www.w3.org/2006/vcard/ns\" is the vCard namespace, "
        "not a JSON-LD context; use https://vc-im.example/contexts/v1",
    )


def test_both_organization_unit_spellings_expand_to_the_ontology_term() -> None:
    """The ontology's hasOrganizationUnit and the draft's hasOrganizationalUnit expand to the
    same IRI, vcard:hasOrganizationUnit, with nothing dropped."""
    document = vector("decoded-has-organization-unit.json")
    draft = copy.deepcopy(document)
    subject = draft["credentialSubject"]
    subject["hasOrganizationalUnit"] = subject.pop("hasOrganizationUnit")
    expanded = [expand_checked(doc, allowed_types=CREDENTIAL_TYPES) for doc in (document, draft)]
    assert expanded[0] == expanded[1]
    (node,) = expanded[0][0][f"{CRED}credentialSubject"]
    assert node[f"{VCARD}hasOrganizationUnit"] == [{"@value": "Engineering"}]


def test_vcard_terms_without_our_context_are_dropped() -> None:
    """With only the v1 context every vCard term would drop: the first is named, others counted."""
    document = vector("seed-decoded.json")
    document["@context"] = [V1_CONTEXT]
    error = rejection(document)
    assert (error.path, error.message) == (
        "$.credentialSubject.fn",
        "\"fn\" at $.credentialSubject.fn is not a term of the document's contexts, "
        "so JSON-LD expansion would drop it (and 3 more)",
    )


def test_undefined_type_is_rejected() -> None:
    """ImDeviceCredential with only the v1 context stays a relative IRI and is refused."""
    error = rejection(vector("decoded-undefined-type.json"))
    assert (error.path, error.message) == (
        "$.type[1]",
        "the type \"ImDeviceCredential\" is not defined by the document's contexts",
    )


def test_type_outside_allow_list_is_rejected() -> None:
    """A defined type that the caller did not allow (a presentation type) is refused."""
    document = vector("seed-decoded.json")
    document["type"] = ["VerifiableCredential", "VerifiablePresentation"]
    error = rejection(document)
    assert (error.path, error.message) == (
        "$.type[1]",
        f"the type {CRED}VerifiablePresentation is not one vc_im accepts here",
    )


def test_protected_term_redefinition_between_allowed_contexts() -> None:
    """v1 followed by v2 redefines v1's protected terms; pyld's error becomes one sentence."""
    error = rejection(vector("decoded-protected-redefinition.json"))
    assert (error.path, error.message) == (
        "$['@context']",
        "the @context list redefines a protected term, so its contexts conflict",
    )


def test_protected_term_redefinition_by_a_later_context(tmp_path: Path) -> None:
    """A later context cannot take over v1's protected VerifiableCredential term."""
    url = "https://test.example/redefine"
    loader = custom_loader(tmp_path, url, {"VerifiableCredential": "https://evil.example/VC"})
    document = vector("seed-decoded.json")
    document["@context"] = [V1_CONTEXT, VCIM_CONTEXT, url]
    error = rejection(document, loader=loader)
    assert error.message == "the @context list redefines a protected term, so its contexts conflict"


def test_identical_redefinition_is_allowed(tmp_path: Path) -> None:
    """Redefining a protected term identically is not a conflict (JSON-LD 1.1)."""
    url = "https://test.example/same"
    loader = custom_loader(tmp_path, url, {"fn": f"{VCARD}fn"})
    document = vector("seed-decoded.json")
    document["@context"] = [V1_CONTEXT, VCIM_CONTEXT, url]
    assert expand_checked(document, allowed_types=CREDENTIAL_TYPES, loader=loader) == vector(
        "seed-decoded.expanded.json"
    )


@pytest.mark.parametrize("name", ["vc2-payload.json", "vc2-payload-jwt-claims.json"])
def test_vc2_payload_expands_without_drops(name: str) -> None:
    """A VC 2.0 payload with its JWT claims (jti, nonce, cnf.jkt, iat, ...) loses nothing."""
    payload = vector(name)
    (node,) = expand_checked(payload, allowed_types=CREDENTIAL_TYPES)
    assert node[f"{JWT}cnf"] == [
        {f"{JWT}jkt": [{"@value": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"}]}
    ]
    assert node[f"{JWT}iat"] == [
        {"@type": "https://www.w3.org/2001/XMLSchema#nonNegativeInteger", "@value": 1700000000}
    ]
    if "jti" in payload:
        assert node[f"{JWT}jti"] == [{"@id": payload["jti"]}]
        assert node[f"{JWT}nonce"] == [{"@value": payload["nonce"]}]
        assert node["@type"] == [f"{CRED}VerifiableCredential",
                                 "https://vc-im.example/ns#ImUserCredential"]


def test_vc2_cnf_jwk_is_a_json_literal() -> None:
    """cnf.jwk expands as an @json literal, kept whole."""
    payload = vector("vc2-payload.json")
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    payload["cnf"] = {"jwk": jwk}
    (node,) = expand_checked(payload, allowed_types=CREDENTIAL_TYPES)
    assert node[f"{JWT}cnf"] == [{f"{JWT}jwk": [{"@type": "@json", "@value": jwk}]}]


def test_vc2_claims_without_our_context_are_dropped() -> None:
    """With only the v2 context, jkt (and the vCard terms) would drop."""
    payload = vector("vc2-payload.json")
    payload["@context"] = [V2_CONTEXT]
    payload["credentialSubject"] = {"id": payload["credentialSubject"]["id"]}
    payload["type"] = ["VerifiableCredential"]
    error = rejection(payload)
    assert error.path == "$.cnf.jkt"


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [
        (lambda d: d["credentialSubject"].update({"vcard:nickname": "Al"}),
         "$.credentialSubject['vcard:nickname']",
         "$.credentialSubject['vcard:nickname'] is named by an IRI, not by a term of the "
         "document's contexts"),
        (lambda d: d["credentialSubject"].update({f"{VCARD}nickname": "Al"}),
         f"$.credentialSubject['{VCARD}nickname']",
         f"$.credentialSubject['{VCARD}nickname'] is named by an IRI, not by a term of the "
         "document's contexts"),
        (lambda d: d["credentialSubject"].update({"hasOrganizationName": None}),
         "$.credentialSubject.hasOrganizationName",
         "$.credentialSubject.hasOrganizationName is null, which JSON-LD expansion drops"),
        (lambda d: d["credentialSubject"].update({"@foo": "bar"}),
         "$.credentialSubject['@foo']",
         "\"@foo\" at $.credentialSubject['@foo'] is not a term of the document's contexts, "
         "so JSON-LD expansion would drop it"),
        (lambda d: d.update({"id": "devices/04c7"}), "$.id",
         "the identifier \"devices/04c7\" is a relative IRI; an absolute IRI is required"),
        (lambda d: d["credentialSubject"].update({"@context": {"nick": f"{VCARD}nickname"}}),
         "$.credentialSubject['@context']",
         "$.credentialSubject['@context'] is an inline context object; vc_im accepts contexts "
         "only by URL, from its allow-list"),
        (lambda d: d["credentialSubject"].update({"@context": REMOTE}),
         "$.credentialSubject['@context']",
         "$.credentialSubject['@context'] \"https://example.org/ctx\" is not a context vc_im "
         "accepts"),
        (lambda d: d.update({"@context": [V1_CONTEXT, {"@vocab": "https://evil.example/"}]}),
         "$['@context'][1]",
         "$['@context'][1] is an inline context object; vc_im accepts contexts only by URL, "
         "from its allow-list"),
    ],
)
def test_hidden_losses_are_rejected(mutate: Any, path: str, message: str) -> None:
    """IRI-named members, nulls, keyword-like names, relative ids, inline contexts: refused."""
    document = vector("seed-decoded.json")
    mutate(document)
    error = rejection(document)
    assert (error.path, error.message) == (path, message)


def test_non_object_document_is_rejected() -> None:
    """A JSON-LD document must be an object."""
    error = rejection([1, 2])  # type: ignore[arg-type]
    assert (error.path, error.message) == ("$", "a JSON-LD document must be a JSON object")


# --- the loader ----------------------------------------------------------------------------


def test_document_loader_is_built_once() -> None:
    """The process-wide loader is one object, serving exactly the pinned URLs."""
    assert document_loader() is document_loader()
    assert document_loader().urls == frozenset({V1_CONTEXT, V2_CONTEXT, VCIM_CONTEXT,
                                                "https://w3id.org/vc/status-list/2021/v1"})


def test_loader_refuses_unknown_urls() -> None:
    """Any URL outside the allow-list is refused by pyld's FrozenDocumentLoader."""
    from pyld.jsonld import JsonLdError

    with pytest.raises(JsonLdError) as info:
        document_loader()(REMOTE, {})
    assert info.value.code == "loading document failed"


def test_pinned_hash_mismatch_is_detected(tmp_path: Path) -> None:
    """A context file altered by one byte is refused as a broken installation, never used."""
    copy_contexts(tmp_path)
    target = tmp_path / "vc-im-v1.jsonld"
    data = bytearray(target.read_bytes())
    data[data.index(b"vcard")] ^= 0x20  # "vcard" -> "Vcard": one byte
    target.write_bytes(bytes(data))
    loader = ContextLoader(tmp_path)

    with pytest.raises(VcImError) as direct:
        loader(VCIM_CONTEXT, {})
    assert type(direct.value) is VcImError
    assert direct.value.code == "broken_install"
    assert direct.value.message == (
        f"the JSON-LD context file {target} does not match its pinned SHA-256, "
        "so it is not used; reinstall vc_im"
    )

    with pytest.raises(VcImError) as via_expand:
        expand_checked(vector("seed-decoded.json"), allowed_types=CREDENTIAL_TYPES, loader=loader)
    assert not isinstance(via_expand.value, TokenError)
    assert (via_expand.value.code, via_expand.value.message) == (
        "broken_install", direct.value.message
    )


def test_missing_context_file_is_a_broken_install(tmp_path: Path) -> None:
    """A pinned context whose file is absent fails as a broken installation."""
    loader = ContextLoader(tmp_path)
    with pytest.raises(VcImError) as info:
        loader(V1_CONTEXT, {})
    assert info.value.code == "broken_install"
    assert info.value.message == (
        f"the JSON-LD context file {tmp_path / 'credentials-v1.jsonld'} for {V1_CONTEXT} "
        "cannot be read"
    )


def test_processed_contexts_are_reused(tmp_path: Path) -> None:
    """Two expansions with one loader load each context once: pyld reuses the processed form."""
    calls: list[str] = []

    class CountingLoader(ContextLoader):
        def __call__(self, url: str, options: Mapping[str, Any]) -> dict[str, Any]:
            calls.append(url)
            return super().__call__(url, options)

    loader = CountingLoader(copy_contexts(tmp_path))
    for _ in range(3):
        expand_checked(vector("seed-decoded.json"), allowed_types=CREDENTIAL_TYPES, loader=loader)
    assert calls == [V1_CONTEXT, VCIM_CONTEXT]
    assert {V1_CONTEXT, VCIM_CONTEXT} <= set(loader.resolved_contexts)


def test_loaders_do_not_share_resolved_contexts(tmp_path: Path) -> None:
    """A second loader does not see the first one's processed contexts (it loads its own)."""
    expand_checked(vector("seed-decoded.json"), allowed_types=CREDENTIAL_TYPES)
    fresh = ContextLoader(copy_contexts(tmp_path))
    assert fresh.resolved_contexts == {}
    expand_checked(vector("seed-decoded.json"), allowed_types=CREDENTIAL_TYPES, loader=fresh)
    assert V1_CONTEXT in fresh.resolved_contexts


# --- no network, ever ----------------------------------------------------------------------


def test_no_network_access(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Documents naming remote contexts (top level, nested, or inside an allowed context) are
    refused without a single socket operation or use of pyld's default loader."""
    from pyld import jsonld as pyld_jsonld

    attempts: list[tuple[str, tuple[Any, ...]]] = []

    def recorder(name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            attempts.append((name, args))
            raise OSError(f"network access attempted: {name}")
        return refuse

    monkeypatch.setattr(socket.socket, "connect", recorder("connect"))
    monkeypatch.setattr(socket, "create_connection", recorder("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", recorder("getaddrinfo"))
    monkeypatch.setattr(pyld_jsonld, "_default_document_loader", recorder("default loader"))

    # An allowed context that itself points at a remote one (scoped context and @import).
    url = "https://test.example/scoped"
    loader = custom_loader(tmp_path, url, {
        "nickname": {"@id": f"{VCARD}nickname", "@context": REMOTE},
        "importer": {"@id": f"{VCARD}note", "@context": {"@import": REMOTE}},
    })

    seed = vector("seed-decoded.json")
    documents: list[tuple[dict[str, Any], ContextLoader | None]] = []
    for remote in (REMOTE, VCARD_NAMESPACE, "http://www.w3.org/2006/vcard/ns.jsonld"):
        top = copy.deepcopy(seed)
        top["@context"] = [V1_CONTEXT, remote]
        documents.append((top, None))
        nested = copy.deepcopy(seed)
        nested["credentialSubject"]["@context"] = remote
        documents.append((nested, None))
    for term in ("nickname", "importer"):
        scoped = copy.deepcopy(seed)
        scoped["@context"] = [V1_CONTEXT, VCIM_CONTEXT, url]
        scoped["credentialSubject"][term] = {"fn": "Al"}
        documents.append((scoped, loader))

    messages = []
    for document, custom in documents:
        with pytest.raises(JsonLdRejected) as info:
            expand_checked(document, allowed_types=CREDENTIAL_TYPES, loader=custom)
        messages.append(info.value.message)
    assert attempts == []
    assert messages[-2:] == [
        f"the context {REMOTE} is not one vc_im ships, and vc_im never fetches contexts",
        f"the context {REMOTE} is not one vc_im ships, and vc_im never fetches contexts",
    ]


# --- properties ----------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_OUR_KEYS = {"id", "fn", "hasOrganizationName", "hasOrganizationalUnit", "hasInstantMessage"}


@settings(max_examples=60, deadline=None)
@given(name=st.text(min_size=1, max_size=12).filter(lambda n: n not in _OUR_KEYS),
       value=_JSON)
def test_any_foreign_subject_member_is_rejected(name: str, value: object) -> None:
    """Whatever member outside our terms is added to credentialSubject, expansion refuses it."""
    document = vector("seed-decoded.json")
    document["credentialSubject"][name] = value
    with pytest.raises(JsonLdRejected):
        expand_checked(document, allowed_types=CREDENTIAL_TYPES)


@settings(max_examples=60, deadline=None)
@given(document=st.dictionaries(st.text(max_size=8), _JSON, max_size=4))
def test_arbitrary_documents_never_escape_as_other_errors(document: dict[str, Any]) -> None:
    """Arbitrary JSON objects either expand or raise JsonLdRejected, never anything else."""
    document["@context"] = [V1_CONTEXT, VCIM_CONTEXT]
    try:
        expand_checked(document, allowed_types=CREDENTIAL_TYPES)
        outcome = ("expanded", True)
    except JsonLdRejected as error:
        outcome = (error.code, bool(error.message))
    assert outcome in {("expanded", True), ("context_rejected", True)}


def test_module_exports() -> None:
    """The public names of vc_im._linked.jsonld and vc_im._linked.pinned are pinned, and
    the facade exports both."""
    import vc_im._linked as linked
    from vc_im._linked import pinned

    assert set(jsonld.__all__) == {
        "ContextLoader", "JsonLdRejected",
        "check_context", "check_expansion", "document_loader", "expand_checked",
    }
    assert set(pinned.__all__) == {
        "CREDENTIAL_TYPES", "PINNED_CONTEXTS", "PRESENTATION_TYPES", "V1_CONTEXT", "V2_CONTEXT",
        "VCARD_NAMESPACE", "VCIM_CONTEXT", "STATUS_LIST_2021_CONTEXT", "PinnedContext",
    }
    assert set(jsonld.__all__) | set(pinned.__all__) <= set(linked.__all__)


def test_deeply_nested_document_is_rejected() -> None:
    """A document nested beyond Python's recursion limit is refused, not a crash."""
    document = vector("seed-decoded.json")
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(5000):
        node["fn"] = {}
        node = node["fn"]
    document["credentialSubject"]["hasOrganizationName"] = deep
    error = rejection(document)
    assert error.message == "the document is nested too deeply to expand"


def test_a_keyword_like_type_is_refused_not_a_crash() -> None:
    """pyld expands an undefined keyword-like type ("@foo") to null; the type check refuses
    it in one sentence instead of failing on a null."""
    document: dict[str, Any] = {
        "@context": [V2_CONTEXT, VCIM_CONTEXT],
        "type": ["VerifiableCredential", "ImDeviceCredential"],
        "issuer": "https://im.example.com",
        "credentialSubject": {"id": "im:a@b.c"}}
    document["type"].append("@foo")
    for check in (jsonld.expand_checked, jsonld.check_expansion):
        with pytest.raises(jsonld.JsonLdRejected, match="keyword-like name that no context"):
            check(document, allowed_types=CREDENTIAL_TYPES)
