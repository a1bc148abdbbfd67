"""Status entries in credentials, and the signed status list credentials they point to.

Two encodings, one per data model, each exactly per its specification:

* ``vc1`` (VC Data Model 1.1): StatusList2021. The entry is a ``StatusList2021Entry``;
  the list is a ``StatusList2021Credential`` whose subject is a ``StatusList2021``, in the
  context ``https://w3id.org/vc/status-list/2021/v1``, with a base64url ``encodedList``.
* ``vc2`` (VC Data Model 2.0): W3C Bitstring Status List v1.0. The entry is a
  ``BitstringStatusListEntry``; the list is a ``BitstringStatusListCredential`` whose
  subject is a ``BitstringStatusList``; its terms are in the v2 context and its
  ``encodedList`` is Multibase (``u`` + base64url).

List credentials are JWTs signed by the credential's issuer. :func:`verify_list` applies
the built-in *list profile*: the same strict header, signature, time, context, JSON-LD and
schema checks as a credential, but with the list's own types, and with the issuer and keys
of the credential being checked in place of the IM identifier and ``domains`` rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Literal

from vc_im import _jose as jose
from vc_im._linked import STATUS_LIST_2021_CONTEXT, V1_CONTEXT, V2_CONTEXT, VCIM_CONTEXT
from vc_im.errors import TokenError
from vc_im.keys import Key
from vc_im.model import Encoding
from vc_im.status.bitstring import MIN_ENTRIES, StatusUnavailable, decode, encode
from vc_im.times import TimeRules, rfc3339_to_seconds, seconds_to_rfc3339

__all__ = ["LIST_TYPES", "ListStatus", "Purpose", "StatusEntry", "StatusList",
           "entries_of", "list_contexts", "sign_list", "verify_list"]


class Purpose(StrEnum):
    """What a set bit means: revoked for good, or suspended until reinstated."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"


ListStatus = Literal["revoked", "suspended"]

_ENTRY_TYPE: Final = {Encoding.VC1: "StatusList2021Entry",
                      Encoding.VC2: "BitstringStatusListEntry"}
_LIST_TYPE: Final = {Encoding.VC1: "StatusList2021Credential",
                     Encoding.VC2: "BitstringStatusListCredential"}
_SUBJECT_TYPE: Final = {Encoding.VC1: "StatusList2021", Encoding.VC2: "BitstringStatusList"}
_SL = "https://w3id.org/vc/status-list#"
_BSL = "https://www.w3.org/ns/credentials/status#"
#: Expanded IRIs of the types a list credential may carry.
LIST_TYPES: Final = frozenset({
    "https://www.w3.org/2018/credentials#VerifiableCredential",
    f"{_SL}StatusList2021Credential", f"{_SL}StatusList2021",
    f"{_BSL}BitstringStatusListCredential", f"{_BSL}BitstringStatusList",
})
_LIST_HEADER: Final = frozenset({"alg", "typ", "kid"})


def list_contexts(encoding: Encoding) -> tuple[str, ...]:
    """The exact ``@context`` of a list credential in ``encoding``.

    The ``vc2`` list carries vc_im's context too, for the JWT claims (``jti``) that the
    v2 context leaves undefined, exactly as a ``vc2`` credential does.
    """
    return (V1_CONTEXT, STATUS_LIST_2021_CONTEXT) if encoding is Encoding.VC1 else (
        V2_CONTEXT, VCIM_CONTEXT)


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """One ``credentialStatus`` entry: which bit of which list, for what purpose."""

    list_url: str
    index: int
    purpose: Purpose
    encoding: Encoding

    def to_json(self) -> dict[str, Any]:
        """The entry as the credential carries it (the index is a decimal string)."""
        return {"id": f"{self.list_url}#{self.index}", "type": _ENTRY_TYPE[self.encoding],
                "statusPurpose": self.purpose.value, "statusListIndex": str(self.index),
                "statusListCredential": self.list_url}


def entries_of(model: Mapping[str, Any], encoding: Encoding) -> tuple[StatusEntry, ...]:
    """The status entries of a schema-valid credential; ValueError names a purpose that
    appears twice (one entry per purpose)."""
    raw = model.get("credentialStatus")
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    entries = tuple(StatusEntry(item["statusListCredential"], int(item["statusListIndex"]),
                                Purpose(item["statusPurpose"]), encoding) for item in items)
    purposes = [entry.purpose for entry in entries]
    if len(set(purposes)) != len(purposes):
        raise ValueError(f"credentialStatus has two {purposes[0].value} entries; a credential "
                         "carries at most one entry per purpose")
    return entries


@dataclass(frozen=True, slots=True)
class StatusList:
    """A verified status list: its id (the list credential's URL), purpose and bits."""

    id: str
    issuer: str
    purpose: Purpose
    encoding: Encoding
    bits: bytes = b""
    valid_until: int = 0

    @property
    def size(self) -> int:
        """How many entries the list holds."""
        return len(self.bits) * 8


def list_payload(*, url: str, issuer: str, purpose: Purpose, encoding: Encoding, bits: bytes,
                 now: int, valid_for: int) -> dict[str, Any]:
    """The JWT payload of a list credential (its id is its URL, its subject ``URL#list``)."""
    subject = {"id": f"{url}#list", "type": _SUBJECT_TYPE[encoding],
               "statusPurpose": purpose.value,
               "encodedList": encode(bits, multibase=encoding is Encoding.VC2)}
    types = ["VerifiableCredential", _LIST_TYPE[encoding]]
    if encoding is Encoding.VC1:
        return {"iss": issuer, "jti": url, "nbf": now, "iat": now, "exp": now + valid_for,
                "vc": {"@context": list(list_contexts(encoding)), "id": url, "type": types,
                       "issuer": issuer, "issuanceDate": seconds_to_rfc3339(now),
                       "expirationDate": seconds_to_rfc3339(now + valid_for),
                       "credentialSubject": subject}}
    return {"@context": list(list_contexts(encoding)), "id": url, "type": types,
            "issuer": issuer, "validFrom": seconds_to_rfc3339(now),
            "validUntil": seconds_to_rfc3339(now + valid_for), "credentialSubject": subject,
            "iss": issuer, "jti": url, "iat": now, "exp": now + valid_for}


def sign_list(key: Key, **fields: Any) -> str:
    """Sign the list credential :func:`list_payload` builds from ``fields``."""
    encoding: Encoding = fields["encoding"]
    header = {"alg": key.alg, "typ": encoding.typ, "kid": key.kid}
    return jose.sign(header, list_payload(**fields), key)


def peek_list_id(token: str | bytes) -> str | None:
    """The id an unverified list credential claims (to match it with an entry), or None."""
    try:
        payload = jose.peek_unverified(token).payload
    except TokenError:
        return None
    jti = payload.get("jti")
    return jti if isinstance(jti, str) else None


def verify_list(token: str | bytes, *, url: str, issuer: str, keys: Sequence[Key],
                purpose: Purpose, encoding: Encoding, now: int,
                leeway: int = 60) -> StatusList:
    """Verify a list credential for an entry under the list profile; never trust it otherwise.

    Raises :class:`StatusUnavailable` naming what is wrong: unreadable, expired, from
    another issuer, of the wrong purpose or format, shorter than the minimum.
    """
    try:
        unverified = jose.peek_unverified(token)
    except TokenError as exc:
        raise StatusUnavailable(f"the list {url} is unreadable: {exc.message}") from exc
    header, payload = unverified.header, unverified.payload
    if set(header) - _LIST_HEADER or header.get("typ", "JWT") != encoding.typ:
        raise StatusUnavailable(f"the list {url} is unreadable: its header must hold only alg, "
                                f"typ {encoding.typ} and kid")
    if payload.get("iss") != issuer:
        raise StatusUnavailable(f"the list {url} is from another issuer "
                                f"({payload.get('iss')!r}, not {issuer!r})")
    kid = header.get("kid")
    candidates = [key for key in keys if (kid is None or key.kid == kid)
                  and isinstance(unverified.alg, str) and key.accepts(unverified.alg)
                  and unverified.alg in jose.VERIFY_ALGORITHMS]
    if not any(jose.verify_signature(unverified, key) for key in candidates):
        raise StatusUnavailable(f"the list {url} is not signed by a trusted key of {issuer} "
                                "(from another issuer)")
    _check_list_time(payload, url, now, leeway)
    model = _list_model(payload, encoding, url)
    _check_list_linked(payload, model, encoding, url)
    subject = model["credentialSubject"]
    if subject["statusPurpose"] != purpose.value:
        raise StatusUnavailable(f"the list {url} is a {subject['statusPurpose']} list, and the "
                                f"entry's purpose is {purpose.value} (wrong purpose)")
    bits = decode(subject["encodedList"], multibase=encoding is Encoding.VC2)
    if len(bits) * 8 < MIN_ENTRIES:
        raise StatusUnavailable(f"the list {url} holds {len(bits) * 8} entries, fewer than the "
                                f"minimum {MIN_ENTRIES} (too short)")
    return StatusList(url, issuer, purpose, encoding, bits, int(payload["exp"]))


def _check_list_time(payload: Mapping[str, Any], url: str, now: int, leeway: int) -> None:
    rules = TimeRules(now, leeway)
    exp, nbf = payload.get("exp"), payload.get("nbf", payload.get("iat"))
    if not isinstance(exp, int) or (nbf is not None and not _is_int(nbf)) or not _is_int(exp):
        raise StatusUnavailable(f"the list {url} is unreadable: exp (and nbf, iat) must be "
                                "NumericDates")
    if rules.ended(exp):
        raise StatusUnavailable(f"the list {url} expired at {seconds_to_rfc3339(exp)}")
    if nbf is not None and rules.not_yet(nbf):
        raise StatusUnavailable(f"the list {url} is valid only from {seconds_to_rfc3339(nbf)} "
                                "(not yet valid)")
    until = payload.get("validUntil")
    if until is not None:
        seconds = rfc3339_to_seconds(until) if isinstance(until, str) else None
        if seconds is None or rules.ended(seconds):
            raise StatusUnavailable(f"the list {url} expired (validUntil {until!r})")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _list_model(payload: Mapping[str, Any], encoding: Encoding, url: str) -> dict[str, Any]:
    from vc_im.model import data_model

    if encoding is Encoding.VC1 and not isinstance(payload.get("vc"), dict):
        raise StatusUnavailable(f"the list {url} is unreadable: it has no vc claim")
    model = data_model(payload, encoding)
    if payload.get("jti") != url or model.get("id") != url:
        raise StatusUnavailable(f"the list credential's id is {payload.get('jti')!r}, not the "
                                f"entry's list {url} (unreadable)")
    if model.get("type") != ["VerifiableCredential", _LIST_TYPE[encoding]]:
        raise StatusUnavailable(f"the list {url} is not a {_LIST_TYPE[encoding]} (wrong format)")
    return model


def _check_list_linked(payload: Mapping[str, Any], model: Mapping[str, Any],
                       encoding: Encoding, url: str) -> None:
    """Context, JSON-LD expansion and schema, as strictly as for a credential."""
    from vc_im import _linked as linked

    name: Literal["status-list-vc1", "status-list-vc2"] = (
        "status-list-vc1" if encoding is Encoding.VC1 else "status-list-vc2")
    problems = linked.validate(payload, name)
    if problems:
        raise StatusUnavailable(f"the list {url} is unreadable: {problems[0].message}")
    try:
        linked.check_context(model.get("@context"), expected=[list_contexts(encoding)])
        linked.expand_checked(model, allowed_types=LIST_TYPES)
    except TokenError as exc:
        raise StatusUnavailable(f"the list {url} is unreadable: {exc.message}") from exc

