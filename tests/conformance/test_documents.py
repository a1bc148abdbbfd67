"""What the adapters share, in process: strict reading, lossless expansion only over pinned
contexts (nothing fetched), and refusals that are always one VcImError, whatever the input."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vc_im import _linked
from vc_im.conformance import documents, vcdm11
from vc_im.errors import VcImError


def credential() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/2018/credentials/v1",
                     "https://www.w3.org/2018/credentials/examples/v1"],
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": "https://example.edu/issuers/14",
        "issuanceDate": "2010-01-01T19:23:24Z",
        "credentialSubject": {"id": "did:example:1", "alumniOf": "Example University"},
    }


def test_examples_contexts_are_the_adapters_alone() -> None:
    """The examples contexts load in the adapters' loader, never in credential verification's
    allow-list, and every pinned file matches its digest."""
    im_urls = {pin.url for pin in _linked.PINNED_CONTEXTS}
    for pin in documents.EXAMPLES_CONTEXTS:
        assert pin.url not in im_urls
        assert pin.url in documents.loader().urls
        assert documents.loader()(pin.url, {})["document"]


def test_undefined_term_is_refused_when_every_context_is_pinned() -> None:
    """Expansion would drop shoeSize: refused, with its path and the rule id."""
    document = credential()
    document["credentialSubject"]["shoeSize"] = 44
    with pytest.raises(documents.DocumentRefused, match=r"shoeSize.*\[jsonld-lossless\]"):
        documents.check_document(document, presentation=False)


def test_unknown_context_means_data_model_only() -> None:
    """With a context vc-im does not hold, nothing is fetched and the document is judged by
    the data model alone (an undefined term then passes; a broken MUST still does not)."""
    document = credential()
    document["@context"][1] = "https://example.com/examples/v1"
    document["credentialSubject"]["shoeSize"] = 44
    documents.check_document(document, presentation=False)
    del document["issuer"]
    with pytest.raises(documents.DocumentRefused, match=r"\[issuer-present\]"):
        documents.check_document(document, presentation=False)


def test_refusal_names_the_first_rule_and_counts_the_rest() -> None:
    """One sentence: the first violation's path, message and rule, then how many more."""
    document = credential()
    del document["issuer"], document["issuanceDate"]
    with pytest.raises(documents.DocumentRefused) as caught:
        documents.check_document(document, presentation=False)
    assert caught.value.message == ("issuer: A credential must name its issuer. "
                                    "[issuer-present] (1 more rule(s) broken)")
    assert [v.rule for v in caught.value.violations] == ["issuer-present",
                                                         "issuanceDate-present"]
    assert caught.value.exit_code == 1


@given(st.binary(max_size=300))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_any_bytes_read_as_a_document_or_refused(data: bytes) -> None:
    """Hostile bytes: a JSON object, or one VcImError; never another exception."""
    with contextlib.suppress(VcImError):
        assert isinstance(documents.read_document(data), dict)


@given(st.text(max_size=200) | st.builds(
    lambda header, payload: ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in (header, payload)) + ".",
    st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
    st.dictionaries(st.sampled_from(["vc", "vp", "iss", "sub", "nbf", "exp", "jti"]),
                    st.integers(min_value=-5, max_value=2**70) | st.text(max_size=5)
                    | st.dictionaries(st.sampled_from(["credentialSubject", "type"]),
                                      st.integers() | st.lists(st.integers(), max_size=2)),
                    max_size=5)))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_any_token_decodes_or_is_refused(token: str) -> None:
    """--jwt-decode of anything: a document, or one VcImError."""
    with contextlib.suppress(VcImError):
        assert isinstance(vcdm11.decode_jwt(token), dict)


@given(st.text(max_size=120))
def test_any_keys_option_is_a_key_or_refused(option: str) -> None:
    """--jwt of anything: a private RS256/ES256K key, or one VcImError."""
    try:
        key = vcdm11.suite_key(option)
    except VcImError:
        return
    assert key.is_private
    assert key.alg in ("RS256", "ES256K")


def test_decode_refuses_a_token_with_both_or_neither_claim() -> None:
    """A VC 1.1 JWT carries vc or vp, exactly one."""
    def unsigned(payload: dict[str, Any]) -> str:
        parts = ({"alg": "none"}, payload)
        return ".".join(base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=").decode()
                        for p in parts) + "."

    for payload in ({"vc": {}, "vp": {}}, {"iss": "did:example:1"}):
        with pytest.raises(documents.DocumentRefused, match="exactly one"):
            vcdm11.decode_jwt(unsigned(payload))
    with pytest.raises(documents.DocumentRefused, match="NumericDate"):
        vcdm11.decode_jwt(unsigned({"vc": {}, "nbf": 1_600_000_000_000}))
