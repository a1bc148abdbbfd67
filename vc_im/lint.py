"""Decoding a token or claims set WITHOUT verifying it, and warning about known pitfalls.

``vc-im inspect`` is for people who debug credentials, often ones copied from
the MIMI identity draft. It reads leniently (it must show what is there),
marks everything as unverified, and explains each of the draft's mistakes
that ``verify`` would reject: millisecond NumericDates, duplicate member
names, the vCard namespace used as a JSON-LD context, vCard terms that do not
exist, and an unencoded ``#`` inside an ``im:`` URI.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from vc_im.errors import TokenError
from vc_im.times import MAX_NUMERIC_DATE, MILLISECONDS_THRESHOLD, seconds_to_rfc3339

MAX_INSPECT_BYTES = 1 << 20
_VCARD_NAMESPACES = ("http://www.w3.org/2006/vcard/ns", "https://www.w3.org/2006/vcard/ns")
_SUBJECT_TERMS = frozenset({"id", "fn", "hasOrganizationName", "hasOrganizationalUnit",
                            "hasOrganizationUnit", "hasInstantMessage",
                            "mayIssueDeviceCredentials"})
_SUGGESTIONS = {
    "organization-unit": "write hasOrganizationUnit (the ontology's object property)",
    "organization-name": "write hasOrganizationName",
    "impp": "write hasInstantMessage (vCard's IMPP)",
}


@dataclass(frozen=True, slots=True)
class Pitfall:
    """One thing ``verify`` would reject, explained."""

    code: str
    path: str
    message: str


@dataclass(frozen=True, slots=True)
class Inspection:
    """What a token says, UNVERIFIED, and the pitfalls found in it."""

    header: Mapping[str, Any] | None
    payload: Mapping[str, Any]
    pitfalls: tuple[Pitfall, ...]
    #: What is worth knowing but verification accepts (the draft's vCard spelling, say).
    notes: tuple[Pitfall, ...] = ()


class _Duplicates:
    """A lenient object hook that keeps the last value but remembers repeated names."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for name, value in pairs:
            if name in seen:
                self.found.append(name)
            seen[name] = value
        return seen


def _lenient(data: bytes, what: str, duplicates: _Duplicates) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"), object_pairs_hook=duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise TokenError(f"the {what} is not JSON.") from exc


def _b64(segment: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except ValueError as exc:
        raise TokenError(f"the {what} is not base64url.") from exc


def inspect(data: bytes) -> Inspection:
    """Decode a compact JWS, or a bare JSON claims set, without verifying anything."""
    if len(data) > MAX_INSPECT_BYTES:
        raise TokenError(f"the input is larger than {MAX_INSPECT_BYTES} bytes.", code="too_large")
    text = data.decode("utf-8", errors="replace").strip()
    duplicates = _Duplicates()
    header: Any = None
    if text.startswith("{"):
        payload = _lenient(text.encode("utf-8"), "claims set", duplicates)
    else:
        parts = text.split(".")
        if len(parts) != 3:
            raise TokenError("the input is neither a compact JWS (three parts) nor a JSON "
                             "object.")
        header = _lenient(_b64(parts[0], "header"), "header", duplicates)
        payload = _lenient(_b64(parts[1], "payload"), "payload", duplicates)
    if not isinstance(payload, dict) or (header is not None and not isinstance(header, dict)):
        raise TokenError("the header and payload must be JSON objects.")
    pitfalls = [Pitfall("duplicate_member", name, f"the member {name!r} appears more than once "
                        "in one object; a strict verifier rejects the whole token (JSON parsers "
                        "that keep the last value silently lose the others, as in the draft's "
                        "hasInstantMessage example); write one member holding an array")
                for name in duplicates.found]
    pitfalls.extend(_pitfalls(header or {}, payload))
    exposed = _redact(header, "$header") + _redact(payload, "$")
    pitfalls.extend(Pitfall("private_key_exposed", where, "this JWK carries private key "
                            "material (shown as REDACTED): the key is compromised; replace it")
                    for where in exposed)
    return Inspection(header, payload, tuple(pitfalls), tuple(_notes(payload)))


_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def _redact(value: Any, path: str) -> list[str]:
    """Replace private JWK members anywhere in ``value`` (in place); return where they were."""
    found: list[str] = []
    if isinstance(value, dict):
        if "kty" in value or "crv" in value:
            for name in _PRIVATE_MEMBERS & set(value):
                value[name] = "REDACTED"
                found.append(f"{path}.{name}")
        for name, inner in value.items():
            found.extend(_redact(inner, f"{path}.{name}"))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.extend(_redact(inner, f"{path}[{index}]"))
    return found


def _pitfalls(header: Mapping[str, Any], payload: Mapping[str, Any]) -> Iterator[Pitfall]:
    for claim in ("nbf", "iat", "exp"):
        value = payload.get(claim)
        if isinstance(value, int) and not isinstance(value, bool) and (
                value >= MILLISECONDS_THRESHOLD):
            when = (seconds_to_rfc3339(value // 1000) if value // 1000 <= MAX_NUMERIC_DATE
                    else "out of range")
            yield Pitfall("milliseconds", f"$.{claim}", f"{claim} = {value} counts milliseconds; "
                          f"JWT NumericDates count seconds (RFC 7519 §2): write {value // 1000} "
                          f"({when})")
    jwk = header.get("jwk")
    if isinstance(jwk, dict) and "typ" in jwk and "kty" not in jwk:
        yield Pitfall("jwk_typ", "$header.jwk", "the JWK has 'typ' where RFC 7517 requires "
                      "'kty' (the draft's DPoP example makes this mistake)")
    inner = payload.get("vc")
    vc: Mapping[str, Any] = inner if isinstance(inner, dict) else payload
    yield from _context_pitfalls(vc.get("@context"), "$.vc" if vc is not payload else "$")
    subject = vc.get("credentialSubject")
    base = ("$.vc" if vc is not payload else "$") + ".credentialSubject"
    if isinstance(subject, dict):
        for term in subject:
            if term not in _SUBJECT_TERMS:
                hint = _SUGGESTIONS.get(term, "vc_im's context does not define it, so a strict "
                                        "verifier rejects it")
                yield Pitfall("unknown_term", f"{base}.{term}", f"{term!r} is not a term of "
                              f"the vCard ontology as vc_im uses it: {hint}")
        ims = subject.get("hasInstantMessage")
        if isinstance(ims, str):
            yield Pitfall("not_array", f"{base}.hasInstantMessage", "hasInstantMessage is a "
                          "string; vc_im writes and expects an array of identifiers")
            ims = [ims]
        for value in [*(ims if isinstance(ims, list) else []), subject.get("id"),
                      payload.get("sub")]:
            if isinstance(value, str) and value.startswith("im:") and "#" in value:
                yield Pitfall("unencoded_hash", base, f"{value!r} has an unencoded '#', which "
                              "starts a URI fragment (RFC 3986 §3.5); write %23 instead")


def _notes(payload: Mapping[str, Any]) -> Iterator[Pitfall]:
    """What verification accepts but a reader should know: the draft's vCard spelling."""
    inner = payload.get("vc")
    vc: Mapping[str, Any] = inner if isinstance(inner, dict) else payload
    subject = vc.get("credentialSubject")
    base = ("$.vc" if vc is not payload else "$") + ".credentialSubject"
    if isinstance(subject, dict) and "hasOrganizationalUnit" in subject:
        both = ("; this credential also carries hasOrganizationUnit, and verification rejects "
                "the two together (schema_invalid)" if "hasOrganizationUnit" in subject else "")
        yield Pitfall("draft_spelling", f"{base}.hasOrganizationalUnit", "hasOrganizationalUnit "
                      "is the MIMI draft's spelling, not a vCard term; vc_im's context maps it to "
                      "the ontology's vcard:hasOrganizationUnit, which hasOrganizationUnit names "
                      f"directly; both mean the same{both}")


def _context_pitfalls(context: Any, base: str) -> Iterator[Pitfall]:
    items = context if isinstance(context, list) else [context]
    for index, item in enumerate(items):
        if isinstance(item, str) and item.rstrip("#/") in _VCARD_NAMESPACES:
            yield Pitfall("vcard_namespace_context", f"{base}.@context[{index}]",
                          f"{item} is the vCard namespace, not a JSON-LD context (nothing there "
                          "defines terms); use https://vc-im.example/contexts/v1, which maps the "
                          "vCard terms")
