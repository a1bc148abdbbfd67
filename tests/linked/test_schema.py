"""vc_im._linked.schema: the credential schemas, the local registry and path-named problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vc_im._linked.schema as schema
from tests.helpers.vectors import vector_json
from vc_im._linked.resources import schemas_dir
from vc_im._linked.schema import SCHEMA_BASE, SchemaProblem, validate
from vc_im.errors import InputError, VcImError

PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"]
SECRET = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
MILLISECONDS = (
    "is a 13-digit NumericDate, which is in milliseconds; NumericDates are whole seconds"
)


def vector(name: str) -> Any:
    """A decoded credential from tests/vectors/credentials (duplicate names: last one wins)."""
    return vector_json("credentials", name)


def paths(problems: tuple[SchemaProblem, ...]) -> list[str]:
    return [problem.path for problem in problems]


# --- valid credentials -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "which"),
    [("vc1-payload.json", "credential-vc1"),
     ("vc2-payload.json", "credential-vc2"),
     ("vc2-payload-jwt-claims.json", "credential-vc2")],
)
def test_examples_are_valid(name: str, which: Any) -> None:
    """SPEC-NOTES §6.1 and §6.5 (and a vc2 payload with every JWT claim) have no problems."""
    assert validate(vector(name), which) == ()


def test_vc1_payload_with_every_optional_member_is_valid() -> None:
    """The optional vc members (id, issuer, dates, status) and nonce are accepted."""
    payload = vector("vc1-payload.json")
    payload["nonce"] = "WE88EvOBzbqGerznM-2P_AadVf7374y0cH19sDSZA2A"
    payload["vc"].update({
        "id": payload["jti"], "issuer": payload["iss"],
        "issuanceDate": "2023-11-14T22:13:20Z", "expirationDate": "2023-11-21T22:13:20Z",
        "credentialStatus": {"id": "https://im.example.com/status/1#94567",
                             "type": "StatusList2021Entry", "statusPurpose": "revocation",
                             "statusListIndex": "94567",
                             "statusListCredential": "https://im.example.com/status/1"},
    })
    payload["vc"]["credentialSubject"]["id"] = payload["sub"]
    assert validate(payload, "credential-vc1") == ()


# --- the seed ------------------------------------------------------------------------------


def test_seed_millisecond_dates_fail_exactly_on_the_three_dates() -> None:
    """The seed's 13-digit NumericDates fail on $.nbf, $.iat and $.exp and nowhere else."""
    problems = validate(vector("seed-vc-payload-ms-dates.json"), "credential-vc1")
    assert problems == (
        SchemaProblem("$.nbf", f"$.nbf {MILLISECONDS}"),
        SchemaProblem("$.iat", f"$.iat {MILLISECONDS}"),
        SchemaProblem("$.exp", f"$.exp {MILLISECONDS}"),
    )


def test_seed_verbatim_also_fails_on_its_string_has_instant_message() -> None:
    """Read leniently, the seed keeps one hasInstantMessage as a string: a fourth problem."""
    problems = validate(vector("seed-vc-payload.json"), "credential-vc1")
    assert problems[3:] == (
        SchemaProblem("$.vc.credentialSubject.hasInstantMessage",
                      "$.vc.credentialSubject.hasInstantMessage must be an array"),
    )
    assert paths(problems) == ["$.nbf", "$.iat", "$.exp",
                               "$.vc.credentialSubject.hasInstantMessage"]


# --- additional members --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "name", "where", "path"),
    [
        ("credential-vc1", "vc1-payload.json", (), "$.extra"),
        ("credential-vc1", "vc1-payload.json", ("vc",), "$.vc.extra"),
        ("credential-vc1", "vc1-payload.json", ("vc", "credentialSubject"),
         "$.vc.credentialSubject.extra"),
        ("credential-vc1", "vc1-payload.json", ("cnf",), "$.cnf.extra"),
        ("credential-vc2", "vc2-payload.json", (), "$.extra"),
        ("credential-vc2", "vc2-payload.json", ("credentialSubject",),
         "$.credentialSubject.extra"),
    ],
)
def test_additional_member_at_each_level(
    which: Any, name: str, where: tuple[str, ...], path: str
) -> None:
    """An unknown member in the payload, vc, credentialSubject or cnf is named by its path."""
    payload = vector(name)
    target = payload
    for key in where:
        target = target[key]
    target["extra"] = 1
    assert validate(payload, which) == (
        SchemaProblem(path, f"{path} is not an allowed member here"),
    )


def test_vc_and_vp_claims_are_not_vc2_members() -> None:
    """A VC 2.0 payload may not carry the 1.1 vc claim (nor the vp claim)."""
    payload = vector("vc2-payload.json")
    payload["vc"] = {}
    payload["vp"] = {}
    assert paths(validate(payload, "credential-vc2")) == ["$.vc", "$.vp"]


def test_iri_named_member_is_not_allowed() -> None:
    """A vCard term written as a compact IRI is not a member of credentialSubject."""
    payload = vector("vc1-payload.json")
    payload["vc"]["credentialSubject"]["vcard:nickname"] = "Al"
    assert validate(payload, "credential-vc1") == (
        SchemaProblem("$.vc.credentialSubject['vcard:nickname']",
                      "$.vc.credentialSubject['vcard:nickname'] is not an allowed member here"),
    )


# --- cnf -----------------------------------------------------------------------------------


@pytest.mark.parametrize("member", PRIVATE_MEMBERS)
def test_private_member_in_cnf_jwk(member: str) -> None:
    """Each private JWK member in cnf.jwk is refused by path, without quoting its value."""
    payload = vector("vc1-payload.json")
    payload["cnf"]["jwk"][member] = SECRET
    problems = validate(payload, "credential-vc1")
    assert problems == (
        SchemaProblem(f"$.cnf.jwk.{member}",
                      f"$.cnf.jwk.{member}: a public JWK must not carry private key members"),
    )
    assert SECRET not in repr(problems)


def test_cnf_with_both_members() -> None:
    """cnf holding both jwk and jkt is refused."""
    payload = vector("vc1-payload.json")
    payload["cnf"]["jkt"] = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert validate(payload, "credential-vc1") == (
        SchemaProblem("$.cnf", "$.cnf must hold exactly one of 'jwk' or 'jkt'"),
    )


def test_cnf_with_neither_member() -> None:
    """An empty cnf is refused with the same sentence."""
    payload = vector("vc2-payload.json")
    payload["cnf"] = {}
    assert validate(payload, "credential-vc2") == (
        SchemaProblem("$.cnf", "$.cnf must hold exactly one of 'jwk' or 'jkt'"),
    )


def test_cnf_jkt_must_be_a_sha256_thumbprint() -> None:
    """jkt is 43 base64url characters (a SHA-256 RFC 7638 thumbprint)."""
    payload = vector("vc2-payload.json")
    payload["cnf"]["jkt"] = "not a thumbprint"
    assert validate(payload, "credential-vc2") == (
        SchemaProblem("$.cnf.jkt",
                      "$.cnf.jkt is not a well-formed RFC 7638 SHA-256 JWK thumbprint"),
    )


def test_cnf_jwk_without_kty() -> None:
    """The seed's DPoP key used typ instead of kty: refused."""
    payload = vector("vc1-payload.json")
    payload["cnf"]["jwk"] = {"typ": "OKP", "crv": "Ed25519", "x": "9kaYCj...3lnwW"}
    assert validate(payload, "credential-vc1") == (
        SchemaProblem("$.cnf.jwk.kty", "$.cnf.jwk.kty is required but missing"),
    )


# --- credentialSubject ----------------------------------------------------------------------


def test_missing_fn() -> None:
    """A credentialSubject without fn is refused at $.vc.credentialSubject.fn."""
    payload = vector("vc1-payload.json")
    del payload["vc"]["credentialSubject"]["fn"]
    assert validate(payload, "credential-vc1") == (
        SchemaProblem("$.vc.credentialSubject.fn", "$.vc.credentialSubject.fn is required but "
                      "missing"),
    )


def test_has_instant_message_as_a_string() -> None:
    """hasInstantMessage must be an array, even with a single identifier."""
    payload = vector("vc1-payload.json")
    payload["vc"]["credentialSubject"]["hasInstantMessage"] = "im:%40alice_smith@example.com"
    assert validate(payload, "credential-vc1") == (
        SchemaProblem("$.vc.credentialSubject.hasInstantMessage",
                      "$.vc.credentialSubject.hasInstantMessage must be an array"),
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ([], SchemaProblem("$.vc.credentialSubject.hasInstantMessage",
                           "$.vc.credentialSubject.hasInstantMessage must not be empty")),
        (["im:a@example.com", "im:a@example.com"],
         SchemaProblem("$.vc.credentialSubject.hasInstantMessage",
                       "$.vc.credentialSubject.hasInstantMessage must not repeat a value")),
        (["https://example.com/alice"],
         SchemaProblem("$.vc.credentialSubject.hasInstantMessage[0]",
                       "$.vc.credentialSubject.hasInstantMessage[0] is not a well-formed "
                       "IM identifier")),
        (["im:alice smith@example.com"],
         SchemaProblem("$.vc.credentialSubject.hasInstantMessage[0]",
                       "$.vc.credentialSubject.hasInstantMessage[0] is not a well-formed "
                       "IM identifier")),
    ],
)
def test_has_instant_message_shape(value: object, problem: SchemaProblem) -> None:
    """hasInstantMessage is a non-empty array of unique im:/mimi:// strings without whitespace."""
    payload = vector("vc1-payload.json")
    payload["vc"]["credentialSubject"]["hasInstantMessage"] = value
    assert validate(payload, "credential-vc1") == (problem,)


def test_mimi_identifiers_pass_the_first_filter() -> None:
    """mimi:// identifiers pass the loose pattern (the identifier module checks them for real)."""
    payload = vector("vc2-payload.json")
    payload["credentialSubject"]["id"] = "mimi://example.com/d/SvPfLlwBQi-6oddVRrkqpw/04c7"
    payload["credentialSubject"]["hasInstantMessage"] = ["mimi://example.com/u/alice.smith"]
    assert validate(payload, "credential-vc2") == ()


def test_empty_fn() -> None:
    """fn must not be empty."""
    payload = vector("vc2-payload.json")
    payload["credentialSubject"]["fn"] = ""
    assert validate(payload, "credential-vc2") == (
        SchemaProblem("$.credentialSubject.fn", "$.credentialSubject.fn must not be empty"),
    )


def test_vc2_subject_needs_an_id() -> None:
    """In a VC 2.0 payload the credentialSubject carries its identifier."""
    payload = vector("vc2-payload.json")
    del payload["credentialSubject"]["id"]
    assert validate(payload, "credential-vc2") == (
        SchemaProblem("$.credentialSubject.id", "$.credentialSubject.id is required but missing"),
    )


# --- NumericDate, types, contexts -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (253402300800,
         "$.exp is later than the largest NumericDate, 253402300799 (9999-12-31T23:59:59Z)"),
        (-1, "$.exp must be at least 0"),
        (1700604800.0, "$.exp must be an integer"),
        (1700604800.5, "$.exp must be an integer"),
        (True, "$.exp must be an integer"),
        ("1700604800", "$.exp must be an integer"),
    ],
)
def test_numeric_date_bounds(value: object, message: str) -> None:
    """NumericDates are JSON integers from 0 to 253402300799."""
    payload = vector("vc1-payload.json")
    payload["exp"] = value
    assert validate(payload, "credential-vc1") == (SchemaProblem("$.exp", message),)


def test_largest_numeric_date_is_valid() -> None:
    """253402300799 (9999-12-31T23:59:59Z) is still a NumericDate."""
    payload = vector("vc1-payload.json")
    payload["exp"] = 253402300799
    assert validate(payload, "credential-vc1") == ()


def test_numeric_date_schema_describes_milliseconds() -> None:
    """The NumericDate definition says that 13-digit values are milliseconds."""
    defs = json.loads((schemas_dir() / "defs.schema.json").read_text())
    description = defs["$defs"]["numericDate"]["description"]
    assert "13-digit value is a time in milliseconds" in description


@pytest.mark.parametrize(
    ("value", "problems"),
    [
        (["ImDeviceCredential", "VerifiableCredential"], ()),
        (["VerifiableCredential", "ImUserCredential"], ()),
        (["VerifiableCredential"],
         (SchemaProblem("$.vc.type", "$.vc.type must have at least 2 items"),
          SchemaProblem("$.vc.type", "$.vc.type must contain one of \"ImDeviceCredential\", "
                                     "\"ImUserCredential\""))),
        (["VerifiableCredential", "VerifiablePresentation"],
         (SchemaProblem("$.vc.type", "$.vc.type must contain one of \"ImDeviceCredential\", "
                                     "\"ImUserCredential\""),)),
        (["ImDeviceCredential", "ImUserCredential"],
         (SchemaProblem("$.vc.type", "$.vc.type must contain \"VerifiableCredential\""),)),
    ],
)
def test_credential_types(value: list[str], problems: tuple[SchemaProblem, ...]) -> None:
    """type is VerifiableCredential plus ImDeviceCredential or ImUserCredential."""
    payload = vector("vc1-payload.json")
    payload["vc"]["type"] = value
    assert validate(payload, "credential-vc1") == problems


def test_wrong_first_context() -> None:
    """A vc1 credential must start its @context with the VC 1.1 context."""
    payload = vector("vc1-payload.json")
    payload["vc"]["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    assert validate(payload, "credential-vc1") == (
        SchemaProblem("$.vc['@context'][0]", "$.vc['@context'][0] must be "
                      "\"https://www.w3.org/2018/credentials/v1\""),
    )


def test_missing_required_claims_are_all_named() -> None:
    """Every missing required claim gets its own problem, in the schema's order."""
    assert paths(validate({}, "credential-vc1")) == [
        "$.iss", "$.sub", "$.jti", "$.nbf", "$.exp", "$.vc",
    ]
    assert paths(validate({}, "credential-vc2")) == [
        "$['@context']", "$.id", "$.type", "$.issuer", "$.credentialSubject", "$.iss", "$.iat",
        "$.exp",
    ]


def test_non_object_payload() -> None:
    """A payload that is not an object is one problem at $."""
    assert validate([], "credential-vc1") == (SchemaProblem("$", "$ must be an object"),)


# --- registry and validators ---------------------------------------------------------------


def test_unknown_schema_name() -> None:
    """An unknown schema name is an input error."""
    with pytest.raises(InputError) as info:
        validate({}, "credential-vc3")  # type: ignore[arg-type]
    assert info.value.message == "there is no schema named 'credential-vc3'"


def test_validators_are_built_once() -> None:
    """Each validator (and the registry) is built once per process."""
    assert schema._validator("credential-vc1") is schema._validator("credential-vc1")
    assert schema._registry() is schema._registry()


def test_schema_files_declare_their_ids() -> None:
    """Every schema file is Draft 2020-12 and has the $id its file name implies."""
    for path in sorted(schemas_dir().glob("*.schema.json")):
        contents = json.loads(path.read_text())
        assert contents["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert contents["$id"] == SCHEMA_BASE + path.name


def test_registry_never_retrieves() -> None:
    """The registry refuses to retrieve anything it was not given."""
    from referencing.exceptions import NoSuchResource

    with pytest.raises(NoSuchResource):
        schema._registry().get_or_retrieve("https://example.org/remote.schema.json")


@pytest.mark.parametrize(
    "ref",
    ["https://example.org/remote.schema.json", "file:///etc/passwd",
     "defs.schema.json#/$defs/nothing", "../outside.schema.json"],
)
def test_build_refuses_refs_outside_the_schemas(tmp_path: Path, ref: str) -> None:
    """A schema whose $ref points outside the local schemas fails when the registry is built."""
    (tmp_path / "defs.schema.json").write_text(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}defs.schema.json", "$defs": {},
    }))
    (tmp_path / "bad.schema.json").write_text(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}bad.schema.json", "$ref": ref,
    }))
    with pytest.raises(VcImError) as info:
        schema._build_registry(tmp_path)
    assert info.value.code == "broken_install"
    assert info.value.message.startswith(f"the schema {SCHEMA_BASE}bad.schema.json refers to ")


@pytest.mark.parametrize(
    ("contents", "reason"),
    [
        ("{not json", "is unreadable or not a valid Draft 2020-12 schema"),
        ('{"type": 5}', "is unreadable or not a valid Draft 2020-12 schema"),
        ('{"$id": "https://example.org/x.schema.json"}',
         f"must declare $id {SCHEMA_BASE}x.schema.json"),
    ],
)
def test_build_refuses_broken_schema_files(tmp_path: Path, contents: str, reason: str) -> None:
    """A schema file that is not JSON, not a schema, or misnamed is a broken installation."""
    (tmp_path / "x.schema.json").write_text(contents)
    with pytest.raises(VcImError) as info:
        schema._build_registry(tmp_path)
    assert (info.value.code, info.value.message) == (
        "broken_install", f"the schema file {tmp_path / 'x.schema.json'} {reason}"
    )


def test_build_refuses_an_empty_directory(tmp_path: Path) -> None:
    """No schema files at all is a broken installation."""
    with pytest.raises(VcImError) as info:
        schema._build_registry(tmp_path)
    assert info.value.message == f"no schema files found in {tmp_path}"


# --- properties ----------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=80, deadline=None)
@given(member=st.sampled_from(["", "vc", "vc.credentialSubject", "cnf", "cnf.jwk"]),
       name=st.text(max_size=8), value=_JSON)
def test_any_payload_yields_path_named_problems(member: str, name: str, value: object) -> None:
    """Whatever is put anywhere in a payload, validation returns problems, each naming a path
    that starts with $ and repeating it in its one-sentence message."""
    payload = vector("vc1-payload.json")
    target = payload
    for key in filter(None, member.split(".")):
        target = target[key]
    target[name] = value
    for problem in validate(payload, "credential-vc1"):
        assert problem.path.startswith("$")
        assert problem.message.startswith(problem.path)
        assert not problem.message.endswith(".")  # the report adds the full stop


def test_validators_hold_no_runtime_refs() -> None:
    """Each shipped schema's $refs are resolved once, when its validator is built."""
    for name in ("credential-vc1", "credential-vc2"):
        assert "$ref" not in json.dumps(schema._validator(name).schema)


def test_recursive_ref_is_left_to_the_registry(tmp_path: Path) -> None:
    """A recursive $ref is inlined once and then kept as a $ref, and still validates."""
    from jsonschema import Draft202012Validator

    uri = f"{SCHEMA_BASE}tree.schema.json"
    (tmp_path / "tree.schema.json").write_text(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": uri,
        "type": "object", "properties": {"child": {"$ref": "#"}}, "additionalProperties": False,
    }))
    registry = schema._build_registry(tmp_path)
    inlined = schema._inline_refs(registry.contents(uri), registry.resolver(base_uri=uri),
                                  frozenset())
    assert inlined["properties"]["child"]["properties"]["child"] == {"$ref": "#"}
    validator = Draft202012Validator(inlined, registry=registry)
    assert [e.json_path for e in validator.iter_errors({"child": {"child": {"x": 1}}})] == [
        "$.child.child"
    ]
