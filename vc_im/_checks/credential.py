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
``status``            each credentialStatus entry's bit is clear in a signed
                      list from the issuer (revocation, suspension)
====================  =====================================================

Claims read before ``signature`` are used to find the key or to reject, never
to accept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from vc_im import _jose as jose
from vc_im import identifiers
from vc_im._checks import profiled
from vc_im._checks.common import (
    DEFAULT_LEEWAY,
    check_alg,
    check_format,
    check_header_names,
    issuer_of,
    numeric_date,
    refuse_high_s,
)
from vc_im._checks.signer import check_issuer_key, self_issued
from vc_im._checks.state import CredentialState, Step
from vc_im._checks.status import check_status, check_status_entries
from vc_im._checks.trust_path import check_trust_path, path_json
from vc_im.errors import KeyFileError, TokenError
from vc_im.identifiers import IdentifierError, IdType, ImId
from vc_im.keys import Key, key_from_jwk
from vc_im.model import (
    NO_EVIDENCE,
    Credential,
    CredentialType,
    Encoding,
    Evidence,
    Subject,
    data_model,
)
from vc_im.report import Check, CheckFailed, Report, Status, run_checks, run_checks_many
from vc_im.times import TimeRules, as_now, rfc3339_to_seconds
from vc_im.times import seconds_to_rfc3339 as rfc3339
from vc_im.trust.store import TrustStore

if TYPE_CHECKING:
    from vc_im.profiles import Profile

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


# --- checks before the signature -------------------------------------------------------------

def check_header(state: CredentialState) -> str:
    """Allow-listed header names; the explicit ``typ`` decides the encoding (RFC 8725 §3.11)."""
    header = state.header
    allowed = set(_CREDENTIAL_HEADER)
    trust = state.trust
    if trust is not None and trust.x509_roots:
        allowed.add("x5c")
    if trust is not None and self_issued(state.payload) and (
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


def check_signature(state: CredentialState) -> str:
    """The signature verifies over the received header and payload octets."""
    assert isinstance(state.unverified, jose.Unverified)
    assert state.key is not None
    if not jose.verify_signature(state.unverified, state.key):
        refuse_high_s(state.unverified, state.key)
        raise CheckFailed("bad_signature", f"the signature does not verify with the issuer's "
                          f"key {state.key.kid!r}")
    return f"{state.unverified.alg} signature verified"


# --- checks after the signature --------------------------------------------------------------

def check_claims(state: CredentialState) -> str:
    """Registered claims are present and well-typed; the data-model claim fits the encoding.

    The profile whose rules the content checks apply is chosen here, first (see
    :mod:`vc_im.profiles`); ``im-device`` and ``im-user`` keep the rules below."""
    profiled.choose_profile(state)
    if state.generic:
        return profiled.check_claims(state)
    try:
        return _im_claims(state)
    except CheckFailed as exc:
        if state.profile is not None or not (rule := _profile_rule(state)):
            raise
        # The types fit no profile: say whose rules refused it (the types check would too).
        raise CheckFailed(exc.code, f"{exc.reason.rstrip('.')}{rule}; the credential's "
                          "types fit none of them", exc.path) from exc


def _im_claims(state: CredentialState) -> str:
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
    if state.generic:
        return profiled.check_time(state, _xsd_time)
    payload, rules = state.payload, TimeRules(state.now, state.leeway)
    nbf = numeric_date(payload, "nbf", required=False)
    exp = numeric_date(payload, "exp", required=True)
    iat = numeric_date(payload, "iat", required=False)
    assert exp is not None
    valid_from = valid_until = None
    if state.encoding is Encoding.VC2:
        valid_from = _xsd_time(payload, "validFrom")
        valid_until = _xsd_time(payload, "validUntil")
    if nbf is not None and rules.not_yet(nbf):
        raise CheckFailed("not_yet_valid", f"the credential is valid only from {rfc3339(nbf)}")
    if valid_from is not None and rules.not_yet(valid_from):
        raise CheckFailed("not_yet_valid", f"validFrom is {payload['validFrom']}")
    if rules.ended(exp):
        raise CheckFailed("expired", f"the credential expired at {rfc3339(exp)}")
    if valid_until is not None and rules.ended(valid_until):
        raise CheckFailed("expired", f"validUntil was {payload['validUntil']}")
    if iat is not None and rules.in_future(iat):
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


#: The vc_im credential types, by name.
_IM_TYPES = {kind.value: kind for kind in CredentialType}


def check_types(state: CredentialState) -> str:
    """``type`` is VerifiableCredential plus exactly one vc_im credential type."""
    if state.generic:
        return profiled.check_types(state)
    profiled.refuse_unfit(state)
    types = state.model.get("type")
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise CheckFailed("bad_type", "the credential's type must be a list of strings",
                          "$.type")
    ours = [t for t in types if t in _IM_TYPES]
    if "VerifiableCredential" not in types or len(ours) != 1 or len(types) != 2:
        raise CheckFailed("bad_type", f"the credential's type {types!r} is not "
                          "['VerifiableCredential', 'ImDeviceCredential'] or "
                          "['VerifiableCredential', 'ImUserCredential']"
                          f"{_profile_rule(state, 'the types rule')}", "$.type")
    if state.profile is None:  # an IM type, but not one the trust file lets its issuer issue
        raise CheckFailed("bad_type", f"the credential's type {types!r} is not one this "
                          f"verifier accepts from its issuer"
                          f"{_profile_rule(state, 'the types rule')}", "$.type")
    state.credential_type = _IM_TYPES[ours[0]]
    return f"the type is {state.credential_type.value}"


def _profile_rule(state: CredentialState, rule: str = "a rule") -> str:
    """Which profiles' types rule a credential failed: those this verifier applies to its
    issuer (``im-device`` and ``im-user`` unless the trust file or --profile says more)."""
    if state.forced_profile is not None:
        names = [state.forced_profile.name]
    elif state.trust is not None:
        names = [profile.name for profile in state.trust.profiles_for(state.issuer)]
    else:
        return ""
    which = f"profile {names[0]}" if len(names) == 1 else f"profiles {', '.join(names)}"
    return f" ({rule} of the {which}, which this verifier applies to its issuer)"


def check_context(state: CredentialState) -> str:
    """``@context`` is exactly the encoding's list: the W3C context, then vc_im's."""
    if state.generic:
        return profiled.check_context(state)
    import vc_im._linked as jsonld  # pyld loads only when a credential gets this far

    path = "$.vc['@context']" if state.encoding is Encoding.VC1 else "$['@context']"
    contexts: tuple[str, ...] = state.encoding.contexts
    if state.encoding is Encoding.VC1 and "credentialStatus" in state.model:
        contexts += (jsonld.STATUS_LIST_2021_CONTEXT,)  # StatusList2021's terms, third
    jsonld.check_context(state.model.get("@context"), expected=[contexts], path=path)
    return "the @context is " + ", ".join(contexts)


def check_jsonld(state: CredentialState) -> str:
    """JSON-LD expansion with the offline loader drops nothing; types are expected IRIs."""
    if state.generic:
        return profiled.check_jsonld(state)
    import vc_im._linked as jsonld
    jsonld.check_expansion(state.model, allowed_types=jsonld.CREDENTIAL_TYPES)
    return "every property and type expands to an expected IRI"


def check_schema(state: CredentialState) -> str:
    """The JSON Schema of the encoding; the first problem is reported with its path."""
    if state.generic:
        return profiled.check_schema(state)
    import vc_im._linked as schema
    name: Literal["credential-vc1", "credential-vc2"] = (
        "credential-vc1" if state.encoding is Encoding.VC1 else "credential-vc2")
    problems = schema.validate(state.payload, name)
    if problems:
        first = problems[0]
        more = f" ({len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise CheckFailed("schema_invalid", f"{first.message}{more}", first.path)
    check_status_entries(state)
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
    if state.generic:
        return profiled.check_identifiers(state)
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
                        subject.get("hasOrganizationName"),
                        subject.get("hasOrganizationalUnit", subject.get("hasOrganizationUnit"))),
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
    if subject.type is IdType.DEVICE and subject.owner() is None:
        raise CheckFailed("untrusted_issuer", f"the device {subject} names no user, so no "
                          f"user's key may issue its credential")
    if subject.type is IdType.DEVICE and subject.user() not in own:
        raise CheckFailed("untrusted_issuer", f"the device {subject} does not belong to the "
                          f"issuing user {parent.subject.id}")
    for value in values:
        if value != subject and value not in own:
            raise CheckFailed("untrusted_issuer", f"the user {parent.subject.id} may not issue "
                              f"a credential naming {value}")


def check_holder_key(state: CredentialState) -> str:
    """``cnf`` (RFC 7800), when present, names exactly one usable public key."""
    if state.generic:
        profiled.check_holder_binding(state)
    cnf = state.payload.get("cnf")
    if cnf is None:
        return "no holder key bound (no cnf)"
    if not isinstance(cnf, dict) or len(cnf) != 1 or not ({"jwk", "jkt"} & set(cnf)):
        raise CheckFailed("bad_key", "cnf must hold exactly one of jwk or jkt", "$.cnf")
    if "jwk" in cnf:
        if not isinstance(cnf["jwk"], dict):
            raise CheckFailed("bad_key", "cnf.jwk must be a JWK object", "$.cnf.jwk")
        try:
            key = key_from_jwk(cnf["jwk"], require="public")
        except KeyFileError as exc:
            raise CheckFailed("bad_key", f"cnf.jwk: {exc.message}", "$.cnf.jwk") from exc
        _replace_holder(state, key, None)
        return f"holder key bound: {key.alg}, thumbprint {key.thumbprint()}"
    jkt = cnf["jkt"]
    try:
        if not isinstance(jkt, str) or len(jose.b64url_decode(jkt, what="cnf.jkt")) != 32:
            raise CheckFailed("bad_key", "cnf.jkt must be a base64url SHA-256 thumbprint",
                              "$.cnf.jkt")
    except TokenError as exc:
        raise CheckFailed("bad_key", exc.message, "$.cnf.jkt") from exc
    _replace_holder(state, None, jkt)
    return f"holder key bound by thumbprint {jkt}"


def _replace_holder(state: CredentialState, key: Key | None, jkt: str | None) -> None:
    if state.profiled is not None:
        state.profiled = replace(state.profiled, holder_key=key, holder_jkt=jkt)
        return
    assert state.credential is not None
    state.credential = state.credential.bound_to(key, jkt)


def _trust_path(state: CredentialState) -> str:
    """The trust policy (IM profiles), or the signer's own path (other profiles)."""
    return profiled.check_trust_path(state) if state.generic else check_trust_path(state)


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
TRUST_STEPS: tuple[Step, ...] = (("trust_path", _trust_path), ("status", check_status))
CREDENTIAL_STEPS: tuple[Step, ...] = SIGNATURE_STEPS + CONTENT_STEPS + TRUST_STEPS


def verify_credential(token: str | bytes | jose.Unverified, trust: TrustStore, *, now: float,
                      leeway: int = DEFAULT_LEEWAY, expect_presentation: bool = False,
                      evidence: Evidence = NO_EVIDENCE, profile: Profile | None = None,
                      ) -> Report:
    """Verify one credential JWT and report every check; never raises for invalid input.

    ``evidence`` feeds the trust models (parent credentials, signed statements);
    a parent's own report is nested in the result. ``profile`` applies that profile's
    rules whatever the credential's types (``--profile``); by default the types choose
    among the profiles the trust file lets the issuer issue. The report names the profile.

    ``now`` is seconds since the epoch; a float is floored (:func:`vc_im.times.as_now`).
    """
    now = as_now(now)
    state = CredentialState(token, trust, now, leeway, expect_presentation, evidence=evidence,
                            forced_profile=profile)
    return credential_report(state, run_checks(CREDENTIAL_STEPS, state))


def verify_credentials(states: Sequence[CredentialState]) -> list[Report]:
    """:func:`verify_credential` of each state's token, every check run over all of them
    before the next (:func:`vc_im.report.run_checks_many`): the same reports, faster."""
    return [credential_report(state, checks)
            for state, checks in zip(states, run_checks_many(CREDENTIAL_STEPS, states),
                                     strict=True)]


def credential_report(state: CredentialState, checks: tuple[Check, ...]) -> Report:
    """The report of a credential whose checks ran on ``state``."""
    trust_paths = tuple(path_json(path) for path in state.decision.paths) if (
        state.decision is not None) else ()
    applied = state.profile.name if state.profile is not None and any(
        check.name == "types" and check.status is Status.PASSED for check in checks) else None
    report = Report("credential", checks, tuple(state.nested), trust=trust_paths,
                    status=tuple(state.status), verified=state.profiled or state.credential,
                    profile=applied)
    return report if report.ok else replace(report, verified=None)
