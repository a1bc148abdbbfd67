"""``vc-im uri``: parse, normalize, compare and convert, as CONTRACT.md specifies them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.helpers.cli import TIMEOUT, process_env, run_cli, run_process
from tests.helpers.vectors import vector_json

SEED = vector_json("identifiers", "seed-examples.json")["examples"]
REJECTED = vector_json("identifiers", "rejected.json")["rejected"]
CONVERSIONS = vector_json("identifiers", "conversions.json")["conversions"]


def uri(*args: str) -> Result:
    """Run ``vc-im uri ARGS`` in-process."""
    return run_cli("uri", *args)


# ---- parse


@pytest.mark.parametrize("row", SEED, ids=[r["input"] for r in SEED])
def test_parse_prints_type_and_normal_form_or_json(row: dict[str, Any]) -> None:
    """parse prints "TYPE NORMALIZED", or with --json the contract's object, and no stderr."""
    result = uri("parse", row["input"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, f"{row['type']} {row['normalized']}\n", "")
    result = uri("parse", row["input"], "--json")
    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {key: row[key] for key in (
        "scheme", "protocol", "type", "parts", "domain", "normalized")}


def test_parse_json_prints_the_contract_example_verbatim() -> None:
    """The JSON is printed with CONTRACT.md's key order and separators."""
    result = uri("parse", "--json", "im:wxyz=BFuVxW5BfqaMEfJDc8R7Qw/072b@example.com")
    assert result.stdout == (
        '{"scheme": "im", "protocol": "wxyz", "type": "device", "parts": '
        '["BFuVxW5BfqaMEfJDc8R7Qw", "072b"], "domain": "example.com", "normalized": '
        '"im:wxyz=BFuVxW5BfqaMEfJDc8R7Qw/072b@example.com"}\n')


def test_parse_json_protocol_is_null_when_untagged() -> None:
    """An untagged identifier has "protocol": null."""
    result = uri("parse", "--json", "im:%40alice_smith@example.com")
    assert json.loads(result.stdout)["protocol"] is None
    assert json.loads(result.stdout)["parts"] == ["alice_smith"]


@pytest.mark.parametrize("row", REJECTED, ids=[r["why"] for r in REJECTED])
def test_parse_rejects_with_one_sentence_and_exit_1(row: dict[str, Any]) -> None:
    """An invalid identifier exits 1 with its one-sentence message on stderr and no stdout."""
    result = uri("parse", row["input"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", f"vc-im: {row['message']}\n")


def test_parse_rejects_the_seeds_unencoded_hash_with_a_hint() -> None:
    """The seed's im:wxyz=#projectX@example.com is rejected, telling the user to write %23."""
    result = uri("parse", "im:wxyz=#projectX@example.com")
    assert result.exit_code == 1
    assert 'write "%23"' in result.stderr


def test_parse_points_native_forms_at_convert_from() -> None:
    """sip: URIs and bare JIDs are rejected with a pointer to "vc-im uri convert --from"."""
    for text, hint in (("sip:juliet@example.com", "--from sip"),
                       ("juliet@example.com", "--from xmpp")):
        result = uri("parse", text)
        assert result.exit_code == 1
        assert f'"vc-im uri convert {hint}"' in result.stderr


# ---- normalize


@pytest.mark.parametrize(("text", "expected"), [
    ("IM:%7Ealice@EXAMPLE.com", "im:~alice@example.com"),
    ("im:a%2fb@B\u00fccher.example", "im:a%2Fb@xn--bcher-kva.example"),
    ("im:irc=irc.example.com/%23projectX", "im:irc=irc.example.com/%23projectX,ischannel"),
    ("MIMI://A.Example/", "mimi://a.example"),
    ("mimi://irc.example.com/u/jcapulet1583@example.com",
     "mimi://irc.example.com/u/jcapulet1583%40example.com"),
])
def test_normalize_prints_the_canonical_form(text: str, expected: str) -> None:
    """normalize prints only the canonical form and exits 0."""
    result = uri("normalize", text)
    assert (result.exit_code, result.stdout, result.stderr) == (0, expected + "\n", "")


def test_normalize_rejects_with_exit_1() -> None:
    """normalize exits 1 with the specific message for an invalid identifier."""
    result = uri("normalize", "im:alice")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == ('vc-im: the identifier names no domain: end it with "@" and a '
                             'domain ("@local.invalid" when there is none).\n')


# ---- compare


@pytest.mark.parametrize(("a", "b"), [
    ("im:%7Ealice@example.com", "IM:~alice@EXAMPLE.COM"),
    ("im:alice@b\u00fccher.example", "im:alice@xn--bcher-kva.example"),
    ("im:irc=irc.example.com/%23projectX", "im:irc=irc.example.com/%23projectX,ischannel"),
])
def test_compare_equal_exits_0(a: str, b: str) -> None:
    """compare exits 0 for the same identifier spelled differently."""
    result = uri("compare", a, b)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "equal\n", "")


@pytest.mark.parametrize(("a", "b"), [
    ("im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com", "im:svpfllwbqi-6oddvrrkqpw/04c7@example.com"),
    ("im:a/b@example.com", "im:a%2Fb@example.com"),
    ("im:alice@example.com", "mimi://example.com/u/alice"),
    ("im:wxyz=%40alice@example.com", "im:%40alice@example.com"),
    ("im:alice@example.com", "im:alice@sub.example.com"),
])
def test_compare_not_equal_exits_1(a: str, b: str) -> None:
    """compare exits 1 for different identifiers, schemes or protocol tags."""
    result = uri("compare", a, b)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "not equal\n", "")


def test_compare_invalid_argument_exits_2() -> None:
    """compare exits 2 when an argument is not a valid identifier, naming the argument."""
    result = uri("compare", "im:alice@example.com", "sip:alice@example.com")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        'vc-im: URI2 is not a valid identifier: "sip:" is a protocol\'s native form, not an IM '
        'identifier: read it with "vc-im uri convert --from sip".\n')
    first = uri("compare", "im:wxyz=#x@example.com", "im:alice@example.com")
    assert first.exit_code == 2
    assert first.stderr.startswith("vc-im: URI1 is not a valid identifier: ")


def test_compare_missing_argument_is_a_usage_error() -> None:
    """compare with one argument is a usage error (exit 2)."""
    assert uri("compare", "im:alice@example.com").exit_code == 2


# ---- convert


@pytest.mark.parametrize("row", CONVERSIONS, ids=[r["value"] for r in CONVERSIONS])
def test_convert_table(row: dict[str, Any]) -> None:
    """convert prints each recorded result, or exits 1 with the recorded reason."""
    source = ["--from", row["from"]] if "from" in row else []
    for target in ("im", "mimi"):
        result = uri("convert", row["value"], "--to", target, *source)
        if target in row:
            assert (result.exit_code, result.stdout, result.stderr) == (
                0, row[target] + "\n", "")
        else:
            assert (result.exit_code, result.stdout, result.stderr) == (
                1, "", f"vc-im: {row[target + '_error']}\n")


@pytest.mark.parametrize(("source", "value", "to_im", "to_mimi"), [
    ("xmpp", "juliet@example.com", "im:%40juliet@example.com", "mimi://example.com/u/juliet"),
    ("xmpp", "juliet@example.com/balcony", "im:juliet/balcony@example.com",
     "mimi://example.com/d/juliet/balcony"),
    ("sip", "sip:juliet@example.com", "im:%40juliet@example.com", "mimi://example.com/u/juliet"),
    ("email", "juliet@example.com", "im:%40juliet@example.com", "mimi://example.com/u/juliet"),
    ("wire", "wireapp://SvPfLlwBQi-6oddVRrkqpw!04c7@example.com",
     "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com",
     "mimi://example.com/d/SvPfLlwBQi-6oddVRrkqpw/04c7"),
    ("wire", "wireapp://%40alice_wire@example.com", "im:%40alice_wire@example.com",
     "mimi://example.com/u/alice_wire"),
    ("irc", "irc://irc.example.com/juliet,isuser", "im:irc=irc.example.com/juliet,isuser",
     "mimi://irc.example.com/u/juliet"),
])
def test_convert_from_matches_the_contract_table(source: str, value: str, to_im: str,
                                                 to_mimi: str) -> None:
    """Each row of CONTRACT.md's --from table prints exactly its im: and mimi:// forms."""
    assert uri("convert", value, "--from", source, "--to", "im").stdout == to_im + "\n"
    assert uri("convert", value, "--to", "mimi", "--from", source).stdout == to_mimi + "\n"


def test_convert_usage_errors_exit_2() -> None:
    """A missing or unknown --to, or an unknown --from, is a usage error."""
    assert uri("convert", "im:alice@example.com").exit_code == 2
    assert uri("convert", "im:alice@example.com", "--to", "xmpp").exit_code == 2
    assert uri("convert", "alice@example.com", "--to", "im", "--from", "slack").exit_code == 2


def test_convert_invalid_native_value_exits_1() -> None:
    """A value that is not the named native form exits 1 with the reason."""
    result = uri("convert", "sip:juliet@example.com;transport=tcp", "--from", "sip", "--to", "im")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", 'vc-im: an address of record has no URI parameters (";...").\n')


def test_uri_without_a_command_shows_help() -> None:
    """vc-im uri alone lists its four commands."""
    result = uri()
    for command in ("parse", "normalize", "compare", "convert"):
        assert command in result.stdout


# ---- real processes


@pytest.mark.slow
def test_process_parse_json_and_exit_codes(tmp_path: Path) -> None:
    """A real vc-im process prints the JSON, and exits 1 with one stderr line when invalid."""
    good = run_process("uri", "parse", "--json", "im:xmpp=juliet/balcony@example.com",
                       cwd=tmp_path, text=False)
    assert (good.returncode, good.stderr) == (0, b"")
    assert json.loads(good.stdout) == {
        "scheme": "im", "protocol": "xmpp", "type": "device", "parts": ["juliet", "balcony"],
        "domain": "example.com", "normalized": "im:xmpp=juliet/balcony@example.com"}
    bad = run_process("uri", "parse", "im:wxyz=#projectX@example.com", cwd=tmp_path, text=False)
    assert (bad.returncode, bad.stdout) == (1, b"")
    assert bad.stderr.count(b"\n") == 1
    assert b"Traceback" not in bad.stderr


@pytest.mark.slow
def test_process_compare_and_convert(tmp_path: Path) -> None:
    """A real process follows compare's and convert's exit codes."""
    assert run_process("uri", "compare", "im:%7Ea@example.com", "im:~a@EXAMPLE.com",
                       cwd=tmp_path, text=False).returncode == 0
    assert run_process("uri", "compare", "im:a@example.com", "im:b@example.com",
                       cwd=tmp_path, text=False).returncode == 1
    assert run_process("uri", "compare", "im:a@example.com", "juliet@example.com",
                       cwd=tmp_path, text=False).returncode == 2
    converted = run_process("uri", "convert", "juliet@example.com/balcony", "--from", "xmpp",
                            "--to", "mimi", cwd=tmp_path, text=False)
    assert (converted.returncode, converted.stdout, converted.stderr) == (
        0, b"mimi://example.com/d/juliet/balcony\n", b"")


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="needs POSIX byte arguments")
def test_process_survives_undecodable_and_control_bytes(tmp_path: Path) -> None:
    """Arguments with invalid UTF-8 or control characters give one sentence, never a traceback."""
    env = {"LC_ALL": "C", "PYTHONIOENCODING": ""}
    for argument in (b"im:\xff@example.com", b"im:a\x1b[31m@example.com",
                     b"im:\xc3\xa9\xe2\x80\xae@example.com"):
        result = run_process("uri", "parse", argument, cwd=tmp_path, env=env, text=False)
        assert (result.returncode, result.stdout) == (1, b"")
        assert result.stderr.startswith(b"vc-im: the identifier contains ")
        assert result.stderr.isascii()
        assert b"Traceback" not in result.stderr


def console_script() -> str:
    """The vc-im console script installed with the vc_im this Python imports: beside the
    interpreter (a virtual environment's bin), else in the scripts directory of its scheme."""
    places = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts")),
              Path(sysconfig.get_path("scripts", f"{os.name}_user"))]
    found = shutil.which("vc-im", path=os.pathsep.join(map(str, places)))
    assert found is not None, (
        f"no vc-im console script in {', '.join(map(str, places))}: install vc_im into "
        f"{sys.executable} (pip install -e '.[test]')")
    return found


@pytest.mark.slow
def test_console_script_runs(tmp_path: Path) -> None:
    """The vc-im console script, the entry point pyproject.toml declares, runs
    "uri normalize"."""
    declared = entry_points(group="console_scripts", name="vc-im")
    assert [point.value for point in declared] == ["vc_im.cli:main"]
    result = subprocess.run([console_script(), "uri", "normalize", "IM:%40Alice@Example.COM"],
                            cwd=tmp_path, env=process_env(tmp_path), capture_output=True,
                            text=True, timeout=TIMEOUT, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (
        0, "im:%40Alice@example.com\n", "")
