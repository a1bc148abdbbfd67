"""Verifiable presentations: a device proves, to one verifier and for one nonce, that it
holds the key its credentials were issued to.

Two encodings, like credentials:

* ``vc1`` (VC Data Model 1.1 JWT): ``typ: JWT``, a ``vp`` claim whose
  ``verifiableCredential`` holds compact credential JWTs, ``iss`` = the holder;
* ``vc2`` (VC Data Model 2.0 with JOSE): ``typ: vp+jwt``, the payload is the
  presentation and each credential is an ``EnvelopedVerifiableCredential``
  whose id is a ``data:application/vc+jwt,`` URL.

Both always carry ``aud``, ``nonce``, ``iat``, ``jti`` and a short ``exp``.

The checks, in order: ``format``, ``header``, ``alg``, ``claims``, ``audience``,
``nonce``, ``time`` (cheap, key-free rejections first), then ``credentials`` (each
embedded credential fully verified, in its own nested report), ``holder_binding``
(every credential binds the presenting key; ``iss`` is each device credential's
subject; each user credential's subject is listed by a device credential),
``signature`` (with the bound key, never with a key taken from the header
alone) and ``replay`` (the nonce and the (iss, jti) pair are consumed).

The cascade travels in the presentation: a device may present its device credential
together with the user credential whose key issued it. Every presented user credential is
offered as a parent (like ``--parent``) when the device credential is verified, so the
user credential must itself come from an issuer trusted for the domain, allow issuing
devices, and its ``cnf`` key must have signed the device credential. Such a *parent* is
bound to the presentation through that signature, not through the presentation key: it is
exempt from the key-binding and ``hasInstantMessage``-listing rules, which every other
credential still meets.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from vc_im import _jose as jose
from vc_im import identifiers
from vc_im._checks.common import (
    DEFAULT_LEEWAY,
    MAX_LEEWAY,
    check_alg,
    check_format,
    check_header_names,
    consume,
    numeric_date,
    refuse_high_s,
)
from vc_im._checks.credential import verify_credentials
from vc_im._checks.holder_binding import check_holder_binding
from vc_im._checks.state import CredentialState, PresentationState
from vc_im._linked import V1_CONTEXT, V2_CONTEXT, VCIM_CONTEXT
from vc_im.errors import TokenError
from vc_im.identifiers import IdentifierError
from vc_im.keys import verify_ahead
from vc_im.model import NO_EVIDENCE, Credential, CredentialType, Evidence, Presentation
from vc_im.report import (
    Check,
    CheckFailed,
    GroupStep,
    Report,
    Status,
    failed_check,
    run_checks,
    run_checks_many,
)
from vc_im.times import TimeRules, as_now
from vc_im.times import seconds_to_rfc3339 as rfc3339
from vc_im.trust.store import TrustStore

if TYPE_CHECKING:
    from vc_im.profiles import Profile
    from vc_im.replay import PresentationUse, ReplayOutcome, StoreLike, StoreUnavailable

#: Presentations live briefly: created at most this long ago (CONTRACT.md).
MAX_AGE = 300
#: ... and valid for at most this long after ``iat``.
MAX_LIFETIME = 600
DEFAULT_LIFETIME = 300
MAX_CREDENTIALS = 16
ENVELOPE_PREFIX = "data:application/vc+jwt,"

_HEADER = frozenset({"alg", "typ", "kid", "jwk", "cty"})
_REFUSED_HEADER = {
    "crit": "extensions that must be understood are not accepted",
    "b64": "unencoded payloads (RFC 7797) are not accepted",
    "jku": "keys are never fetched from a URL named by the token",
    "x5u": "certificates are never fetched from a URL named by the token",
    "x5c": "the presenting key comes from the credentials, not from a certificate chain",
}
_CONTEXTS = {"vc1": ([V1_CONTEXT], [V1_CONTEXT, VCIM_CONTEXT]),
             "vc2": ([V2_CONTEXT], [V2_CONTEXT, VCIM_CONTEXT])}


# --- verifying -----------------------------------------------------------------------------

def check_header(state: PresentationState) -> str:
    """Allow-listed header names; ``typ`` is JWT (with a vp claim) or vp+jwt."""
    header = state.header
    check_header_names(header, _HEADER, _REFUSED_HEADER, "a presentation")
    typ = header.get("typ", "JWT")
    if "cty" in header and not (typ == "vp+jwt" and header["cty"] == "vp"):
        raise CheckFailed("bad_header", f"the header's cty {header['cty']!r} does not fit typ "
                          f"{typ!r}")
    if typ == "vp+jwt":
        state.encoding = "vc2"
    elif typ == "JWT" and "vp" in state.payload:
        state.encoding = "vc1"
    else:
        raise CheckFailed("bad_type", f"typ {typ!r} with these claims is not a presentation")
    if "kid" in header and not isinstance(header["kid"], str):
        raise CheckFailed("bad_header", "the header's kid is not a string")
    if "jwk" in header:
        if not isinstance(header["jwk"], dict):
            raise CheckFailed("bad_header", "the header's jwk is not a JWK object")
        if any(member in header["jwk"] for member in ("d", "p", "q", "dp", "dq", "qi", "k")):
            raise CheckFailed("bad_header", "the header's jwk holds private key material")
    return f"the header's typ is {typ}"


def _credential_tokens(state: PresentationState) -> list[Any]:
    payload = state.payload
    if state.encoding == "vc1":
        vp = payload.get("vp")
        if not isinstance(vp, dict):
            raise CheckFailed("missing_claim", "the vp claim must be an object")
        body: Mapping[str, Any] = vp
        if "vc" in payload:
            raise CheckFailed("malformed", "a presentation must not carry a vc claim")
    else:
        if "vp" in payload or "vc" in payload:
            raise CheckFailed("malformed", "a vp+jwt payload is the presentation itself and "
                              "must not carry a vp or vc claim")
        body = payload
    context = body.get("@context")
    if not isinstance(context, list) or context not in [list(c) for c in
                                                         _CONTEXTS[state.encoding]]:
        raise CheckFailed("context_rejected", f"the presentation's @context "
                          f"{body.get('@context')!r} is not an expected one")
    types = body.get("type")
    if types != ["VerifiablePresentation"] and types != "VerifiablePresentation":
        raise CheckFailed("bad_type", "the presentation's type must be VerifiablePresentation")
    unknown = set(body) - {"@context", "type", "verifiableCredential", "holder", "id",
                           *(("iss", "aud", "nonce", "jti", "iat", "exp", "nbf")
                             if state.encoding == "vc2" else ())}
    if unknown:
        raise CheckFailed("malformed", f"the presentation has an unexpected member "
                          f"{sorted(unknown)[0]!r}")
    items = body.get("verifiableCredential")
    if not isinstance(items, list) or not items:
        raise CheckFailed("missing_claim", "the presentation holds no verifiableCredential")
    return items


def _secured(item: Any, index: int, encoding: str,
             peeked: Mapping[str, jose.Unverified] | None = None) -> str | jose.Unverified:
    if encoding == "vc1":
        if isinstance(item, str):
            return item
    elif isinstance(item, dict) and set(item) == {"@context", "type", "id"}:
        ident = item["id"]
        if (item["@context"] in ([V2_CONTEXT], V2_CONTEXT)
                and item["type"] in (["EnvelopedVerifiableCredential"],
                                     "EnvelopedVerifiableCredential")
                and isinstance(ident, str) and ident.startswith(ENVELOPE_PREFIX)):
            token = ident[len(ENVELOPE_PREFIX):]
            try:
                inner = (peeked or {}).get(token) or jose.peek_unverified(token)
            except TokenError:
                return token  # its own report says what is wrong with it
            typ = inner.header.get("typ")
            # vp+jwt passes here so that the credentials check names the nesting.
            if typ not in ("vc+jwt", "vp+jwt"):
                raise CheckFailed("credential_not_secured", f"verifiableCredential[{index}] "
                                  f"is enveloped as application/vc+jwt, but its typ is {typ!r}",
                                  f"$.verifiableCredential[{index}]")
            return inner
    raise CheckFailed("credential_not_secured", f"verifiableCredential[{index}] is not a "
                      "secured credential (a compact JWT" + (
                          ")" if encoding == "vc1" else
                          " in an EnvelopedVerifiableCredential data: URL)"),
                      f"$.verifiableCredential[{index}]")


def check_claims(state: PresentationState) -> str:
    """Registered claims and the vp structure; at most 16 secured credentials."""
    payload = state.payload
    items = _credential_tokens(state)
    if len(items) > MAX_CREDENTIALS:
        raise CheckFailed("too_large", f"the presentation holds {len(items)} credentials; at "
                          f"most {MAX_CREDENTIALS} are accepted")
    state.tokens = [_secured(item, i, state.encoding, state.peeked)
                    for i, item in enumerate(items)]
    iss = payload.get("iss")
    if not isinstance(iss, str):
        raise CheckFailed("missing_claim", "the presentation has no iss (its holder)")
    body = payload["vp"] if state.encoding == "vc1" else payload
    holder = body.get("holder")
    if "holder" in body and holder != iss:  # present, it names the holder: null is no name
        raise CheckFailed("claim_mismatch", f"holder {holder!r} differs from iss {iss!r}")
    try:
        state.holder = identifiers.parse(iss)
    except IdentifierError as exc:
        raise CheckFailed("bad_identifier", f"the presentation's iss {iss!r}: {exc.message}",
                          "$.iss") from exc
    if not isinstance(payload.get("jti"), str) or not payload["jti"]:
        raise CheckFailed("missing_claim", "the presentation has no jti")
    for claim in ("iat", "exp"):
        numeric_date(payload, claim, required=True)
    numeric_date(payload, "nbf", required=False)
    return f"the holder is {state.holder}, presenting {len(state.tokens)} credential(s)"


def check_audience(state: PresentationState) -> str:
    """``aud`` names exactly one audience: this verifier's."""
    if state.audience is None:
        raise CheckFailed("audience_mismatch", "verifying a presentation needs --audience, the "
                          "verifier's own id")
    aud = state.payload.get("aud")
    if aud is None:
        raise CheckFailed("audience_mismatch", "the presentation has no aud claim")
    if isinstance(aud, list) and len(aud) == 1:
        aud = aud[0]
    if not isinstance(aud, str):
        raise CheckFailed("audience_mismatch", "aud must name exactly one audience")
    if aud != state.audience:
        raise CheckFailed("audience_mismatch", f"the presentation is for {aud!r}, not "
                          f"{state.audience!r}")
    return f"the audience is {aud}"


def check_nonce(state: PresentationState) -> str:
    """``nonce`` is a string exactly equal to the verifier's, compared in constant time."""
    if state.nonce is None:
        raise CheckFailed("nonce_mismatch", "verifying a presentation needs --nonce, the "
                          "challenge it must answer")
    nonce = state.payload.get("nonce")
    if not isinstance(nonce, str):
        raise CheckFailed("nonce_mismatch", "the presentation has no nonce string")
    if not hmac.compare_digest(nonce.encode("utf-8"), state.nonce.encode("utf-8")):
        raise CheckFailed("nonce_mismatch", "the presentation answers another nonce")
    return "the nonce matches"


def check_time(state: PresentationState) -> str:
    """Created at most 300 s ago, not in the future, valid now, and short-lived."""
    payload, rules = state.payload, TimeRules(state.now, state.leeway)
    iat, exp = int(payload["iat"]), int(payload["exp"])
    if rules.in_future(iat):
        raise CheckFailed("bad_iat", f"the presentation was created in the future, at "
                          f"{rfc3339(iat)}")
    if rules.too_old(iat, MAX_AGE):
        raise CheckFailed("bad_iat", f"the presentation was created at {rfc3339(iat)}, more "
                          f"than {MAX_AGE} s ago")
    if exp - iat > MAX_LIFETIME:
        raise CheckFailed("bad_iat", f"the presentation is valid for {exp - iat} s; at most "
                          f"{MAX_LIFETIME} s are accepted")
    if rules.ended(exp):
        raise CheckFailed("expired", f"the presentation expired at {rfc3339(exp)}")
    nbf = payload.get("nbf")
    if isinstance(nbf, int) and rules.not_yet(nbf):
        raise CheckFailed("not_yet_valid", f"the presentation is valid only from {rfc3339(nbf)}")
    return f"created {rules.now - iat} s ago, valid until {rfc3339(exp)}"


def _credentials(states: Sequence[PresentationState]) -> list[str | CheckFailed]:
    """Every embedded credential passes every credential check, each in its own report
    (all are verified, so the report explains each); the first failure decides the code.
    The credentials of all ``states`` are verified together, check by check."""
    outcomes: list[str | CheckFailed] = []
    verifying: list[CredentialState] = []
    for state in states:
        try:
            _take_apart(state)
        except CheckFailed as exc:
            outcomes.append(exc)
            continue
        outcomes.append("")  # decided below, once its credentials are verified
        _verify_ahead(state)
        # Every presented user credential may be the parent of a presented device credential.
        presented = tuple(token.token for token in state.tokens
                          if isinstance(token, jose.Unverified) and is_user_credential(token))
        evidence = (replace(state.evidence, parents=(*state.evidence.parents, *presented))
                    if presented else state.evidence)
        verifying.extend(CredentialState(token, state.trust, state.now, state.leeway,
                                         evidence=evidence) for token in state.tokens)
    reports = iter(verify_credentials(verifying))
    for index, state in enumerate(states):
        if isinstance(outcomes[index], CheckFailed):
            continue
        for _ in state.tokens:
            report = next(reports)
            state.nested.append(report)
            if isinstance(report.verified, Credential):
                state.credentials.append(report.verified)
        try:
            outcomes[index] = _all_valid(state)
        except CheckFailed as exc:
            outcomes[index] = exc
    return outcomes


def _take_apart(state: PresentationState) -> None:
    """Each embedded credential read once (unverified); a presentation inside is refused."""
    for index, token in enumerate(state.tokens):
        if not isinstance(token, jose.Unverified):
            try:
                token = state.tokens[index] = (state.peeked.get(token)
                                               or jose.peek_unverified(token))
            except TokenError:
                continue  # its own report says what is wrong with it
        if token.header.get("typ") == "vp+jwt" or "vp" in token.payload:
            raise CheckFailed("credential_not_secured", "a presentation inside a presentation "
                              "is not accepted")


def _all_valid(state: PresentationState) -> str:
    for number, report in enumerate(state.nested, start=1):
        if not report.ok:
            failure = report.failure
            reason = failure.reason if failure is not None else "an embedded check failed."
            raise CheckFailed(report.code or "malformed", f"credential {number}: {reason}")
        if not isinstance(report.verified, Credential):  # a w3c or profile-file credential
            raise CheckFailed("bad_type", f"credential {number} is of the profile "
                              f"{report.profile}; a presentation to an IM verifier carries "
                              "ImDeviceCredentials and ImUserCredentials only")
    return f"{len(state.credentials)} credential(s) valid"


check_credentials: GroupStep[PresentationState] = GroupStep(_credentials)


def _verify_ahead(state: PresentationState) -> None:
    """Verify an Ed25519 presentation's signature under the key its first credential other
    than a user credential binds (a presented parent binds the user's key, not the
    presenter's) before that credential's checks parse the key, which then needs no curve
    check of its own (:func:`vc_im.keys.verify_ahead`); the verdicts stay as they are."""
    unverified = state.unverified
    first = next((token for token in state.tokens if isinstance(token, jose.Unverified)
                  and not is_user_credential(token)), None)
    if unverified is None or unverified.alg not in ("EdDSA", "Ed25519") or first is None:
        return
    cnf = first.payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if isinstance(jwk, dict) and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
        verify_ahead(jwk.get("x"), unverified.signature, unverified.signing_input)


_USER_TYPE = CredentialType.USER.value


def is_user_credential(token: jose.Unverified) -> bool:
    """Whether an unverified credential's types name ImUserCredential (VC 1.1 or 2.0)."""
    payload = token.payload
    body = payload.get("vc") if isinstance(payload.get("vc"), dict) else payload
    types = body.get("type") if isinstance(body, dict) else None
    return isinstance(types, list) and _USER_TYPE in types


def check_signature(state: PresentationState) -> str:
    """The presentation verifies with the key its credentials bind."""
    assert state.unverified is not None
    assert state.holder_key is not None
    if jose.verify_signature(state.unverified, state.holder_key):
        return f"signed by the holder key {state.holder_key.thumbprint()}"
    refuse_high_s(state.unverified, state.holder_key)
    if state.header_named_key:
        raise CheckFailed("bad_signature", "the signature does not verify with the holder key "
                          "the header names")
    raise CheckFailed("holder_binding", "the presentation does not verify with the key its "
                      "credentials bind")


def presentation_use(state: PresentationState) -> PresentationUse:
    """What the replay check consumes: the nonce and (iss, jti), kept until the presentation
    can no longer be accepted (its exp plus the leeway)."""
    import vc_im.replay as replay  # not "from": a package's "from" import costs a call

    payload = state.payload
    return replay.PresentationUse(nonce=str(payload["nonce"]), issuer=str(payload["iss"]),
                           jti=str(payload["jti"]), now=state.now,
                           expires_at=int(payload["exp"]) + max(state.leeway, MAX_LEEWAY))


def replay_verdict(outcome: ReplayOutcome) -> str:
    """The replay check's sentence for the store's verdict; :class:`CheckFailed` unless the
    presentation was accepted."""
    import vc_im.replay as replay

    if outcome is replay.ReplayOutcome.REPLAY:
        raise CheckFailed("replay", "this nonce or this presentation (iss, jti) was already "
                          "used")
    if outcome is replay.ReplayOutcome.NONCE_EXPIRED:
        raise CheckFailed("nonce_mismatch", "the nonce was issued by this verifier and its time "
                          "to live has passed")
    return "nonce and jti consumed"


def check_replay(state: PresentationState) -> str:
    """Consume the nonce and the (iss, jti) pair: the same presentation is accepted once."""
    use = presentation_use(state)
    return replay_verdict(consume(state.store, lambda store: store.consume_presentation(
        nonce=use.nonce, issuer=use.issuer, jti=use.jti, now=use.now,
        expires_at=use.expires_at)))


def settle_replay(report: Report, outcome: ReplayOutcome | StoreUnavailable) -> Report:
    """A presentation verified with its consumption deferred (a batch consumes a group of
    them in one transaction), once the store decided: the same report :func:`check_replay`
    would have given, replay check last."""
    from vc_im.replay import ReplayOutcome

    if outcome is ReplayOutcome.ACCEPTED:
        return report
    if report.kind != "presentation" or report.checks[-1].name != "replay":
        raise ValueError("only a presentation's report has a replay check to settle")
    try:
        if not isinstance(outcome, ReplayOutcome):
            raise CheckFailed("store_unavailable", outcome.message)
        replay_verdict(outcome)
    except CheckFailed as exc:
        failed = failed_check("replay", exc)
    return replace(report, checks=(*report.checks[:-1], failed), verified=None)


Step = tuple[str, Callable[[PresentationState], str]]
PRESENTATION_STEPS: tuple[Step, ...] = (
    ("format", check_format),
    ("header", check_header),
    ("alg", check_alg),
    ("claims", check_claims),
    ("audience", check_audience),
    ("nonce", check_nonce),
    ("time", check_time),
    ("credentials", check_credentials),
    ("holder_binding", check_holder_binding),
    ("signature", check_signature),
    ("replay", check_replay),
)


def verify_presentation(token: str | bytes | jose.Unverified, trust: TrustStore, *, now: float,
                        audience: str | None, nonce: str | None,
                        leeway: int = DEFAULT_LEEWAY, store: StoreLike | None = None,
                        evidence: Evidence = NO_EVIDENCE, profile: Profile | None = None,
                        ) -> Report:
    """Verify a presentation and its credentials; never raises for invalid input.

    The IM presentation rules apply, or the ``w3c`` ones (``profile`` ``w3c`` or a profile
    file's, or credentials whose issuers the trust file lets issue other profiles: see
    :mod:`vc_im._checks.profiled_presentation`).

    Raises :class:`~vc_im.errors.InputError` only when the replay ``store``
    cannot be used.

    ``now`` is seconds since the epoch; a float is floored (:func:`vc_im.times.as_now`).
    """
    prepared = prepare_presentation(token, trust, now=now, audience=audience, nonce=nonce,
                                    leeway=leeway, store=store, evidence=evidence,
                                    profile=profile)
    if isinstance(prepared, Report):
        return prepared
    return presentation_report(prepared, run_checks(PRESENTATION_STEPS, prepared))


def verify_presentations(states: Sequence[PresentationState]) -> list[Report]:
    """:func:`verify_presentation` of each prepared state, every check run over all of them
    before the next (:func:`vc_im.report.run_checks_many`): the same reports, faster."""
    return [presentation_report(state, checks)
            for state, checks in zip(states, run_checks_many(PRESENTATION_STEPS, states),
                                     strict=True)]


def prepare_presentation(token: str | bytes | jose.Unverified, trust: TrustStore, *,
                         now: float, audience: str | None, nonce: str | None,
                         leeway: int = DEFAULT_LEEWAY, store: StoreLike | None = None,
                         evidence: Evidence = NO_EVIDENCE, profile: Profile | None = None,
                         ) -> PresentationState | Report:
    """The state the IM presentation checks start from, or the report of the ``w3c`` rules
    when they apply instead (verified here: they are rare)."""
    now = as_now(now)
    import vc_im._checks.profiled_presentation as w3c  # the w3c rules, when they apply

    if not isinstance(token, jose.Unverified):
        with contextlib.suppress(TokenError):  # else the format check says why
            token = jose.peek_unverified(token)  # read once: to choose the rules, and checked
    peeked: dict[str, jose.Unverified] = {}
    if w3c.applies(token, trust, profile, peeked):
        return w3c.verify(token, trust, now=now, leeway=leeway, audience=audience, nonce=nonce,
                          store=store, evidence=evidence, profile=profile)
    state = PresentationState(token, trust, now, leeway, audience, nonce, store, evidence)
    state.peeked = peeked
    return state


def presentation_report(state: PresentationState, checks: tuple[Check, ...]) -> Report:
    """The report of a presentation whose checks ran on ``state``."""
    import vc_im._checks.profiled_presentation as w3c

    passed = checks[-1].status is Status.PASSED  # a failure skips every check after it
    report = Report("presentation", checks, tuple(state.nested),
                    verified=_presentation(state) if passed else None)
    if not report.ok:
        return w3c.explain(replace(report, verified=None), state.unverified)
    return report


def _presentation(state: PresentationState) -> Presentation:
    """What a presentation whose every check passed says."""
    assert state.holder is not None
    assert state.holder_key is not None
    payload = state.payload
    return Presentation(state.holder, str(state.audience), str(state.nonce),
                        str(payload["jti"]), int(payload["iat"]), int(payload["exp"]),
                        state.holder_key, tuple(state.credentials))
