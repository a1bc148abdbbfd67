"""The signed-mutant campaign: every strategy's examples, verified under the oracles.

Each test draws hostile but correctly signed tokens and checks, on every example: no
exception, no acceptance that the independent oracle refuses, no network connection, a
time bound, and a report whose failures carry a stable code and one sentence. Marked slow:
``VC_IM_CAMPAIGN_EXAMPLES=10000 pytest -m slow tests/campaign`` is the long run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from vc_im.dpop import verify_proof
from vc_im.report import Report, Status
from vc_im.trust.statements import STATEMENT_CODES, Statement, StatementError, read_statement
from vc_im.verify import verify_token

from . import harness, oracle
from . import strategies as s
from . import world as w

pytestmark = pytest.mark.slow
CAMPAIGN = settings(settings.get_profile("vc-im-campaign"))
_counter = itertools.count()

#: The stable failure codes of CONTRACT.md, the reserved revocation codes, and the trust
#: models' contradiction code (README).
CODES = frozenset({
    "malformed", "too_large", "unsupported_alg", "bad_header", "bad_type", "unknown_key",
    "untrusted_issuer", "bad_key", "bad_signature", "expired", "not_yet_valid", "bad_iat",
    "missing_claim", "claim_mismatch", "bad_identifier", "schema_invalid", "context_rejected",
    "holder_binding", "nonce_mismatch", "audience_mismatch", "replay",
    "credential_not_secured", "revoked", "suspended", "trust_contradiction"})


def _report_problem(report: Any) -> str | None:
    """A report's failures carry a stable code and one sentence; nested reports too."""
    if not isinstance(report, Report):
        return f"the verifier returned {type(report).__name__}, not a Report"
    for check in report.checks:
        if check.status is Status.FAILED:
            if check.code not in CODES:
                return f"check {check.name} failed with an unknown code {check.code!r}"
            if not check.reason or "\n" in check.reason:
                return f"check {check.name} failed without a one-line reason"
    if not report.ok and report.code not in CODES:
        return f"the report's code {report.code!r} is not a stable code"
    for nested in report.credentials:
        problem = _report_problem(nested)
        if problem is not None:
            return problem
    return None


def _refusal(check: Callable[[], None]) -> Callable[[], str | None]:
    """The oracle's refusal as a sentence, or None when it accepts."""
    def refusal() -> str | None:
        try:
            check()
        except oracle.Refused as exc:
            return f"oracle: {exc}"
        except Exception as exc:  # an oracle that cannot read the input refuses it
            return f"oracle cannot read it ({type(exc).__name__}: {exc})"
        return None
    return refusal


def _token_oracle(case: s.Case, world: w.World,
                  memory: oracle.ReplayMemory) -> Callable[[], None]:
    """What ``verify_token`` may accept: a presentation when an audience or nonce is given
    (CONTRACT.md), else a credential."""
    def check() -> None:
        if case.audience is not None or case.nonce is not None:
            oracle.presentation(case.token, world.oracle, now=case.now, leeway=case.leeway,
                                audience=case.audience, nonce=case.nonce, memory=memory)
            return
        jws = oracle.parse_jws(case.token)
        typ = jws.header.get("typ", "JWT")
        if typ == "vp+jwt" or (typ == "JWT" and "vp" in jws.payload):
            raise oracle.Refused("a presentation verified without an audience and a nonce")
        oracle.credential(case.token, world.oracle, now=case.now, leeway=case.leeway)
    return check


def _verify_token(strategy: str, case: s.Case, world: w.World, store: Path,
                  memory: oracle.ReplayMemory) -> None:
    outcome = harness.run(lambda: verify_token(
        case.token, world.trust, now=case.now, leeway=case.leeway, audience=case.audience,
        nonce=case.nonce, store=store, evidence=world.evidence))
    report = outcome.result
    shape = _report_problem(report) if outcome.error is None else None
    accepted = isinstance(report, Report) and report.ok
    check = _token_oracle(case, world, memory)
    harness.judge(strategy, outcome, accepted=accepted or shape is not None,
                  refusal=lambda: shape or _refusal(check)(), describe=case.describe)


def _store(tmp_path: Path) -> Path:
    return tmp_path / f"replay-{next(_counter)}.sqlite3"


@CAMPAIGN
@given(case=s.credential_case())
def test_credentials_central_trust(case: s.Case, tmp_path: Path) -> None:
    """Hostile vc1 and vc2 credentials against a trust file of two issuers, each trusted for
    its own domain only."""
    _verify_token("credentials", case, w.central_world(), _store(tmp_path),
                  oracle.ReplayMemory())


@CAMPAIGN
@given(case=s.credential_case(models=True))
def test_credentials_trust_models(case: s.Case, tmp_path: Path) -> None:
    """Hostile central and self-issued credentials against a web of trust and well-known
    services, with their statements as evidence."""
    _verify_token("credentials-models", case, w.models_world(), _store(tmp_path),
                  oracle.ReplayMemory())


@CAMPAIGN
@given(case=s.presentation_case())
def test_presentations(case: s.Case, tmp_path: Path) -> None:
    """Hostile presentations of (possibly hostile) credentials; a replayed presentation is
    verified a second time against the same store and must not be valid again."""
    store, memory, world = _store(tmp_path), oracle.ReplayMemory(), w.central_world()
    for _ in range(2 if case.replay else 1):
        _verify_token("presentations", case, world, store, memory)


@CAMPAIGN
@given(case=s.dpop_case())
def test_dpop_proofs(case: s.Case, tmp_path: Path) -> None:
    """Hostile DPoP proofs for one request, some bound to a (possibly hostile) credential; a
    replayed proof is verified a second time against the same store."""
    world, memory, store = w.central_world(), oracle.ReplayMemory(), _store(tmp_path)

    def check() -> None:
        oracle.dpop(case.token, world.oracle, now=case.now, leeway=case.leeway, htm=case.htm,
                    htu=case.htu, nonce=case.nonce, access_token=case.access_token,
                    credential_token=case.credential, memory=memory)

    for _ in range(2 if case.replay else 1):
        outcome = harness.run(lambda: verify_proof(
            case.token, htm=case.htm, htu=case.htu, now=case.now, leeway=case.leeway,
            nonce=case.nonce, access_token=case.access_token, credential=case.credential,
            trust=world.trust, store=store))
        report = outcome.result
        shape = _report_problem(report) if outcome.error is None else None
        accepted = isinstance(report, Report) and report.ok
        harness.judge("dpop", outcome, accepted=accepted or shape is not None,
                      refusal=lambda shape=shape: shape or _refusal(check)(),  # type: ignore[misc]
                      describe=case.describe)


@CAMPAIGN
@given(case=s.statement_case())
def test_statements(case: s.Case) -> None:
    """Hostile trust-model statements: read_statement returns a Statement or raises its
    documented StatementError with a documented code, nothing else."""
    world = w.models_world()
    outcome = harness.run(lambda: read_statement(case.token, now=case.now, leeway=case.leeway),
                          expected=(StatementError,))
    result = outcome.result
    shape = None
    if isinstance(result, StatementError) and result.code not in STATEMENT_CODES:
        shape = f"StatementError with an undocumented code {result.code!r}"
    accepted = isinstance(result, Statement)

    def check() -> None:
        oracle.statement(case.token, world.oracle, now=case.now, leeway=case.leeway)

    harness.judge("statements", outcome, accepted=accepted or shape is not None,
                  refusal=lambda: shape or _refusal(check)(), describe=case.describe)
