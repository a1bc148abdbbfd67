"""The start-up fast path of ``vc-im verify`` (vc_im.cli._fast) reads exactly what typer
reads: on generated argument lists, whatever it accepts typer accepts too, with the same
values for every parameter; and a real process gives the same output either way."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.conftest import NOW, VERIFIER
from tests.helpers.cli import run_process
from vc_im import keys
from vc_im.cli._fast import DEFAULTS, verify_options
from vc_im.presentations import create_presentation

#: The spellings typer knows for verify (and a few it does not), and values worth trying:
#: plain ones, empty ones, ones that look like options, numbers in odd spellings.
OPTIONS = ["--trust", "--audience", "--nonce", "--now", "--leeway", "--store", "--json",
           "--profile", "--batch", "--jobs", "--parent", "--status-optional", "--help", "-h",
           "--", "-", "-v", "--debug", "--Trust", "--trus", "--json=1"]
VALUES = ["trust.json", "vp.jwt", "", "-", "-x", "--json", "a=b", "5", "060", "86400",
          "86401", "99999", "+5", " 5", "5 ", "1_0", "\u0663", "0x10", "-5", "2026-01-01",
          "https://verifier.example.org", "caf\u00e9", "a b", ".", "verify"]
#: The values the fast path reads (no leading "-", not empty).
PLAIN = [value for value in VALUES if value and not value.startswith("-")]


class _Captured(Exception):
    """Raised by the stand-in for run_verify once typer has called it."""

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__("captured")
        self.options = options


@cache
def _typer_command() -> Any:
    import typer

    from vc_im.cli import app

    return typer.main.get_command(app)


def typer_options(args: list[str]) -> dict[str, Any] | None:
    """What typer passes to ``verify``'s work for ``vc-im ARGS``, or None when it refuses
    them (a usage error) or never calls it (help)."""
    from typer import Exit
    from typer._click.exceptions import ClickException

    def capture(**options: Any) -> None:
        raise _Captured(options)

    with mock.patch("vc_im.cli.credentials.run_verify", capture):
        try:
            _typer_command().main(args=args, prog_name="vc-im", standalone_mode=False)
        except _Captured as captured:
            return captured.options
        except (ClickException, Exit):
            return None
    return None


def _word() -> st.SearchStrategy[str]:
    glued = st.builds(lambda name, value: f"{name}={value}",
                      st.sampled_from(OPTIONS[:6]), st.sampled_from(VALUES))
    return st.one_of(st.sampled_from(OPTIONS), st.sampled_from(VALUES), glued,
                     st.text(max_size=6))


def _plain_verify() -> st.SearchStrategy[list[str]]:
    """Mostly well-formed verify argument lists, in any order, so that the fast path runs."""
    value = st.one_of(st.sampled_from(PLAIN), st.sampled_from(VALUES))
    numbers = st.one_of(st.sampled_from(["0", "5", "060", "86400"]), value)
    pairs = st.lists(st.one_of(
        st.tuples(st.sampled_from([*OPTIONS[1:4], OPTIONS[5], "--batch"]), value),
        st.tuples(st.sampled_from(["--leeway", "--jobs"]), numbers)),
        max_size=6, unique_by=lambda pair: pair[0])
    return st.builds(
        lambda trust, more, json, token, extra: [
            "verify", "--trust", trust, *[item for pair in more for item in pair], *json,
            *token, *extra],
        value, pairs, st.sampled_from([[], ["--json"]]),
        st.sampled_from([[], ["vp.jwt"], ["-"]]), st.lists(_word(), max_size=1))


@settings(max_examples=500, deadline=None)
@given(st.one_of(_plain_verify(), _plain_verify(),
                 st.lists(_word(), max_size=8).map(lambda w: ["verify", *w]),
                 st.lists(_word(), max_size=6)))
def test_fast_parser_agrees_with_typer(args: list[str]) -> None:
    """Whatever argument list the fast parser reads, typer reads too, into the same values
    of every parameter of verify; what it does not read, typer decides alone."""
    fast = verify_options(args)
    event("fast path" if fast is not None else "left to typer")
    if fast is None:
        return
    assert typer_options(args) == fast, args


def test_fast_parser_reads_the_usual_command() -> None:
    """The command of the cold-start measurement takes the fast path, with typer's values
    (so that the property above is not vacuous)."""
    args = ["verify", "--trust", "trust.json", "--audience", VERIFIER, "--nonce", "n",
            "--now", "1796512609", "--store", "s.db", "--leeway=5", "--json", "vp.jwt"]
    fast = verify_options(args)
    assert fast is not None
    assert fast == {**DEFAULTS, "trust": Path("trust.json"), "audience": VERIFIER,
                    "nonce": "n", "now": "1796512609", "store": "s.db", "leeway": 5,
                    "as_json": True, "token_file": "vp.jwt"}
    assert typer_options(args) == fast


def test_fast_parser_reads_a_batch() -> None:
    """A batch, from a file or stdin, with its worker count, takes the fast path with
    typer's values (the batch's own start-up is then as light as a cold verify's)."""
    for source in ("lines.jsonl", "-"):
        args = ["verify", "--batch", source, "--trust", "trust.json", "--audience", VERIFIER,
                "--jobs", "2", "--store", "s.db"]
        fast = verify_options(args)
        assert fast == {**DEFAULTS, "trust": Path("trust.json"), "audience": VERIFIER,
                        "store": "s.db", "batch": source, "jobs": 2}
        assert typer_options(args) == fast
    for odd in ("+2", "\u0663", "1_0", "99999"):  # typer reads these; the fast path does not
        assert verify_options(["verify", "--trust", "t", "--batch", "b", "--jobs", odd]) is None


@pytest.mark.parametrize("args", [
    ["verify"], ["verify", "--help"], ["-v", "verify", "--trust", "t"], ["issue"], [],
    ["verify", "--trust", "t", "--profile", "w3c"], ["verify", "--trust", "t", "--", "x"],
    ["verify", "--trust", "t", "--trust", "u"], ["verify", "--trust", "t", "a", "b"],
    ["verify", "--trust", "t", "--leeway", "86401"], ["verify", "--trust"],
])
def test_fast_parser_leaves_the_rest_to_typer(args: list[str]) -> None:
    """Help, other commands, global options, options it does not read, repeats, extra
    arguments, out-of-bounds numbers and missing values all go to typer."""
    assert verify_options(args) is None


@pytest.mark.slow
def test_fast_path_prints_what_typer_prints(
        tmp_path: Path, make_credential: Callable[..., str], device_key: keys.Key,
        trust_file: Path) -> None:
    """Real processes: each verification gives the same exit code, stdout and stderr through
    the fast path as through typer (``-v`` before ``verify`` sends it there): a valid
    presentation, as text and as JSON, a replayed one, a batch (a valid line, its replay, a
    malformed line) and a batch file that is not there, and a missing token file."""
    token = create_presentation(device_key, [make_credential()], audience=VERIFIER,
                                nonce="n-fast", now=NOW, valid_for=300)
    (tmp_path / "vp.jwt").write_text(token)
    (tmp_path / "lines.jsonl").write_text(f"{token}\n{token}\nnot a token\n")
    cases = {
        "text": ["--store", "{}.db", "vp.jwt"],
        "json": ["--store", "{}.db", "--json", "vp.jwt"],
        "replayed": ["--store", "replayed.db", "vp.jwt"],
        "batch": ["--store", "{}.db", "--batch", "lines.jsonl", "--jobs", "2"],
        "batch without its file": ["--store", "{}.db", "--batch", "absent.jsonl"],
        "missing": ["--store", "{}.db", "absent.jwt"],
    }
    for name, tail in cases.items():
        outputs = []
        for way, prefix in (("fast", []), ("typer", ["-v"])):
            args = [*prefix, "verify", "--trust", str(trust_file), "--audience", VERIFIER,
                    "--nonce", "n-fast", "--now", str(NOW + 5),
                    *[arg.format(f"{name}-{way}") for arg in tail]]
            assert (verify_options(args) is not None) == (way == "fast")
            if name == "replayed":
                run_process(*args, cwd=tmp_path)  # consumes the nonce: the next run replays
            result = run_process(*args, cwd=tmp_path)
            # A batch's summary says how fast it went, which differs from run to run.
            stderr = re.sub(r"in [0-9.]+ s \([0-9]+/s\)", "in T s (R/s)", result.stderr)
            outputs.append((result.returncode, result.stdout, stderr))
        assert outputs[0] == outputs[1], name
    assert outputs[0][0] == 2
