"""DPoP proofs (RFC 9449) from an IM device, optionally tied to its credential.

The MIMI identity draft's Figure 5 shows a DPoP proof whose ``sub`` is the
device identifier; vc_im creates and verifies such proofs, and with a
credential it also requires the proof key to be the key that credential binds.

Verification applies every check of RFC 9449 §4.3, in this order: ``format``,
``header`` (typ ``dpop+jwt``, a public ``jwk``), ``alg``, ``signature`` (with the
header's jwk), ``claims`` (jti, htm, htu, iat), ``method``, ``uri`` (after RFC
3986 §6.2.2-6.2.3 normalisation, ignoring query and fragment), ``nonce``,
``time``, ``ath``, ``credential`` (optional: the credential verifies and binds
the proof key; ``sub``, when present, is its subject) and ``replay`` (``jti``
single use per ``htu``). With an access token, ``ath`` also requires the proof key to be the
key the token is bound to (its ``cnf.jkt``, RFC 9449 §4.3 12 and §6).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from vc_im import _jose as jose
from vc_im import identifiers
from vc_im._checks.common import (
    DEFAULT_LEEWAY,
    MAX_LEEWAY,
    ParsedToken,
    check_alg,
    check_format,
    check_header_names,
    consume,
    numeric_date,
    refuse_high_s,
)
from vc_im._checks.credential import verify_credential
from vc_im.errors import InputError, KeyFileError
from vc_im.identifiers import IdentifierError, IdType, ImId
from vc_im.keys import Key, key_from_jwk
from vc_im.model import Credential, CredentialType, Proof
from vc_im.report import CheckFailed, Report, run_checks
from vc_im.times import TimeRules, as_now
from vc_im.times import seconds_to_rfc3339 as rfc3339
from vc_im.trust.store import TrustStore

if TYPE_CHECKING:
    from vc_im.replay import StoreLike

#: A proof is accepted for this long after its ``iat`` (the presentations' window).
MAX_AGE = 300
_HEADER = frozenset({"typ", "alg", "jwk"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url SHA-256 of the ASCII access token (RFC 9449 §4.2)."""
    try:
        data = access_token.encode("ascii")
    except UnicodeEncodeError as exc:
        raise InputError("an access token is ASCII text.") from exc
    return jose.b64url_encode(hashlib.sha256(data).digest())


def _normalize_escape(match: re.Match[str]) -> str:
    decoded = chr(int(match.group(1), 16))
    return decoded if decoded in _UNRESERVED else "%" + match.group(1).upper()


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: resolve ``.`` and ``..`` segments of an absolute path."""
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def normalize_htu(url: str) -> str:
    """An HTTP(S) URI without query and fragment, normalised per RFC 3986 §6.2.2-6.2.3.

    Scheme and host are lower-cased, the default port and an empty path are
    made explicit-free (``https://a.example:443`` becomes ``https://a.example/``),
    percent-escapes are upper-cased, unreserved ones decoded, and dot segments
    are removed.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InputError(f"{url!r} is not a URL.") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise InputError(f"{url!r} is not an http or https URL.")
    if parts.username is not None or parts.password is not None:
        raise InputError(f"{url!r} carries user information, which an htu may not.")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _remove_dot_segments(_ESCAPE.sub(_normalize_escape, parts.path) or "/")
    return urlunsplit((scheme, netloc, path, "", ""))


def create_proof(key: Key, *, htm: str, htu: str, now: float, nonce: str | None = None,
                 access_token: str | None = None, sub: str | None = None) -> str:
    """Sign an RFC 9449 DPoP proof with ``key`` (its public part travels in the header).

    ``now`` is seconds since the epoch; a float is floored (:func:`vc_im.times.as_now`).
    """
    now = as_now(now)
    if not key.is_private:
        raise InputError("a DPoP proof needs the holder's private key; this key is public only.")
    if not htm or not htm.isascii() or not htm.isalpha():
        raise InputError(f"{htm!r} is not an HTTP method.")
    parts = urlsplit(htu)
    claims: dict[str, Any] = {
        "jti": jose.b64url_encode(secrets.token_bytes(16)),
        "htm": htm.upper(),
        "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
        "iat": now,
    }
    normalize_htu(htu)  # refuse what the verifier could never match
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    if sub is not None:
        try:
            claims["sub"] = str(identifiers.parse(sub))
        except IdentifierError as exc:
            raise InputError(f"--sub {sub!r} is not an IM identifier: {exc.message}") from exc
    header = {"typ": "dpop+jwt", "alg": key.alg,
              "jwk": key.header_jwk()}
    return jose.sign(header, claims, key)


@dataclass(slots=True)
class DpopState(ParsedToken):
    """What the proof checks learn, one step after another."""

    token: str | bytes | jose.Unverified
    htm: str
    htu: str  # the request's URI in normal form (RFC 3986 §6.2.2-6.2.3)
    now: int
    leeway: int
    nonce: str | None
    access_token: str | None
    credential: str | bytes | None
    trust: TrustStore | None
    store: StoreLike | None
    unverified: jose.Unverified | None = None
    key: Key | None = None
    nested: list[Report] = field(default_factory=list)
    verified_credential: Credential | None = None
    #: The thumbprint of the key an access token is bound to (its ``cnf.jkt``).
    bound_jkt: str | None = None
    #: The proof must say which device it comes from (a device credential, or a ``sub``
    #: naming a device): an access token is minted for it.
    require_device: bool = False
    subject: ImId | None = None



def check_header(state: DpopState) -> str:
    """``typ`` is dpop+jwt and ``jwk`` is a usable public key (RFC 9449 §4.3 4, 7)."""
    header = state.header
    check_header_names(header, _HEADER, {}, "a DPoP proof")
    if header.get("typ") != "dpop+jwt":
        raise CheckFailed("bad_type", f"typ is {header.get('typ')!r}, not dpop+jwt")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise CheckFailed("bad_header", "a DPoP proof carries its public key as a jwk header")
    try:
        state.key = key_from_jwk(jwk, require="public")
    except KeyFileError as exc:
        raise CheckFailed("bad_key", f"the header's jwk: {exc.message}") from exc
    return f"typ dpop+jwt, {state.key.alg} key {state.key.thumbprint()}"


def check_key_alg(state: DpopState) -> str:
    """An allow-listed asymmetric alg that the header's key accepts (§4.3 5)."""
    found = check_alg(state)
    assert state.key is not None
    if not state.key.accepts(str(state.header["alg"])):
        raise CheckFailed("unsupported_alg", f"the jwk is a {state.key.alg} key and cannot "
                          f"verify {state.header['alg']}")
    return found


def check_signature(state: DpopState) -> str:
    """The signature verifies with the header's jwk (§4.3 6)."""
    assert state.unverified is not None
    assert state.key is not None
    if not jose.verify_signature(state.unverified, state.key):
        refuse_high_s(state.unverified, state.key)
        raise CheckFailed("bad_signature", "the signature does not verify with the header's jwk")
    return "signature verified"


def check_claims(state: DpopState) -> str:
    """jti, htm, htu and iat are present (§4.3 3; §4.2); a ``sub`` (the draft's Figure 5)
    is an IM identifier, and names a device where an access token is to be minted."""
    payload = state.payload
    for claim in ("jti", "htm", "htu"):
        if not isinstance(payload.get(claim), str) or not payload[claim]:
            raise CheckFailed("missing_claim", f"the proof has no {claim} string")
    numeric_date(payload, "iat", required=True)
    numeric_date(payload, "exp", required=False)
    if state.access_token is not None and "ath" not in payload:
        raise CheckFailed("missing_claim", "the proof is used with an access token but has no "
                          "ath claim")
    if "sub" in payload:
        sub = payload["sub"]
        try:
            if not isinstance(sub, str):
                raise IdentifierError("it is not a string.")
            state.subject = identifiers.parse(sub)
        except IdentifierError as exc:
            raise CheckFailed("bad_identifier", f"sub is not an IM identifier: {exc.message}",
                              "$.sub") from exc
    if state.require_device and state.credential is None:
        if state.subject is None:
            raise CheckFailed("missing_claim", "the proof names no sub, and no credential says "
                              "which device it comes from")
        if state.subject.type is not IdType.DEVICE:
            raise CheckFailed("bad_identifier", f"sub {state.subject} is a "
                              f"{state.subject.type.value}, not a device", "$.sub")
    return "jti, htm, htu and iat present"


def check_method(state: DpopState) -> str:
    """``htm`` is the request's method (§4.3 8)."""
    if state.payload["htm"] != state.htm:
        raise CheckFailed("claim_mismatch", f"htm is {state.payload['htm']!r}, the request is "
                          f"{state.htm!r}")
    return f"htm {state.htm}"


def check_uri(state: DpopState) -> str:
    """``htu`` is the request's URI, ignoring query and fragment, after normalisation (§4.3 9)."""
    try:
        claimed = normalize_htu(str(state.payload["htu"]))
    except InputError as exc:
        raise CheckFailed("claim_mismatch", f"htu: {exc.message}") from exc
    expected = state.htu
    if claimed != expected:
        raise CheckFailed("claim_mismatch", f"htu is {claimed}, the request is {expected}")
    return f"htu {expected}"


def check_nonce(state: DpopState) -> str:
    """When the server supplied a nonce, the proof carries exactly it (§4.3 10)."""
    if state.nonce is None:
        return "no server nonce required"
    nonce = state.payload.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(),
                                                             state.nonce.encode()):
        raise CheckFailed("nonce_mismatch", "the proof does not carry the server's nonce")
    return "nonce matches"


def check_time(state: DpopState) -> str:
    """Created within the acceptance window, not in the future (§4.3 11)."""
    iat, rules = int(state.payload["iat"]), TimeRules(state.now, state.leeway)
    if rules.in_future(iat):
        raise CheckFailed("bad_iat", f"the proof was created in the future, at {rfc3339(iat)}")
    if rules.too_old(iat, MAX_AGE):
        raise CheckFailed("bad_iat", f"the proof was created at {rfc3339(iat)}, more than "
                          f"{MAX_AGE} s ago")
    exp = state.payload.get("exp")
    if isinstance(exp, int) and rules.ended(exp):
        raise CheckFailed("expired", f"the proof expired at {rfc3339(exp)}")
    return f"created {rules.now - iat} s ago"


def check_ath(state: DpopState) -> str:
    """With an access token, ``ath`` is its hash (§4.3 12)."""
    if state.access_token is None:
        return "no access token"
    if state.payload.get("ath") != access_token_hash(state.access_token):
        raise CheckFailed("claim_mismatch", "ath is not the hash of the access token")
    if state.bound_jkt is None:
        return "ath matches the access token"
    assert state.key is not None
    if not hmac.compare_digest(state.key.thumbprint().encode(), state.bound_jkt.encode()):
        raise CheckFailed("holder_binding", f"the proof key {state.key.thumbprint()} is not "
                          f"the key the access token is bound to (cnf.jkt {state.bound_jkt})")
    return "ath matches the access token, and the proof key is its cnf.jkt"


def check_credential(state: DpopState) -> str:
    """With a credential: it verifies, binds the proof key, and names the ``sub``."""
    if state.credential is None:
        return "no credential to bind"
    assert state.trust is not None
    assert state.key is not None
    report = verify_credential(state.credential, state.trust, now=state.now,
                               leeway=state.leeway)
    state.nested.append(report)
    if not report.ok:
        failure = report.failure
        assert failure is not None
        raise CheckFailed(failure.code or "malformed", f"the credential: {failure.reason}")
    credential = report.verified
    if not isinstance(credential, Credential):  # a w3c or profile-file credential
        raise CheckFailed("bad_type", f"the credential is of the profile {report.profile}; a "
                          "DPoP proof binds an ImDeviceCredential or ImUserCredential")
    if state.require_device and credential.type is not CredentialType.DEVICE:
        raise CheckFailed("bad_type", f"the credential is an {credential.type.value}; an access "
                          "token is minted for a device, on its ImDeviceCredential")
    bound = credential.bound_thumbprint
    if bound is None:
        raise CheckFailed("holder_binding", "the credential binds no holder key (no cnf)")
    if bound != state.key.thumbprint():
        raise CheckFailed("holder_binding", "the proof key is not the key the credential binds")
    if state.subject is not None and state.subject != credential.subject.id:
        raise CheckFailed("holder_binding", f"the proof's sub {state.subject} is not the "
                          f"credential's subject {credential.subject.id}")
    state.verified_credential = credential
    return f"bound to the credential of {credential.subject.id}"


def check_replay(state: DpopState) -> str:
    """``jti`` is single use per ``htu`` while the proof can be accepted (§11.1)."""
    from vc_im.replay import ReplayOutcome

    payload = state.payload
    outcome = consume(state.store, lambda store: store.consume_dpop(
        htu=state.htu, jti=str(payload["jti"]), nonce=None, now=state.now,
        expires_at=int(payload["iat"]) + MAX_AGE + max(state.leeway, MAX_LEEWAY)))
    if outcome is not ReplayOutcome.ACCEPTED:
        raise CheckFailed("replay", "this proof's jti was already used for this URI")
    return "jti consumed"


Step = tuple[str, Callable[[DpopState], str]]
DPOP_STEPS: tuple[Step, ...] = (
    ("format", check_format),
    ("header", check_header),
    ("alg", check_key_alg),
    ("signature", check_signature),
    ("claims", check_claims),
    ("method", check_method),
    ("uri", check_uri),
    ("nonce", check_nonce),
    ("time", check_time),
    ("ath", check_ath),
    ("credential", check_credential),
    ("replay", check_replay),
)


def verify_proof(token: str | bytes, *, htm: str, htu: str, now: float,
                 leeway: int = DEFAULT_LEEWAY, nonce: str | None = None,
                 access_token: str | None = None, credential: str | bytes | None = None,
                 trust: TrustStore | None = None, store: StoreLike | None = None,
                 jkt: str | None = None, require_device: bool = False) -> Report:
    """Verify a DPoP proof for one request; never raises for an invalid proof.

    ``jkt`` (with ``access_token``) is the thumbprint of the key the token is bound to, which
    must be the proof key. ``require_device``: the proof must come from a device, named by
    its ImDeviceCredential or else by its ``sub`` (an access token is minted for it).

    Raises :class:`~vc_im.errors.InputError` for unusable arguments (an htu that
    is not an http(s) URL, a credential without a trust store, a bad store).

    ``now`` is seconds since the epoch; a float is floored (:func:`vc_im.times.as_now`).
    """
    now = as_now(now)
    request_uri = normalize_htu(htu)  # once: the checks compare and record this normal form
    if credential is not None and trust is None:
        raise InputError("binding a proof to a credential needs a trust file.")
    if jkt is not None and access_token is None:
        raise InputError("a proof is bound to a key (jkt) only together with an access token.")
    state = DpopState(token, htm, request_uri, now, leeway, nonce, access_token, credential, trust,
                      store, bound_jkt=jkt, require_device=require_device)
    checks = run_checks(DPOP_STEPS, state)
    report = Report("dpop", checks, tuple(state.nested))
    if not report.ok:
        return report
    assert state.key is not None
    payload = state.payload
    proof = Proof(state.key, str(payload["jti"]), str(payload["htm"]), str(payload["htu"]),
                  int(payload["iat"]), state.verified_credential, state.subject)
    return Report("dpop", checks, tuple(state.nested), verified=proof)
