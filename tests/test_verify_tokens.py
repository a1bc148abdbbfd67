"""Verifying many tokens check by check (:func:`vc_im.verify.verify_tokens`, what a batch
runs) gives each token the very report :func:`vc_im.verify.verify_token` gives it alone, in
order: whatever the mix of kinds, rules and failures, and whatever repeats among them (a
replayed presentation fails at its replay check either way)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DEVICE, HANDLE, ISSUER, NOW, VERIFIER
from tests.helpers.trust_models import USER
from vc_im import keys
from vc_im.credentials import issue_credential, issue_document
from vc_im.model import CredentialType, Encoding
from vc_im.presentations import create_presentation, present_document
from vc_im.replay import ReplayStore
from vc_im.report import Report, run_checks, run_checks_many
from vc_im.trust import TrustedIssuer, TrustStore
from vc_im.verify import Request, verify_token, verify_tokens

EMPLOYER = "https://employer.example"
LAPTOP = "im:SvPfLlwBQi-6oddVRrkqpw/5d1e@example.com"
V2 = "https://www.w3.org/ns/credentials/v2"


@dataclass(frozen=True)
class Case:
    """One token of the pool, with what its verifier expects."""

    name: str
    token: str
    audience: str | None = VERIFIER
    nonce: str | None = None


@pytest.fixture(scope="module")
def pool(make_credential: Callable[..., str], device_key: keys.Key, attacker_key: keys.Key,
         issuer_key: keys.Key) -> tuple[TrustStore, list[Case]]:
    """A trust store (an IM provider, and an employer that issues w3c credentials) and
    tokens that pass, or fail at a check of their own: of the presentation, of a
    credential inside it, under the IM rules or the w3c ones, or bare credentials."""
    employer, ford, user_key, laptop_key = (keys.generate("ES256"), keys.generate(),
                                            keys.generate(), keys.generate())
    trust = TrustStore.of(
        TrustedIssuer(ISSUER, (issuer_key.public(),), frozenset({"example.com"})),
        TrustedIssuer(EMPLOYER, (employer.public(),), None, frozenset({"w3c"})))
    credential = make_credential()

    def vp(nonce: str, *credentials: str, key: keys.Key = device_key, **options: Any) -> Case:
        token = create_presentation(key, list(credentials or [credential]), audience=VERIFIER,
                                    nonce=nonce, now=options.pop("now", NOW), **options)
        return Case(f"vp {nonce}", token, nonce=nonce)

    def signature_broken(case: Case) -> Case:
        head, _, signature = case.token.rpartition(".")
        return Case("broken signature", f"{head}.{'A' if signature[0] != 'A' else 'B'}"
                    f"{signature[1:]}", nonce=case.nonce)

    parent = make_credential(credential_type=CredentialType.USER, subject=USER,
                             instant_messages=[HANDLE], holder_key=user_key.public(),
                             may_issue_devices=True, organization=None, unit=None)
    laptop = issue_credential(user_key, issuer=USER, subject=LAPTOP, fn="Alice M. Smith",
                              now=NOW, instant_messages=[HANDLE],
                              holder_key=laptop_key.public())
    employee = issue_document(employer, {
        "@context": [V2], "id": "urn:uuid:7c1b2e55-35e3-4f5f-9a2b-7d1c7c0a3c11",
        "type": ["VerifiableCredential", "EmployeeCredential"], "issuer": EMPLOYER,
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": ford.did_key(), "name": "Ford Prefect"},
        "cnf": {"jwk": ford.header_jwk()}}, now=NOW, encoding=Encoding.VC2)
    w3c = present_document(ford, {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"], "holder": ford.did_key(),
        "verifiableCredential": [employee]}, now=NOW, audience=VERIFIER, nonce="w3c")
    valid = vp("n-1")
    cases = [
        valid,
        vp("n-2", make_credential(encoding=Encoding.VC2), encoding="vc2"),
        Case("another nonce", valid.token, nonce="n-other"),
        Case("another audience", valid.token, audience="https://elsewhere.example",
             nonce="n-1"),
        vp("n-stale", now=NOW - 3600),
        signature_broken(vp("n-3")),
        vp("n-attacker", key=attacker_key),
        vp("n-untrusted", make_credential(key=attacker_key)),
        vp("n-expired", make_credential(now=NOW - 400 * 86400, valid_for=86400)),
        vp("n-unbound", make_credential(holder_key=None)),
        vp("n-bad-inner", credential[:-8] + "AAAAAAAA"),
        vp("n-cascade", laptop, parent, key=laptop_key),
        vp("n-parent-first", parent, laptop, key=laptop_key),
        vp("n-two-devices", credential, make_credential(subject=DEVICE)),
        Case("w3c rules", w3c, nonce="w3c"),
        Case("credential, a presentation expected", credential, nonce="n-9"),
        Case("credential", credential, audience=None),
        Case("credential of an untrusted issuer", make_credential(key=attacker_key),
             audience=None),
        Case("not a token", "not a token"),
        Case("empty", ""),
    ]
    return trust, cases


def _alone(cases: list[Case], trust: TrustStore, store: ReplayStore) -> list[Report]:
    return [verify_token(case.token, trust, now=NOW + 5, audience=case.audience,
                         nonce=case.nonce, store=store) for case in cases]


def _together(cases: list[Case], trust: TrustStore, store: ReplayStore) -> list[Report]:
    return verify_tokens([Request(case.token, case.audience, case.nonce, store)
                          for case in cases], trust, now=NOW + 5)


def test_the_pool_fails_where_each_case_says(pool: tuple[TrustStore, list[Case]],
                                            tmp_path: Path) -> None:
    """The pool is what it claims: its cases pass or fail at distinct checks (so the
    comparison below covers them)."""
    trust, cases = pool
    with ReplayStore.open(tmp_path / "replay.db") as store:
        reports = _alone(cases, trust, store)
    outcome = {case.name: (report.failure.name if report.failure else "valid")
               + ("" if report.code is None else f":{report.code}")
               for case, report in zip(cases, reports, strict=True)}
    assert outcome["vp n-1"] == outcome["vp n-2"] == outcome["vp n-cascade"] == "valid"
    assert outcome["w3c rules"] == outcome["credential"] == "valid"
    assert outcome["another nonce"] == "nonce:nonce_mismatch"
    assert outcome["another audience"] == "audience:audience_mismatch"
    assert outcome["vp n-stale"] == "time:bad_iat"
    assert outcome["broken signature"] == "signature:bad_signature"
    assert outcome["vp n-attacker"] == "holder_binding:holder_binding"
    assert outcome["vp n-untrusted"] == "credentials:unknown_key"
    assert outcome["vp n-expired"] == "credentials:expired"
    assert outcome["vp n-unbound"] == "holder_binding:holder_binding"
    assert outcome["vp n-bad-inner"] == "credentials:bad_signature"
    assert outcome["vp n-parent-first"] == outcome["vp n-two-devices"] == "valid"
    assert outcome["credential, a presentation expected"] == "header:bad_type"
    assert outcome["credential of an untrusted issuer"] == "issuer_key:unknown_key"
    assert outcome["not a token"] == outcome["empty"] == "format:malformed"
    assert len(set(outcome.values())) >= 12


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_verify_tokens_reports_what_each_token_alone_reports(
        pool: tuple[TrustStore, list[Case]], data: st.DataObject) -> None:
    """Any mix of the pool, repeats included (a presentation replayed within the group
    fails at its replay check in both), in any order: the same reports, in order."""
    trust, cases = pool
    picked = data.draw(st.lists(st.sampled_from(cases), min_size=1, max_size=24))
    alone_first = data.draw(st.booleans())  # which of the two warms the caches
    with (tempfile.TemporaryDirectory() as where,
          ReplayStore.open(Path(where) / "alone.db") as alone,
          ReplayStore.open(Path(where) / "together.db") as together):
        if alone_first:
            expected = _alone(picked, trust, alone)
            got = _together(picked, trust, together)
        else:
            got = _together(picked, trust, together)
            expected = _alone(picked, trust, alone)
    assert [report.to_json() for report in got] == [report.to_json() for report in expected]
    assert [report.verified for report in got] == [report.verified for report in expected]


def test_run_checks_many_is_run_checks_for_each_state() -> None:
    """Each state gets run_checks' checks: its steps in order up to its first failure,
    the rest skipped, a step never run on a state that failed before it."""
    from vc_im.errors import TokenError
    from vc_im.report import CheckFailed, Passed

    ran: list[tuple[str, int]] = []

    def step(name: str, fails_for: int, how: str = "check") -> Callable[[int], str]:
        def run(state: int) -> str:
            ran.append((name, state))
            if state == fails_for:
                if how == "token":
                    raise TokenError("not JSON")
                raise CheckFailed("bad_type", f"{name} refuses {state}")
            return Passed(f"{name} passed", ["look"]) if state == 4 else f"{name} passed"
        return run

    steps = [("a", step("a", 1)), ("b", step("b", 2, "token")), ("c", step("c", 3))]
    states = [0, 1, 2, 3, 4]
    together = run_checks_many(steps, states)
    order = list(ran)
    ran.clear()
    alone = [run_checks(steps, state) for state in states]
    assert together == alone
    assert sorted(order) == sorted(ran)  # the same steps ran, on the same states
    assert order[:5] == [("a", state) for state in states]  # one step over all, then the next
    assert ("b", 1) not in order
    assert ("c", 2) not in order
