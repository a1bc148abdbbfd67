"""vc_im.policy.decide: combining trust paths by any, all or k of n, and contradictions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vc_im import keys
from vc_im.keys import Key
from vc_im.report import Passed
from vc_im.trust import Combine, OnContradiction, PolicyRule, TrustMethod
from vc_im.trust.paths import TrustPath
from vc_im.trust.policy import Decision, decide

KEY = keys.generate()
OTHER = keys.generate()
NO_EVIDENCE = "no evidence was given for it"


def ok(method: str, key: Key | None = KEY, *steps: str) -> TrustPath:
    """A path of ``method`` that vouches for ``key``."""
    return TrustPath(method, True, key, steps or (f"{method} step",))


def refused(method: str, reason: str = "", *, contradiction: bool = False) -> TrustPath:
    """A path of ``method`` that does not vouch, for ``reason``."""
    return TrustPath(method, False, None, (), reason or f"{method} said no",
                     contradiction=contradiction)


def rule(*methods: str, combine: str | int = "any", contradiction: str = "fail") -> PolicyRule:
    """A rule for every domain, written as a trust file writes it."""
    named = {"any": Combine.ANY, "all": Combine.ALL}
    return PolicyRule(None, tuple(TrustMethod(m) for m in methods),
                      named[combine] if isinstance(combine, str) else Combine(combine),
                      OnContradiction(contradiction))


def summary(decision: Decision) -> tuple[bool, str | None, str]:
    """(ok, code, reason) of a decision."""
    return decision.ok, decision.code, decision.reason


def test_any_passes_with_one_method() -> None:
    """any: one vouching method of two passes; the reason explains the one that vouched."""
    decision = decide(rule("central", "x509"), {"central": ok("central", KEY, "a", "b")})
    assert summary(decision) == (
        True, None, "1 of 2 trust methods vouch for it, 1 needed: central: a -> b")
    assert decision.paths == (ok("central", KEY, "a", "b"), TrustPath("x509", False,
                                                                     reason=NO_EVIDENCE))


def test_any_fails_with_none() -> None:
    """any: no vouching method is untrusted_issuer, each failure explained in rule order."""
    decision = decide(rule("central", "x509"), {"central": refused("central", "not listed")})
    assert summary(decision) == (
        False, "untrusted_issuer",
        f"0 of 2 trust methods vouch for it, 1 needed: central: not listed; x509: {NO_EVIDENCE}")


@pytest.mark.parametrize(("found", "expected"), [
    (("central", "x509"), (True, None, "2 of 2 trust methods vouch for it, 2 needed: "
                                       "central: central step; x509: x509 step")),
    (("central",), (False, "untrusted_issuer", "1 of 2 trust methods vouch for it, 2 needed: "
                                               f"x509: {NO_EVIDENCE}")),
], ids=["both", "one"])
def test_all(found: tuple[str, ...], expected: tuple[bool, str | None, str]) -> None:
    """all: every method of the rule must vouch."""
    decision = decide(rule("central", "x509", combine="all"),
                      {method: ok(method) for method in found})
    assert summary(decision) == expected


@pytest.mark.parametrize(("found", "passes"), [
    (("central", "x509", "well_known"), True),
    (("central", "well_known"), True),
    (("x509", "well_known"), True),
    (("well_known",), False),
    ((), False),
])
def test_k_of_n(found: tuple[str, ...], passes: bool) -> None:
    """k 2 of 3: any two vouching methods pass; one does not."""
    decision = decide(rule("central", "x509", "well_known", combine=2),
                      {method: ok(method) for method in found})
    assert (decision.ok, decision.code) == (passes, None if passes else "untrusted_issuer")
    assert decision.reason.startswith(f"{len(found)} of 3 trust methods vouch for it, 2 needed: ")


def test_methods_outside_the_rule_do_not_count() -> None:
    """A path for a method the rule does not name is reported after the rule's, never counted."""
    decision = decide(rule("x509"), {"central": ok("central")})
    assert summary(decision) == (
        False, "untrusted_issuer",
        f"0 of 1 trust methods vouch for it, 1 needed: x509: {NO_EVIDENCE}")
    assert [(path.method, path.ok) for path in decision.paths] == [("x509", False),
                                                                  ("central", True)]


def test_different_keys_contradict() -> None:
    """Two methods vouching for different keys fail as trust_contradiction by default."""
    decision = decide(rule("central", "x509"), {"central": ok("central", KEY),
                                                "x509": ok("x509", OTHER)})
    assert summary(decision) == (
        False, "trust_contradiction",
        "trust methods contradict each other: the methods vouch for different keys")


def test_different_keys_reported_only() -> None:
    """With contradiction "report", methods vouching for different keys still count, and the
    contradiction is a warning of the decision (carried by its reason to the check)."""
    decision = decide(rule("central", "x509", contradiction="report"),
                      {"central": ok("central", KEY), "x509": ok("x509", OTHER)})
    assert (decision.ok, decision.code) == (True, None)
    assert decision.reason.startswith("2 of 2 trust methods vouch for it, 1 needed: ")
    warning = "trust methods contradict each other: the methods vouch for different keys"
    assert decision.warnings == (warning,)
    assert isinstance(decision.reason, Passed)
    assert decision.reason.warnings == (warning,)


def test_same_key_is_no_contradiction() -> None:
    """The same key (a private and a public copy, by thumbprint) vouched twice agrees."""
    decision = decide(rule("central", "x509", combine="all"),
                      {"central": ok("central", KEY), "x509": ok("x509", KEY.public())})
    assert (decision.ok, decision.code) == (True, None)


def test_a_path_without_key_never_contradicts() -> None:
    """A vouching path that names no key (a credential without cnf) contradicts nothing."""
    decision = decide(rule("central", "x509", combine="all"),
                      {"central": ok("central", None), "x509": ok("x509", OTHER)})
    assert (decision.ok, decision.code) == (True, None)


def test_positive_evidence_for_another_key_contradicts() -> None:
    """A path flagged as a contradiction fails the decision with its own reason, even when
    enough other methods vouch."""
    found = {"central": ok("central"),
             "well_known": refused("well_known", "a.example names key X", contradiction=True)}
    decision = decide(rule("central", "well_known"), found)
    assert summary(decision) == (
        False, "trust_contradiction",
        "trust methods contradict each other: a.example names key X")
    reported = decide(rule("central", "well_known", contradiction="report"), found)
    assert summary(reported) == (
        True, None, "1 of 2 trust methods vouch for it, 1 needed: central: central step")
    assert reported.paths[1].contradiction is True
    assert reported.warnings == ("trust methods contradict each other: a.example names key X",)
    assert decision.warnings == ()


def test_reported_contradiction_still_needs_enough_methods() -> None:
    """With contradiction "report", a contradiction alone is still untrusted_issuer."""
    decision = decide(rule("well_known", contradiction="report"),
                      {"well_known": refused("well_known", "b names key Y",
                                             contradiction=True)})
    assert summary(decision) == (
        False, "untrusted_issuer",
        "0 of 1 trust methods vouch for it, 1 needed: well_known: b names key Y")


def test_contradiction_outside_the_rule_is_ignored() -> None:
    """A contradiction from a method the rule does not name fails nothing."""
    decision = decide(rule("central"), {
        "central": ok("central"),
        "well_known": refused("well_known", "c names key Z", contradiction=True)})
    assert (decision.ok, decision.code) == (True, None)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(list(TrustMethod)), min_size=1, max_size=5, unique=True),
       st.data())
def test_combine_counts_vouching_methods(methods: list[TrustMethod],
                                         data: st.DataObject) -> None:
    """For every rule and every set of answers (one key, no contradiction), the decision
    passes exactly when the vouching methods reach any (1), all (n) or k."""
    vouching = data.draw(st.lists(st.sampled_from(methods), unique=True))
    combine = data.draw(st.one_of(st.just("any"), st.just("all"),
                                  st.integers(1, len(methods))))
    found = {method: ok(method) if method in vouching else refused(method)
             for method in methods}
    decision = decide(rule(*methods, combine=combine), found)
    need = {"any": 1, "all": len(methods)}.get(str(combine), combine)
    assert decision.ok is (len(vouching) >= int(need))
    assert decision.code == (None if decision.ok else "untrusted_issuer")
    assert [path.method for path in decision.paths] == methods


def test_methods_are_enums_with_todays_names() -> None:
    """Trust methods are a StrEnum whose values are the names trust files and reports use."""
    assert [method.value for method in TrustMethod] == [
        "central", "cascade", "x509", "web_of_trust", "well_known"]
    assert TrustPath("x509", True).method is TrustMethod.X509
    with pytest.raises(ValueError, match=r"'x\.509' is not a valid TrustMethod"):
        TrustPath("x.509", True)


@pytest.mark.parametrize(("combine", "needed"), [
    (Combine.ANY, 1), (Combine.ALL, 3), (Combine(2), 2)], ids=["any", "all", "k2"])
def test_combine_is_a_frozen_value(combine: Combine, needed: int) -> None:
    """any is k = 1, all is every method of the rule, k is k; k below 1 is refused."""
    assert combine.needed(3) == needed
    with pytest.raises(ValueError, match="at least one vouching method"):
        Combine(0)


def test_a_rule_without_methods_covers_nothing() -> None:
    """The rule a trust store gives for a domain its policy does not cover has no methods:
    whatever vouches, the decision is untrusted_issuer, naming the domain."""
    uncovered = PolicyRule(frozenset({"example.org"}), ())
    decision = decide(uncovered, {"central": ok("central")})
    assert summary(decision) == (
        False, "untrusted_issuer", "no rule of the trust policy covers example.org, and it has "
                                   'no default rule (domains ["*"])')
    assert decision.paths == (ok("central"),)
