"""JSON Schema validation of credentials, with every problem named by JSON path.

The schemas (Draft 2020-12) live in ``schemas/`` as data; ``defs.schema.json``
holds the shared building blocks and the credential schemas ``$ref`` it by
relative URI. All of them are loaded into one local ``referencing.Registry``
whose retrieval hook refuses everything, so a ``$ref`` can never reach the
network or a file outside ``schemas/``; every ``$ref`` is resolved once when the
registry is built, so a damaged installation fails at that point with a clear
error rather than half-way through a validation. Validators are built once per
process.

The validator is Draft 2020-12 with one change: ``integer`` means a JSON
integer, so ``1700000000.0`` is not a NumericDate. Format assertions stay off:
the ``format`` checkers that understand URIs need optional packages, and
identifiers, URIs and dates are checked in code anyway (the patterns here are
only a loose first filter).

Messages are written here rather than taken from jsonschema, whose messages
quote the offending instance: for a JWK that would put key material in a
report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from vc_im._linked.resources import schemas_dir
from vc_im.errors import InputError, VcImError

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator
    from referencing import Registry, Resource
    from referencing._core import Resolver

__all__ = ["SCHEMA_BASE", "SchemaName", "SchemaProblem", "check_schema", "validate",
           "validate_with"]

SCHEMA_BASE = "https://vc-im.example/schemas/"
"""Every schema's ``$id`` starts with this; ``<name>.schema.json`` follows."""

SchemaName = Literal["credential-vc1", "credential-vc2", "status-list-vc1", "status-list-vc2"]

# Mirrors jsonschema's own JSON path rendering so that all paths look alike.
_PLAIN_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")
_SUFFIX = ".schema.json"
_MILLISECONDS = range(10**12, 10**13)
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "object": "an object",
    "array": "an array",
    "boolean": "true or false",
    "null": "null",
}


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One reason an instance does not fit its schema."""

    path: str
    """JSON path of the offending (or missing) member, e.g. ``$.vc.credentialSubject.fn``."""
    message: str
    """One sentence, starting with the path and without a final full stop; it never quotes
    a value that could be key material."""


def validate(instance: object, schema: SchemaName) -> tuple[SchemaProblem, ...]:
    """Return every problem of ``instance`` against ``schema``, the most relevant first.

    An empty tuple means the instance is valid. Raises :class:`InputError` for an
    unknown schema name and :class:`VcImError` (``broken_install``) when the
    installed schemas are unusable.
    """
    if _fast_says_valid(instance, schema):  # jsonschema is imported only past this point
        return ()
    from referencing.exceptions import Unresolvable

    validator = _validator(schema)
    try:
        errors = sorted(validator.iter_errors(instance), key=_rank)
    except Unresolvable as exc:  # cannot happen after _registry()'s check; stay closed
        raise VcImError(
            f"the schema {schema} refers to something vc_im does not ship", code="broken_install"
        ) from exc
    problems: dict[SchemaProblem, None] = {}
    for error in errors:
        for problem in _describe(_most_specific(error)):
            problems.setdefault(problem, None)
    return tuple(problems)


def check_schema(contents: Any) -> dict[str, Any]:
    """A profile's own JSON Schema, checked: a Draft 2020-12 schema object whose every
    ``$ref`` stays inside it (nothing is ever fetched). Raises :class:`InputError`."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(contents)
    except SchemaError as exc:
        raise InputError("the schema is not a valid Draft 2020-12 schema") from exc
    if not isinstance(contents, dict) or any(not ref.startswith("#") for ref in _refs(contents)):
        raise InputError("the schema must be an object whose references stay inside it")
    _own_validator(json.dumps(contents, sort_keys=True))  # every $ref resolves, or this raises
    return contents


def validate_with(schema: Mapping[str, Any], instance: object) -> tuple[SchemaProblem, ...]:
    """Every problem of ``instance`` against a profile's own schema (see :func:`check_schema`),
    the most relevant first; the validator is built once per schema."""
    validator = _own_validator(json.dumps(schema, sort_keys=True))
    errors = sorted(validator.iter_errors(instance), key=_rank)
    problems: dict[SchemaProblem, None] = {}
    for error in errors:
        for problem in _describe(_most_specific(error)):
            problems.setdefault(problem, None)
    return tuple(problems)


@cache
def _own_validator(text: str) -> Validator:
    from referencing import Registry
    from referencing.exceptions import Unresolvable
    from referencing.jsonschema import DRAFT202012

    contents = json.loads(text)
    resource = DRAFT202012.create_resource(contents)
    registry: Registry[Any] = Registry().with_resource("urn:vc-im:profile-schema", resource)
    resolver = registry.resolver(base_uri="urn:vc-im:profile-schema")
    try:
        inlined = _inline_refs(contents, resolver, frozenset())
    except Unresolvable as exc:
        raise InputError("the schema refers to something it does not define") from exc
    strict = _strict_validator_class()
    validator: Validator = strict(inlined, registry=registry)
    return validator


@cache
def _strict_validator_class() -> Any:
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    return extend(
        Draft202012Validator,
        type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_json_integer),
    )


#: Python's ``\s`` matches these, the Unicode White_Space property (jsonschema-rs's ``\s``)
#: does not: a string holding one is left to jsonschema.
_SPACES_APART = re.compile("[\x1c-\x1f]")
#: Integers that a double holds exactly; a larger one is left to jsonschema.
_EXACT_INTEGER = 2**53


def _fast_says_valid(instance: object, name: str) -> bool:
    """Whether the compiled validator (jsonschema-rs, when installed) finds ``instance``
    valid, for an instance on which it must agree with jsonschema: no integral float (a
    NumericDate here is a JSON integer, which jsonschema-rs does not distinguish), no integer
    a double rounds, no character that only Python counts as whitespace. A no means nothing:
    jsonschema decides, and writes the reasons. ``tests/linked/test_schema_fast_path.py``
    holds the two to the same verdict."""
    fast = _fast_validator(name)
    if fast is None or not _agreeable(instance):
        return False
    try:
        return bool(fast.is_valid(instance))
    except (ValueError, TypeError, OverflowError):  # a value it cannot take: jsonschema decides
        return False


def _agreeable(instance: object) -> bool:
    """Whether the two validators must agree on ``instance`` (see :func:`_fast_says_valid`):
    :func:`_agreeable_by_walk` dispatched on exact types, and no for any value that is not
    plain JSON (jsonschema then decides). It may say no where the reference says yes, never
    the reverse: ``tests/linked/test_schema_fast_path.py`` holds it so."""
    pending: list[Any] = [instance]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str:
            if _SPACES_APART.search(item):
                return False
        elif kind is dict:
            pending.extend(item)
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind is int:
            if not -_EXACT_INTEGER <= item <= _EXACT_INTEGER:
                return False
        elif kind is float:
            if item.is_integer():
                return False
        elif kind is not bool and item is not None:
            return False
    return True


def _agreeable_by_walk(instance: object) -> bool:
    """The reference for :func:`_agreeable`: every value looked at in Python."""
    pending = [instance]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SPACES_APART.search(item):
                return False
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if abs(item) > _EXACT_INTEGER:
                return False
        elif isinstance(item, float):
            if item.is_integer():
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


@cache
def _fast_validator(name: str) -> Any:
    """jsonschema-rs's validator of schema ``name``, or None when it is not installed (it is
    optional: jsonschema alone gives the same verdicts, slower). Built from the same files
    without jsonschema and referencing, so that a valid credential never imports them."""
    try:
        import jsonschema_rs  # noqa: F401
    except ImportError:
        return None
    return _build_fast(schemas_dir(), name)


def _schema_files(directory: Path, check: Callable[[Any], object],
                  refusals: tuple[type[Exception], ...]) -> list[tuple[str, dict[str, Any]]]:
    """Every ``*.schema.json`` in ``directory``: its ``$id`` and contents, each read, checked
    as a Draft 2020-12 schema by ``check`` (which raises ``ValueError`` or ``refusals``) and
    named by its file; :class:`VcImError` (``broken_install``) for the first that is not."""
    found: list[tuple[str, dict[str, Any]]] = []
    caught: tuple[type[Exception], ...] = (OSError, ValueError, *refusals)
    for path in sorted(directory.glob(f"*{_SUFFIX}")):
        expected_id = SCHEMA_BASE + path.name
        try:
            contents = json.loads(path.read_bytes())
            check(contents)
        except caught as exc:
            raise VcImError(
                f"the schema file {path} is unreadable or not a valid Draft 2020-12 schema",
                code="broken_install",
            ) from exc
        if not isinstance(contents, dict) or contents.get("$id") != expected_id:
            raise VcImError(
                f"the schema file {path} must declare $id {expected_id}", code="broken_install"
            )
        found.append((expected_id, contents))
    if not found:
        raise VcImError(f"no schema files found in {directory}", code="broken_install")
    return found


def _build_fast(directory: Path, name: str) -> Any:
    """jsonschema-rs's Draft 2020-12 validator of ``name`` over every ``*.schema.json`` in
    ``directory``, offline: a ``$ref`` reaches these files only, nothing is ever fetched.
    A file that is unreadable, not a schema, misnamed or refers elsewhere raises
    :class:`VcImError` (``broken_install``), as :func:`_build_registry` does."""
    import jsonschema_rs

    documents = dict(_schema_files(directory, jsonschema_rs.meta.validate, ()))
    uri = f"{SCHEMA_BASE}{name}{_SUFFIX}"
    if uri not in documents:
        raise InputError(f"there is no schema named {name!r}")
    try:
        registry = jsonschema_rs.Registry(list(documents.items()))
        return jsonschema_rs.Draft202012Validator(documents[uri], registry=registry,
                                                  base_uri=uri, offline=True)
    except (ValueError, jsonschema_rs.ReferencingError) as exc:
        raise VcImError(f"the schema {uri} refers to something vc_im does not ship",
                        code="broken_install") from exc


@cache
def _validator(name: str) -> Validator:
    """The Draft 2020-12 validator for schema ``name``, built once."""
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    registry = _registry()
    uri = f"{SCHEMA_BASE}{name}{_SUFFIX}"
    try:
        contents = registry.contents(uri)
    except LookupError as exc:
        raise InputError(f"there is no schema named {name!r}") from exc
    # Draft 2020-12 counts 1700000000.0 as an integer; a NumericDate here is a JSON integer.
    strict = extend(
        Draft202012Validator,
        type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_json_integer),
    )
    inlined = _inline_refs(contents, registry.resolver(base_uri=uri), frozenset())
    validator: Validator = strict(inlined, registry=registry)
    return validator


def _inline_refs(node: Any, resolver: Resolver[Any], active: frozenset[int]) -> Any:
    """A copy of ``node`` with each ``$ref`` replaced by the schema it names.

    Resolving a ``$ref`` on every validation costs about half of the time jsonschema
    spends on a credential, so the registry resolves each one once, here. A ``$ref``
    with sibling keywords becomes ``allOf: [target]`` beside them (the same meaning
    in Draft 2020-12); a recursive ``$ref`` is left for the registry to resolve.
    """
    if isinstance(node, list):
        return [_inline_refs(item, resolver, active) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {
        key: _inline_refs(value, resolver, active) for key, value in node.items() if key != "$ref"
    }
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return copy
    resolved = resolver.lookup(ref)
    if id(resolved.contents) in active:
        return {"$ref": ref, **copy}
    target = _inline_refs(resolved.contents, resolved.resolver, active | {id(resolved.contents)})
    return {"allOf": [target], **copy} if copy else target


def _is_json_integer(checker: object, instance: object) -> bool:
    """An integer written without a fraction or exponent (bool is not one)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def _registry() -> Registry[Any]:
    """The registry of the installed schemas, built once."""
    return _build_registry(schemas_dir())


def _build_registry(directory: Path) -> Registry[Any]:
    """Load every ``*.schema.json`` in ``directory``, check it, resolve every ``$ref``."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError
    from referencing import Registry
    from referencing.exceptions import Unresolvable
    from referencing.jsonschema import DRAFT202012

    resources: list[tuple[str, Resource[Any]]] = [
        (uri, DRAFT202012.create_resource(contents)) for uri, contents
        in _schema_files(directory, Draft202012Validator.check_schema, (SchemaError,))]

    # The default retrieval hook refuses every URI it is asked for (NoSuchResource).
    registry: Registry[Any] = Registry().with_resources(resources).crawl()
    for uri, resource in resources:
        resolver = registry.resolver(base_uri=uri)
        for ref in _refs(resource.contents):
            try:
                resolver.lookup(ref)
            except Unresolvable as exc:
                raise VcImError(
                    f"the schema {uri} refers to {ref}, which is not among vc_im's schemas",
                    code="broken_install",
                ) from exc
    return registry


def _refs(node: object) -> Iterator[str]:
    """Every ``$ref`` value in a schema document."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _rank(error: ValidationError) -> tuple[int, bool]:
    """Sort key: shallower problems first (as ``best_match`` prefers), then schema order.

    ``oneOf``/``anyOf`` summaries go after the precise problems at the same depth.
    """
    return (len(error.path), error.validator in ("oneOf", "anyOf"))


def _most_specific(error: ValidationError) -> ValidationError:
    """Descend into oneOf/anyOf sub-errors the way ``jsonschema.best_match`` does."""
    from heapq import nsmallest

    from jsonschema.exceptions import relevance

    while error.context:
        smallest = nsmallest(2, error.context, key=relevance)
        if len(smallest) == 2 and relevance(smallest[0]) == relevance(smallest[1]):
            return error
        error = smallest[0]
    return error


def _child(path: str, name: str) -> str:
    """JSON path of member ``name`` under ``path``, rendered as jsonschema does."""
    if _PLAIN_NAME.match(name):
        return f"{path}.{name}"
    escaped = name.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


def _describe(error: ValidationError) -> Iterator[SchemaProblem]:
    """Turn one jsonschema error into problems with a path and one sentence each."""
    path = error.json_path
    keyword = error.validator
    value = error.validator_value
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    title = schema.get("title")

    if keyword == "not" and isinstance(value, dict) and len(value.get("required", ())) == 2:
        # Two members that must not appear together: the schema's only use of "not".
        first, second = value["required"]
        child = _child(path, second)
        yield SchemaProblem(child, f"{child} may not appear together with {first}: both spell "
                            "the same property, so a credential uses one of them")
    elif "propertyNames" in error.relative_schema_path and isinstance(instance, str):
        reason = schema.get("description", "it is not allowed here")
        yield SchemaProblem(_child(path, instance), f"{_child(path, instance)}: {reason}")
    elif keyword == "required" and isinstance(instance, dict):
        for name in value:
            if name not in instance:
                child = _child(path, name)
                yield SchemaProblem(child, f"{child} is required but missing")
    elif keyword == "additionalProperties" and isinstance(instance, dict):
        known = schema.get("properties", {})
        for name in instance:
            if name not in known:
                child = _child(path, name)
                yield SchemaProblem(child, f"{child} is not an allowed member here")
    else:
        yield SchemaProblem(path, f"{path} {_sentence(keyword, value, instance, schema, title)}")


def _sentence(
    keyword: str | None, value: Any, instance: Any, schema: dict[str, Any], title: Any
) -> str:
    """The predicate of the problem sentence for one failed keyword."""
    if keyword == "type":
        kinds = value if isinstance(value, list) else [value]
        return "must be " + " or ".join(_TYPE_NAMES.get(str(kind), str(kind)) for kind in kinds)
    if keyword == "maximum" and title == "NumericDate":
        if isinstance(instance, int) and instance in _MILLISECONDS:
            return (
                "is a 13-digit NumericDate, which is in milliseconds; "
                "NumericDates are whole seconds"
            )
        return f"is later than the largest NumericDate, {value} (9999-12-31T23:59:59Z)"
    if keyword in ("maximum", "minimum"):
        bound = "at most" if keyword == "maximum" else "at least"
        return f"must be {bound} {value}"
    if keyword == "const":
        return f"must be {json.dumps(value)}"
    if keyword == "enum":
        return "must be one of " + ", ".join(json.dumps(item) for item in value)
    if keyword == "pattern":
        return f"is not a well-formed {title}" if title else "does not have the expected form"
    if keyword in ("minLength", "minItems", "maxItems"):
        return _size_sentence(keyword, value)
    if keyword == "uniqueItems":
        return "must not repeat a value"
    if keyword == "contains":
        if "const" in value:
            return f"must contain {json.dumps(value['const'])}"
        if "enum" in value:
            return "must contain one of " + ", ".join(json.dumps(item) for item in value["enum"])
        return "does not contain an item of the expected kind"
    if keyword == "oneOf":
        return _one_of_sentence(value, title)
    if keyword == "anyOf":
        return "does not match any of the allowed forms"
    if keyword is None:  # a `false` schema
        return "is not allowed here"
    return f"does not satisfy the schema's {keyword} rule"


def _size_sentence(keyword: str, value: int) -> str:
    if keyword == "minLength":
        return "must not be empty" if value == 1 else f"must be at least {value} characters long"
    if keyword == "minItems":
        return "must not be empty" if value == 1 else f"must have at least {value} items"
    return f"must have at most {value} items"


def _one_of_sentence(branches: Any, title: Any) -> str:
    """Exactly-one-of-these-members (``cnf``) gets a precise sentence; others a generic one."""
    names = [
        branch["required"][0]
        for branch in branches
        if isinstance(branch, dict)
        and list(branch) == ["required"]
        and len(branch["required"]) == 1
    ]
    if names and len(names) == len(branches):
        return "must hold exactly one of " + " or ".join(repr(name) for name in names)
    what = f"a {title}" if title else "its schema"
    return f"does not match exactly one of the allowed forms of {what}"
