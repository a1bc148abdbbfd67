"""Combining trust models (the MIMI identity draft §4.4): which apply, and how they agree.

The trust file's policy names, per domain, the methods that count and how
their answers combine: ``any`` one of them, ``all`` of them, or at least k.
When methods disagree (two of them vouch for different keys, or one holds
positive evidence for another key), that contradiction is reported and, by
default, fails the verification; a rule with ``"contradiction": "report"``
passes it as a warning instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vc_im.report import Passed
from vc_im.trust.paths import TrustMethod, TrustPath
from vc_im.trust.store import OnContradiction, PolicyRule


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's verdict on one credential, with every path it weighed.

    ``warnings`` are the contradictions a rule only reports; a passing decision's ``reason``
    is then a :class:`~vc_im.report.Passed` that carries them into the check's report.
    """

    ok: bool
    code: str | None
    reason: str
    paths: tuple[TrustPath, ...]
    warnings: tuple[str, ...] = ()


#: The path of a method no evidence was given for (one frozen value per method).
_NO_EVIDENCE = {method: TrustPath(method, False, reason="no evidence was given for it")
                for method in TrustMethod}


def decide(rule: PolicyRule, found: Mapping[str, TrustPath]) -> Decision:
    """Apply ``rule`` to the trust paths ``found`` (keyed by method name); methods outside the
    rule do not count. A rule without methods (a domain the policy does not cover) refuses."""
    if not rule.methods:
        named = ", ".join(sorted(rule.domains)) if rule.domains else "this domain"
        return Decision(False, "untrusted_issuer", f"no rule of the trust policy covers {named}, "
                        'and it has no default rule (domains ["*"])', tuple(found.values()))
    paths = tuple(found.get(method) or _NO_EVIDENCE[method] for method in rule.methods)
    ignored = [path for method, path in found.items() if method not in rule.methods]
    passed = [path for path in paths if path.ok]
    keys = {path.key.thumbprint() for path in passed if path.key is not None}
    contradicted = [path for path in paths if path.contradiction]
    culprits = [path.reason for path in contradicted]
    if len(keys) > 1:
        culprits.append("the methods vouch for different keys")
    contradictions = tuple(f"trust methods contradict each other: {culprit}"
                           for culprit in culprits)
    if contradictions and rule.contradiction is OnContradiction.FAIL:
        return Decision(False, "trust_contradiction", contradictions[0], paths + tuple(ignored))
    need = rule.combine.needed(len(paths))
    counted = f"{len(passed)} of {len(paths)} trust methods vouch for it, {need} needed"
    if len(passed) >= need:
        reason = f"{counted}: " + "; ".join(p.explain() for p in passed)
        return Decision(True, None, Passed(reason, contradictions), paths + tuple(ignored),
                        contradictions)
    failed = [path for path in paths if not path.ok]
    return Decision(False, "untrusted_issuer", f"{counted}: "
                    + "; ".join(p.explain() for p in failed), paths + tuple(ignored))
