"""What verification yields and takes: credentials and their two JWT encodings, verified
presentations, DPoP proofs and access tokens, and the evidence a verifier is handed.

One module holds the mapping between the JWT claims and the W3C data model, in
both directions, so that issuing and verifying cannot disagree:

* ``vc1``, VC Data Model 1.1 §6.3.1 (the seed's format): a ``vc`` claim, with
  ``iss``, ``sub``, ``jti``, ``nbf`` and ``exp`` standing for ``issuer``,
  ``credentialSubject.id``, ``id``, ``issuanceDate`` and ``expirationDate``;
* ``vc2``, VC Data Model 2.0 secured with JOSE (``typ: vc+jwt``): the payload
  is the credential itself, with ``iss`` equal to ``issuer``.

The subject is described with the vCard ontology: ``fn``,
``hasOrganizationName``, ``hasOrganizationalUnit`` (the seed's spelling, which
our context maps to ``vcard:hasOrganizationUnit``; the ontology's own
``hasOrganizationUnit`` is read as the same) and ``hasInstantMessage``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from vc_im._linked import STATUS_LIST_2021_CONTEXT, V1_CONTEXT, V2_CONTEXT, VCIM_CONTEXT
from vc_im.identifiers import ImId
from vc_im.keys import Key
from vc_im.times import seconds_to_rfc3339

if TYPE_CHECKING:
    from vc_im.status.sources import StatusSources
    from vc_im.trust.statements import Statement
    from vc_im.trust.wellknown import FetchedStatement


class CredentialType(StrEnum):
    """What the credential's subject is: a device, or a user (or handle)."""

    DEVICE = "ImDeviceCredential"
    USER = "ImUserCredential"


class Encoding(StrEnum):
    """The two JWT encodings of a credential."""

    VC1 = "vc1"
    VC2 = "vc2"

    @property
    def typ(self) -> str:
        """The JOSE ``typ`` this encoding's credentials carry."""
        return "JWT" if self is Encoding.VC1 else "vc+jwt"

    @property
    def contexts(self) -> tuple[str, str]:
        """The exact ``@context`` list of a credential in this encoding."""
        return (V1_CONTEXT if self is Encoding.VC1 else V2_CONTEXT, VCIM_CONTEXT)


@dataclass(frozen=True, slots=True)
class Subject:
    """The vCard description of the credential's subject."""

    id: ImId
    fn: str
    instant_messages: tuple[ImId, ...]
    organization: str | None = None
    unit: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``credentialSubject`` as the data model writes it (identifiers normalised)."""
        out: dict[str, Any] = {"id": str(self.id), "fn": self.fn}
        if self.organization is not None:
            out["hasOrganizationName"] = self.organization
        if self.unit is not None:
            out["hasOrganizationalUnit"] = self.unit
        out["hasInstantMessage"] = [str(value) for value in self.instant_messages]
        return out


@dataclass(frozen=True, slots=True)
class Credential:
    """A credential's content, independent of its encoding."""

    type: CredentialType
    id: str
    issuer: str
    subject: Subject
    issued_at: int
    expires_at: int
    #: The holder's key (``cnf.jwk``), parsed once; or only its thumbprint (``cnf.jkt``).
    holder_key: Key | None = None
    holder_jkt: str | None = None
    #: An ImUserCredential may let its subject's key issue its own devices' credentials.
    may_issue_devices: bool = False
    #: ``credentialStatus`` entries as the credential carries them (at most one per purpose).
    status: tuple[Mapping[str, Any], ...] = ()

    def bound_to(self, holder_key: Key | None, holder_jkt: str | None) -> Credential:
        """This credential with the holder binding its ``cnf`` gives: ``replace(self,
        holder_key=..., holder_jkt=...)``, written out (``replace`` costs a batch line
        several microseconds; ``tests/checks/test_credential.py`` holds the two equal, field by
        field)."""
        return Credential(self.type, self.id, self.issuer, self.subject, self.issued_at,
                          self.expires_at, holder_key, holder_jkt, self.may_issue_devices,
                          self.status)

    @property
    def bound_thumbprint(self) -> str | None:
        """The RFC 7638 thumbprint of the key this credential binds to its holder (``cnf.jwk``
        or ``cnf.jkt``), or None when it binds none: the one answer every binding rule uses."""
        if self.holder_key is not None:
            return self.holder_key.thumbprint()
        return self.holder_jkt

    def payload(self, encoding: Encoding) -> dict[str, Any]:
        """The JWT payload of this credential in ``encoding``."""
        subject = self.subject.to_json()
        if self.may_issue_devices:
            subject["mayIssueDeviceCredentials"] = True
        cnf = self._cnf()
        contexts = list(encoding.contexts)
        status: Any = None
        if self.status:
            status = dict(self.status[0]) if len(self.status) == 1 else [
                dict(entry) for entry in self.status]
            if encoding is Encoding.VC1:  # StatusList2021 terms come from their own context
                contexts.append(STATUS_LIST_2021_CONTEXT)
        if encoding is Encoding.VC1:
            del subject["id"]  # carried by ``sub``
            claims: dict[str, Any] = {
                "iss": self.issuer, "sub": str(self.subject.id), "jti": self.id,
                "nbf": self.issued_at, "iat": self.issued_at, "exp": self.expires_at,
            }
            if cnf is not None:
                claims["cnf"] = cnf
            claims["vc"] = {
                "@context": contexts,
                "type": ["VerifiableCredential", self.type.value],
                "credentialSubject": subject,
            }
            if status is not None:
                claims["vc"]["credentialStatus"] = status
            return claims
        payload: dict[str, Any] = {
            "@context": contexts,
            "id": self.id,
            "type": ["VerifiableCredential", self.type.value],
            "issuer": self.issuer,
            "validFrom": seconds_to_rfc3339(self.issued_at),
            "validUntil": seconds_to_rfc3339(self.expires_at),
            "credentialSubject": subject,
            "iss": self.issuer, "sub": str(self.subject.id), "jti": self.id,
            "iat": self.issued_at, "exp": self.expires_at,
        }
        if cnf is not None:
            payload["cnf"] = cnf
        if status is not None:
            payload["credentialStatus"] = status
        return payload

    def _cnf(self) -> dict[str, Any] | None:
        if self.holder_key is not None:
            return {"jwk": dict(self.holder_key.public_jwk)}
        if self.holder_jkt is not None:
            return {"jkt": self.holder_jkt}
        return None


def data_model(payload: Mapping[str, Any], encoding: Encoding) -> dict[str, Any]:
    """The W3C data model a JWT payload stands for (VC DM 1.1 §6.3.1 "JWT decoding").

    For ``vc1`` the ``vc`` claim is copied and the registered claims are mapped
    onto it (``exp`` to the credential's ``expirationDate``: the 1.1 text says
    credentialSubject, a known erratum, w3c/vc-jwt#7). For ``vc2`` the payload
    already is the credential. The input must have passed the claims checks.
    """
    if encoding is Encoding.VC2:
        return dict(payload)
    model = dict(payload["vc"])
    subject = model.get("credentialSubject", {})
    if isinstance(subject, dict):  # anything else is left for the schema check to reject
        subject = dict(subject)
        if "sub" in payload:
            subject.setdefault("id", payload["sub"])
        model["credentialSubject"] = subject
    for claim, name in (("jti", "id"), ("iss", "issuer")):
        if claim in payload:
            model.setdefault(name, payload[claim])
    for claim, name in (("nbf", "issuanceDate"), ("exp", "expirationDate")):
        if isinstance(payload.get(claim), int):
            model.setdefault(name, seconds_to_rfc3339(payload[claim]))
    return model


@dataclass(frozen=True, slots=True)
class ProfiledCredential:
    """A credential verified under a profile other than ``im-device`` and ``im-user`` (``w3c``
    or a profile file's): its data-model document, as signed, and what the checks read."""

    profile: str
    issuer: str
    types: tuple[str, ...]
    #: The W3C data model the JWT stands for (VC DM 1.1 claims mapped back, §6.3.1).
    document: Mapping[str, Any] = field(repr=False)
    id: str | None = None
    issued_at: int | None = None
    expires_at: int | None = None
    #: The IM identifiers the profile's rules found, in order.
    identifiers: tuple[ImId, ...] = ()
    holder_key: Key | None = None
    holder_jkt: str | None = None

    @property
    def bound_thumbprint(self) -> str | None:
        """The RFC 7638 thumbprint of the key bound to the holder (``cnf``), or None."""
        if self.holder_key is not None:
            return self.holder_key.thumbprint()
        return self.holder_jkt


@dataclass(frozen=True, slots=True)
class Presentation:
    """A verified presentation: who presented what, to whom."""

    holder: ImId
    audience: str
    nonce: str
    jti: str
    issued_at: int
    expires_at: int
    holder_key: Key
    credentials: tuple[Credential, ...]


@dataclass(frozen=True, slots=True)
class ProfiledPresentation:
    """A presentation verified under the ``w3c`` presentation rules: a holder (any URI, or
    none named) presenting ``w3c`` or profile-file credentials, or none."""

    profile: str
    holder: str | None
    #: The key that signed it: the header's jwk, or the did:key/did:jwk it names.
    holder_key: Key
    #: The presentation's data-model document (VC DM 1.1 claims mapped back, §6.3.1).
    document: Mapping[str, Any] = field(repr=False)
    credentials: tuple[ProfiledCredential, ...] = ()
    id: str | None = None
    audience: str | None = None
    nonce: str | None = None
    issued_at: int | None = None
    #: The last moment it was acceptable (``exp``, else ``iat`` plus 300 s).
    expires_at: int | None = None


@dataclass(frozen=True, slots=True)
class Proof:
    """A verified DPoP proof."""

    key: Key
    jti: str
    htm: str
    htu: str
    issued_at: int
    credential: Credential | None = None
    #: The device the proof names in its ``sub`` (the draft's Figure 5), if it names one.
    subject: ImId | None = None


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A verified DPoP-bound access token (RFC 9068): who it is for, from whom, until when."""

    issuer: str
    subject: ImId
    audience: tuple[str, ...]
    client_id: str
    jti: str
    issued_at: int
    expires_at: int
    #: The RFC 7638 thumbprint of the key every proof must be made with (``cnf.jkt``).
    jkt: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a verifier was given besides the token, for the trust models.

    ``parents``: user credentials (compact JWTs) that let a user's key issue its
    devices' credentials (the cascading hierarchy); ``statements``: signed
    statements already read and checked one by one (web of trust, well-known
    services). Nothing here is fetched: the caller gathers it.
    """

    parents: tuple[str, ...] = ()
    statements: tuple[Statement | FetchedStatement, ...] = ()
    #: Status list credentials for the ``status`` check (``--status-list``).
    status: StatusSources | None = None


NO_EVIDENCE = Evidence()
