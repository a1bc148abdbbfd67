"""The ``trust_path`` check: the trust policy of every domain a credential names, fed by
the paths the signer check found and the web-of-trust and well-known statements."""

from __future__ import annotations

from dataclasses import replace

from vc_im._checks.state import CredentialState
from vc_im.identifiers import IdType, ImId
from vc_im.keys import Key
from vc_im.report import CheckFailed, Passed
from vc_im.trust.paths import TrustPath


def _subject_key(state: CredentialState) -> Key | None:
    """The key the credential binds to its subject: the signer's own when the signer is the
    subject (cnf, if present, must then name it), else cnf.jwk."""
    assert state.credential is not None
    credential = state.credential
    if state.signer_is_subject:
        assert state.key is not None
        bound = credential.bound_thumbprint
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
    # A contradiction a rule only reports is a warning, whichever domain's rule reported it.
    prefix = {domain: "" if domain == subject.id.domain else f"for {domain}, "
              for domain, _ in decisions}
    return Passed(state.decision.reason, [prefix[domain] + warning
                                          for domain, decision in decisions
                                          for warning in decision.warnings])


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
    own = subject.owner() if subject.type is IdType.DEVICE else subject
    vouched: set[ImId] = set()
    paths: dict[ImId, TrustPath] = {}
    if own is None:  # statements vouch through a user, and this device names none
        why = (f"the device {subject} names no user, so no web-of-trust or well-known "
               "statement can vouch for it.")
        for method, configured in (("web_of_trust", state.trust.web_of_trust is not None),
                                   ("well_known", state.trust.well_known_threshold is not None)):
            if configured:
                found[method] = TrustPath(method, False, reason=why)
        return vouched, paths
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


def path_json(path: TrustPath) -> dict[str, object]:
    return {"method": path.method, "ok": path.ok, "steps": list(path.steps),
            "reason": path.reason, "contradiction": path.contradiction}
