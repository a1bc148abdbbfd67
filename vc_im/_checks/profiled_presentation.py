"""The ``w3c`` presentation rules: a holder's presentation of W3C or profile-file credentials.

An IM presentation (:mod:`vc_im._checks.presentation`) is a device presenting its
ImDeviceCredential. A W3C presentation is any holder presenting credentials of the ``w3c``
profile or of a profile file, or none. Which rules apply (:func:`applies`):

* ``--profile w3c`` or a profile file's name: the ``w3c`` rules, every embedded credential
  verified under that profile; ``--profile im-device``/``im-user``: the IM rules, as without;
* otherwise the ``w3c`` rules only when the presentation carries at least one credential and
  each one (read before any signature, only to choose) carries no IM type and names an issuer
  the trust file lets issue a profile besides ``im-device`` and ``im-user`` (its
  ``profiles``). An IM-only trust file never meets this: it accepts and refuses as before.

The checks, in order: ``format``, ``header``, ``alg``, ``claims`` (the document: VC DM 1.1
§6.3.1 maps ``iss`` back to ``holder`` and ``jti`` to ``id``; a ``vp+jwt`` is the document,
its ``iss`` and ``jti`` agreeing), ``audience`` and ``nonce`` (when the verifier gives them),
``time``, ``schema`` (every data-model MUST :func:`vc_im.vcdm.check_presentation` checks),
``context`` (the encoding's W3C base context first, pinned contexts only, JSON-LD expansion
drops nothing), ``holder_key``, ``signature``, ``credentials``, ``holder_binding`` and
``replay``.

The holder's key: the header's ``jwk``; a ``kid`` that is a did:key or did:jwk URL, and a
holder that is a did:key or did:jwk, name it too, and every key named must be the same. With
none of them (a holder that is an ``https`` URL, say) there is no key: the header must carry
the ``jwk``. Any other ``kid`` is a hint (RFC 7515), except a thumbprint URI, which must
name that key. Holder binding: a credential that binds a key (``cnf``) must bind this one; one
that binds none is accepted when its subject is the holder, and otherwise too, since the data
model has no binding rule, with a warning (anyone who holds it can present it). Since the key
comes from the presentation itself, not from its credentials as under the IM rules, the
signature is checked before the credentials are, and the binding after.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from vc_im import _jose as jose
from vc_im._checks.common import (
    MAX_LEEWAY,
    check_alg,
    check_format,
    consume,
    issuer_of,
    numeric_date,
    refuse_high_s,
)
from vc_im._checks.credential import verify_credential
from vc_im._checks.presentation import (
    ENVELOPE_PREFIX,
    MAX_AGE,
    MAX_CREDENTIALS,
    MAX_LIFETIME,
    _secured,
    check_audience,
    check_header,
)
from vc_im._checks.state import PresentationState
from vc_im.errors import KeyFileError, TokenError
from vc_im.keys import Key, key_from_jwk
from vc_im.model import ProfiledCredential, ProfiledPresentation
from vc_im.report import CheckFailed, Passed, Report, Status, run_checks
from vc_im.times import TimeRules
from vc_im.times import seconds_to_rfc3339 as rfc3339

if TYPE_CHECKING:
    from vc_im.model import Evidence
    from vc_im.profiles import Profile
    from vc_im.replay import StoreLike
    from vc_im.trust.store import TrustStore

_IM_TYPES = frozenset({"ImDeviceCredential", "ImUserCredential"})
_IM_PROFILES = frozenset({"im-device", "im-user"})
_RESOLVABLE = ("did:key:", "did:jwk:")
#: Why the IM rules applied, added to their failure when the presentation is not an IM one.
RULE = ("the IM presentation rules applied; the w3c presentation rules apply only with "
        "--profile w3c, or when the trust file's issuer profiles let every presented "
        "credential's issuer issue a profile besides im-device and im-user")


# --- which rules apply ---------------------------------------------------------------------------

def _embedded(unverified: jose.Unverified) -> list[Any] | None:
    """The presented items of a presentation JWT, unverified (None: not a list)."""
    payload = unverified.payload
    body = payload.get("vp") if unverified.header.get("typ", "JWT") == "JWT" else payload
    items = body.get("verifiableCredential", []) if type(body) is dict or isinstance(
        body, Mapping) else None
    return items if isinstance(items, list) else None


def _peek(item: Any, memo: dict[str, jose.Unverified] | None = None,
          ) -> jose.Unverified | None:
    """A presented item's JWT, unverified; ``memo`` keeps each one read for the checks
    that follow, so that a credential is parsed once."""
    if isinstance(item, dict) and isinstance(item.get("id"), str) and (
            item["id"].startswith(ENVELOPE_PREFIX)):
        item = item["id"][len(ENVELOPE_PREFIX):]
    if not isinstance(item, str):
        return None
    if memo is not None and item in memo:
        return memo[item]
    try:
        peeked = jose.peek_unverified(item)
    except TokenError:
        return None
    if memo is not None:
        memo[item] = peeked
    return peeked


def _types(payload: Mapping[str, Any]) -> set[str]:
    body = payload.get("vc") if isinstance(payload.get("vc"), dict) else payload
    types = body.get("type") if type(body) is dict or isinstance(body, Mapping) else None
    if isinstance(types, str):
        return {types}
    return {t for t in types if isinstance(t, str)} if isinstance(types, list) else set()


def _not_im(unverified: jose.Unverified, memo: dict[str, jose.Unverified] | None = None,
            ) -> bool | None:
    """Whether every presented credential carries no IM type (None: one cannot be read)."""
    items = _embedded(unverified)
    if items is None:
        return None
    peeked = [_peek(item, memo) for item in items]
    if any(token is None for token in peeked):
        return None
    return all(not _types(token.payload) & _IM_TYPES for token in peeked if token is not None)


def applies(token: str | bytes | jose.Unverified, trust: TrustStore,
            profile: Profile | None, memo: dict[str, jose.Unverified] | None = None) -> bool:
    """Whether the ``w3c`` presentation rules apply (see the module notes); reads the
    presentation unverified, only to choose (into ``memo``, the credentials it read)."""
    if profile is not None:
        return not profile.is_im
    try:
        unverified = token if isinstance(token, jose.Unverified) else jose.peek_unverified(token)
    except TokenError:
        return False
    items = _embedded(unverified)
    if not items or len(items) > MAX_CREDENTIALS or _not_im(unverified, memo) is not True:
        return False  # the IM rules report what is wrong
    for item in items:
        peeked = _peek(item, memo)
        issuer = trust.issuer(issuer_of(peeked.payload)) if peeked is not None and isinstance(
            issuer_of(peeked.payload), str) else None
        if issuer is None or not (issuer.profiles or frozenset()) - _IM_PROFILES:
            return False
    return True


def explain(report: Report, unverified: jose.Unverified | None) -> Report:
    """An IM-rules failure of a presentation that carries no IM credential, with why the IM
    rules applied (the profile rule), so the reason names what would accept it."""
    failure = report.failure
    if (failure is None or unverified is None or failure.name in ("format", "header", "alg")
            or _not_im(unverified) is not True):
        return report
    reason = f"{failure.reason.rstrip('.')} ({RULE})."
    checks = tuple(replace(check, reason=reason) if check is failure else check
                   for check in report.checks)
    return replace(report, checks=checks)


# --- verifying -----------------------------------------------------------------------------------

@dataclass(slots=True)
class W3cPresentationState(PresentationState):
    """What the ``w3c`` presentation checks learn, one step after another."""

    profile: Profile | None = None
    #: The presentation's data-model document (VC DM 1.1: ``vp`` with ``iss``/``jti`` mapped).
    document: dict[str, Any] = field(default_factory=dict)
    holder_id: str | None = None
    #: Whether the holder's name is a did:key or did:jwk, proven by the presentation key.
    holder_proven: bool = False
    verified: list[ProfiledCredential] = field(default_factory=list)
    #: The last moment the presentation may be accepted (``exp``, else ``iat`` + MAX_AGE).
    ends: int = 0


def _claims(state: W3cPresentationState) -> str:
    """The document, the registered claims where present, at most 16 secured credentials."""
    payload = state.payload
    if state.encoding == "vc1":
        if not isinstance(payload.get("vp"), dict):
            raise CheckFailed("missing_claim", "the vp claim must be an object")
        if "vc" in payload:
            raise CheckFailed("malformed", "a presentation must not carry a vc claim")
        document = dict(payload["vp"])
    else:
        if "vp" in payload or "vc" in payload:
            raise CheckFailed("malformed", "a vp+jwt payload is the presentation itself and "
                              "must not carry a vp or vc claim")
        document = dict(payload)
    for claim in ("iss", "jti", "nonce"):
        if claim in payload and not isinstance(payload[claim], str):
            raise CheckFailed("malformed", f"{claim} must be a string", f"$.{claim}")
    for claim in ("iat", "nbf", "exp"):
        numeric_date(payload, claim, required=False)
    holder = document.get("holder")
    holder_id = holder.get("id") if isinstance(holder, dict) else holder
    for claim, name, value in (("iss", "holder", holder_id), ("jti", "id", document.get("id"))):
        if claim in payload and value is not None and payload[claim] != value:
            raise CheckFailed("claim_mismatch", f"the {claim!r} claim ({payload[claim]!r}) "
                              f"differs from the presentation's {name} ({value!r})")
        if state.encoding == "vc1" and claim in payload:
            document.setdefault(name, payload[claim])  # VC DM 1.1 §6.3.1, decoding
    state.document = document
    holder = document.get("holder")
    state.holder_id = holder.get("id") if isinstance(holder, dict) else (
        holder if isinstance(holder, str) else None)
    items = document.get("verifiableCredential", [])
    items = items if isinstance(items, list) else [items]
    if len(items) > MAX_CREDENTIALS:
        raise CheckFailed("too_large", f"the presentation holds {len(items)} credentials; at "
                          f"most {MAX_CREDENTIALS} are accepted")
    state.tokens = [_secured(item, i, state.encoding) for i, item in enumerate(items)]
    who = f"the holder is {state.holder_id}" if state.holder_id else "it names no holder"
    return f"{who}, presenting {len(state.tokens)} credential(s) (profile w3c)"


def _audience(state: W3cPresentationState) -> str:
    """``aud`` names exactly this verifier, when the verifier names itself."""
    if state.audience is None:
        return Passed("no audience given: not checked", ["the presentation's audience was not "
                      "checked (no --audience): it may have been made for another verifier"])
    return check_audience(state)


def _nonce(state: W3cPresentationState) -> str:
    """``nonce`` equals the verifier's, compared in constant time, when it gives one."""
    if state.nonce is None:
        return Passed("no nonce given: not checked", ["the presentation's nonce was not "
                      "checked (no --nonce): only the replay store stops it being replayed"])
    nonce = state.payload.get("nonce")
    if not isinstance(nonce, str):
        raise CheckFailed("nonce_mismatch", "the presentation has no nonce string")
    if not hmac.compare_digest(nonce.encode("utf-8"), state.nonce.encode("utf-8")):
        raise CheckFailed("nonce_mismatch", "the presentation answers another nonce")
    return "the nonce matches"


def _time(state: W3cPresentationState) -> str:
    """Bounded in time: ``iat`` at most 300 s old, ``exp`` at most 600 s after it (or from
    now, without ``iat``); at least one of them; ``nbf`` passed."""
    payload, rules = state.payload, TimeRules(state.now, state.leeway)
    iat, exp, nbf = (numeric_date(payload, claim, required=False)
                     for claim in ("iat", "exp", "nbf"))
    if iat is None and exp is None:
        raise CheckFailed("missing_claim", "the presentation has neither iat nor exp, so it "
                          "would never stop being valid")
    if iat is not None and rules.in_future(iat):
        raise CheckFailed("bad_iat", f"the presentation was created in the future, at "
                          f"{rfc3339(iat)}")
    if iat is not None and rules.too_old(iat, MAX_AGE):
        raise CheckFailed("bad_iat", f"the presentation was created at {rfc3339(iat)}, more "
                          f"than {MAX_AGE} s ago")
    if exp is not None and exp - (iat if iat is not None else rules.now) > MAX_LIFETIME:
        raise CheckFailed("bad_iat", f"the presentation is valid until {rfc3339(exp)}, more "
                          f"than {MAX_LIFETIME} s after it was made; at most that is accepted")
    if exp is not None and rules.ended(exp):
        raise CheckFailed("expired", f"the presentation expired at {rfc3339(exp)}")
    if nbf is not None and rules.not_yet(nbf):
        raise CheckFailed("not_yet_valid", f"the presentation is valid only from {rfc3339(nbf)}")
    state.ends = exp if exp is not None else (iat or 0) + MAX_AGE
    return f"valid until {rfc3339(state.ends)}"


def _loader(state: W3cPresentationState) -> Any:
    from vc_im.profiles import W3C

    pins = [pin for profile in (*state.trust.profiles, *((state.profile,) if state.profile
                                                          else ())) for pin in profile.pins]
    return W3C.loader(pins)


def _context(state: W3cPresentationState) -> str:
    """The encoding's W3C base context first, then pinned context URLs only (never fetched);
    JSON-LD expansion of the document drops nothing."""
    from vc_im import _linked

    base = _linked.V1_CONTEXT if state.encoding == "vc1" else _linked.V2_CONTEXT
    value = state.document.get("@context")
    items = value if isinstance(value, list) else [value]
    loader = _loader(state)
    if not items or items[0] != base:
        raise CheckFailed("context_rejected", f"the presentation's @context must start with "
                          f"{base}, the W3C base context of this encoding", "$['@context']")
    for index, item in enumerate(items):
        if not isinstance(item, str) or item not in loader.urls:
            raise CheckFailed("context_rejected", f"@context[{index}] is not a context vc_im "
                              "holds pinned (contexts are accepted by URL only, never fetched)",
                              f"$['@context'][{index}]")
    _linked.expand_checked(without_jwts(state.document), allowed_types=None, loader=loader)
    return f"{len(items)} pinned context(s), {base} first; nothing is dropped"


def without_jwts(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """VC 1.1 presentations may embed credentials as JWT strings ([1.1] §6.3.1): each is
    secured and read on its own, so expansion leaves them out."""
    value = document.get("verifiableCredential")
    if not isinstance(value, list) or not any(isinstance(item, str) for item in value):
        return document
    kept = [item for item in value if not isinstance(item, str)]
    rest = {name: item for name, item in document.items() if name != "verifiableCredential"}
    return {**rest, "verifiableCredential": kept} if kept else rest


def _schema(state: W3cPresentationState) -> str:
    """Every data-model MUST that can be checked on the presentation document."""
    from vc_im import vcdm

    version = 1 if state.encoding == "vc1" else 2
    violations = vcdm.check_presentation(state.document, version=version)
    if violations:
        first = violations[0]
        more = f" ({len(violations) - 1} more)" if len(violations) > 1 else ""
        path = first.path if first.path.startswith("$") else f"$.{first.path}".rstrip(".")
        raise CheckFailed("schema_invalid", f"{first.message.rstrip('.')} (data-model rule "
                          f"{first.rule}){more}", path)
    return f"keeps the VC Data Model {'1.1' if version == 1 else '2.0'}"


def _did_key(value: str, what: str, code: str) -> Key:
    from vc_im.keys import resolve_did

    try:
        return resolve_did(value)
    except KeyFileError as exc:
        raise CheckFailed(code, f"{what} {value[:80]!r}: {exc.message}") from exc


def _holder_key(state: W3cPresentationState) -> str:
    """The key the header's ``jwk``, a did:key/did:jwk ``kid`` and a did:key/did:jwk holder
    name: one and the same, and at least one of them."""
    header, named = state.header, []
    if "jwk" in header:
        try:
            named.append(("the header's jwk", key_from_jwk(header["jwk"], require="public")))
        except KeyFileError as exc:
            raise CheckFailed("bad_header", f"the header's jwk: {exc.message}") from exc
    kid = header.get("kid")
    if isinstance(kid, str) and kid.startswith(_RESOLVABLE):
        named.append((f"the header's kid {kid}", _did_key(kid, "the header's kid", "bad_header")))
    holder = state.holder_id
    if holder is not None and holder.startswith(_RESOLVABLE):
        named.append((f"the holder {holder}", _did_key(holder, "the holder", "bad_identifier")))
        state.holder_proven = True
    if not named:
        raise CheckFailed("unknown_key", "the presentation names no key to verify it with: its "
                          "header carries no jwk, and neither its kid nor its holder is a "
                          "did:key or did:jwk")
    first_name, key = named[0]
    for name, other in named[1:]:
        if other.thumbprint() != key.thumbprint():
            raise CheckFailed("holder_binding", f"{name} names another key than {first_name}")
    if isinstance(kid, str) and kid.startswith("urn:ietf:params:oauth:jwk-thumbprint:") and (
            kid != key.thumbprint_uri()):
        raise CheckFailed("holder_binding", f"the header names key {kid!r}, not {first_name}")
    if not key.accepts(str(header.get("alg"))):
        raise CheckFailed("unsupported_alg", f"the holder key is a {key.alg} key, and the "
                          f"presentation says alg {header.get('alg')}")
    state.holder_key = key
    return f"the holder key {key.thumbprint()} ({', '.join(name for name, _ in named)})"


def _signature(state: W3cPresentationState) -> str:
    """The presentation verifies with the holder key."""
    assert state.unverified is not None
    assert state.holder_key is not None
    if not jose.verify_signature(state.unverified, state.holder_key):
        refuse_high_s(state.unverified, state.holder_key)
        raise CheckFailed("bad_signature", "the signature does not verify with the holder key")
    return f"signed by the holder key {state.holder_key.thumbprint()}"


def _credentials(state: W3cPresentationState) -> str:
    """Every embedded credential passes every check of its profile, each in its own report
    (all are verified); the first failure decides the code."""
    for index, token in enumerate(state.tokens):
        peeked = token if isinstance(token, jose.Unverified) else _peek(token)
        if peeked is not None and (peeked.header.get("typ") == "vp+jwt"
                                   or "vp" in peeked.payload):
            raise CheckFailed("credential_not_secured", f"verifiableCredential[{index}] is a "
                              "presentation; a presentation inside a presentation is not "
                              "accepted")
    forced = state.profile if state.profile is not None and not state.profile.is_im else None
    for token in state.tokens:
        report = verify_credential(token, state.trust, now=state.now, leeway=state.leeway,
                                   evidence=state.evidence, profile=forced)
        state.nested.append(report)
    for number, report in enumerate(state.nested, start=1):
        if not report.ok:
            failure = report.failure
            reason = failure.reason if failure is not None else "an embedded check failed."
            raise CheckFailed(report.code or "malformed", f"credential {number}: {reason}")
        if not isinstance(report.verified, ProfiledCredential):
            raise CheckFailed("bad_type", f"credential {number} is of the profile "
                              f"{report.profile}; the w3c presentation rules carry credentials "
                              "of the w3c profile or of profile files")
        state.verified.append(report.verified)
    names = sorted({credential.profile for credential in state.verified})
    return f"{len(state.verified)} credential(s) valid" + (
        f" (profile {', '.join(names)})" if names else "")


def _subjects(document: Mapping[str, Any]) -> list[str]:
    value = document.get("credentialSubject")
    return [item["id"] for item in (value if isinstance(value, list) else [value])
            if isinstance(item, Mapping) and isinstance(item.get("id"), str)]


def _holder_binding(state: W3cPresentationState) -> str:
    """A credential that binds a key binds the presentation's; one that binds none is the
    holder's when its subject is the holder, and is only warned about otherwise."""
    assert state.holder_key is not None
    thumbprint, warnings, bound = state.holder_key.thumbprint(), [], 0
    for number, credential in enumerate(state.verified, start=1):
        if credential.bound_thumbprint is not None:
            if not hmac.compare_digest(credential.bound_thumbprint, thumbprint):
                raise CheckFailed("holder_binding", f"credential {number} binds the key "
                                  f"{credential.bound_thumbprint}, and the presentation is "
                                  f"signed with {thumbprint}")
            bound += 1
        elif state.holder_id is not None and state.holder_id in _subjects(credential.document):
            if not state.holder_proven:
                warnings.append(f"credential {number} binds no key (no cnf); its subject is "
                                f"the holder {state.holder_id}, a name the presentation key "
                                "does not prove (not a did:key or did:jwk)")
        else:
            warnings.append(f"credential {number} binds no holder key (no cnf) and its subject "
                            "is not the holder: the data model has no binding rule, so anyone "
                            "who holds it can present it")
    return Passed(f"{bound} of {len(state.verified)} credential(s) bind the presentation key "
                  f"{thumbprint}", warnings)


def _replay(state: W3cPresentationState) -> str:
    """Consume the verifier's nonce and the (holder key, ``jti``) pair, or the digest of the
    signed content when there is no ``jti``: the same presentation is accepted once."""
    from vc_im.replay import ReplayOutcome

    assert state.unverified is not None
    assert state.holder_key is not None
    jti = state.payload.get("jti")
    if not isinstance(jti, str):
        signed = state.unverified.token.rsplit(".", 1)[0].encode("ascii")
        jti = "sha-256:" + hashlib.sha256(signed).hexdigest()
    holder = state.holder_key.thumbprint_uri()
    outcome = consume(state.store, lambda store: store.consume_presentation(
        nonce=state.nonce, issuer=holder, jti=jti, now=state.now,
        expires_at=state.ends + max(state.leeway, MAX_LEEWAY)))
    if outcome is ReplayOutcome.REPLAY:
        raise CheckFailed("replay", "this nonce or this presentation was already used")
    if outcome is ReplayOutcome.NONCE_EXPIRED:
        raise CheckFailed("nonce_mismatch", "the nonce was issued by this verifier and its time "
                          "to live has passed")
    return ("the nonce and the presentation are consumed" if state.nonce
            else "the presentation is consumed")


Step = tuple[str, Callable[[W3cPresentationState], str]]
W3C_PRESENTATION_STEPS: tuple[Step, ...] = (
    ("format", check_format),
    ("header", check_header),
    ("alg", check_alg),
    ("claims", _claims),
    ("audience", _audience),
    ("nonce", _nonce),
    ("time", _time),
    ("schema", _schema),
    ("context", _context),
    ("holder_key", _holder_key),
    ("signature", _signature),
    ("credentials", _credentials),
    ("holder_binding", _holder_binding),
    ("replay", _replay),
)


def verify(token: str | bytes | jose.Unverified, trust: TrustStore, *, now: int, leeway: int,
           audience: str | None, nonce: str | None, store: StoreLike | None,
           evidence: Evidence, profile: Profile | None) -> Report:
    """Verify a presentation under the ``w3c`` rules; never raises for invalid input (an
    unusable replay ``store`` raises, as for IM presentations)."""
    state = W3cPresentationState(token, trust, now, leeway, audience, nonce, store, evidence,
                                 profile=profile)
    checks = run_checks(W3C_PRESENTATION_STEPS, state)
    report = Report("presentation", checks, tuple(state.nested), profile="w3c")
    if not report.ok or any(check.status is not Status.PASSED for check in checks):
        return report
    assert state.holder_key is not None
    payload = state.payload
    document = state.document
    verified = ProfiledPresentation(
        profile="w3c", holder=state.holder_id, holder_key=state.holder_key, document=document,
        credentials=tuple(state.verified),
        id=document.get("id") if isinstance(document.get("id"), str) else None,
        audience=state.audience, nonce=state.nonce,
        issued_at=payload.get("iat") if isinstance(payload.get("iat"), int) else None,
        expires_at=state.ends)
    return replace(report, verified=verified)


__all__ = ["RULE", "W3C_PRESENTATION_STEPS", "applies", "explain", "verify", "without_jwts"]
