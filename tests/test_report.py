"""vc_im.report: checks run in order, and warnings that a passing check carries reach the report
and its JSON."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vc_im.report import Check, CheckFailed, Passed, Report, Status, run_checks


def passes(_state: object) -> str:
    """A check that passes quietly."""
    return "fine"


def passes_with_a_warning(_state: object) -> str:
    """A check that passes but has something to say."""
    return Passed("fine, mostly", ["trust methods contradict each other: a names key X"])


def fails(_state: object) -> str:
    """A check that fails."""
    raise CheckFailed("untrusted_issuer", "nobody vouches for it")


def test_a_passing_check_carries_its_warnings_to_the_report() -> None:
    """A check that returns a Passed sentence passes, and its warnings become the report's."""
    checks = run_checks([("one", passes), ("two", passes_with_a_warning)], None)
    assert [(c.name, c.status, c.reason) for c in checks] == [
        ("one", Status.PASSED, "Fine."), ("two", Status.PASSED, "Fine, mostly.")]
    report = Report("credential", checks)
    assert report.ok
    assert report.warnings == ("trust methods contradict each other: a names key X",)
    assert report.to_json()["warnings"] == [
        "trust methods contradict each other: a names key X"]


def test_warnings_given_and_carried_are_kept_once_in_order() -> None:
    """Warnings the caller adds follow the checks' own, each once, also after replace()."""
    from dataclasses import replace

    checks = run_checks([("two", passes_with_a_warning)], None)
    report = Report("credential", checks, warnings=("the statement at U could not be fetched",))
    expected = ("trust methods contradict each other: a names key X",
                "the statement at U could not be fetched")
    assert report.warnings == expected
    assert replace(report, warnings=report.warnings).warnings == expected


def test_without_warnings_the_json_has_no_warnings_member() -> None:
    """A report without warnings writes exactly the contract's members, the top-level code
    and the subject summary."""
    report = Report("credential", run_checks([("one", passes), ("two", fails)], None))
    assert report.warnings == ()
    assert list(report.to_json()) == ["ok", "kind", "code", "subject", "checks", "credentials"]


def test_a_failed_check_carries_no_warnings() -> None:
    """Warnings belong to passing checks: a check that fails has none."""
    (check,) = run_checks([("one", fails)], None)
    assert check == Check("one", Status.FAILED, "untrusted_issuer", "Nobody vouches for it.")
    assert check.warnings == ()


def test_a_warning_is_one_escaped_line() -> None:
    """A warning quoting hostile text (a newline, a terminal escape) stays on one inert line."""
    report = Report("credential", (), warnings=("a.example names key X\nvalid\x1b[2J",))
    assert report.warnings == ("a.example names key X\\x0avalid\\x1b[2J",)


def test_a_report_pickles_with_every_field() -> None:
    """A batch's workers send reports to the parent by pickle: every field of Report and Check,
    present and future, survives the round trip (a field left out of ``__reduce__`` would be
    lost silently, as the profile once nearly was)."""
    import dataclasses
    import pickle

    from vc_im.report import Check, Report, Status

    check = Check("types", Status.PASSED, None, "fine", path="$.type", warnings=("look",))
    nested = Report("credential", (check,), profile="im-device")
    report = Report("presentation", (check,), (nested,), trust=({"method": "central"},),
                    status=({"purpose": "revocation"},), warnings=("also",), profile="w3c")
    copy = pickle.loads(pickle.dumps(report))  # noqa: S301  (our own bytes)
    for field in dataclasses.fields(Report):
        assert getattr(copy, field.name) == getattr(report, field.name), field.name
    for field in dataclasses.fields(Check):
        assert getattr(copy.checks[0], field.name) == getattr(check, field.name), field.name
    assert copy.credentials[0].profile == "im-device"


@settings(max_examples=300)
@given(st.lists(st.text(max_size=30) | st.sampled_from(
    ["alg is wrong", "nonce matches", "x.y z", "already.", " padded ", "a\nb", "[0] item"]),
    min_size=1, max_size=6))
def test_kept_sentences_equal_sentences_made_afresh(texts: list[str]) -> None:
    """A reason's sentence, kept from an earlier report, is the one made afresh from the
    same text, however often and in whatever order texts come."""
    from vc_im.report import _make_sentence, _sentence

    for text in [*texts, *reversed(texts)]:
        assert _sentence(text) == _make_sentence(text)


@settings(max_examples=200)
@given(st.lists(st.sampled_from(list(Status)), max_size=5),
       st.lists(st.booleans(), max_size=3))
def test_the_settled_verdict_is_the_checks_verdict(statuses: list[Status],
                                                   nested_ok: list[bool]) -> None:
    """``ok`` and ``failure``, settled once when a report is built, say what its checks and
    nested reports say: the first failed check, and valid only when none failed anywhere."""
    checks = tuple(Check(f"c{i}", status, "malformed" if status is Status.FAILED else None)
                   for i, status in enumerate(statuses))
    nested = tuple(Report("credential", () if ok else (
        Check("format", Status.FAILED, "malformed"),)) for ok in nested_ok)
    report = Report("presentation", checks, nested)
    first = next((c for c in checks if c.status is Status.FAILED), None)
    assert report.failure is first
    assert report.ok is (first is None and all(nested_ok))
