"""The content checks of a credential under a profile other than ``im-device``/``im-user``.

The credential table (:mod:`vc_im._checks.credential`) keeps its step names; each step hands
over to the function here when :attr:`CredentialState.generic` is true, that is when the
``w3c`` profile or a profile file applies (:mod:`vc_im.profiles`). The rules:

* ``claims``: VC DM 1.1 JWT needs ``vc`` and ``iss``; ``sub``, ``nbf``, ``exp`` and ``iat``
  are NumericDates where present (the mapping writes them only where the document has the
  property); a ``vc+jwt`` carries no ``vc``/``vp``;
* ``time``: what is present of nbf/exp/iat, validFrom/validUntil, with the leeway;
* ``types``: ``VerifiableCredential`` and the profile's types (exactly, for a profile file);
* ``context``: the encoding's W3C base context first, then only pinned context URLs (for a
  profile file, exactly its list); never fetched, never inline;
* ``jsonld``: expansion with the offline loader drops nothing;
* ``schema``: every data-model MUST :mod:`vc_im.vcdm` checks, then the profile file's schema;
* ``identifiers``: the profile's IM identifier rules (none for ``w3c``);
* ``holder_key``: ``cnf`` as for IM credentials, required when the profile says so;
* ``trust_path``: the signer's path (the trust file's issuer, or an x5c chain); no IM trust
  policy applies, since the subject is not an IM identity;
* ``status``: the credential's StatusList2021/BitstringStatusList entries, as for IM ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vc_im import identifiers
from vc_im._checks.common import issuer_of, numeric_date
from vc_im._checks.state import CredentialState
from vc_im.identifiers import IdentifierError, ImId
from vc_im.model import Encoding, ProfiledCredential
from vc_im.profiles import W3C, Profile, select
from vc_im.report import CheckFailed
from vc_im.times import TimeRules
from vc_im.times import seconds_to_rfc3339 as rfc3339


def types_of(value: Any) -> list[str]:
    """A ``type`` value as a list of strings (anything else: empty)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return []


def choose_profile(state: CredentialState) -> None:
    """Pick the profile whose rules the content checks apply: ``--profile``'s, else the most
    specific one the issuer may issue that the credential's types fit (issuing, where no
    trust file speaks: the built-in ones). Reads the types after the signature verified."""
    import vc_im.profiles as profiles

    payload = state.payload
    body = payload.get("vc") if state.encoding is Encoding.VC1 else payload
    types = types_of(body.get("type")) if type(body) is dict or isinstance(body, Mapping) else []
    if state.forced_profile is not None and not state.forced_profile.is_im:
        state.profile = state.forced_profile  # its types rule judges the types, at ``types``
        return
    if state.forced_profile is not None:
        candidates: tuple[Profile, ...] = (state.forced_profile,)
    elif state.trust is None:
        candidates = (*profiles.IM_PROFILES, W3C)
    else:
        candidates = state.trust.profiles_for(state.issuer)
    state.profile = select(types, candidates)


def refuse_unfit(state: CredentialState) -> None:
    """The ``types`` rule when a forced profile does not fit, or the issuer may not issue it."""
    types = types_of(state.model.get("type"))
    forced = state.forced_profile
    if forced is not None and state.profile is None and not forced.is_im:
        raise CheckFailed("bad_type", f"the credential's type {types!r} does not fit the "
                          f"profile {forced.name} (its types rule: VerifiableCredential"
                          f"{''.join(', ' + t for t in sorted(forced.types))})", "$.type")
    issuer = state.issuer
    if forced is not None and issuer is not None and issuer.profiles is not None and (
            state.trust is not None):
        # --profile applies its rules; an issuer's own "profiles" list still binds it.
        allowed = [p.name for p in state.trust.profiles_for(issuer)]
        if forced.name not in allowed:
            raise CheckFailed("bad_type", f"the issuer {issuer.id!r} may not issue "
                              f"credentials of the profile {forced.name} (the trust file "
                              f"lets it issue {', '.join(allowed)})", "$.type")


def check_claims(state: CredentialState) -> str:
    """Registered claims well-typed where present; VC 1.1 needs ``vc`` and ``iss``."""
    payload = state.payload
    if state.encoding is Encoding.VC1:
        if not isinstance(payload.get("vc"), dict):
            raise CheckFailed("missing_claim", "a VC Data Model 1.1 JWT credential needs a "
                              "'vc' object claim")
        if not isinstance(payload.get("iss"), str):
            raise CheckFailed("missing_claim", "the 'iss' claim is missing or not a string")
        if "sub" in payload and not isinstance(payload["sub"], str):
            raise CheckFailed("malformed", "sub must be a string", "$.sub")
    elif "vc" in payload or "vp" in payload:
        raise CheckFailed("malformed", "a vc+jwt payload is the credential itself and must "
                          "not carry a 'vc' or 'vp' claim")
    for claim in ("nbf", "iat", "exp"):
        numeric_date(payload, claim, required=False)
    jti = payload.get("jti")
    if jti is not None and not isinstance(jti, str):
        raise CheckFailed("malformed", "jti must be a string", "$.jti")
    assert state.profile is not None
    return f"registered claims well-typed (profile {state.profile.name})"


def check_time(state: CredentialState, xsd_time: Any) -> str:
    """What is present of nbf, exp, iat, validFrom and validUntil, with the leeway."""
    payload, rules = state.payload, TimeRules(state.now, state.leeway)
    nbf = numeric_date(payload, "nbf", required=False)
    exp = numeric_date(payload, "exp", required=False)
    iat = numeric_date(payload, "iat", required=False)
    valid_from = valid_until = None
    if state.encoding is Encoding.VC2:
        valid_from = xsd_time(payload, "validFrom")
        valid_until = xsd_time(payload, "validUntil")
    if nbf is not None and rules.not_yet(nbf):
        raise CheckFailed("not_yet_valid", f"the credential is valid only from {rfc3339(nbf)}")
    if valid_from is not None and rules.not_yet(valid_from):
        raise CheckFailed("not_yet_valid", f"validFrom is {payload['validFrom']}")
    if exp is not None and rules.ended(exp):
        raise CheckFailed("expired", f"the credential expired at {rfc3339(exp)}")
    if valid_until is not None and rules.ended(valid_until):
        raise CheckFailed("expired", f"validUntil was {payload['validUntil']}")
    if iat is not None and rules.in_future(iat):
        raise CheckFailed("bad_iat", f"the credential was issued in the future, at "
                          f"{rfc3339(iat)}")
    end = exp if exp is not None else valid_until
    return f"valid now, until {rfc3339(end)}" if end is not None else "valid now, with no end"


def check_types(state: CredentialState) -> str:
    """VerifiableCredential and the profile's types (exactly those, for a profile file)."""
    profile = state.profile
    assert profile is not None
    refuse_unfit(state)
    types = types_of(state.model.get("type"))
    if not types or not isinstance(state.model.get("type"), list | str):
        raise CheckFailed("bad_type", "the credential's type must be a string or a list of "
                          "strings", "$.type")
    if not profile.matches(types):
        raise CheckFailed("bad_type", f"the credential's type {types!r} does not fit the "
                          f"profile {profile.name} (its types rule: VerifiableCredential"
                          f"{''.join(', ' + t for t in sorted(profile.types))})", "$.type")
    if profile is not W3C and set(types) != {"VerifiableCredential", *profile.types}:
        raise CheckFailed("bad_type", f"the credential's type {types!r} is not the profile "
                          f"{profile.name}'s (its types rule: VerifiableCredential"
                          f"{''.join(', ' + t for t in sorted(profile.types))})", "$.type")
    return f"the type is {', '.join(types)} (profile {profile.name})"


def _base_context(state: CredentialState) -> str:
    from vc_im import _linked

    return _linked.V1_CONTEXT if state.encoding is Encoding.VC1 else _linked.V2_CONTEXT


def check_context(state: CredentialState) -> str:
    """The encoding's base context first, then pinned URLs only (a profile file: its list)."""
    from vc_im import _linked

    profile = state.profile
    assert profile is not None
    path = "$.vc['@context']" if state.encoding is Encoding.VC1 else "$['@context']"
    base = _base_context(state)
    if profile is not W3C:
        expected = (base, *profile.contexts)
        _linked.check_context(state.model.get("@context"), expected=[expected], path=path)
        return "the @context is " + ", ".join(expected)
    value = state.model.get("@context")
    items = value if isinstance(value, list) else [value]
    if not items or items[0] != base:
        raise CheckFailed("context_rejected", f"{path} must start with {base}, the W3C base "
                          f"context of this encoding (rule context-first of profile w3c)", path)
    known = _loader(state).urls
    for index, item in enumerate(items):
        where = f"{path}[{index}]" if isinstance(value, list) else path
        if not isinstance(item, str):
            raise CheckFailed("context_rejected", f"{where} is not a context URL; contexts "
                              "are accepted by URL only, from pinned files", where)
        if item not in known:
            raise CheckFailed("context_rejected", f"{where} {item!r} is not a context vc_im "
                              "holds pinned (it is never fetched; a profile file can pin it)",
                              where)
    return f"the @context is {len(items)} pinned context(s), {base} first"


def _loader(state: CredentialState) -> Any:
    """The profile's offline loader; for ``w3c`` it also serves every profile file's pins."""
    profile = state.profile
    assert profile is not None
    extra = [pin for other in (state.trust.profiles if state.trust is not None else ())
             for pin in other.pins]
    if state.forced_profile is not None:
        extra.extend(state.forced_profile.pins)
    return profile.loader(extra if profile is W3C else ())


def check_jsonld(state: CredentialState) -> str:
    """JSON-LD expansion with the profile's offline loader drops nothing."""
    from vc_im import _linked

    _linked.expand_checked(state.model, allowed_types=None, loader=_loader(state))
    return "every property expands to an IRI; nothing is dropped"


def check_schema(state: CredentialState) -> str:
    """Every data-model MUST that can be checked on the document, then the profile's schema."""
    from vc_im import vcdm

    profile = state.profile
    assert profile is not None
    version = 1 if state.encoding is Encoding.VC1 else 2
    violations = vcdm.check_credential(state.model, version=version)
    if violations:
        first = violations[0]
        more = f" ({len(violations) - 1} more)" if len(violations) > 1 else ""
        raise CheckFailed("schema_invalid", f"{first.message.rstrip('.')} (data-model rule "
                          f"{first.rule}){more}", _json_path(first.path))
    problems = profile.schema_problems(state.model)
    if problems:
        more = f" ({len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise CheckFailed("schema_invalid", f"{problems[0].message} (schema of the profile "
                          f"{profile.name}){more}", problems[0].path)
    from vc_im._checks.status import check_status_entries

    check_status_entries(state)
    what = "" if profile.schema is None else f" and the profile {profile.name}'s schema"
    return f"keeps the VC Data Model {'1.1' if version == 1 else '2.0'}{what}"


def _json_path(path: str) -> str:
    if path in ("", "$"):
        return "$"
    return path if path.startswith("$") else f"$.{path}"


def check_identifiers(state: CredentialState) -> str:
    """The profile's IM identifier rules: each value parses, is of an allowed type, and lies
    within the issuer's trusted domains."""
    profile = state.profile
    assert profile is not None
    subject = state.model.get("credentialSubject")
    found: list[ImId] = []
    for rule in profile.identifiers:
        if not isinstance(subject, dict):
            raise CheckFailed("missing_claim", f"the profile {profile.name} reads IM "
                              f"identifiers from credentialSubject.{rule.property}, and "
                              "credentialSubject is not one object")
        where = f"$.credentialSubject.{rule.property}"
        if rule.property not in subject:
            raise CheckFailed("missing_claim", f"the profile {profile.name} needs IM "
                              f"identifiers in credentialSubject.{rule.property}", where)
        raw = subject[rule.property]
        values = raw if isinstance(raw, list) else [raw]
        if not values:
            raise CheckFailed("missing_claim", f"credentialSubject.{rule.property} is empty",
                              where)
        for index, value in enumerate(values):
            at = f"{where}[{index}]" if isinstance(raw, list) else where
            found.append(_identifier(state, rule, value, at))
    document = dict(state.model)
    payload = state.payload
    state.profiled = ProfiledCredential(
        profile=profile.name, issuer=str(issuer_of(payload)),
        types=tuple(types_of(document.get("type"))), document=document,
        id=document.get("id") if isinstance(document.get("id"), str) else None,
        issued_at=_int(payload.get("nbf", payload.get("iat"))), expires_at=_int(payload.get("exp")),
        identifiers=tuple(found))
    if not profile.identifiers:
        return f"the profile {profile.name} names no IM identifiers"
    return f"{len(found)} IM identifier(s) fit the profile {profile.name}'s rules"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _identifier(state: CredentialState, rule: Any, value: Any, at: str) -> ImId:
    assert state.profile is not None
    if not isinstance(value, str):
        raise CheckFailed("bad_identifier", "an IM identifier must be a string", at)
    try:
        parsed = identifiers.parse(value)
    except IdentifierError as exc:
        raise CheckFailed("bad_identifier", f"{value!r}: {exc.message}", at) from exc
    if rule.types and parsed.type not in rule.types:
        allowed = ", ".join(sorted(kind.value for kind in rule.types))
        raise CheckFailed("bad_identifier", f"{parsed} is a {parsed.type.value}, and the "
                          f"profile {state.profile.name} allows {allowed} in "
                          f"credentialSubject.{rule.property}", at)
    if rule.issuer_domains:
        issuer = state.issuer
        if state.certified_domains is not None and parsed.domain not in state.certified_domains:
            raise CheckFailed("untrusted_issuer", f"the signer's certificate speaks for "
                              f"{', '.join(sorted(state.certified_domains))}, not for "
                              f"{parsed.domain} ({parsed})", at)
        if issuer is not None and not issuer.covers(parsed):
            raise CheckFailed("untrusted_issuer", f"the issuer {issuer.id!r} is trusted only "
                              f"for {', '.join(sorted(issuer.domains or ()))}, not for "
                              f"{parsed.domain} ({parsed})", at)
    return parsed


def check_holder_binding(state: CredentialState) -> None:
    """A profile that requires a holder key refuses a credential without ``cnf``."""
    profile = state.profile
    assert profile is not None
    if profile.holder_binding.value == "required" and "cnf" not in state.payload:
        raise CheckFailed("missing_claim", f"the profile {profile.name} requires a holder key "
                          "bound with cnf (its holder-binding rule)", "$.cnf")


def check_trust_path(state: CredentialState) -> str:
    """The signer's own path (a trust-file issuer, or an x5c chain to a root) is the trust
    decision; no IM trust policy applies to a subject that is not an IM identity."""
    assert state.profile is not None
    if not state.signer_paths:
        raise CheckFailed("untrusted_issuer", f"a credential of the profile "
                          f"{state.profile.name} must be signed by an issuer the trust file "
                          "lists (or a certified one); self-issued ones are not accepted")
    methods = ", ".join(dict.fromkeys(str(path.method) for path in state.signer_paths))
    return f"the signer is trusted ({methods}); the profile {state.profile.name} applies no " \
           "IM trust policy"
