"""DPoP-bound JWT access tokens (RFC 9068, bound by RFC 9449 §6): minted and checked.

The MIMI identity draft's §5.2 flow: a device's DPoP proof (its Figure 5) obtains an access
token, which third parties verify. Minting verifies the proof first, consuming its ``jti``
(one proof mints one token), and binds the token to the proof key (``cnf.jkt``).

Verification, in this order: ``format``; ``header`` (``typ`` ``at+jwt``, or its media type
``application/at+jwt``, any case, RFC 9068 §2.1 and §4; only ``alg``, ``typ`` and ``kid``);
``alg``; ``issuer_key`` (``iss`` is a trust-file issuer, ``kid`` one of its keys);
``signature``; ``claims`` (RFC 9068 §2.2: ``iss``, ``exp``, ``aud``, ``sub``, ``client_id``,
``iat``, ``jti``; RFC 9449 §6.1: ``cnf.jkt``); ``time``; ``audience`` (``aud`` contains this
resource's identifier, RFC 9068 §4); ``subject`` (``sub`` is a device's IM identifier in a
domain the issuer is trusted for); ``proof`` (a DPoP proof for this request with the token's
hash in ``ath`` from the key in ``cnf.jkt``, its ``jti`` consumed; its report is nested).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vc_im import _jose as jose
from vc_im import identifiers
from vc_im._checks.common import (
    DEFAULT_LEEWAY,
    ParsedToken,
    check_alg,
    check_format,
    check_header_names,
    numeric_date,
    refuse_high_s,
    select_key,
)
from vc_im._checks.dpop import normalize_htu, verify_proof
from vc_im.errors import InputError, VerificationFailed
from vc_im.identifiers import IdentifierError, IdType, ImId
from vc_im.keys import Key
from vc_im.model import AccessToken, Proof
from vc_im.report import CheckFailed, Code, Report, run_checks
from vc_im.times import TimeRules
from vc_im.times import seconds_to_rfc3339 as rfc3339
from vc_im.trust.store import TrustedIssuer, TrustStore

if TYPE_CHECKING:
    from vc_im.replay import StoreLike

#: The ``typ`` vc_im writes, and the spellings it accepts (RFC 9068 §2.1, §4).
TYP = "at+jwt"
_ACCEPTED_TYP = frozenset({"at+jwt", "application/at+jwt"})
#: An access token's default and largest lifetime: it is a short-lived, bound grant.
DEFAULT_TOKEN_LIFETIME = 300
MAX_TOKEN_LIFETIME = 86400
_HEADER = frozenset({"alg", "typ", "kid"})
_REFUSED_HEADER = {
    "jwk": "an access token's key comes from the trust file, not from its own header",
    "x5c": "an access token's key comes from the trust file, not from a certificate chain",
    "jku": "keys are never fetched from a URL named by the token",
    "x5u": "certificates are never fetched from a URL named by the token",
    "crit": "extensions that must be understood are not accepted on an access token",
    "b64": "unencoded payloads (RFC 7797) are not accepted",
}
_STRING_CLAIMS = ("iss", "sub", "client_id", "jti")
_JKT = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256 thumbprint, unpadded
_MAX_AUDIENCES = 16


# --------------------------------------------------------------------------------------------
# Minting


def _checked_text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value or not value.isprintable() or \
            value != value.strip() or len(value) > 2048:
        raise InputError(f"{what} must be printable text of 1 to 2048 characters, without "
                         "surrounding spaces.")
    return value


def issue_access_token(key: Key, *, issuer: str, proof: str | bytes, htm: str, htu: str,
                       audience: str, now: int, store: StoreLike | None,
                       valid_for: int = DEFAULT_TOKEN_LIFETIME, client_id: str | None = None,
                       credential: str | bytes | None = None, trust: TrustStore | None = None,
                       nonce: str | None = None, leeway: int = DEFAULT_LEEWAY) -> str:
    """Verify a device's DPoP proof for the token request (``htm`` ``htu``), consuming its
    ``jti``, and mint an RFC 9068 access token bound to the proof key.

    ``sub`` is the device: the subject of ``credential`` (an ImDeviceCredential whose ``cnf``
    is the proof key, verified against ``trust``), or else the proof's ``sub``. ``client_id``
    defaults to ``sub``. Raises :class:`~vc_im.errors.VerificationFailed` (carrying the
    proof's report) when the proof is refused, and :class:`~vc_im.errors.InputError` for
    unusable arguments.
    """
    if not key.is_private:
        raise InputError("minting an access token needs the issuer's private key; this key "
                         "is public only.")
    _checked_text(issuer, "the issuer")
    if ":" not in issuer:
        raise InputError(f"the issuer {issuer!r} is not an absolute URI.")
    _checked_text(audience, "the audience")
    if client_id is not None:
        _checked_text(client_id, "the client id")
    if isinstance(valid_for, bool) or not 0 < valid_for <= MAX_TOKEN_LIFETIME:
        raise InputError(f"an access token lives 1 s to {MAX_TOKEN_LIFETIME} s (1 day); "
                         f"{valid_for} s was asked.")
    report = verify_proof(proof, htm=htm, htu=htu, now=now, leeway=leeway, nonce=nonce,
                          credential=credential, trust=trust, store=store, require_device=True)
    failure = report.failure
    if failure is not None or not report.ok:
        code = report.code or Code.MALFORMED
        reason = failure.reason if failure is not None else "its credential is invalid."
        raise VerificationFailed(f"the DPoP proof is refused: {reason}", code=code,
                                 report=report)
    verified = report.verified
    assert isinstance(verified, Proof)
    subject = verified.credential.subject.id if verified.credential is not None else \
        verified.subject
    assert subject is not None  # require_device: a device credential or a device sub
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": str(subject),
        "aud": audience,
        "client_id": client_id if client_id is not None else str(subject),
        "iat": now,
        "exp": now + valid_for,
        "jti": jose.b64url_encode(secrets.token_bytes(16)),
        "cnf": {"jkt": verified.key.thumbprint()},
    }
    return jose.sign({"typ": TYP, "alg": key.alg, "kid": key.kid}, claims, key)


# --------------------------------------------------------------------------------------------
# Verifying


@dataclass(slots=True)
class AccessTokenState(ParsedToken):
    """What the access-token checks learn, one step after another."""

    token: str | bytes | jose.Unverified
    trust: TrustStore
    proof: str | bytes
    htm: str
    htu: str
    audience: str
    now: int
    leeway: int
    nonce: str | None
    store: StoreLike | None
    unverified: jose.Unverified | None = None
    issuer: TrustedIssuer | None = None
    key: Key | None = None
    subject: ImId | None = None
    nested: list[Report] = field(default_factory=list)


def check_header(state: AccessTokenState) -> str:
    """Only ``alg``, ``typ`` and ``kid``; ``typ`` is ``at+jwt`` (RFC 9068 §2.1, §4)."""
    header = state.header
    check_header_names(header, _HEADER, _REFUSED_HEADER, "an access token")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYP:
        raise CheckFailed("bad_type", f"typ is {typ!r}; an access token's is at+jwt "
                          "(application/at+jwt), which keeps other JWTs from passing for one")
    if "kid" in header and (not isinstance(header["kid"], str) or not header["kid"]):
        raise CheckFailed("bad_header", "the header's kid is not a non-empty string")
    return f"typ {typ}"


def check_issuer_key(state: AccessTokenState) -> str:
    """``iss`` is a trust-file issuer, and the header names one of its keys."""
    iss = state.payload.get("iss")
    if not isinstance(iss, str) or not iss:
        raise CheckFailed("missing_claim", "the access token names no issuer (iss)")
    issuer = state.trust.issuer(iss)
    if issuer is None:
        raise CheckFailed("untrusted_issuer", f"the issuer {iss!r} is not in the trust file")
    state.issuer = issuer
    state.key = select_key(issuer.keys, state.header, owner=f"the issuer {iss!r}")
    return f"the issuer {iss} is trusted, with key {state.key.kid}"


def check_signature(state: AccessTokenState) -> str:
    """The signature verifies with the issuer's key."""
    assert state.unverified is not None
    assert state.key is not None
    if not jose.verify_signature(state.unverified, state.key):
        refuse_high_s(state.unverified, state.key)
        raise CheckFailed("bad_signature", f"the signature does not verify with the issuer's "
                          f"key {state.key.kid!r}")
    return f"{state.unverified.alg} signature verified"


def _audiences(payload: Mapping[str, Any]) -> tuple[str, ...]:
    aud = payload.get("aud")
    values = [aud] if isinstance(aud, str) else aud
    if not isinstance(values, list) or not values or len(values) > _MAX_AUDIENCES or \
            not all(isinstance(value, str) and value for value in values):
        raise CheckFailed("missing_claim", f"aud is not a string or an array of 1 to "
                          f"{_MAX_AUDIENCES} strings")
    return tuple(values)


def check_claims(state: AccessTokenState) -> str:
    """Every claim RFC 9068 §2.2 requires, well typed, and RFC 9449 §6.1's ``cnf.jkt``."""
    payload = state.payload
    for claim in _STRING_CLAIMS:
        if not isinstance(payload.get(claim), str) or not payload[claim]:
            raise CheckFailed("missing_claim", f"the access token has no {claim} string")
    _audiences(payload)
    numeric_date(payload, "exp", required=True)
    numeric_date(payload, "iat", required=True)
    numeric_date(payload, "nbf", required=False)
    cnf = payload.get("cnf")
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    if jkt is None:
        raise CheckFailed("missing_claim", "the access token is not DPoP-bound: it has no "
                          "cnf.jkt")
    if not isinstance(jkt, str) or not _JKT.fullmatch(jkt):
        raise CheckFailed("malformed", "cnf.jkt is not a base64url SHA-256 JWK thumbprint",
                          "$.cnf.jkt")
    return "iss, exp, aud, sub, client_id, iat, jti and cnf.jkt present"


def check_time(state: AccessTokenState) -> str:
    """Not expired, not issued in the future, not before its ``nbf`` (with the leeway)."""
    payload, rules = state.payload, TimeRules(state.now, state.leeway)
    exp, iat = int(payload["exp"]), int(payload["iat"])
    if rules.ended(exp):
        raise CheckFailed("expired", f"the access token expired at {rfc3339(exp)}")
    if rules.in_future(iat):
        raise CheckFailed("bad_iat", f"the access token was issued in the future, at "
                          f"{rfc3339(iat)}")
    nbf = payload.get("nbf")
    if isinstance(nbf, int) and rules.not_yet(nbf):
        raise CheckFailed("not_yet_valid", f"the access token is valid from {rfc3339(nbf)}")
    return f"valid until {rfc3339(exp)}"


def check_audience(state: AccessTokenState) -> str:
    """``aud`` contains this resource's identifier (RFC 9068 §4)."""
    audiences = _audiences(state.payload)
    if state.audience not in audiences:
        raise CheckFailed("audience_mismatch", f"the access token is for {', '.join(audiences)}, "
                          f"not {state.audience}")
    return f"aud includes {state.audience}"


def check_subject(state: AccessTokenState) -> str:
    """``sub`` is a device, in a domain the issuer is trusted for."""
    sub = str(state.payload["sub"])
    try:
        subject = identifiers.parse(sub)
    except IdentifierError as exc:
        raise CheckFailed("bad_identifier", f"sub is not an IM identifier: {exc.message}",
                          "$.sub") from exc
    if subject.type is not IdType.DEVICE:
        raise CheckFailed("bad_identifier", f"sub {subject} is a {subject.type.value}, not a "
                          "device", "$.sub")
    assert state.issuer is not None
    if not state.issuer.covers(subject):
        raise CheckFailed("untrusted_issuer", f"the issuer {state.issuer.id} is not trusted for "
                          f"the domain {subject.domain}")
    state.subject = subject
    return f"sub {subject}"


def check_proof(state: AccessTokenState) -> str:
    """A fresh DPoP proof for this request, from the key in ``cnf.jkt``, with the token's hash
    in ``ath``; its ``jti`` is consumed (RFC 9449 §4.3, §7)."""
    token = state.token
    text = token.decode("ascii", "replace") if isinstance(token, bytes) else str(token)
    jkt = str(state.payload["cnf"]["jkt"])
    report = verify_proof(state.proof, htm=state.htm, htu=state.htu, now=state.now,
                          leeway=state.leeway, nonce=state.nonce, access_token=text,
                          jkt=jkt, store=state.store)
    state.nested.append(report)
    if not report.ok:
        failure = report.failure
        assert failure is not None
        raise CheckFailed(failure.code or "malformed", f"the DPoP proof: {failure.reason}")
    proof = report.verified
    assert isinstance(proof, Proof)
    if proof.subject is not None and proof.subject != state.subject:
        raise CheckFailed("holder_binding", f"the proof's sub {proof.subject} is not the "
                          f"access token's sub {state.subject}")
    return f"a proof from the bound key {jkt}, jti consumed"


Step = tuple[str, Callable[[AccessTokenState], str]]
ACCESS_TOKEN_STEPS: tuple[Step, ...] = (
    ("format", check_format),
    ("header", check_header),
    ("alg", check_alg),
    ("issuer_key", check_issuer_key),
    ("signature", check_signature),
    ("claims", check_claims),
    ("time", check_time),
    ("audience", check_audience),
    ("subject", check_subject),
    ("proof", check_proof),
)


def verify_access_token(token: str | bytes, trust: TrustStore, *, proof: str | bytes, htm: str,
                        htu: str, audience: str, now: int, store: StoreLike | None,
                        leeway: int = DEFAULT_LEEWAY, nonce: str | None = None) -> Report:
    """Verify an access token presented with a DPoP proof for one request (``htm`` ``htu``),
    as the resource ``audience``; never raises for an invalid token or proof.

    The proof's report is nested. Raises :class:`~vc_im.errors.InputError` for unusable
    arguments (an htu that is not an http(s) URL, an empty audience, no store).
    """
    _checked_text(audience, "the audience")
    normalize_htu(htu)  # an unusable URL is the caller's error, before any check runs
    state = AccessTokenState(token, trust, proof, htm, htu, audience, now, leeway, nonce, store)
    checks = run_checks(ACCESS_TOKEN_STEPS, state)
    report = Report("access_token", checks, tuple(state.nested))
    if not report.ok:
        return report
    payload = state.payload
    assert state.subject is not None
    verified = AccessToken(
        issuer=str(payload["iss"]), subject=state.subject, audience=_audiences(payload),
        client_id=str(payload["client_id"]), jti=str(payload["jti"]),
        issued_at=int(payload["iat"]), expires_at=int(payload["exp"]),
        jkt=str(payload["cnf"]["jkt"]))
    return Report("access_token", checks, tuple(state.nested), verified=verified)
