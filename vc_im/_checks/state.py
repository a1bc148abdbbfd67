"""What the credential and presentation checks learn, one step after another, and what a
verifier is given besides the token (parent credentials and statements for the trust
models)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vc_im import _jose as jose
from vc_im._checks.common import DEFAULT_LEEWAY, ParsedToken
from vc_im.identifiers import ImId
from vc_im.keys import Key
from vc_im.model import (
    NO_EVIDENCE,
    Credential,
    CredentialType,
    Encoding,
    Evidence,
    ProfiledCredential,
)
from vc_im.report import Report
from vc_im.trust.paths import TrustPath
from vc_im.trust.store import TrustedIssuer, TrustStore

if TYPE_CHECKING:
    from vc_im.profiles import Profile
    from vc_im.replay import StoreLike
    from vc_im.trust.policy import Decision


@dataclass(slots=True)
class CredentialState(ParsedToken):
    """What the credential checks learn, one step after another."""

    token: str | bytes | jose.Unverified | jose.Parts
    trust: TrustStore | None
    now: int
    leeway: int = DEFAULT_LEEWAY
    expect_presentation: bool = False
    unverified: jose.Unverified | jose.Parts | None = None
    encoding: Encoding = Encoding.VC1
    issuer: TrustedIssuer | None = None
    key: Key | None = None
    model: dict[str, Any] = field(default_factory=dict)
    credential_type: CredentialType = CredentialType.DEVICE
    credential: Credential | None = None
    evidence: Evidence = NO_EVIDENCE
    #: How the signing key came to be trusted (central, cascade, x509); empty when the
    #: credential is self-issued and only statements can vouch for it.
    signer_paths: list[TrustPath] = field(default_factory=list)
    #: Self-issued with its own key in the header: statements must vouch for everything.
    self_issued: bool = False
    #: The signing key is the subject's own (self-issued, or certified for the subject).
    signer_is_subject: bool = False
    parent: Credential | None = None
    #: The domain a provider's certificate speaks for, or the identifiers a subject's
    #: certificate certifies: a credential signed under x5c names nothing else.
    certified_domains: frozenset[str] | None = None
    certified_ids: frozenset[ImId] | None = None
    nested: list[Report] = field(default_factory=list)
    decision: Decision | None = None
    #: What the ``status`` check looked at: list, index, purpose and what it found.
    status: list[dict[str, object]] = field(default_factory=list)
    #: ``--profile``: the profile to apply whatever the types say (None: chosen by types).
    forced_profile: Profile | None = None
    #: The profile applied, chosen when the content checks start; None when none fits.
    profile: Profile | None = None
    #: What a non-IM profile verified (``credential`` stays None then).
    profiled: ProfiledCredential | None = None

    @property
    def generic(self) -> bool:
        """Whether a profile other than ``im-device``/``im-user`` applies (its own rules)."""
        return self.profile is not None and not self.profile.is_im


Step = tuple[str, Callable[[CredentialState], str]]


@dataclass(slots=True)
class PresentationState(ParsedToken):
    """What the presentation checks learn, one step after another."""

    token: str | bytes | jose.Unverified
    trust: TrustStore
    now: int
    leeway: int
    audience: str | None
    nonce: str | None
    store: StoreLike | None
    evidence: Evidence = NO_EVIDENCE
    unverified: jose.Unverified | None = None
    encoding: str = "vc1"
    #: The embedded credentials, each taken apart once (a raw token when that failed:
    #: its own report then says why).
    tokens: list[str | jose.Unverified] = field(default_factory=list)
    #: Credentials already read (unverified) while choosing the rules, by their token.
    peeked: dict[str, jose.Unverified] = field(default_factory=dict)
    holder: ImId | None = None
    nested: list[Report] = field(default_factory=list)
    credentials: list[Credential] = field(default_factory=list)
    #: The presented user credentials whose key signed a presented device credential.
    parents: list[Credential] = field(default_factory=list)
    holder_key: Key | None = None
    header_named_key: bool = False
