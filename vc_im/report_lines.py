"""A batch's reports as the JSON lines it writes, rendered where they are verified.

A verifying batch defers each presentation's replay check: the store decides later, in input
order, in the batch's own process. Rendering every report there would make that one process
the batch's bottleneck, so each line is rendered where it was verified, as it will be written
if the store accepts it (the common case), with the places of the members the store's verdict
changes. When the store refuses, :func:`settle_line` writes the verdict into those places: the
very text rendering ``settle_replay(report, outcome)`` would give, for the cost of a few
string slices.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, NamedTuple

from vc_im._kept import Kept

if TYPE_CHECKING:
    from collections.abc import Iterator

    from vc_im.replay import ReplayOutcome, StoreUnavailable
    from vc_im.report import Check, Report

__all__ = ["RenderedLine", "check_text", "inert_json", "inert_text", "render_line",
           "report_text", "settle_line"]

#: The top-level members a refused replay check changes, besides the replay check itself.
_VERDICT_MEMBERS = ("ok", "code", "subject")
#: What :attr:`RenderedLine.verdict` locates, in its order.
_VERDICT_SPANS = (*_VERDICT_MEMBERS, "replay")
#: ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``, without making an
#: encoder for each of the dozen values a line is rendered from.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class RenderedLine(NamedTuple):
    """One line of a batch's output, rendered as if the store accepts its presentation."""

    #: The JSON line, newline included.
    text: str
    #: ``valid``, or the report's failure code.
    code: str
    #: For a presentation whose replay check is deferred: the start and end offsets in
    #: ``text`` of the values of ``ok``, ``code`` and ``subject``, then of the replay check
    #: (eight numbers). None for any other line.
    verdict: tuple[int, ...] | None = None


def inert_json(value: object) -> str:
    """Compact JSON text whose strings hold no raw control or unprintable character (each
    becomes a JSON ``\\uXXXX`` escape), so it is valid JSON and inert on a terminal."""
    return inert_text(_ENCODE(value))


def inert_text(text: str, *, newlines: bool = False) -> str:
    """JSON ``text`` with each raw control or unprintable character (but newlines, with
    ``newlines``) written as a JSON ``\\uXXXX`` escape (a pair beyond the BMP)."""
    if (text.replace("\n", "") if newlines else text).isprintable():  # the common case, in C
        return text
    out = []
    for char in text:
        if char.isprintable() or (newlines and char == "\n"):
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            high, low = divmod(ord(char) - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}")
    return "".join(out)


def render_line(line: int, line_id: str | int | None, report: Report, *,
                deferred: bool = False, warnings: tuple[str, ...] = ()) -> RenderedLine:
    """``{"line", "id", ...}`` with the members of ``report.to_json()`` (what ``verify
    --json`` prints), ``warnings`` added to the report's (a fetch that failed). ``deferred``:
    the presentation's replay check passed only for now, and the store decides later."""
    from dataclasses import replace

    if warnings:
        report = replace(report, warnings=(*report.warnings, *warnings))
    code = "valid" if report.ok else str(report.code)
    head = '{"line":' + _scalar_text(line) + ',"id":' + _scalar_text(line_id) + ","
    if not (deferred and report.kind == "presentation" and report.checks
            and report.checks[-1].name == "replay"):
        return RenderedLine(head + "".join(text for _, text in _members(report)) + "}\n",
                            code)
    # Noting where the verdict's values go: the replay check is the last of the checks.
    parts = [head]
    spans: dict[str, tuple[int, int]] = {}
    size = len(head)
    for name, text in _members(report):
        parts.append(text)
        if name == "checks":  # ...,REPLAY] : the last check's text ends before the "]"
            end = size + len(text) - 1
            spans["replay"] = (end - len(report.checks[-1].json_text()), end)
        elif name in _VERDICT_MEMBERS:  # [,]"name":VALUE
            spans[name] = (size + text.index(":") + 1, size + len(text))
        size += len(text)
    parts.append("}\n")
    return RenderedLine("".join(parts), code,
                        tuple(at for name in _VERDICT_SPANS for at in spans[name]))


def report_text(report: Report) -> str:
    """``inert_json(report.to_json())``, written from its parts: a check's text is made once
    per check (:meth:`~vc_im.report.Check.json_text`; a passing check is shared by every
    report whose check says the same), the rest is encoded as it comes.
    ``tests/test_report_lines.py`` holds the two equal."""
    return "{" + "".join(text for _, text in _members(report)) + "}"


def _members(report: Report) -> Iterator[tuple[str, str]]:
    """Each member of ``report.to_json()`` as its inert text, in order, each after the
    first with its leading comma."""
    code = report.code
    yield "ok", '"ok":' + ("true" if report.ok else "false")
    yield "kind", ',"kind":' + _scalar_text(report.kind)
    yield "code", ',"code":' + ("null" if code is None else _scalar_text(code.value))
    yield "subject", ',"subject":' + _summary_text(report.summary())
    yield "checks", ',"checks":[' + ",".join([check.json_text() for check in report.checks]) + "]"
    yield "credentials", ',"credentials":[' + ",".join(map(report_text, report.credentials)) + "]"
    if report.trust:
        yield "trust", ',"trust":' + inert_json([dict(path) for path in report.trust])
    if report.status:
        yield "status", ',"status":' + inert_json([dict(entry) for entry in report.status])
    if report.warnings:
        yield "warnings", ',"warnings":' + inert_json(list(report.warnings))
    if report.profile is not None:
        yield "profile", ',"profile":' + inert_json(report.profile)


#: The last summary rendered and its text: a presentation's summary is, but for rare
#: cases, its device credential's, rendered right after it. A summary holds only strings,
#: lists of strings and nulls, so equal summaries write the same text.
_LAST_SUMMARY: tuple[object, str] = (None, "null")


def _summary_text(summary: dict[str, object] | None) -> str:
    global _LAST_SUMMARY
    last, text = _LAST_SUMMARY  # one tuple, read and replaced whole (threads may share it)
    if summary != last:
        text = inert_json(summary)
        _LAST_SUMMARY = (summary, text)
    return text


def check_text(check: Check) -> str:
    """``inert_json(check.to_json())``, written member by member (what
    :meth:`~vc_im.report.Check.json_text` keeps); a passing check's members before its
    reason are written once per name (its reason often names the token's own subject or key,
    so the whole text seldom repeats)."""
    code, path = check.code, check.path
    head = (_PASSED_HEADS[check.name] if code is None and check.status == "passed" else
            '{"name":' + _scalar_text(check.name) + ',"status":'
            + _scalar_text(check.status.value) + ',"code":'
            + ("null" if code is None else _scalar_text(code.value)) + ',"reason":')
    return (head + _scalar_text(check.reason)
            + ("" if path is None else ',"path":' + _scalar_text(path)) + "}")


def _passed_head(name: str) -> str:
    return '{"name":' + _scalar_text(name) + ',"status":"passed","code":null,"reason":'


#: The text of a passing check before its reason, by the check's name.
_PASSED_HEADS: Kept[str, str] = Kept(_passed_head)


def _scalar_text(value: object) -> str:
    """``inert_json(value)``, without the encoder's walk for a string, an integer or null."""
    kind = type(value)
    if kind is str:
        return inert_text(_ENCODE(value))  # the encoder's own C path for a string
    if value is None:
        return "null"
    if kind is int:
        return str(value)
    return inert_json(value)


def settle_line(rendered: RenderedLine, outcome: ReplayOutcome | StoreUnavailable,
                ) -> RenderedLine:
    """The line once the store decided: as rendered when it accepted the presentation, else
    with the failed replay check, ``ok`` false, its code and no subject (the report
    :func:`~vc_im._checks.settle_replay` gives, rendered)."""
    from vc_im.replay import ReplayOutcome

    if outcome is ReplayOutcome.ACCEPTED:
        return rendered
    from vc_im._checks import settle_replay
    from vc_im.report import Check, Report, Status

    if rendered.verdict is None:
        raise ValueError("only a presentation's report has a replay check to settle")
    settled = settle_replay(Report("presentation", (Check("replay", Status.PASSED),)), outcome)
    failed = settled.checks[-1]
    code = str(failed.code)
    values = ("false", inert_json(code), "null", inert_json(failed.to_json()))
    spans = rendered.verdict
    text = rendered.text
    parts: list[str] = []
    at = 0
    for start, end, value in sorted(zip(spans[::2], spans[1::2], values, strict=True)):
        parts.append(text[at:start])
        parts.append(value)
        at = end
    parts.append(text[at:])
    return RenderedLine("".join(parts), code)
