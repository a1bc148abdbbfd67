"""A batch line rendered ahead of the replay verdict, then settled, is byte for byte the line
rendering the settled report gives (what ``verify --batch`` wrote when the main process
rendered every report itself), for every outcome of the store."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import NOW, VERIFIER
from vc_im import keys
from vc_im._checks import settle_replay
from vc_im.batch import _Deferred
from vc_im.cli._common import json_printable
from vc_im.cli.verifying import report_json
from vc_im.presentations import create_presentation
from vc_im.replay import ReplayOutcome, StoreUnavailable
from vc_im.report import Check, Code, Report, Status
from vc_im.report_lines import RenderedLine, inert_json, render_line, settle_line
from vc_im.trust import TrustStore
from vc_im.verify import verify_token

#: Any text, lone surrogates, controls and characters beyond the BMP included.
TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF,
                             blacklist_categories=()), max_size=12)
IDS = st.one_of(st.none(), st.integers(-(2**70), 2**70), TEXT)
OUTCOMES = st.one_of(st.sampled_from(list(ReplayOutcome)),
                     TEXT.map(lambda text: StoreUnavailable(f"the store said {text}")))
JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), TEXT,
                              st.floats(allow_nan=False, allow_infinity=False)),
                    lambda inner: st.one_of(st.lists(inner, max_size=3),
                                            st.dictionaries(TEXT, inner, max_size=3)),
                    max_leaves=8)


def _old_line(line: int, line_id: object, report: Report, warnings: tuple[str, ...]) -> str:
    """How the CLI wrote a batch line when the main process rendered every report: the
    reference the rendered lines must equal."""
    if warnings:
        report = replace(report, warnings=(*report.warnings, *warnings))
    return json_printable(json.dumps({"line": line, "id": line_id, **report_json(report)},
                                     ensure_ascii=False, separators=(",", ":"))) + "\n"


def _code(report: Report) -> str:
    return "valid" if report.ok else str(report.code)


@pytest.fixture(scope="module")
def deferred_report(make_credential: Callable[..., str], device_key: keys.Key,
                    trust: TrustStore) -> Report:
    """A valid presentation's report with its replay check deferred (as a batch worker
    makes it): its subject summary, trust paths and nested credential filled in."""
    token = create_presentation(device_key, [make_credential()], audience=VERIFIER,
                                nonce="n-1", now=NOW, valid_for=300)
    report = verify_token(token, trust, now=NOW + 1, audience=VERIFIER, nonce="n-1",
                          store=_Deferred())
    assert report.ok
    assert report.checks[-1].name == "replay"
    return report


def _checks(names: list[str], reasons: list[str]) -> tuple[Check, ...]:
    passed = tuple(Check(name, Status.PASSED, None, reason)
                   for name, reason in zip(names, reasons, strict=False))
    return (*passed, Check("replay", Status.PASSED, None, "Nonce and jti consumed."))


@settings(max_examples=150, deadline=None)
@given(line=st.integers(1, 2**40), line_id=IDS, outcome=OUTCOMES,
       warnings=st.lists(TEXT, max_size=3).map(tuple),
       names=st.lists(TEXT, max_size=4), reasons=st.lists(TEXT, max_size=4),
       trust=st.lists(st.dictionaries(TEXT, JSON, max_size=3), max_size=2),
       profile=st.one_of(st.none(), TEXT), real=st.booleans())
def test_a_settled_line_is_the_settled_report_rendered(
        deferred_report: Report, line: int, line_id: object, outcome: object,
        warnings: tuple[str, ...], names: list[str], reasons: list[str],
        trust: list[dict[str, object]], profile: str | None, real: bool) -> None:
    """For any presentation report (real, or with generated checks, trust paths, warnings,
    profile and hostile text), any line id and every outcome of the store, settling the
    pre-rendered line gives exactly the line of settle_replay's report, and its code."""
    assert isinstance(outcome, ReplayOutcome | StoreUnavailable)
    report = deferred_report if real else Report(
        "presentation", _checks(names, reasons), trust=tuple(trust), profile=profile,
        warnings=tuple(reasons))
    rendered = render_line(line, line_id, report, deferred=True, warnings=warnings)
    assert rendered.text == _old_line(line, line_id, report, warnings)
    settled_report = settle_replay(report, outcome)
    settled = settle_line(rendered, outcome)
    assert settled.text == _old_line(line, line_id, settled_report, warnings)
    assert settled.code == _code(settled_report)
    assert json.loads(settled.text)["ok"] is (outcome is ReplayOutcome.ACCEPTED)


@pytest.mark.parametrize("outcome", [*ReplayOutcome, StoreUnavailable("no route to host.")])
def test_every_outcome_of_a_real_presentation(deferred_report: Report,
                                              outcome: ReplayOutcome | StoreUnavailable,
                                              ) -> None:
    """Each outcome, one by one, on a real report: the text and code settle_replay's report
    renders to, with no subject once refused."""
    rendered = render_line(3, "login-3", deferred_report, deferred=True)
    settled = settle_line(rendered, outcome)
    expected = settle_replay(deferred_report, outcome)
    assert settled.text == _old_line(3, "login-3", expected, ())
    assert settled.code == _code(expected)
    if outcome is not ReplayOutcome.ACCEPTED:
        assert json.loads(settled.text)["subject"] is None
        assert settled.verdict is None


@settings(max_examples=100, deadline=None)
@given(line=st.integers(1, 2**40), line_id=IDS, warnings=st.lists(TEXT, max_size=2).map(tuple),
       reason=TEXT, code=st.sampled_from(list(Code)))
def test_a_line_without_a_deferred_replay_is_rendered_as_before(
        line: int, line_id: object, warnings: tuple[str, ...], reason: str,
        code: Code) -> None:
    """A failed or non-presentation report renders as it always did, and has no verdict to
    settle: refusing it is the same error settle_replay raises."""
    report = Report("credential", (Check("format", Status.FAILED, code, reason),
                                   Check("header", Status.SKIPPED)))
    rendered = render_line(line, line_id, report, warnings=warnings)
    assert rendered == RenderedLine(_old_line(line, line_id, report, warnings), code.value)
    assert settle_line(rendered, ReplayOutcome.ACCEPTED) is rendered
    with pytest.raises(ValueError, match="replay check to settle"):
        settle_line(rendered, ReplayOutcome.REPLAY)


@settings(max_examples=200, deadline=None)
@given(value=JSON)
def test_inert_json_is_the_clis_json_printable(value: object) -> None:
    """The library's compact, terminal-inert JSON is the CLI's, character for character."""
    assert inert_json(value) == json_printable(json.dumps(value, ensure_ascii=False,
                                                          separators=(",", ":")))


def test_the_clis_renderer_crosses_to_a_worker_by_reference(deferred_report: Report) -> None:
    """What the CLI hands the workers pickles as a reference to the library function (no
    CLI code runs in a worker) with the fetch failures as data, and renders the same line
    on the other side."""
    import pickle

    from vc_im.cli.verifying import batch_renderer
    from vc_im.model import NO_EVIDENCE

    render = batch_renderer(NO_EVIDENCE, ("the status list at https://a.example was not "
                                          "cached.",))
    data = pickle.dumps(render)
    assert b"vc_im.report_lines" in data
    assert b"vc_im.cli" not in data
    copy = pickle.loads(data)  # noqa: S301  (our own bytes)
    assert copy(4, "x", deferred_report, deferred=True) == render(4, "x", deferred_report,
                                                                  deferred=True)
    assert "was not cached" in copy(4, "x", deferred_report).text


CHECKS = st.lists(st.builds(
    Check, TEXT, st.sampled_from(list(Status)), st.one_of(st.none(), st.sampled_from(list(Code))),
    TEXT, st.one_of(st.none(), TEXT)), max_size=4).map(tuple)
REPORTS = st.recursive(
    st.builds(Report, st.sampled_from(["credential", "presentation", "dpop_proof"]), CHECKS,
              trust=st.lists(st.dictionaries(TEXT, JSON, max_size=2), max_size=2).map(tuple),
              status=st.lists(st.dictionaries(TEXT, JSON, max_size=2), max_size=1).map(tuple),
              warnings=st.lists(TEXT, max_size=2).map(tuple),
              profile=st.one_of(st.none(), TEXT)),
    lambda inner: st.builds(Report, st.just("presentation"), CHECKS,
                            st.lists(inner, max_size=2).map(tuple)),
    max_leaves=4)


@settings(max_examples=300, deadline=None)
@given(report=REPORTS)
def test_a_report_written_from_kept_check_texts_is_the_report_encoded(report: Report) -> None:
    """A report's text written from its parts, check texts kept from earlier reports, is the
    encoder's text of ``report.to_json()``: nested reports, trust paths, status entries,
    warnings, profiles and hostile text included, asked once or again."""
    from vc_im.report_lines import report_text

    expected = inert_json(report.to_json())
    assert report_text(report) == expected
    assert report_text(report) == expected


@settings(max_examples=200, deadline=None)
@given(name=TEXT, reason=TEXT, other=TEXT, path=st.one_of(st.none(), TEXT))
def test_a_check_keeps_its_own_text(name: str, reason: str, other: str,
                                    path: str | None) -> None:
    """A check's kept JSON text is the encoder's text of its ``to_json()``, asked once or
    again; a check made from it with another reason (``replace``, a pickle) gets its own text,
    never the first one's, and equal checks stay equal whether or not their text was made."""
    import pickle

    check = Check(name, Status.FAILED, Code.REPLAY, reason, path)
    expected = inert_json(check.to_json())
    assert check.json_text() == expected
    assert check.json_text() == expected
    changed = replace(check, reason=other)
    assert changed.json_text() == inert_json(changed.to_json())
    copied = pickle.loads(pickle.dumps(check))  # noqa: S301 - our own bytes
    assert copied == check
    assert hash(copied) == hash(check)
    assert copied.json_text() == expected


def test_a_real_report_written_from_its_parts(deferred_report: Report) -> None:
    """A real presentation report (subject summary, nested credential, trust paths) writes
    as the encoder writes it."""
    from vc_im.report_lines import report_text

    assert report_text(deferred_report) == inert_json(deferred_report.to_json())
