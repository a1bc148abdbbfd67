"""Verifying an ImDeviceCredential or ImUserCredential: the checks, in order.

Each check is a small function over :class:`CredentialState`; the order is
the one documented in README.md:

====================  =====================================================
``format``            one compact JWS, at most 64 KiB, strict JSON inside
``header``            allow-listed header names; ``typ`` picks the encoding
``alg``               an allow-listed asymmetric algorithm
``issuer_key``        the signing key: (iss, kid) in the trust file, an x5c
                      leaf, a parent credential's key or a self-issued
                      credential's own key; it fits alg
``signature``         the signature verifies with that key
``claims``            registered claims present, NumericDates in seconds
``time``              nbf / exp / iat / validFrom / validUntil, with leeway
``consistency``       JWT claims agree with the data model's properties
``types``             VerifiableCredential plus one vc_im credential type
``context``           the @context list is exactly an expected one
``jsonld``            expansion drops nothing and types are expected IRIs
``schema``            the JSON Schema of the encoding
``identifiers``       subject and hasInstantMessage parse, fit the type,
                      and lie within the issuer's trusted domains
``holder_key``        ``cnf`` names exactly one usable public key
``trust_path``        the trust policy's methods for the subject's domain
                      (central issuer, cascade, X.509, web of trust,
                      well-known statements) agree that the subject's key
                      is trusted, without contradiction
====================  =====================================================

Claims read before ``signature`` are used to find the key or to reject, never
to accept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from vc_im import _jose as jose
from vc_im import identifiers
from vc_im.errors import KeyFileError, TokenError
from vc_im.identifiers import IdentifierError, IdType, ImId
from vc_im.keys import Key, key_from_jwk
from vc_im.model import Credential, CredentialType, Encoding, Subject, data_model
from vc_im.report import CheckFailed, Report, run_checks
from vc_im.times import numeric_date_problem, rfc3339_to_seconds
from vc_im.times import seconds_to_rfc3339 as rfc3339
from vc_im.trust.paths import TrustPath
from vc_im.trust.store import TrustedIssuer, TrustStore

if TYPE_CHECKING:
    from vc_im.trust.policy import Decision
    from vc_im.trust.statements import Statement
    from vc_im.trust.wellknown import FetchedStatement

DEFAULT_LEEWAY = 60
#: The largest leeway a verifier may be given (the CLI's bound): replay records outlive it.
MAX_LEEWAY = 86400
#: More identifiers than any device has; a bound on the work one credential can cause.
MAX_INSTANT_MESSAGES = 32

_CREDENTIAL_HEADER = frozenset({"alg", "typ", "kid", "cty"})
_FORBIDDEN_HEADER = {
    "crit": "extensions that must be understood are not accepted on a credential",
    "b64": "unencoded payloads (RFC 7797) are not accepted",
    "jku": "keys are never fetched from a URL named by the token",
    "x5u": "certificates are never fetched from a URL named by the token",
    "jwk": "a credential's key comes from the trust file, not from its own header (a "
           "self-issued credential may carry one when the trust file has a web of trust or "
           "well-known services)",
    "x5c": "the trust file names no x509_roots to validate a certificate chain against",
}


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


NO_EVIDENCE = Evidence()


class ParsedToken:
    """What the checks of every token kind share: the token and, once ``format`` ran, its parts.

    A mixin for the per-kind state dataclasses, which declare the two fields.
    """

    token: str | bytes
    unverified: jose.Unverified | None

    @property
    def payload(self) -> Mapping[str, Any]:
        """The token's payload (parsed by ``format``; not verified before ``signature``)."""
        assert self.unverified is not None
        return self.unverified.payload

    @property
    def header(self) -> Mapping[str, Any]:
        """The token's JOSE header (parsed by ``format``)."""
        assert self.unverified is not None
        return self.unverified.header


@dataclass(slots=True)
class CredentialState(ParsedToken):
    """What the credential checks learn, one step after another."""

    token: str | bytes
    trust: TrustStore | None
    now: int
    leeway: int = DEFAULT_LEEWAY
    expect_presentation: bool = False
    unverified: jose.Unverified | None = None
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



Step = tuple[str, Callable[[CredentialState], str]]


# --- checks before the signature -------------------------------------------------------------

def check_format(state: ParsedToken) -> str:
    """One compact JWS with strict JSON header and payload."""
    state.unverified = jose.peek_unverified(state.token)
    return "a compact JWS whose header and payload are strict JSON objects"


def check_header(state: CredentialState) -> str:
    """Allow-listed header names; the explicit ``typ`` decides the encoding (RFC 8725 §3.11)."""
    header = state.header
    allowed = set(_CREDENTIAL_HEADER)
    trust = state.trust
    if trust is not None and trust.x509_roots:
        allowed.add("x5c")
    if trust is not None and _self_issued(state.payload) and (
            trust.web_of_trust is not None or trust.well_known_threshold is not None):
        allowed.add("jwk")
    check_header_names(header, frozenset(allowed), _FORBIDDEN_HEADER, "a credential")
    if "kid" in header and (not isinstance(header["kid"], str) or not header["kid"]):
        raise CheckFailed("bad_header", "the header's kid is not a non-empty string")
    typ = header.get("typ", "JWT")
    if typ == "JWT":
        state.encoding = Encoding.VC1
    elif typ == "vc+jwt":
        state.encoding = Encoding.VC2
    else:
        raise CheckFailed("bad_type", f"the header's typ {typ!r} is not a credential's "
                          "(JWT for VC Data Model 1.1, vc+jwt for 2.0)")
    cty = header.get("cty")
    if cty is not None and not (state.encoding is Encoding.VC2 and cty == "vc"):
        raise CheckFailed("bad_header", f"the header's cty {cty!r} does not fit typ {typ!r}")
    if "vp" in state.payload:
        raise CheckFailed("bad_type", "the token is a presentation, where a credential is "
                          "expected")
    if state.expect_presentation:
        raise CheckFailed("bad_type", "a presentation was expected (an audience or nonce was "
                          "given), but this is a bare credential")
    return (f"the header's typ is {typ}: VC Data Model "
            f"{'1.1 JWT' if state.encoding is Encoding.VC1 else '2.0 with JOSE'}")


def check_header_names(header: Mapping[str, Any], allowed: frozenset[str],
                       refused: Mapping[str, str], what: str) -> None:
    """The header names only ``allowed`` parameters (an allow-list); a parameter ``refused``
    names gets its own reason, any other the list of what ``what`` may carry."""
    for name in header:
        if name in allowed:
            continue
        if name in refused:
            raise CheckFailed("bad_header", f"the header parameter {name!r} is refused: "
                              f"{refused[name]}")
        raise CheckFailed("bad_header", f"the header parameter {name!r} is not one {what} may "
                          f"carry ({', '.join(sorted(allowed, key=_HEADER_ORDER.index))})")


_HEADER_ORDER = ("alg", "typ", "kid", "jwk", "cty", "x5c")


def check_alg(state: ParsedToken) -> str:
    """An allow-listed asymmetric algorithm; never ``none`` or a MAC."""
    alg = state.header.get("alg")
    if not isinstance(alg, str):
        raise CheckFailed("unsupported_alg", "the header has no alg")
    if alg == "none":
        raise CheckFailed("unsupported_alg", "alg none (an unsigned token) is never accepted")
    if alg.startswith("HS"):
        raise CheckFailed("unsupported_alg", f"{alg} is a shared-secret MAC; credentials must "
                          "be signed with an issuer's private key")
    if alg not in jose.VERIFY_ALGORITHMS:
        raise CheckFailed("unsupported_alg", f"alg {alg!r} is not one of "
                          f"{', '.join(sorted(jose.VERIFY_ALGORITHMS))}")
    return f"the algorithm {alg} is allowed"


def issuer_of(payload: Mapping[str, Any]) -> Any:
    """The issuer a payload names: ``iss``, else a VC 2.0 ``issuer`` (a string or ``{id}``)."""
    if "iss" in payload:
        return payload["iss"]
    issuer = payload.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def subject_of(payload: Mapping[str, Any]) -> Any:
    """The subject a payload names: ``sub``, else the credential's ``credentialSubject.id``
    (in a VC 2.0 payload, or in a VC 1.1 ``vc`` claim)."""
    if "sub" in payload:
        return payload["sub"]
    body = payload["vc"] if isinstance(payload.get("vc"), dict) else payload
    subject = body.get("credentialSubject")
    return subject.get("id") if isinstance(subject, dict) else None


def _self_issued(payload: Mapping[str, Any]) -> bool:
    """Whether the credential's issuer is its own subject (only statements can vouch for it)."""
    iss, sub = issuer_of(payload), subject_of(payload)
    if not isinstance(iss, str) or not isinstance(sub, str):
        return False
    try:
        return identifiers.parse(iss) == identifiers.parse(sub)
    except IdentifierError:
        return False


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
    issuer_id = _maybe_identifier(iss)
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


def _central_path(iss: str, key: Key) -> TrustPath:
    return TrustPath("central", True, steps=(f"the trust file lists {iss} with key {key.kid}",))


def _maybe_identifier(value: Any) -> ImId | None:
    try:
        return identifiers.parse(value) if isinstance(value, str) else None
    except IdentifierError:
        return None


def _x509_signer(state: CredentialState, iss: str) -> str:
    """The key is the leaf of an x5c chain to a configured root that certifies iss or sub."""
    from vc_im.trust.x509 import verify_chain  # cryptography.x509 only for x5c credentials

    assert state.trust is not None
    certified = verify_chain(state.header["x5c"], state.trust.x509_roots, now=state.now)
    issuer_id = _maybe_identifier(iss)
    subject_id = _maybe_identifier(subject_of(state.payload))
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
    state.signer_paths.append(TrustPath("x509", True, steps=(
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
    state.signer_paths.append(TrustPath("cascade", True, steps=(
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
    return _maybe_identifier(subject_of(payload))


def select_key(keys: Sequence[Key], header: Mapping[str, Any], *, owner: str) -> Key:
    """The key a header names by ``kid`` (or the only candidate); it must accept the alg."""
    alg = header.get("alg")
    kid = header.get("kid")
    if kid is not None:
        found = [key for key in keys if key.kid == kid]
        if not found:
            raise CheckFailed("unknown_key", f"{owner} has no key with kid {kid!r}")
        key = found[0]
    else:
        candidates = [key for key in keys if isinstance(alg, str) and key.accepts(alg)]
        if len(candidates) != 1:
            raise CheckFailed("unknown_key", f"the header names no kid and {owner} has "
                              f"{len(candidates)} keys for {alg}")
        key = candidates[0]
    if not isinstance(alg, str) or not key.accepts(alg):
        raise CheckFailed("unsupported_alg", f"the key {key.kid!r} verifies only {key.alg} "
                          f"signatures, not {alg}")
    return key


def check_signature(state: CredentialState) -> str:
    """The signature verifies over the received header and payload octets."""
    assert state.unverified is not None
    assert state.key is not None
    if not jose.verify_signature(state.unverified, state.key):
        raise CheckFailed("bad_signature", f"the signature does not verify with the issuer's "
                          f"key {state.key.kid!r}")
    return f"{state.unverified.alg} signature verified"


# --- checks after the signature --------------------------------------------------------------

def numeric_date(payload: Mapping[str, Any], claim: str, *, required: bool) -> int | None:
    """A NumericDate claim in whole seconds, explaining the seed's millisecond mistake."""
    if claim not in payload:
        if required:
            raise CheckFailed("missing_claim", f"the {claim!r} claim is missing")
        return None
    value = payload[claim]
    problem = numeric_date_problem(claim, value)
    if problem is not None:
        raise CheckFailed("malformed", problem, f"$.{claim}")
    return int(value)


def check_claims(state: CredentialState) -> str:
    """Registered claims are present and well-typed; the data-model claim fits the encoding."""
    payload = state.payload
    if state.encoding is Encoding.VC1:
        if not isinstance(payload.get("vc"), dict):
            raise CheckFailed("missing_claim", "a VC Data Model 1.1 JWT credential needs a "
                              "'vc' object claim")
        for claim in ("iss", "sub"):
            if not isinstance(payload.get(claim), str):
                raise CheckFailed("missing_claim", f"the {claim!r} claim is missing or not a "
                                  "string")
        numeric_date(payload, "nbf", required=True)
    else:
        if "vc" in payload or "vp" in payload:
            raise CheckFailed("malformed", "a vc+jwt payload is the credential itself and must "
                              "not carry a 'vc' or 'vp' claim")
        numeric_date(payload, "nbf", required=False)
    numeric_date(payload, "iat", required=False)
    numeric_date(payload, "exp", required=True)
    body = payload["vc"] if state.encoding is Encoding.VC1 else payload
    subject = body.get("credentialSubject")
    ims = subject.get("hasInstantMessage") if isinstance(subject, dict) else None
    if isinstance(ims, list) and len(ims) > MAX_INSTANT_MESSAGES:
        raise CheckFailed("too_large", f"hasInstantMessage holds {len(ims)} identifiers; at most "
                          f"{MAX_INSTANT_MESSAGES} are accepted")
    jti = payload.get("jti")
    if jti is not None and not isinstance(jti, str):
        raise CheckFailed("malformed", "jti must be a string", "$.jti")
    return "registered claims present and NumericDates in seconds"


def _xsd_time(model: Mapping[str, Any], name: str) -> int | None:
    if name not in model:
        return None
    value = model[name]
    seconds = rfc3339_to_seconds(value) if isinstance(value, str) else None
    if seconds is None:
        raise CheckFailed("malformed", f"{name} is not an RFC 3339 date-time with a time zone",
                          f"$.{name}")
    return seconds


def check_time(state: CredentialState) -> str:
    """nbf, exp, iat, validFrom and validUntil, each with the leeway."""
    payload, now, leeway = state.payload, state.now, state.leeway
    nbf = numeric_date(payload, "nbf", required=False)
    exp = numeric_date(payload, "exp", required=True)
    iat = numeric_date(payload, "iat", required=False)
    assert exp is not None
    valid_from = valid_until = None
    if state.encoding is Encoding.VC2:
        valid_from = _xsd_time(payload, "validFrom")
        valid_until = _xsd_time(payload, "validUntil")
    if nbf is not None and now + leeway < nbf:
        raise CheckFailed("not_yet_valid", f"the credential is valid only from {rfc3339(nbf)}")
    if valid_from is not None and now + leeway < valid_from:
        raise CheckFailed("not_yet_valid", f"validFrom is {payload['validFrom']}")
    if now - leeway >= exp:
        raise CheckFailed("expired", f"the credential expired at {rfc3339(exp)}")
    if valid_until is not None and now - leeway >= valid_until:
        raise CheckFailed("expired", f"validUntil was {payload['validUntil']}")
    if iat is not None and iat > now + leeway:
        raise CheckFailed("bad_iat", f"the credential was issued in the future, at "
                          f"{rfc3339(iat)}")
    return f"valid now, until {rfc3339(exp)}"


def _same(a: Any, b: Any) -> bool:
    return a is None or b is None or a == b


def check_consistency(state: CredentialState) -> str:
    """The JWT claims and the data-model properties they stand for agree (VC-JOSE-COSE)."""
    payload = state.payload
    if state.encoding is Encoding.VC1:
        vc = payload["vc"]
        subject = vc.get("credentialSubject")
        pairs = [
            ("jti", payload.get("jti"), "vc.id", vc.get("id")),
            ("iss", payload.get("iss"), "vc.issuer", issuer_of({"issuer": vc.get("issuer")})),
            ("sub", payload.get("sub"), "vc.credentialSubject.id",
             subject.get("id") if isinstance(subject, dict) else None),
            ("nbf", payload.get("nbf"), "vc.issuanceDate", _xsd_time(vc, "issuanceDate")),
            ("exp", payload.get("exp"), "vc.expirationDate", _xsd_time(vc, "expirationDate")),
        ]
    else:
        subject = payload.get("credentialSubject")
        pairs = [
            ("iss", payload.get("iss"), "issuer", issuer_of({"issuer": payload.get("issuer")})),
            ("sub", payload.get("sub"), "credentialSubject.id",
             subject.get("id") if isinstance(subject, dict) else None),
            ("jti", payload.get("jti"), "id", payload.get("id")),
        ]
    for claim, claim_value, prop, prop_value in pairs:
        if not _same(claim_value, prop_value):
            raise CheckFailed("claim_mismatch", f"the {claim!r} claim ({claim_value!r}) differs "
                              f"from {prop} ({prop_value!r})", f"$.{prop}")
    state.model = data_model(payload, state.encoding)
    return "JWT claims agree with the credential's properties"


def check_types(state: CredentialState) -> str:
    """``type`` is VerifiableCredential plus exactly one vc_im credential type."""
    types = state.model.get("type")
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise CheckFailed("bad_type", "the credential's type must be a list of strings",
                          "$.type")
    ours = [t for t in types if t in {c.value for c in CredentialType}]
    if "VerifiableCredential" not in types or len(ours) != 1 or len(types) != 2:
        raise CheckFailed("bad_type", f"the credential's type {types!r} is not "
                          "['VerifiableCredential', 'ImDeviceCredential'] or "
                          "['VerifiableCredential', 'ImUserCredential']", "$.type")
    state.credential_type = CredentialType(ours[0])
    return f"the type is {state.credential_type.value}"


def check_context(state: CredentialState) -> str:
    """``@context`` is exactly the encoding's list: the W3C context, then vc_im's."""
    from vc_im import _linked as jsonld  # pyld loads only when a credential gets this far

    path = "$.vc['@context']" if state.encoding is Encoding.VC1 else "$['@context']"
    jsonld.check_context(state.model.get("@context"), expected=[state.encoding.contexts],
                         path=path)
    return "the @context is " + ", ".join(state.encoding.contexts)


def check_jsonld(state: CredentialState) -> str:
    """JSON-LD expansion with the offline loader drops nothing; types are expected IRIs."""
    from vc_im import _linked as jsonld
    jsonld.expand_checked(state.model, allowed_types=jsonld.CREDENTIAL_TYPES)
    return "every property and type expands to an expected IRI"


def check_schema(state: CredentialState) -> str:
    """The JSON Schema of the encoding; the first problem is reported with its path."""
    from vc_im import _linked as schema
    name: Literal["credential-vc1", "credential-vc2"] = (
        "credential-vc1" if state.encoding is Encoding.VC1 else "credential-vc2")
    problems = schema.validate(state.payload, name)
    if problems:
        first = problems[0]
        more = f" ({len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise CheckFailed("schema_invalid", f"{first.message}{more}", first.path)
    return f"valid against the schema {name}"


def _identifier(value: Any, path: str) -> ImId:
    if not isinstance(value, str):
        raise CheckFailed("bad_identifier", "an identifier must be a string", path)
    try:
        return identifiers.parse(value)
    except IdentifierError as exc:
        raise CheckFailed("bad_identifier", f"{value!r}: {exc.message}", path) from exc


def check_identifiers(state: CredentialState) -> str:
    """Subject and hasInstantMessage parse, fit the credential type and the issuer's domains."""
    subject = state.model.get("credentialSubject")
    if not isinstance(subject, dict):
        raise CheckFailed("missing_claim", "the credential has no credentialSubject")
    subject_id = _identifier(subject.get("id"), "$.credentialSubject.id")
    if state.credential_type is CredentialType.DEVICE and subject_id.type is not IdType.DEVICE:
        raise CheckFailed("bad_identifier", f"an ImDeviceCredential's subject must be a device "
                          f"identifier, and {subject_id} is a {subject_id.type.value}",
                          "$.credentialSubject.id")
    if state.credential_type is CredentialType.USER and subject_id.type not in (
            IdType.USER, IdType.HANDLE):
        raise CheckFailed("bad_identifier", f"an ImUserCredential's subject must be a user or "
                          f"handle identifier, and {subject_id} is a {subject_id.type.value}",
                          "$.credentialSubject.id")
    raw = subject.get("hasInstantMessage")
    if not isinstance(raw, list) or not raw:
        raise CheckFailed("missing_claim", "hasInstantMessage must be a non-empty array",
                          "$.credentialSubject.hasInstantMessage")
    values = tuple(_identifier(v, f"$.credentialSubject.hasInstantMessage[{i}]")
                   for i, v in enumerate(raw))
    if subject_id not in values:
        raise CheckFailed("bad_identifier", f"the subject {subject_id} is not among the "
                          "hasInstantMessage values", "$.credentialSubject.hasInstantMessage")
    issuer = state.issuer
    if state.parent is not None and state.trust is not None:
        _check_cascade(state.parent, subject_id, values, state.credential_type)
        issuer = state.trust.issuer(state.parent.issuer)
    if state.certified_ids is not None:
        for value in (subject_id, *values):
            if value not in state.certified_ids:
                raise CheckFailed("untrusted_issuer", f"the signer's certificate does not "
                                  f"certify {value}")
    if state.certified_domains is not None:
        for value in (subject_id, *values):
            if value.domain not in state.certified_domains:
                raise CheckFailed("untrusted_issuer", f"the signer's certificate speaks for "
                                  f"{', '.join(sorted(state.certified_domains))}, not for "
                                  f"{value.domain} ({value})")
    if issuer is not None:
        for value in (subject_id, *values):
            if not issuer.covers(value):
                raise CheckFailed("untrusted_issuer", f"the issuer {issuer.id!r} is trusted only "
                                  f"for {', '.join(sorted(issuer.domains or ()))}, not for "
                                  f"{value.domain} ({value})")
    state.credential = Credential(
        type=state.credential_type,
        id=str(state.model.get("id", "")),
        issuer=str(issuer_of(state.payload)),
        subject=Subject(subject_id, str(subject.get("fn", "")), values,
                        subject.get("hasOrganizationName"), subject.get("hasOrganizationalUnit")),
        issued_at=int(state.payload.get("nbf") or state.payload.get("iat") or 0),
        expires_at=int(state.payload["exp"]),
        may_issue_devices=subject.get("mayIssueDeviceCredentials") is True,
    )
    return (f"the subject {subject_id} is a {subject_id.type.value}, among {len(values)} IM "
            "identifiers")


def _check_cascade(parent: Credential, subject: ImId, values: Sequence[ImId],
                   credential_type: CredentialType) -> None:
    """A user's key issues only device credentials, for its own devices and identifiers."""
    if credential_type is not CredentialType.DEVICE:
        raise CheckFailed("untrusted_issuer", f"the user {parent.subject.id} may issue device "
                          "credentials only")
    own = {parent.subject.id, *parent.subject.instant_messages}
    if subject.type is IdType.DEVICE and subject.user() not in own:
        raise CheckFailed("untrusted_issuer", f"the device {subject} does not belong to the "
                          f"issuing user {parent.subject.id}")
    for value in values:
        if value != subject and value not in own:
            raise CheckFailed("untrusted_issuer", f"the user {parent.subject.id} may not issue "
                              f"a credential naming {value}")


def check_holder_key(state: CredentialState) -> str:
    """``cnf`` (RFC 7800), when present, names exactly one usable public key."""
    cnf = state.payload.get("cnf")
    if cnf is None:
        return "no holder key bound (no cnf)"
    if not isinstance(cnf, dict) or len(cnf) != 1 or not ({"jwk", "jkt"} & set(cnf)):
        raise CheckFailed("bad_key", "cnf must hold exactly one of jwk or jkt", "$.cnf")
    assert state.credential is not None
    if "jwk" in cnf:
        if not isinstance(cnf["jwk"], dict):
            raise CheckFailed("bad_key", "cnf.jwk must be a JWK object", "$.cnf.jwk")
        try:
            key = key_from_jwk(cnf["jwk"], require="public")
        except KeyFileError as exc:
            raise CheckFailed("bad_key", f"cnf.jwk: {exc.message}", "$.cnf.jwk") from exc
        state.credential = _replace_holder(state.credential, key, None)
        return f"holder key bound: {key.alg}, thumbprint {key.thumbprint()}"
    jkt = cnf["jkt"]
    try:
        if not isinstance(jkt, str) or len(jose.b64url_decode(jkt, what="cnf.jkt")) != 32:
            raise CheckFailed("bad_key", "cnf.jkt must be a base64url SHA-256 thumbprint",
                              "$.cnf.jkt")
    except TokenError as exc:
        raise CheckFailed("bad_key", exc.message, "$.cnf.jkt") from exc
    state.credential = _replace_holder(state.credential, None, jkt)
    return f"holder key bound by thumbprint {jkt}"


def _replace_holder(credential: Credential, key: Key | None, jkt: str | None) -> Credential:
    return replace(credential, holder_key=key, holder_jkt=jkt)


def _subject_key(state: CredentialState) -> Key | None:
    """The key the credential binds to its subject: the signer's own when the signer is the
    subject (cnf, if present, must then name it), else cnf.jwk."""
    assert state.credential is not None
    credential = state.credential
    if state.signer_is_subject:
        assert state.key is not None
        bound = (credential.holder_key.thumbprint()
                 if credential.holder_key is not None else credential.holder_jkt)
        if bound is not None and bound != state.key.thumbprint():
            raise CheckFailed("untrusted_issuer", "a credential signed by its own subject must "
                              "bind the key that signs it, and cnf names another key")
        return state.key
    return credential.holder_key


def check_trust_path(state: CredentialState) -> str:
    """The policy of every domain the credential names: its methods vouch for the subject's
    key, as many as the rule asks, without contradiction."""
    from vc_im.trust.policy import decide

    assert state.trust is not None
    assert state.credential is not None
    subject = state.credential.subject
    key = _subject_key(state)
    found = {path.method: replace(path, key=key) for path in state.signer_paths}
    vouched, well_known = _statement_paths(state, key, found)
    decisions = [(subject.id.domain, decide(state.trust.rule_for(subject.id.domain), found))]
    for domain in dict.fromkeys(v.domain for v in subject.instant_messages):
        if domain == subject.id.domain:
            continue
        # Statements vouch for particular identities: in another domain only a well-known
        # path for an identity of that domain counts; the signer's paths cover every domain.
        elsewhere = {m: p for m, p in found.items() if m not in ("web_of_trust", "well_known")}
        for identity, path in well_known.items():
            if identity.domain == domain and (path.ok or "well_known" not in elsewhere):
                elsewhere["well_known"] = path
        decisions.append((domain, decide(state.trust.rule_for(domain), elsewhere)))
    state.decision = decisions[0][1]
    for domain, decision in decisions:
        if not decision.ok:
            where = "" if domain == subject.id.domain else f"for {domain}, "
            raise CheckFailed(decision.code or "untrusted_issuer", where + decision.reason)
    if state.self_issued:
        for value in subject.instant_messages:
            if value not in vouched:
                raise CheckFailed("untrusted_issuer", f"the self-issued credential names "
                                  f"{value}, which no trust path vouches for")
    return state.decision.reason


def _statement_paths(state: CredentialState, key: Key | None, found: dict[str, TrustPath],
                     ) -> tuple[set[ImId], dict[ImId, TrustPath]]:
    """Add the web-of-trust and well-known paths for the subject to ``found``; return the
    identities they vouch for (a self-issued credential may name only those) and the
    well-known path of each identity weighed.

    Well-known statements must vouch for the subject's own identity (a device's user):
    vouching for some other identity the credential lists proves nothing about the subject.
    """
    assert state.trust is not None
    assert state.credential is not None
    subject = state.credential.subject.id
    own = subject.user() if subject.type is IdType.DEVICE else subject
    vouched: set[ImId] = set()
    paths: dict[ImId, TrustPath] = {}
    statements = state.evidence.statements
    if not statements or key is None:
        return vouched, paths
    anchor = state.trust.web_of_trust
    if anchor is not None and subject.type is IdType.DEVICE:
        from vc_im.trust.statements import Statement
        from vc_im.trust.wot import evaluate_web_of_trust

        path = evaluate_web_of_trust(
            me=anchor.id, master_key=anchor.master_key,
            statements=[item for item in statements if isinstance(item, Statement)],
            device=subject, device_key=key, max_hops=anchor.max_hops)
        found["web_of_trust"] = path
        if path.ok:
            vouched.update({subject, own})
    threshold = state.trust.well_known_threshold
    if threshold is not None:
        from vc_im.trust.wellknown import evaluate_well_known

        others = [value for value in state.credential.subject.instant_messages
                  if value.type in (IdType.USER, IdType.HANDLE) and value != own]
        paths = {identity: evaluate_well_known(identity=identity, key=key,
                                               statements=statements, threshold=threshold,
                                               now=state.now, leeway=state.leeway)
                 for identity in dict.fromkeys([own, *others])}
        found["well_known"] = next((p for p in paths.values() if p.contradiction), paths[own])
        if paths[own].ok:
            vouched.update({subject, own})
            vouched.update(identity for identity, path in paths.items() if path.ok)
    return vouched, paths


SIGNATURE_STEPS: tuple[Step, ...] = (
    ("format", check_format),
    ("header", check_header),
    ("alg", check_alg),
    ("issuer_key", check_issuer_key),
    ("signature", check_signature),
)
#: The checks on a credential's content, which the issuer also runs before signing.
CONTENT_STEPS: tuple[Step, ...] = (
    ("claims", check_claims),
    ("time", check_time),
    ("consistency", check_consistency),
    ("types", check_types),
    ("context", check_context),
    ("jsonld", check_jsonld),
    ("schema", check_schema),
    ("identifiers", check_identifiers),
    ("holder_key", check_holder_key),
)
#: The trust decision, which issuing skips: the issuer vouches for what it signs.
TRUST_STEPS: tuple[Step, ...] = (("trust_path", check_trust_path),)
CREDENTIAL_STEPS: tuple[Step, ...] = SIGNATURE_STEPS + CONTENT_STEPS + TRUST_STEPS


def verify_credential(token: str | bytes, trust: TrustStore, *, now: int,
                      leeway: int = DEFAULT_LEEWAY, expect_presentation: bool = False,
                      evidence: Evidence = NO_EVIDENCE) -> Report:
    """Verify one credential JWT and report every check; never raises for invalid input.

    ``evidence`` feeds the trust models (parent credentials, signed statements);
    a parent's own report is nested in the result.
    """
    state = CredentialState(token, trust, now, leeway, expect_presentation, evidence=evidence)
    checks = run_checks(CREDENTIAL_STEPS, state)
    trust_paths = tuple(_path_json(path) for path in state.decision.paths) if (
        state.decision is not None) else ()
    report = Report("credential", checks, tuple(state.nested), trust=trust_paths)
    if report.ok:
        return replace(report, verified=state.credential)
    return report


def _path_json(path: TrustPath) -> dict[str, object]:
    return {"method": path.method, "ok": path.ok, "steps": list(path.steps),
            "reason": path.reason, "contradiction": path.contradiction}

