"""Hostile input never escapes as an exception: any signed change to a presentation or a
DPoP proof, and any bytes at all, give a report with a stable code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DEVICE, NOW, VERIFIER, sign_bytes
from vc_im import keys
from vc_im._checks.dpop import DPOP_STEPS, create_proof, verify_proof
from vc_im._checks.presentation import PRESENTATION_STEPS
from vc_im._checks.presenting import create_presentation
from vc_im._jose.jws import b64url_encode, peek_unverified
from vc_im.report import CODES
from vc_im.trust import TrustStore
from vc_im.verify import verify_token

HTU = "https://im.example.com/client/token"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6)
    | st.sampled_from([DEVICE, VERIFIER, "n-0S6_WzA2Mj", "POST", HTU, "urn:uuid:x"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=4) | st.sampled_from(["kty", "crv", "x", "@context",
                                                             "type", "id"]),
                      children, max_size=3),
    max_leaves=6)
SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for name, inner in value.items():
            found.extend(_paths(inner, (*prefix, name)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.extend(_paths(inner, (*prefix, index)))
    return found


def _sign(header: dict[str, Any], payload: dict[str, Any], key: keys.Key) -> str:
    """Sign whatever the header says, always with the key's own algorithm."""
    signing_input = (b64url_encode(json.dumps(header).encode()) + "."
                     + b64url_encode(json.dumps(payload).encode()))
    return signing_input + "." + b64url_encode(sign_bytes(key, signing_input.encode(), key.alg))


def _replace(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


@given(data=st.data(), value=JSON_VALUES, where=st.sampled_from(["header", "payload"]))
@SETTINGS
def test_any_signed_change_to_a_presentation_gives_a_report(
        data: st.DataObject, value: Any, where: str, make_credential: Any,
        device_key: keys.Key, trust: TrustStore, tmp_path: Path) -> None:
    """Replacing any header or payload member of a signed presentation yields a report."""
    token = create_presentation(device_key, [make_credential()], audience=VERIFIER,
                                nonce="n-0S6_WzA2Mj", now=NOW)
    unverified = peek_unverified(token)
    header, payload = dict(unverified.header), dict(unverified.payload)
    document = header if where == "header" else payload
    _replace(document, data.draw(st.sampled_from(_paths(document))), value)
    report = verify_token(_sign(header, payload, device_key), trust, now=NOW,
                          audience=VERIFIER, nonce="n-0S6_WzA2Mj", store=tmp_path / "r.db")
    assert [check.name for check in report.checks][:1] == ["format"]
    assert report.ok or report.code in CODES


@given(data=st.data(), value=JSON_VALUES, where=st.sampled_from(["header", "payload"]))
@SETTINGS
def test_any_signed_change_to_a_dpop_proof_gives_a_report(
        data: st.DataObject, value: Any, where: str, device_key: keys.Key,
        tmp_path: Path) -> None:
    """Replacing any header or payload member of a signed DPoP proof yields a report."""
    unverified = peek_unverified(create_proof(device_key, htm="POST", htu=HTU, now=NOW))
    header, payload = dict(unverified.header), dict(unverified.payload)
    document = header if where == "header" else payload
    _replace(document, data.draw(st.sampled_from(_paths(document))), value)
    report = verify_proof(_sign(header, payload, device_key), htm="POST", htu=HTU, now=NOW,
                          store=tmp_path / "r.db")
    assert [check.name for check in report.checks] == [name for name, _ in DPOP_STEPS]
    assert report.ok or report.code in CODES


@given(blob=st.binary(max_size=300) | st.text(alphabet="abcXYZ019-_.=", max_size=300)
       .map(str.encode))
@SETTINGS
def test_any_bytes_give_a_report(blob: bytes, trust: TrustStore, tmp_path: Path) -> None:
    """Arbitrary bytes as a token fail a check with a stable code."""
    report = verify_token(blob, trust, now=NOW, store=tmp_path / "r.db")
    assert not report.ok
    assert report.code in CODES


def test_presentation_steps_are_the_documented_ones() -> None:
    """The presentation checks run in the order README.md documents."""
    assert [name for name, _ in PRESENTATION_STEPS] == [
        "format", "header", "alg", "claims", "audience", "nonce", "time", "credentials",
        "holder_binding", "signature", "replay"]


def test_presentation_context_that_is_not_a_list_is_rejected(
        make_credential: Any, device_key: keys.Key, trust: TrustStore, tmp_path: Path) -> None:
    """A vp @context of true (found by the property above) fails with context_rejected."""
    token = create_presentation(device_key, [make_credential()], audience=VERIFIER,
                                nonce="n-0S6_WzA2Mj", now=NOW)
    unverified = peek_unverified(token)
    header, payload = dict(unverified.header), dict(unverified.payload)
    payload["vp"] = {**payload["vp"], "@context": True}
    report = verify_token(_sign(header, payload, device_key), trust, now=NOW,
                          audience=VERIFIER, nonce="n-0S6_WzA2Mj", store=tmp_path / "r.db")
    assert (report.check("claims").status.value, report.code) == ("failed", "context_rejected")
