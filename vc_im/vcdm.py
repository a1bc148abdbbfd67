"""The W3C Verifiable Credentials Data Model, 1.1 and 2.0: the rules a document must keep.

A credential or presentation from any issuer is first of all a data-model document. This
module checks, on the document alone, every normative MUST of the data model that can be
checked there, and returns each broken rule as a :class:`Violation` (a stable rule id, a
path into the document and a sentence). It does no I/O and no JSON-LD processing: expanding
the contexts, and refusing terms they do not define, is the verifier's later step.

Section references: [1.1] is https://www.w3.org/TR/vc-data-model-1.1/, [2.0] is
https://www.w3.org/TR/vc-data-model-2.0/. Each rule id below names the section it enforces:

=========================  ==========================  ======================================
rule                       [1.1]                       [2.0]
=========================  ==========================  ======================================
document-object            §4 (JSON object)            §4 (JSON object)
context-present            §4.1                        §4.3
context-ordered-set        §4.1 (ordered set)          §4.3 (ordered set)
context-first              §4.1 (first item)           §4.3 (first item)
context-items              §4.1 (URIs or objects)      §4.3 (URLs or objects)
id-uri                     §4.2 (a single URI)         §4.4 (a single URL)
type-present               §4.3                        §4.5
type-values                §4.3 (one or more URIs)     §4.5 (terms or absolute URLs)
type-includes-vc           §4.3                        §4.5
type-includes-vp           §4.10                       §4.13
credentialSubject-present  §4.4                        §4.8
credentialSubject-objects  §4.4 (one or more objects)  §4.8 (objects with claims)
issuer-present             §4.5                        §4.7
issuer-uri                 §4.5 (URI or object id)     §4.7 (URL or object id)
issuanceDate-present       §4.6                        (not in 2.0)
date-format                §4.6, §4.8 (dateTime)       §4.9 (dateTimeStamp)
proof-type                 §4.7 (each proof typed)     §4.12 / VC-DI (each proof typed)
status-typed               §4.9 (id and type)          §4.10 (type; id optional)
schema-typed               §5.4 (id and type)          §5.2 (id and type)
refresh-typed              §5.5 (id and type)          §5.4 (type)
terms-typed                §5.6 (type)                 §5.5 (type)
evidence-typed             §5.7 (type)                 §5.6 (type)
zkp-credentialSchema       §5.8 (credential definition in credentialSchema)
zkp-verifiableCredential   §5.8 (derived credentials are presented)
validity-order             (not in 1.1)                §4.9 (validFrom <= validUntil)
related-resource           (not in 1.1)                §5.3 (id and a digest)
name-description           (not in 1.1)                §4.6 (string or language value)
holder-uri                 §4.10 (a URI)               §4.13 (URL or object with id)
vp-credential              §4.10 (VCs or JWT VCs)      §4.13, §4.13.1 (VC or Enveloped VC)
=========================  ==========================  ======================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: The base contexts: each version's first ``@context`` value ([1.1] §4.1, [2.0] §4.3).
BASE_CONTEXTS: Mapping[int, str] = {
    1: "https://www.w3.org/2018/credentials/v1",
    2: "https://www.w3.org/ns/credentials/v2",
}
#: Proof types that are zero-knowledge proofs over a credential definition ([1.1] §5.8).
ZKP_PROOF_TYPES = frozenset({"CLSignature2019"})

# An absolute URI (RFC 3986 §4.3): a scheme, a colon and something after it, with no
# character RFC 3986 excludes. Relative references are not identifiers here: a document is
# checked without a base IRI.
_URI = re.compile(r"\A[A-Za-z][A-Za-z0-9+.\-]*:[^\s\"<>\\^`{|}\x00-\x1f\x7f]+\Z")
# A compact JWS/JWT: three base64url segments (the third may be empty: an unsecured JWT).
_COMPACT_JWT = re.compile(r"\A[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\Z")
# XML Schema 1.1 dateTime ([XMLSCHEMA11-2] §3.3.7): the time zone is optional.
_DATE_TIME = re.compile(
    r"\A-?(?P<year>[1-9][0-9]{3,}|0[0-9]{3})-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12][0-9]|3[01])"
    r"T(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?|24:00:00(?:\.0+)?)"
    r"(?P<zone>Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?\Z"
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

@dataclass(frozen=True, slots=True)
class Violation:
    """One broken data-model rule: a stable ``rule`` id, where (``path``) and why."""

    rule: str
    path: str
    message: str


def check_credential(
    document: Mapping[str, Any], *, version: int | None = None
) -> tuple[Violation, ...]:
    """Every data-model rule ``document`` breaks as a credential (none: it keeps them all).

    ``version`` is 1 (VC DM 1.1) or 2 (VC DM 2.0); ``None`` takes it from the first
    ``@context``.
    """
    out: list[Violation] = []
    if not isinstance(document, Mapping):
        return (Violation("document-object", "$", "A credential must be a JSON object."),)
    _credential(document, _version(document, version), "", out)
    return tuple(out)


def check_presentation(
    document: Mapping[str, Any], *, version: int | None = None
) -> tuple[Violation, ...]:
    """Every data-model rule ``document`` breaks as a presentation, and those of the
    credentials it embeds (their paths start with ``verifiableCredential``)."""
    out: list[Violation] = []
    if not isinstance(document, Mapping):
        return (Violation("document-object", "$", "A presentation must be a JSON object."),)
    _presentation(document, _version(document, version), "", out)
    return tuple(out)


def document_version(document: Mapping[str, Any]) -> int | None:
    """1 or 2 when the first ``@context`` is that version's base context, else ``None``."""
    contexts = document.get("@context") if isinstance(document, Mapping) else None
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    for number, url in BASE_CONTEXTS.items():
        if first == url:
            return number
    return None


def is_uri(value: object) -> bool:
    """An absolute URI (RFC 3986), as the data model's identifiers must be."""
    return isinstance(value, str) and len(value) <= 8192 and _URI.match(value) is not None


def is_date_time(value: object, *, version: int) -> bool:
    """An XML Schema dateTime ([1.1] §4.6); for 2.0 a dateTimeStamp, whose zone is required."""
    if not isinstance(value, str):
        return False
    match = _DATE_TIME.match(value)
    if match is None:
        return False
    if version == 2 and match.group("zone") is None:
        return False
    year, month, day = int(match.group("year")), int(match.group("month")), int(match.group("day"))
    if day > _DAYS_IN_MONTH[month - 1]:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return not (month == 2 and day == 29 and not leap)


def types_of(value: object) -> tuple[str, ...]:
    """A ``type`` value as a tuple of strings (``type-values`` reports any non-string)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()


def _version(document: Mapping[str, Any], version: int | None) -> int:
    if version is not None:
        if version not in BASE_CONTEXTS:
            raise ValueError(f"unknown data-model version {version!r}: use 1 or 2")
        return version
    found = document_version(document)
    if found is not None:
        return found
    # The first context is wrong (reported by context-first); judge the rest by the base
    # context that appears anywhere, else by 1.1.
    contexts = document.get("@context")
    if isinstance(contexts, list) and BASE_CONTEXTS[2] in contexts:
        return 2
    return 1


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _entries(value: object) -> list[tuple[str, object]]:
    """A value that is one item or an array of them, with each item's path suffix."""
    if isinstance(value, list):
        return [(f"[{index}]", item) for index, item in enumerate(value)]
    return [("", value)]


def _contexts(document: Mapping[str, Any], version: int, at: str, out: list[Violation]) -> None:
    where = _join(at, "@context")
    if "@context" not in document:
        out.append(Violation("context-present", where, "The document has no @context."))
        return
    contexts = document["@context"]
    if isinstance(contexts, str):
        contexts = [contexts]  # JSON-LD: a single value is an ordered set of one
    if not isinstance(contexts, list) or not contexts:
        out.append(Violation(
            "context-ordered-set", where,
            "@context must be an ordered set (a non-empty array) starting with the base context."))
        return
    base = BASE_CONTEXTS[version]
    if contexts[0] != base:
        out.append(Violation("context-first", f"{where}[0]", f"The first @context must be {base}."))
    for index, item in enumerate(contexts[1:], start=1):
        if not (is_uri(item) or isinstance(item, Mapping)):
            out.append(Violation(
                "context-items", f"{where}[{index}]",
                "Each further @context value must be a URI or a context object."))


def _id(node: Mapping[str, Any], at: str, out: list[Violation], *, required: bool = False,
        what: str = "id") -> None:
    where = _join(at, "id")
    if "id" not in node:
        if required:
            out.append(Violation("id-uri", where, f"The {what} must have an id, a URI."))
        return
    if not is_uri(node["id"]):
        out.append(Violation("id-uri", where, f"The {what}'s id must be a single URI."))


def _type(node: Mapping[str, Any], at: str, out: list[Violation], *, rule: str = "type-present",
          what: str) -> tuple[str, ...]:
    """Check that ``node`` has a ``type`` of one or more non-empty strings; return them."""
    where = _join(at, "type")
    if "type" not in node:
        out.append(Violation(rule, where, f"The {what} must have a type."))
        return ()
    value = node["type"]
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item and not any(c.isspace() for c in item)
                            for item in items):
        out.append(Violation(
            "type-values", where,
            f"The {what}'s type must be one or more terms or URIs (non-empty strings)."))
    return types_of(value)


def _typed_entries(document: Mapping[str, Any], name: str, rule: str, at: str,
                   out: list[Violation], *, id_required: bool) -> None:
    """``credentialStatus``, ``credentialSchema``, ``evidence``, ``termsOfUse``,
    ``refreshService``: one or more objects, each with a ``type`` (and an ``id`` where the
    section requires one)."""
    if name not in document:
        return
    value = document[name]
    base = _join(at, name)
    if isinstance(value, list) and not value:
        out.append(Violation(rule, base, f"{name} must hold one or more objects."))
        return
    for suffix, entry in _entries(value):
        where = base + suffix
        if not isinstance(entry, Mapping):
            out.append(Violation(rule, where, f"Each {name} entry must be an object."))
            continue
        if "type" not in entry:
            out.append(Violation(rule, _join(where, "type"), f"Each {name} entry needs a type."))
        else:
            _type(entry, where, out, rule=rule, what=f"{name} entry")
        if id_required and "id" not in entry:
            out.append(Violation(rule, _join(where, "id"), f"Each {name} entry must have an id."))
        else:
            _id(entry, where, out, what=f"{name} entry")


def _proofs(document: Mapping[str, Any], at: str, out: list[Violation]) -> tuple[str, ...]:
    """Each embedded proof must name its type; return the proof types found."""
    if "proof" not in document:
        return ()
    value = document["proof"]
    base = _join(at, "proof")
    found: list[str] = []
    if isinstance(value, list) and not value:
        out.append(Violation("proof-type", base, "proof must hold one or more proofs."))
    for suffix, entry in _entries(value):
        where = base + suffix
        if not isinstance(entry, Mapping):
            out.append(Violation("proof-type", where, "Each proof must be an object."))
            continue
        kind = entry.get("type")
        if not isinstance(kind, str) or not kind:
            out.append(Violation(
                "proof-type", _join(where, "type"), "Each proof must name its type (a string)."))
        else:
            found.append(kind)
    return tuple(found)


def _dates(document: Mapping[str, Any], version: int, at: str, out: list[Violation]) -> None:
    if version == 1:
        if "issuanceDate" not in document:
            out.append(Violation(
                "issuanceDate-present", _join(at, "issuanceDate"),
                "A VC DM 1.1 credential must have an issuanceDate."))
        names: Sequence[str] = ("issuanceDate", "expirationDate")
        form = "an XML Schema dateTime"
    else:
        names = ("validFrom", "validUntil")
        form = "an XML Schema dateTimeStamp (a date-time with a time zone)"
    for name in names:
        if name in document and not is_date_time(document[name], version=version):
            out.append(Violation("date-format", _join(at, name), f"{name} must be {form}."))


def _issuer(document: Mapping[str, Any], at: str, out: list[Violation]) -> None:
    where = _join(at, "issuer")
    if "issuer" not in document:
        out.append(Violation("issuer-present", where, "A credential must name its issuer."))
        return
    issuer = document["issuer"]
    if isinstance(issuer, Mapping):
        if not is_uri(issuer.get("id")):
            out.append(Violation(
                "issuer-uri", _join(where, "id"), "An issuer object must have an id, a URI."))
    elif not is_uri(issuer):
        out.append(Violation(
            "issuer-uri", where, "The issuer must be a URI or an object with an id."))


def _subjects(document: Mapping[str, Any], at: str, out: list[Violation]) -> None:
    where = _join(at, "credentialSubject")
    if "credentialSubject" not in document:
        out.append(Violation(
            "credentialSubject-present", where, "A credential must have a credentialSubject."))
        return
    value = document["credentialSubject"]
    if isinstance(value, list) and not value:
        out.append(Violation(
            "credentialSubject-objects", where, "credentialSubject must hold one or more objects."))
    for suffix, subject in _entries(value):
        if not isinstance(subject, Mapping) or not subject:
            out.append(Violation(
                "credentialSubject-objects", where + suffix,
                "Each credentialSubject must be an object holding claims about a subject."))
            continue
        _id(subject, where + suffix, out, what="credential subject")


def _credential(document: Mapping[str, Any], version: int, at: str, out: list[Violation], *,
                embedded: bool = False) -> None:
    # A credential embedded in a presentation may rely on the presentation's @context
    # (JSON-LD: the active context is inherited); one it states must still be right.
    if not embedded or "@context" in document:
        _contexts(document, version, at, out)
    _id(document, at, out, what="credential")
    types = _type(document, at, out, what="credential")
    if "type" in document and "VerifiableCredential" not in types:
        out.append(Violation(
            "type-includes-vc", _join(at, "type"),
            "A credential's type must include VerifiableCredential."))
    _issuer(document, at, out)
    _subjects(document, at, out)
    _dates(document, version, at, out)
    _typed_entries(document, "credentialStatus", "status-typed", at, out, id_required=version == 1)
    _typed_entries(document, "credentialSchema", "schema-typed", at, out, id_required=True)
    _typed_entries(document, "refreshService", "refresh-typed", at, out, id_required=version == 1)
    _typed_entries(document, "termsOfUse", "terms-typed", at, out, id_required=False)
    _typed_entries(document, "evidence", "evidence-typed", at, out, id_required=False)
    if version == 2:
        _validity_order(document, at, out)
        _related_resources(document, at, out)
        _names(document, at, out)
        issuer = document.get("issuer")
        if isinstance(issuer, Mapping):
            _names(issuer, _join(at, "issuer"), out)
    proofs = _proofs(document, at, out)
    if ZKP_PROOF_TYPES.intersection(proofs) and "credentialSchema" not in document:
        out.append(Violation(
            "zkp-credentialSchema", _join(at, "credentialSchema"),
            "A credential with a zero-knowledge proof must name its credential definition in "
            "credentialSchema."))


def _moment(value: object) -> datetime | None:
    """A dateTimeStamp as an aware datetime, or None when Python cannot hold it."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None


def _validity_order(document: Mapping[str, Any], at: str, out: list[Violation]) -> None:
    """[2.0] §4.9: validFrom MUST be the same as or earlier than validUntil."""
    start, end = document.get("validFrom"), document.get("validUntil")
    if not (is_date_time(start, version=2) and is_date_time(end, version=2)):
        return  # absent, or already a date-format violation
    first, last = _moment(start), _moment(end)
    if first is not None and last is not None and first > last:
        out.append(Violation("validity-order", _join(at, "validUntil"),
                             "validUntil must not be earlier than validFrom."))


def _related_resources(document: Mapping[str, Any], at: str, out: list[Violation]) -> None:
    """[2.0] §5.3: each relatedResource has an id and a digestSRI or digestMultibase."""
    if "relatedResource" not in document:
        return
    base = _join(at, "relatedResource")
    for suffix, entry in _entries(document["relatedResource"]):
        where = base + suffix
        if not isinstance(entry, Mapping) or not is_uri(entry.get("id")) or not (
                isinstance(entry.get("digestSRI"), str)
                or isinstance(entry.get("digestMultibase"), str)):
            out.append(Violation(
                "related-resource", where,
                "Each relatedResource must have an id (a URL) and a digestSRI or "
                "digestMultibase."))


_LANGUAGE_VALUE_MEMBERS = frozenset({"@value", "@language", "@direction"})


def _names(node: Mapping[str, Any], at: str, out: list[Violation]) -> None:
    """[2.0] §4.6: name and description are strings or language value objects (one or
    more), each with a string @value."""
    for name in ("name", "description"):
        if name not in node:
            continue
        for suffix, value in _entries(node[name]):
            if isinstance(value, str):
                continue
            if (isinstance(value, Mapping) and isinstance(value.get("@value"), str)
                    and set(value) <= _LANGUAGE_VALUE_MEMBERS
                    and all(isinstance(value[key], str) for key in value)):
                continue
            out.append(Violation(
                "name-description", _join(at, name) + suffix,
                f"{name} must be a string or a language value object (@value, @language, "
                "@direction)."))


def _holder(document: Mapping[str, Any], version: int, at: str, out: list[Violation]) -> None:
    if "holder" not in document:
        return
    holder = document["holder"]
    where = _join(at, "holder")
    if version == 2 and isinstance(holder, Mapping):
        if not is_uri(holder.get("id")):
            out.append(Violation("holder-uri", _join(where, "id"),
                                 "A holder object must have an id, a URL."))
    elif not is_uri(holder):
        out.append(Violation("holder-uri", where, "The holder must be a URI."))


def _enveloped(entry: Mapping[str, Any], where: str, out: list[Violation]) -> None:
    """[2.0] §4.13.1: an EnvelopedVerifiableCredential carries the credential in a data: URL."""
    _contexts(entry, 2, where, out)
    value = entry.get("id")
    if not (isinstance(value, str) and value.startswith("data:") and "," in value):
        out.append(Violation(
            "vp-credential", _join(where, "id"),
            "An EnvelopedVerifiableCredential's id must be a data: URL holding the credential."))


def _presentation(document: Mapping[str, Any], version: int, at: str,
                  out: list[Violation]) -> None:
    _contexts(document, version, at, out)
    _id(document, at, out, what="presentation")
    types = _type(document, at, out, what="presentation")
    if "type" in document and "VerifiablePresentation" not in types:
        out.append(Violation(
            "type-includes-vp", _join(at, "type"),
            "A presentation's type must include VerifiablePresentation."))
    _holder(document, version, at, out)
    _typed_entries(document, "termsOfUse", "terms-typed", at, out, id_required=False)
    proofs = _proofs(document, at, out)
    base = _join(at, "verifiableCredential")
    if "verifiableCredential" not in document:
        if ZKP_PROOF_TYPES.intersection(proofs):
            out.append(Violation(
                "zkp-verifiableCredential", base,
                "A presentation with a zero-knowledge proof must present the credentials it "
                "derives from."))
        return
    value = document["verifiableCredential"]
    if isinstance(value, list) and not value:
        return
    for suffix, entry in _entries(value):
        where = base + suffix
        if isinstance(entry, str):
            if version == 1 and _COMPACT_JWT.match(entry):
                continue
            tail = " or a JWT." if version == 1 else " (a JWT: an EnvelopedVerifiableCredential)."
            out.append(Violation(
                "vp-credential", where, "A presented credential must be an object" + tail))
        elif isinstance(entry, Mapping):
            if version == 2 and "EnvelopedVerifiableCredential" in types_of(entry.get("type")):
                _enveloped(entry, where, out)
            else:
                _credential(entry, version, where, out, embedded=True)
        else:
            out.append(Violation("vp-credential", where,
                                 "A presented credential must be a credential object."))
