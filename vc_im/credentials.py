"""Credentials: issue ImDeviceCredentials and ImUserCredentials, and verify them.

:func:`verify_credential` reports every check of one credential (the steps live in the
private ``vc_im._checks``).

The issuer runs the verifier's own content checks on what it is about to
sign, so it never signs a credential that vc_im would reject, and it refuses
bad input with the exact problem.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from vc_im import _jose as jose
from vc_im import identifiers
from vc_im._checks import (
    CONTENT_STEPS,
    CredentialState,
    Step,
    accept_certificate,
    verify_credential,
)
from vc_im.errors import InputError, TokenError
from vc_im.identifiers import IdentifierError, ImId
from vc_im.keys import Key
from vc_im.model import Credential, CredentialType, Encoding, Subject
from vc_im.report import Status, run_checks, run_checks_many
from vc_im.times import as_now, rfc3339_to_seconds

if TYPE_CHECKING:
    from vc_im.profiles import Profile

__all__ = ["DEFAULT_VALIDITY", "document_claims", "issue_credential", "issue_document",
           "prepare_credential", "prepare_credentials", "verify_credential"]

DEFAULT_VALIDITY = 90 * 86400  # the seed's examples are valid for 90 days
_ABSOLUTE_URI = re.compile(r"\A[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+\Z")


def _parse_identifier(value: str, what: str) -> ImId:
    try:
        return identifiers.parse(value)
    except IdentifierError as exc:
        raise InputError(f"the {what} {value!r} is not a valid IM identifier: "
                         f"{exc.message}") from exc


def _is_identifier(value: str) -> bool:
    try:
        identifiers.parse(value)
    except IdentifierError:
        return False
    return True


def _certificate_step(key: Key, issuer: str, x5c: Sequence[str]) -> Step:
    """The verifier's x5c rule as an issuing step: the leaf certifies the signing key and
    the issuer or the subject; the identifiers step then holds every value to it."""
    from vc_im.trust.x509 import read_leaf

    try:
        certified = read_leaf(x5c)
    except TokenError as exc:
        raise InputError(f"refusing to issue under this x5c chain ({exc.code}): "
                         f"{exc.message}") from exc
    if certified.key.thumbprint() != key.thumbprint():
        raise InputError("refusing to issue: the x5c leaf certificate certifies another key, "
                         "not the issuer key that signs.")
    return ("issuer_key", lambda state: accept_certificate(state, issuer, certified))


def issue_credential(
    key: Key,
    *,
    issuer: str,
    subject: str,
    fn: str,
    now: float,
    credential_type: CredentialType = CredentialType.DEVICE,
    organization: str | None = None,
    unit: str | None = None,
    instant_messages: Sequence[str] = (),
    holder_key: Key | None = None,
    credential_id: str | None = None,
    valid_for: int = DEFAULT_VALIDITY,
    encoding: Encoding = Encoding.VC1,
    may_issue_devices: bool = False,
    x5c: Sequence[str] | None = None,
    status: Sequence[Mapping[str, Any]] = (),
) -> str:
    """Sign a credential about ``subject`` with the issuer's private ``key``; return the JWT.

    The subject is always among ``hasInstantMessage``; identifiers are written
    in their canonical form. ``may_issue_devices`` lets the subject of an
    ImUserCredential issue its own devices' credentials with its holder key;
    ``x5c`` puts the signer's certificate chain in the header; a self-issued
    credential (issuer == subject) carries its public key as the header's jwk; ``status``
    holds its ``credentialStatus`` entries (see :mod:`vc_im.status`).
    Raises :class:`~vc_im.errors.InputError` for anything the verifier would
    reject.

    ``now`` is seconds since the epoch; a float is floored (:func:`vc_im.times.as_now`).
    """
    now = as_now(now)
    parts = prepare_credential(
        key, issuer=issuer, subject=subject, fn=fn, now=now, credential_type=credential_type,
        organization=organization, unit=unit, instant_messages=instant_messages,
        holder_key=holder_key, credential_id=credential_id, valid_for=valid_for,
        encoding=encoding, may_issue_devices=may_issue_devices, x5c=x5c, status=status)
    return jose.sign(parts.header, parts.payload, key)


def prepare_credential(
    key: Key,
    *,
    issuer: str,
    subject: str,
    fn: str,
    now: float,
    credential_type: CredentialType = CredentialType.DEVICE,
    organization: str | None = None,
    unit: str | None = None,
    instant_messages: Sequence[str] = (),
    holder_key: Key | None = None,
    credential_id: str | None = None,
    valid_for: int = DEFAULT_VALIDITY,
    encoding: Encoding = Encoding.VC1,
    may_issue_devices: bool = False,
    x5c: Sequence[str] | None = None,
    status: Sequence[Mapping[str, Any]] = (),
) -> jose.Parts:
    """The header and payload :func:`issue_credential` signs, every pre-sign check passed:
    a batch checks every line before it signs any. Raises
    :class:`~vc_im.errors.InputError` for anything the verifier would reject."""
    (prepared,) = prepare_credentials(key, [{
        "subject": subject, "fn": fn, "credential_type": credential_type,
        "organization": organization, "unit": unit, "instant_messages": instant_messages,
        "holder_key": holder_key, "credential_id": credential_id, "valid_for": valid_for,
        "may_issue_devices": may_issue_devices, "status": status}],
        issuer=issuer, now=now, encoding=encoding, x5c=x5c)
    if isinstance(prepared, InputError):
        raise prepared
    return prepared


def prepare_credentials(key: Key, each: Sequence[Mapping[str, Any]], *, issuer: str,
                        now: float, encoding: Encoding = Encoding.VC1,
                        x5c: Sequence[str] | None = None) -> list[jose.Parts | InputError]:
    """:func:`prepare_credential` of each mapping of its per-credential arguments (subject,
    fn, ...; ``key``, ``issuer``, ``now``, ``encoding`` and ``x5c`` are common): what to
    sign, or why not, in order. The pre-sign checks run over all of them, one check after
    another (:func:`vc_im.report.run_checks_many`), as a batch does."""
    now = as_now(now)
    out: list[jose.Parts | InputError] = []
    states: list[tuple[int, CredentialState]] = []
    for fields in each:
        try:
            parts = _unchecked(key, issuer=issuer, now=now, encoding=encoding, x5c=x5c,
                               **fields)
        except InputError as exc:
            out.append(exc)
            continue
        except TokenError as exc:  # a value no JWT can carry
            out.append(InputError(exc.message, code=exc.code))
            continue
        states.append((len(out), CredentialState(token=parts, trust=None, now=now,
                                                 encoding=encoding, unverified=parts)))
        out.append(parts)
    if not states:
        return out
    try:
        steps = (_certificate_step(key, issuer, x5c), *CONTENT_STEPS) if x5c else CONTENT_STEPS
    except InputError as exc:
        return [InputError(exc.message) if isinstance(item, jose.Parts) else item
                for item in out]
    for (at, _), checks in zip(states, run_checks_many(steps, [state for _, state in states]),
                               strict=True):
        failed = next((check for check in checks if check.status is Status.FAILED), None)
        if failed is not None:
            out[at] = InputError(f"refusing to issue an invalid credential ({failed.code}): "
                                 f"{failed.reason}")
    return out


def _unchecked(
    key: Key,
    *,
    issuer: str,
    subject: str,
    fn: str,
    now: int,
    credential_type: CredentialType = CredentialType.DEVICE,
    organization: str | None = None,
    unit: str | None = None,
    instant_messages: Sequence[str] = (),
    holder_key: Key | None = None,
    credential_id: str | None = None,
    valid_for: int = DEFAULT_VALIDITY,
    encoding: Encoding = Encoding.VC1,
    may_issue_devices: bool = False,
    x5c: Sequence[str] | None = None,
    status: Sequence[Mapping[str, Any]] = (),
) -> jose.Parts:
    """The header and payload of a credential, before the pre-sign checks."""
    if not key.is_private:
        raise InputError("issuing needs the issuer's private key; this key file is public only.")
    if not _ABSOLUTE_URI.match(issuer):
        raise InputError(f"the issuer {issuer!r} is not an absolute URI (https://..., "
                         "did:key:..., did:jwk:...).")
    if credential_id is not None and not _ABSOLUTE_URI.match(credential_id):
        raise InputError(f"the credential id {credential_id!r} is not an absolute URI.")
    if not fn.strip():
        raise InputError("the formatted name (--fn) must not be empty.")
    if valid_for <= 0:
        raise InputError("the validity period must be positive.")
    subject_id = _parse_identifier(subject, "subject")
    if may_issue_devices and (credential_type is not CredentialType.USER or holder_key is None):
        raise InputError("only an ImUserCredential that binds the user's key (--holder-key) may "
                         "let it issue device credentials.")
    values: list[ImId] = []
    for text in instant_messages:
        value = _parse_identifier(text, "--im value")
        if value not in values:
            values.append(value)
    if subject_id not in values:
        values.append(subject_id)
    credential = Credential(
        type=credential_type,
        id=credential_id or f"urn:uuid:{uuid.uuid4()}",
        issuer=issuer,
        subject=Subject(subject_id, fn, tuple(values), organization, unit),
        issued_at=now,
        expires_at=now + valid_for,
        holder_key=holder_key.public() if holder_key is not None else None,
        may_issue_devices=may_issue_devices,
        status=tuple(status),
    )
    header: dict[str, object] = {"alg": key.alg, "typ": encoding.typ, "kid": key.kid}
    if x5c:
        header["x5c"] = list(x5c)
        header["kid"] = key.thumbprint()
    elif _is_identifier(issuer) and identifiers.parse(issuer) == subject_id:
        # Self-issued: the verifier learns the key from the header, so kid is its thumbprint.
        header["jwk"] = key.header_jwk()
        header["kid"] = key.thumbprint()
    return jose.Parts(header, credential.payload(encoding))


def document_claims(document: Mapping[str, Any], encoding: Encoding) -> dict[str, Any]:
    """The JWT payload that secures a credential document as it is.

    VC Data Model 1.1 §6.3.1: the document goes in ``vc`` unchanged, and ``iss``, ``sub``,
    ``jti``, ``nbf`` and ``exp`` stand for ``issuer``, ``credentialSubject.id``, ``id``,
    ``issuanceDate`` and ``expirationDate``, each only where the document has it (a date
    that is not RFC 3339 is left for the checks to refuse). VC 2.0 (``vc+jwt``): the
    payload is the document itself.
    """
    if encoding is Encoding.VC2:
        return dict(document)
    claims: dict[str, Any] = {}
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if isinstance(issuer_id, str):
        claims["iss"] = issuer_id
    subject = document.get("credentialSubject")
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        claims["sub"] = subject["id"]
    if isinstance(document.get("id"), str):
        claims["jti"] = document["id"]
    for name, claim in (("issuanceDate", "nbf"), ("expirationDate", "exp")):
        value = document.get(name)
        seconds = rfc3339_to_seconds(value) if isinstance(value, str) else None
        if seconds is not None:
            claims[claim] = seconds
    claims["vc"] = dict(document)
    return claims


def issue_document(key: Key, document: Mapping[str, Any], *, now: int,
                   encoding: Encoding = Encoding.VC1, profile: Profile | None = None) -> str:
    """Sign a credential document as it is (see :func:`document_claims`); return the JWT.

    Every content check of its profile runs first, as a verifier would run them at ``now``:
    ``profile``'s, or the one its types choose among the built-in profiles (``im-device``,
    ``im-user``, else ``w3c``). Raises :class:`~vc_im.errors.InputError` with the first
    problem, so vc_im never signs a credential it would reject.
    """
    if not key.is_private:
        raise InputError("issuing needs the issuer's private key; this key file is public only.")
    if not isinstance(document, Mapping):
        raise InputError("the credential document must be a JSON object.")
    if "proof" in document:
        raise InputError("the credential document already carries a proof; vc_im secures it "
                         "as a JWT instead (remove the proof).")
    payload = document_claims(document, encoding)
    header: dict[str, object] = {"alg": key.alg, "typ": encoding.typ, "kid": key.kid}
    parts = jose.Parts(header, payload)
    state = CredentialState(token=parts, trust=None, now=now, encoding=encoding,
                            unverified=parts, forced_profile=profile)
    for check in run_checks(CONTENT_STEPS, state):
        if check.status is Status.FAILED:
            applied = f" under the profile {state.profile.name}" if state.profile else ""
            raise InputError(f"refusing to issue an invalid credential{applied} ({check.code}, "
                             f"{check.name}): {check.reason}")
    return jose.sign(header, payload, key)
