"""The ``issuer_key`` check: which key signed a credential, and why it is trusted.

A trust-file issuer's key (by ``kid``), the leaf of an ``x5c`` chain to a configured
root, a parent user credential's holder key (the cascade), or the self-issued subject's
own key, which only statements can then vouch for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vc_im import _jose as jose
from vc_im import identifiers
from vc_im._checks.common import (
    issuer_of,
    maybe_identifier,
    select_key,
    subject_of,
)
from vc_im._checks.state import CredentialState
from vc_im.errors import KeyFileError, TokenError
from vc_im.identifiers import IdentifierError, IdType, ImId
from vc_im.keys import Key, key_from_jwk
from vc_im.model import Credential, CredentialType
from vc_im.report import CheckFailed, Report
from vc_im.trust.paths import TrustMethod, TrustPath

if TYPE_CHECKING:
    from vc_im.trust.x509 import CertifiedKey


def check_issuer_key(state: CredentialState) -> str:
    """The signing key is trusted: a trust-file issuer's (by kid), a certificate chain's leaf,
    a parent user credential's holder key, or the self-issued subject's own key."""
    assert state.trust is not None
    iss = issuer_of(state.payload)
    if not isinstance(iss, str) or not iss:
        raise CheckFailed("missing_claim", "the credential names no issuer (iss)")
    if "x5c" in state.header:
        return _x509_signer(state, iss)
    issuer = state.trust.issuer(iss)
    if issuer is not None:
        state.issuer = issuer
        state.key = select_key(issuer.keys, state.header, owner=f"the issuer {iss!r}")
        state.signer_paths.append(_central_path(iss, state.key))
        return f"the issuer {iss} is trusted, with key {state.key.kid}"
    issuer_id = maybe_identifier(iss)
    if issuer_id is not None and any(_parent_subject(token) == issuer_id
                                     for token in state.evidence.parents):
        return _cascade_signer(state, iss)
    if "jwk" in state.header:
        try:
            key = key_from_jwk(state.header["jwk"], require="public")
        except KeyFileError as exc:
            raise CheckFailed("bad_key", f"the header's jwk: {exc.message}") from exc
        state.key = select_key((key,), state.header, owner="the header's jwk")
        state.self_issued = state.signer_is_subject = True
        return f"self-issued by {iss} with key {key.thumbprint()}; statements must vouch for it"
    raise CheckFailed("untrusted_issuer", f"the issuer {iss!r} is not in the trust file")


def self_issued(payload: Mapping[str, Any]) -> bool:
    """Whether the credential's issuer is its own subject (only statements can vouch for it)."""
    iss, sub = issuer_of(payload), subject_of(payload)
    if not isinstance(iss, str) or not isinstance(sub, str):
        return False
    try:
        return identifiers.parse(iss) == identifiers.parse(sub)
    except IdentifierError:
        return False


def _central_path(iss: str, key: Key) -> TrustPath:
    return TrustPath(TrustMethod.CENTRAL, True,
                     steps=(f"the trust file lists {iss} with key {key.kid}",))


def _x509_signer(state: CredentialState, iss: str) -> str:
    """The key is the leaf of an x5c chain to a configured root that certifies iss or sub."""
    from vc_im.trust.x509 import verify_chain  # cryptography.x509 only for x5c credentials

    assert state.trust is not None
    certified = verify_chain(state.header["x5c"], state.trust.x509_roots, now=state.now)
    certifies = accept_certificate(state, iss, certified)
    state.signer_paths.append(TrustPath(TrustMethod.X509, True, steps=(
        *(f"{below} is certified by {above}" for below, above in
          zip(certified.chain, certified.chain[1:], strict=False)),
        f"{certified.chain[-1]} is a configured root",
        f"the leaf certifies {certifies} for key {certified.key.thumbprint()}")))
    listed = state.trust.issuer(iss)
    if listed is not None and any(key.thumbprint() == certified.key.thumbprint()
                                  for key in listed.keys):
        # The trust file also lists this issuer with this very key: both methods vouch.
        state.issuer = listed
        state.signer_paths.append(_central_path(iss, certified.key))
    return f"certificate {certified.subject}, key {certified.key.thumbprint()}"


def accept_certificate(state: CredentialState, iss: str, certified: CertifiedKey) -> str:
    """Whether a leaf that certifies ``certified`` may sign this credential: it names the
    subject (and then signs only self-issued credentials naming what it certifies) or the
    issuer as a provider (and then only its domain). Sets the signing key and what the
    identifiers check must hold to; returns what the leaf certifies. The issuer runs it too,
    before it signs."""
    issuer_id = maybe_identifier(iss)
    subject_id = maybe_identifier(subject_of(state.payload))
    certifies = ", ".join(map(str, certified.identifiers))
    if subject_id is not None and subject_id in certified.identifiers:
        # A certificate for the subject: only the subject signs with it, about itself.
        if issuer_id != subject_id:
            raise CheckFailed("untrusted_issuer", f"the certificate certifies {certifies}; a "
                              "subject's certificate signs only its own (self-issued) "
                              "credentials")
        state.certified_ids = frozenset(certified.identifiers)
        state.signer_is_subject = True
    elif issuer_id is not None and issuer_id in certified.identifiers and (
            issuer_id.type is IdType.DOMAIN):
        state.certified_domains = frozenset({issuer_id.domain})
    else:
        raise CheckFailed("untrusted_issuer", f"the certificate certifies {certifies}, which "
                          "is neither the credential's subject nor its issuer as a provider "
                          "(a domain identifier)")
    kid = state.header.get("kid")
    if kid is not None and kid not in (certified.key.kid, certified.key.thumbprint_uri()):
        raise CheckFailed("unknown_key", f"the header's kid {kid!r} is not the certificate's key")
    alg = str(state.header.get("alg"))
    if not certified.key.accepts(alg):
        raise CheckFailed("unsupported_alg", f"the certificate's key verifies only "
                          f"{certified.key.alg} signatures, not {alg}")
    state.key = certified.key
    return certifies


def _cascade_signer(state: CredentialState, iss: str) -> str:
    """The key is the holder key of a parent user credential from a trusted issuer that
    allows its subject to issue device credentials; the path is one level deep at most."""
    assert state.trust is not None
    try:
        issuer_id = identifiers.parse(iss)
    except IdentifierError as exc:
        raise CheckFailed("untrusted_issuer", f"the issuer {iss!r} is not in the trust file "
                          "and is not an IM identifier a parent credential could name") from exc
    refused: list[tuple[Report, CheckFailed]] = []
    for token in state.evidence.parents:
        if _parent_subject(token) != issuer_id:
            continue
        from vc_im._checks.credential import verify_credential  # the parent is a credential too

        report = verify_credential(token, state.trust, now=state.now, leeway=state.leeway)
        try:
            found = _accept_parent(state, report, issuer_id)
        except CheckFailed as refusal:  # another parent for the same user may still do
            refused.append((report, refusal))
            continue
        state.nested.append(report)  # the parent relied on; refused ones do not matter then
        return found
    if refused:
        state.nested.extend(report for report, _ in refused)
        raise refused[0][1]
    raise CheckFailed("untrusted_issuer", f"the issuer {iss!r} is not in the trust file, and no "
                      "valid parent credential names it")


def _accept_parent(state: CredentialState, report: Report, issuer_id: ImId) -> str:
    """Take the signing key from a verified parent credential, or refuse the parent."""
    assert state.trust is not None
    parent = report.verified
    if not isinstance(parent, Credential):
        failure = report.failure
        why = failure.reason.rstrip(".") if failure is not None else "an embedded check"
        raise CheckFailed("untrusted_issuer", f"the parent credential of {issuer_id} is "
                          f"not valid ({report.code}): {why[:1].lower()}{why[1:]}")
    if parent.type is not CredentialType.USER or not parent.may_issue_devices:
        raise CheckFailed("untrusted_issuer", f"the parent credential of {issuer_id} does "
                          "not allow it to issue device credentials")
    if state.trust.issuer(parent.issuer) is None:
        raise CheckFailed("untrusted_issuer", f"the parent credential of {issuer_id} comes "
                          f"from {parent.issuer}, which the trust file does not list as an "
                          "issuer")
    if parent.holder_key is None:
        raise CheckFailed("untrusted_issuer", f"the parent credential of {issuer_id} binds "
                          "no key (cnf.jwk) to issue with")
    key = parent.holder_key
    state.key = select_key((key,), state.header, owner=f"the user {issuer_id}")
    state.parent = parent
    vouching = [str(path["method"]) for path in report.trust if path.get("ok")]
    state.signer_paths.append(TrustPath(TrustMethod.CASCADE, True, steps=(
        f"{parent.issuer} is trusted ({', '.join(vouching)})",
        f"{parent.issuer} lets {issuer_id} issue device credentials with key "
        f"{key.thumbprint()}")))
    return f"issued by the user {issuer_id} under {parent.issuer}"


def _parent_subject(token: str) -> ImId | None:
    """The subject a parent credential names, read before verifying it (to pick the parent)."""
    try:
        payload = jose.peek_unverified(token).payload
    except TokenError:
        return None
    return maybe_identifier(subject_of(payload))
