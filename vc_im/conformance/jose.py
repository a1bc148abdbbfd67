"""The VC-JOSE-COSE test suite's ``issue`` and ``verify``, for ``vc+jwt`` and ``vp+jwt``.

The suite (github.com/w3c/vc-jose-cose-test-suite) runs::

    ADAPTER issue|verify --input FILE --key VERIFICATION_METHOD.json
            --feature credential_jose|presentation_jose --output OUT.json

and reads ``{"result": "success"|"failure"|"indeterminate"|"error", "data": ...}`` from
OUT.json. The key file is a verification method (a controlled identifier document's
``JsonWebKey``) holding ``publicKeyJwk`` and, to issue, ``secretKeyJwk``.

What is checked (VC-JOSE-COSE §3.1.1, §3.1.2, §3.3; VC DM 2.0 §4.13):

* issue: the document keeps the data model (2.0) for its feature and expands losslessly
  when its contexts are known (a presentation's credentials are enveloped ones, their
  tokens left to the verifier); it becomes the JWS payload as it is, under ``typ``
  ``vc+jwt`` / ``vp+jwt``, ``cty`` ``vc`` / ``vp`` and ``kid`` naming the verification
  method (an absolute URL when the method's ``id`` is one);
* verify: a compact JWS whose ``typ`` is the feature's media type, signed by the key, with
  no ``vc`` or ``vp`` claim, whose payload keeps the data model; ``iss``, when present,
  equals the issuer (or, for a presentation, the holder); a presentation's credentials are
  ``EnvelopedVerifiableCredential`` objects whose ``data:`` URL holds a secured credential:
  a ``vc+jwt`` must be a signed JWS that keeps the data model (the suite gives the
  presenter's key only, so its signature is checked for its form, not verified); SD-JWT
  and COSE forms are accepted as secured but not read, and the result says so.

No validity-period check applies (``iat``, ``nbf``, ``exp``, ``validFrom``,
``validUntil``): the suite's fixtures are past their dates.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vc_im import _jose, keys, vcdm
from vc_im.conformance.documents import (
    DocumentRefused,
    check_document,
    is_presentation,
    read_document,
)
from vc_im.errors import KeyFileError, VcImError


class Feature(StrEnum):
    """The suite's features this adapter implements (SD-JWT and COSE are not among them)."""

    CREDENTIAL_JOSE = "credential_jose"
    PRESENTATION_JOSE = "presentation_jose"


class Result(StrEnum):
    """The suite's four outcomes."""

    SUCCESS = "success"
    FAILURE = "failure"
    INDETERMINATE = "indeterminate"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the adapter writes to ``--output``: a result and its data (a token or a reason)."""

    result: Result
    data: str

    def to_json(self) -> dict[str, str]:
        """The suite's result object."""
        return {"result": self.result.value, "data": self.data}


@dataclass(frozen=True, slots=True)
class VerificationMethod:
    """A verification method from the key file: its ``id`` and its key (private to issue)."""

    id: str | None
    key: keys.Key


#: Members a key file may hold; anything else is refused (an allow-list, not a guess).
_METHOD_MEMBERS = frozenset({"id", "type", "controller", "publicKeyJwk", "secretKeyJwk"})
_MEDIA_TYPES = {Feature.CREDENTIAL_JOSE: "vc+jwt", Feature.PRESENTATION_JOSE: "vp+jwt"}
_CONTENT_TYPES = {Feature.CREDENTIAL_JOSE: "vc", Feature.PRESENTATION_JOSE: "vp"}
#: The media types of secured credentials (VC-JOSE-COSE §3, §6.1); vc_im reads vc+jwt.
_SECURED_TYPES = frozenset({"application/vc+jwt", "application/vc+sd-jwt",
                            "application/vc+cose"})


def read_verification_method(data: bytes, *, private: bool) -> VerificationMethod:
    """The verification method in a key file; ``private`` asks for its ``secretKeyJwk``."""
    method = read_document(data, what="key file")
    unknown = sorted(set(method) - _METHOD_MEMBERS)
    if unknown:
        raise KeyFileError(f"the key file has unknown members {unknown}; a verification "
                           f"method holds {sorted(_METHOD_MEMBERS)}.")
    name = "secretKeyJwk" if private else "publicKeyJwk"
    jwk = method.get(name)
    if not isinstance(jwk, dict):
        raise KeyFileError(f"the key file has no {name} (a JWK object).")
    key = keys.key_from_jwk(jwk, require="private" if private else "public")
    if private:
        public = method.get("publicKeyJwk")
        if isinstance(public, dict) and keys.key_from_jwk(public, require="public").public_jwk \
                != key.public().public_jwk:
            raise KeyFileError("the key file's secretKeyJwk and publicKeyJwk are not one key.")
    ident = method.get("id")
    if ident is not None and not isinstance(ident, str):
        raise KeyFileError("the key file's id is not a string.")
    return VerificationMethod(ident, key)


def issue(document: Mapping[str, Any], method: VerificationMethod, feature: Feature) -> Outcome:
    """Secure ``document`` as a ``vc+jwt`` or ``vp+jwt`` with the method's key."""
    presentation = feature is Feature.PRESENTATION_JOSE
    try:
        if presentation != is_presentation(document):
            raise DocumentRefused(f"the document's type does not fit the feature {feature}.")
        check_document(document, presentation=presentation, version=2)
        _check_no_jwt_envelope_claims(document)
        if presentation:
            _enveloped_tokens(document)  # their content is the verifier's to judge
    except VcImError as exc:
        return Outcome(Result.FAILURE, exc.message)
    kid = method.id if vcdm.is_uri(method.id) else method.key.kid
    header = {"typ": _MEDIA_TYPES[feature], "cty": _CONTENT_TYPES[feature], "kid": kid}
    return Outcome(Result.SUCCESS, _jose.sign(header, document, method.key))


def verify(token: str, method: VerificationMethod, feature: Feature) -> Outcome:
    """Verify a ``vc+jwt`` or ``vp+jwt`` with the method's key; the reason on failure."""
    try:
        payload = _verified_payload(token.strip(), method.key, feature)
        presentation = feature is Feature.PRESENTATION_JOSE
        if presentation != is_presentation(payload):
            raise DocumentRefused(f"the payload's type does not fit the feature {feature}.")
        check_document(payload, presentation=presentation, version=2)
        _check_iss(payload, "holder" if presentation else "issuer")
        unread = 0
        if presentation:
            for where, media_type, inner in _enveloped_tokens(payload):
                if media_type == "application/vc+jwt":
                    _check_enveloped(where, inner)
                else:
                    unread += 1
    except VcImError as exc:
        return Outcome(Result.FAILURE, exc.message)
    note = (f"; {unread} enveloped credential(s) in SD-JWT or COSE form, which vc-im does "
            "not read, were not checked" if unread else "")
    return Outcome(Result.SUCCESS, "verified" + note)


def _verified_payload(token: str, key: keys.Key, feature: Feature) -> dict[str, Any]:
    unverified = _jose.peek_unverified(token)
    typ = unverified.header.get("typ")
    if typ != _MEDIA_TYPES[feature]:
        raise DocumentRefused(f"the JOSE header's typ is {typ!r}, not {_MEDIA_TYPES[feature]!r} "
                              "(VC-JOSE-COSE §3.1.1).")
    cty = unverified.header.get("cty")
    if cty is not None and cty != _CONTENT_TYPES[feature]:
        raise DocumentRefused(f"the JOSE header's cty is {cty!r}, not "
                              f"{_CONTENT_TYPES[feature]!r}.")
    if not _jose.verify_signature(unverified, key):
        raise DocumentRefused("the signature does not verify with the verification method's key.")
    payload = dict(unverified.payload)
    _check_no_jwt_envelope_claims(payload)
    return payload


def _check_no_jwt_envelope_claims(document: Mapping[str, Any]) -> None:
    """VC-JOSE-COSE §3.1.1: "The JWT Claim Names vc and vp MUST NOT be present"."""
    found = sorted({"vc", "vp"} & set(document))
    if found:
        raise DocumentRefused(f"the claims {found} must not be present in a VC 2.0 JWT "
                              "(VC-JOSE-COSE §3.1.1).")


def _check_iss(payload: Mapping[str, Any], name: str) -> None:
    """VC-JOSE-COSE §3.3: ``iss``, when present, matches ``issuer`` (or ``issuer.id``)."""
    if "iss" not in payload:
        return
    value = payload.get(name)
    expected = value.get("id") if isinstance(value, Mapping) else value
    if payload["iss"] != expected:
        raise DocumentRefused(f"iss does not match the {name} (VC-JOSE-COSE §3.3).")


def _enveloped_tokens(presentation: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """VC DM 2.0 §4.13 and VC-JOSE-COSE §3.1.2: each presented credential is an
    ``EnvelopedVerifiableCredential`` whose ``data:`` URL holds a secured credential;
    (path, media type, content) of each."""
    value = presentation.get("verifiableCredential", [])
    items = value if isinstance(value, list) else [value]
    found: list[tuple[str, str, str]] = []
    for index, item in enumerate(items):
        where = f"verifiableCredential[{index}]"
        types = vcdm.types_of(item.get("type")) if isinstance(item, Mapping) else ()
        if "EnvelopedVerifiableCredential" not in types:
            raise DocumentRefused(f"{where} is not an EnvelopedVerifiableCredential: a "
                                  "credential in a presentation is secured on its own.")
        ident = item.get("id") if isinstance(item, Mapping) else None
        header, comma, content = ident.partition(",") if isinstance(ident, str) else ("", "", "")
        media_type = header.removeprefix("data:").split(";")[0]
        if not header.startswith("data:") or not comma or media_type not in _SECURED_TYPES:
            raise DocumentRefused(f"{where}.id is not a data: URL of a secured credential "
                                  f"({', '.join(sorted(_SECURED_TYPES))}).")
        found.append((where, media_type, urllib.parse.unquote(content)))
    return found


def _check_enveloped(where: str, token: str) -> None:
    """An enveloped credential: a signed ``vc+jwt`` whose payload keeps the data model."""
    try:
        inner = _jose.peek_unverified(token)
    except VcImError as exc:
        raise DocumentRefused(f"{where} does not hold a compact JWS: {exc.message}") from exc
    if inner.alg is None or inner.alg not in _jose.VERIFY_ALGORITHMS:
        raise DocumentRefused(f"{where} is not signed with an algorithm vc_im verifies.")
    typ = inner.header.get("typ")
    if typ is not None and typ != "vc+jwt":
        raise DocumentRefused(f"{where} has typ {typ!r}, not 'vc+jwt'.")
    _check_no_jwt_envelope_claims(inner.payload)
    try:
        check_document(inner.payload, presentation=False, version=2)
    except DocumentRefused as exc:
        raise DocumentRefused(f"{where}: {exc.message}") from exc
