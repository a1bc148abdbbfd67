"""The VC Data Model 1.1 test suite's generator: documents and VC 1.1 JWTs, as it asks.

The suite (github.com/w3c/vc-test-suite) runs one program for credentials and
presentations::

    GENERATOR [--jwt B64 --jwt-aud AUD] [--jwt-no-jws | --jwt-presentation | --jwt-decode] FILE

* without ``--jwt``: FILE must keep the data model as a credential or a presentation
  (chosen by its ``type``) and carry an embedded ``proof`` with a ``type``; it is printed;
* with ``--jwt``: FILE is encoded as a VC 1.1 JWT ([1.1] §6.3.1), signed with the suite's
  RS256 key (or its ES256K key) from B64, or unsigned with ``--jwt-no-jws``;
* with ``--jwt-decode``: FILE is a JWT, decoded per [1.1] §6.3.1 "JWT decoding" (no
  signature, time or context check: the suite gives no key) and printed as a document.

No validity-period check applies anywhere: the suite's documents are long past their dates.
``alg: none`` tokens are written here and nowhere else in vc_im, because the suite's
``--jwt-no-jws`` case asks for exactly that (and then the document must carry its proof).
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from vc_im import _jose, keys, vcdm
from vc_im.conformance.documents import (
    DocumentRefused,
    check_document,
    is_presentation,
    refuse,
)
from vc_im.errors import InputError, KeyFileError, TokenError
from vc_im.times import MAX_NUMERIC_DATE, numeric_date_problem, seconds_to_rfc3339

#: The suite's spelling of secp256k1 (from an early JOSE draft), accepted here only.
SUITE_SECP256K1 = "P-256K"
#: The largest B64 value of ``--jwt`` (two private JWKs, an RSA one among them).
MAX_KEYS_OPTION = 65536


def suite_key(option: str) -> keys.Key:
    """The signing key in ``--jwt B64``: its ``rs256PrivateKeyJwk``, else its
    ``es256kPrivateKeyJwk`` (whose ``crv`` may be the suite's ``P-256K``)."""
    if len(option) > MAX_KEYS_OPTION:
        raise InputError(f"the --jwt value is larger than {MAX_KEYS_OPTION} characters.")
    try:
        raw = base64.b64decode(option.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError("the --jwt value is not base64.") from exc
    try:
        value = _jose.loads(raw, what="--jwt keys", max_bytes=MAX_KEYS_OPTION)
    except TokenError as exc:
        raise InputError(exc.message) from exc
    if not isinstance(value, dict):
        raise InputError("the --jwt value is not a JSON object of JWKs.")
    unknown = sorted(set(value) - {"es256kPrivateKeyJwk", "rs256PrivateKeyJwk"})
    if unknown:
        raise InputError(f"the --jwt object has unknown members {unknown}; it holds "
                         "es256kPrivateKeyJwk and rs256PrivateKeyJwk.")
    for name in ("rs256PrivateKeyJwk", "es256kPrivateKeyJwk"):
        jwk = value.get(name)
        if jwk is None:
            continue
        if not isinstance(jwk, dict):
            raise KeyFileError(f"{name} is not a JWK (a JSON object).")
        if jwk.get("crv") == SUITE_SECP256K1:
            jwk = {**jwk, "crv": "secp256k1"}
        key = keys.key_from_jwk(jwk, require="private")
        expected = "RS256" if name.startswith("rs256") else "ES256K"
        if key.alg != expected:
            raise KeyFileError(f"{name} is a {key.alg} key, not an {expected} key.")
        return key
    raise InputError("the --jwt object holds neither rs256PrivateKeyJwk nor es256kPrivateKeyJwk.")


def generate(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The document itself, once it keeps the data model and carries a typed proof."""
    presentation = is_presentation(document)
    _require_proof(document, presentation=presentation)
    check_document(document, presentation=presentation)
    return document


def encode_jwt(document: Mapping[str, Any], key: keys.Key | None, *, presentation: bool,
               audience: str | None = None) -> str:
    """``document`` as a VC 1.1 JWT ([1.1] §6.3.1), signed with ``key`` or, when ``key`` is
    None, unsigned (``alg: none``; the document must then carry its own proof)."""
    if presentation and not is_presentation(document):
        raise DocumentRefused("--jwt-presentation signs a presentation, and the document's "
                              "type has no VerifiablePresentation.")
    if not presentation and is_presentation(document):
        raise DocumentRefused("the document is a presentation: sign it with "
                              "--jwt-presentation.")
    if key is None:
        _require_proof(document, presentation=presentation)
    check_document(document, presentation=presentation, version=1)
    claims = (_presentation_claims(document, audience) if presentation
              else _credential_claims(document))
    if key is None:
        header = _jose.b64url_encode(_jose.dumps_compact({"alg": "none", "typ": "JWT"}))
        return f"{header}.{_jose.b64url_encode(_jose.dumps_compact(claims))}."
    return _jose.sign({"typ": "JWT", "kid": key.kid}, claims, key)


def decode_jwt(token: str) -> dict[str, Any]:
    """The document a VC 1.1 JWT stands for ([1.1] §6.3.1 "JWT decoding"), signature unread.

    ``vc`` or ``vp`` is copied, then ``exp`` sets ``expirationDate`` (of the credential, not
    of its subject: the erratum w3c/vc-jwt#7), ``iss`` sets ``issuer`` (or a presentation's
    ``holder``), ``nbf`` sets ``issuanceDate``, ``sub`` sets ``credentialSubject.id`` and
    ``jti`` sets ``id``.
    """
    payload = _payload(token)
    has_vc, has_vp = "vc" in payload, "vp" in payload
    if has_vc == has_vp:
        raise DocumentRefused("a VC 1.1 JWT carries exactly one of the claims vc and vp.")
    name = "vc" if has_vc else "vp"
    body = payload[name]
    if not isinstance(body, dict):
        raise DocumentRefused(f"the {name} claim is not a JSON object.")
    document: dict[str, Any] = copy.deepcopy(body)
    if "jti" in payload:
        document["id"] = _string_claim(payload, "jti")
    if has_vp:
        if "iss" in payload:
            document["holder"] = _string_claim(payload, "iss")
        return document
    if "iss" in payload:
        document["issuer"] = _string_claim(payload, "iss")
    for claim, prop in (("nbf", "issuanceDate"), ("exp", "expirationDate")):
        if claim in payload:
            document[prop] = _date_claim(payload, claim)
    if "sub" in payload:
        subject = document.get("credentialSubject", {})
        if isinstance(subject, list) and len(subject) == 1:
            subject = subject[0]
        if not isinstance(subject, dict):
            raise DocumentRefused("sub names one subject, but credentialSubject is not one object.")
        document["credentialSubject"] = {**subject, "id": _string_claim(payload, "sub")}
    return document


def _require_proof(document: Mapping[str, Any], *, presentation: bool) -> None:
    """[1.1] §4.7: a document secured by an embedded proof carries one, with its type."""
    if "proof" not in document:
        what = "presentation" if presentation else "credential"
        refuse((vcdm.Violation("proof-type", "proof",
                               f"The {what} carries no proof; an embedded proof is required "
                               "here."),))


def _credential_claims(document: Mapping[str, Any]) -> dict[str, Any]:
    """[1.1] §6.3.1 "JWT encoding" for a credential: each claim only where its property is."""
    claims: dict[str, Any] = {}
    issuer = document.get("issuer")
    claims["iss"] = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    subject = document.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        claims["sub"] = subject["id"]  # a JWT names one subject at most
    if "issuanceDate" in document:
        claims["nbf"] = _numeric_date(document["issuanceDate"], "issuanceDate")
    if "expirationDate" in document:
        claims["exp"] = _numeric_date(document["expirationDate"], "expirationDate")
    if "id" in document:
        claims["jti"] = document["id"]
    claims["vc"] = dict(document)
    return claims


def _presentation_claims(document: Mapping[str, Any], audience: str | None) -> dict[str, Any]:
    """[1.1] §6.3.1 for a presentation: ``iss`` only when it names a holder."""
    claims: dict[str, Any] = {}
    holder = document.get("holder")
    if holder is not None:
        claims["iss"] = holder.get("id") if isinstance(holder, Mapping) else holder
    if "id" in document:
        claims["jti"] = document["id"]
    if audience is not None:
        claims["aud"] = audience
    claims["vp"] = dict(document)
    return claims


def _numeric_date(value: object, name: str) -> int:
    """An XML Schema dateTime (already checked by the data model) as a NumericDate; a time
    without a zone is read as UTC."""
    assert isinstance(value, str)
    text = value.upper().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise DocumentRefused(f"{name} {value!r} is not a date-time vc_im can convert.") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int(moment.timestamp())
    if not 0 <= seconds <= MAX_NUMERIC_DATE:
        raise DocumentRefused(f"{name} {value!r} is outside the NumericDates a JWT can carry.")
    return seconds


def _payload(token: str) -> dict[str, Any]:
    """A JWT's payload, parsed strictly; the signature may be absent (``alg: none``)."""
    text = token.strip()
    if len(text) > _jose.MAX_TOKEN_BYTES:
        raise TokenError(f"the token is larger than {_jose.MAX_TOKEN_BYTES} bytes.",
                         code="too_large")
    segments = text.split(".")
    if len(segments) != 3 or not segments[0] or not segments[1]:
        raise TokenError("a JWT has three parts separated by '.', with a header and a payload.")
    header = _jose.loads(_jose.b64url_decode(segments[0], what="JOSE header"),
                         what="JOSE header")
    payload = _jose.loads(_jose.b64url_decode(segments[1], what="payload"), what="payload")
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise TokenError("the JWT's header and payload must be JSON objects.")
    if segments[2]:
        _jose.b64url_decode(segments[2], what="signature")
    return payload


def _string_claim(payload: Mapping[str, Any], claim: str) -> str:
    value = payload[claim]
    if not isinstance(value, str):
        raise DocumentRefused(f"the {claim} claim is not a string.")
    return value


def _date_claim(payload: Mapping[str, Any], claim: str) -> str:
    problem = numeric_date_problem(claim, payload[claim])
    if problem is not None:
        raise DocumentRefused(f"{problem}.")
    return seconds_to_rfc3339(payload[claim])
