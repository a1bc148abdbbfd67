"""The compiled schema fast path (jsonschema-rs) gives jsonschema's verdict: a differential
property test over generated valid and invalid credentials; jsonschema still writes the
reasons."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vc_im._jose.jws as jose
from vc_im._linked import schema
from vc_im._linked.resources import schemas_dir
from vc_im._linked.schema import SCHEMA_BASE
from vc_im.errors import InputError, VcImError
from vc_im.model import Encoding

pytest.importorskip("jsonschema_rs")

_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.integers(-5, 2**34)
    | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([1.0, 1700000000.0])
    | st.text(max_size=12) | st.sampled_from([
        "", "im:a@b.c", "im:a@b.c\n", "im:a\x1cb@c.d", "mimi://x/y", "https://x.example/a b",
        "2023-11-14T22:13:20Z", "2023-11-14T22:13:20Z\n", "2023-11-14T22:13:20.5+01:00",
        "١٢٣٤-11-14T22:13:20Z", "0", "01", "4294967295", "x" * 43, "u" + "A" * 20,
        "ImDeviceCredential", "VerifiableCredential", "urn:uuid:1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "type", "fn", "x", "kty", "crv"]), inner, max_size=3),
    max_leaves=6)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        out += [p for key, value in node.items() for p in _paths(value, (*path, key))]
    elif isinstance(node, list):
        out += [p for index, item in enumerate(node) for p in _paths(item, (*path, index))]
    return out


@pytest.fixture(scope="module")
def payloads(make_credential: Callable[..., str]) -> list[tuple[str, dict[str, Any]]]:
    """Valid payloads of both credential encodings, with their schema names."""
    return [(f"credential-{encoding.value}",
             dict(jose.peek_unverified(make_credential(encoding=encoding)).payload))
            for encoding in (Encoding.VC1, Encoding.VC2)]


@settings(max_examples=500, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fast_path_gives_jsonschemas_verdict(payloads: list[tuple[str, dict[str, Any]]],
                                             data: st.DataObject) -> None:
    """For credentials with values replaced, removed or added anywhere (integral floats, huge
    integers, Python-only whitespace, trailing newlines, non-ASCII digits included): the
    compiled validator's verdict equals jsonschema's wherever it is consulted, and validate()
    always says what jsonschema says."""
    name, base = data.draw(st.sampled_from(payloads))
    instance = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(0, 3))):
        path = data.draw(st.sampled_from(_paths(instance)))
        if not path:
            continue
        parent = instance
        for step in path[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "remove":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.sampled_from(["extra", "nbf", "fn", "id"]))] = data.draw(_VALUES)
        else:
            parent[path[-1]] = data.draw(_VALUES)
    expected = schema._validator(name).is_valid(instance)
    assert (schema.validate(instance, name) == ()) == expected
    if schema._agreeable(instance):
        assert schema._fast_validator(name).is_valid(instance) == expected


def test_invalid_documents_still_get_jsonschemas_reasons(
        payloads: list[tuple[str, dict[str, Any]]]) -> None:
    """A refusal names the path and the problem, as before the fast path."""
    name, base = payloads[0]
    instance = copy.deepcopy(base)
    instance["vc"]["credentialSubject"]["fn"] = 5
    problems = schema.validate(instance, name)
    assert problems
    assert problems[0].path == "$.vc.credentialSubject.fn"


@pytest.mark.parametrize(("where", "value"), [
    (("iat",), 1700000000.0),                                  # an integral float
    (("vc", "credentialSubject", "id"), "im:a\x1cb@example.com"),  # Python-only whitespace
    (("sub",), "im:a\x1fb@example.com"),
])
def test_where_the_compiled_validator_differs_jsonschema_decides(
        payloads: list[tuple[str, dict[str, Any]]], where: tuple[str, ...], value: object,
        ) -> None:
    """jsonschema-rs accepts each of these where jsonschema refuses it; validate() still
    refuses, because such instances never take the fast path."""
    name, base = payloads[0]
    instance = copy.deepcopy(base)
    parent = instance
    for step in where[:-1]:
        parent = parent[step]
    parent[where[-1]] = value
    assert schema._fast_validator(name).is_valid(instance)
    assert not schema._validator(name).is_valid(instance)
    assert not schema._agreeable(instance)
    assert schema.validate(instance, name) != ()


@settings(max_examples=500, deadline=None)
@given(_VALUES | st.dictionaries(st.text(max_size=4), _VALUES, max_size=4))
def test_the_typed_walk_never_lets_through_what_the_reference_holds_back(value: Any) -> None:
    """Where the walk dispatched on exact types says the validators must agree, the reference
    walk says so too: it may send more documents to jsonschema, never fewer."""
    if schema._agreeable(value):
        assert schema._agreeable_by_walk(value)


def test_a_credential_takes_the_fast_path(payloads: list[tuple[str, dict[str, Any]]]) -> None:
    """vc_im's own credentials (NumericDates, identifiers, a key) read as agreeable, so valid
    ones are decided by the compiled validator."""
    for _, payload in payloads:
        assert schema._agreeable(payload)
        assert schema._agreeable_by_walk(payload)

_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _write(directory: Path, name: str, contents: object) -> None:
    (directory / name).write_text(contents if isinstance(contents, str) else json.dumps(contents))


@pytest.mark.parametrize("files", [
    {"x.schema.json": "{not json"},
    {"x.schema.json": {"type": 5}},
    {"x.schema.json": {"$id": "https://example.org/x.schema.json"}},
    {},
    *[{"defs.schema.json": {"$schema": _DRAFT, "$id": f"{SCHEMA_BASE}defs.schema.json",
                            "$defs": {}},
       "x.schema.json": {"$schema": _DRAFT, "$id": f"{SCHEMA_BASE}x.schema.json", "$ref": ref}}
      for ref in ("https://example.org/remote.schema.json", "file:///etc/passwd",
                  "defs.schema.json#/$defs/nothing", "../outside.schema.json")],
], ids=["not-json", "not-a-schema", "misnamed", "empty", "remote", "file", "missing-def",
        "outside"])
def test_compiled_validator_refuses_what_the_registry_refuses(
        tmp_path: Path, files: dict[str, object]) -> None:
    """Built without jsonschema, the compiled validator still refuses a broken installation
    (unreadable, not a schema, misnamed, no files, a $ref outside the shipped schemas: never
    fetched), as the registry does: both raise broken_install."""
    for name, contents in files.items():
        _write(tmp_path, name, contents)
    with pytest.raises(VcImError) as fast:
        schema._build_fast(tmp_path, "x")
    with pytest.raises(VcImError) as slow:
        schema._build_registry(tmp_path)
    assert fast.value.code == slow.value.code == "broken_install"


def test_compiled_validator_knows_only_the_shipped_names() -> None:
    """An unknown schema name is the caller's error, on the fast path too."""
    with pytest.raises(InputError):
        schema._build_fast(schemas_dir(), "credential-vc3")
