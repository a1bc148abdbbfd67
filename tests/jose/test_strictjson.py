"""vc_im._jose.strictjson: the JSON reader for hostile input; its round trip with dumps_compact."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vc_im._jose.strictjson import MAX_DEPTH, StrictJSONError, dumps_compact, loads
from vc_im.errors import TokenError


def refused(data: bytes, **limits: int) -> StrictJSONError:
    """The StrictJSONError that reading ``data`` raises."""
    with pytest.raises(StrictJSONError) as caught:
        loads(data, what="payload", **limits)
    assert isinstance(caught.value, TokenError)
    return caught.value


@pytest.mark.parametrize(("data", "name"), [
    (b'{"a": 1, "a": 1}', "a"),
    (b'{"x": {"b": 1, "c": 2, "b": 3}}', "b"),
    (b'[{"hasInstantMessage": "x", "hasInstantMessage": "y"}]', "hasInstantMessage"),
    (b'{"\\u0061": 1, "a": 2}', "a"),
], ids=["top", "nested", "in-array", "escaped"])
def test_duplicate_member_names(data: bytes, name: str) -> None:
    """A name repeated in one object is refused, even when spelt with an escape."""
    error = refused(data)
    assert error.code == "malformed"
    assert error.message == (f"the payload is not strict JSON: the member name {name!r} "
                             "appears twice in one object.")


def test_same_name_in_different_objects_is_fine() -> None:
    """Equal names in different objects are not duplicates."""
    assert loads(b'{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}') == {
        "a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}


@pytest.mark.parametrize(("data", "message"), [
    (b'{"exp": NaN}', "the payload is not strict JSON: NaN is not a JSON number."),
    (b'{"exp": Infinity}', "the payload is not strict JSON: Infinity is not a JSON number."),
    (b'{"exp": -Infinity}', "the payload is not strict JSON: -Infinity is not a JSON number."),
    (b'{"exp": 1e999}', "the payload is not strict JSON: the number 1e999 is out of range."),
    (b'{"exp": -1e400}', "the payload is not strict JSON: the number -1e400 is out of range."),
], ids=["nan", "infinity", "minus-infinity", "1e999", "minus-1e400"])
def test_non_finite_numbers(data: bytes, message: str) -> None:
    """NaN, Infinity and numbers that overflow to infinity are refused."""
    assert refused(data).message == message


def test_large_but_finite_numbers_are_kept() -> None:
    """1e308 and a 400-digit integer are finite and read exactly."""
    assert loads(b"[1e308, " + b"9" * 400 + b"]") == [1e308, int("9" * 400)]


def test_byte_order_mark() -> None:
    """A UTF-8 byte order mark is refused (RFC 8259 §8.1: MUST NOT add one)."""
    assert refused(b'\xef\xbb\xbf{"a": 1}').message == "the payload starts with a byte order mark."


@pytest.mark.parametrize("data", [
    b'{"fn": "Alic\xe9"}', b'{"fn": "\xc0\xaf"}', b'{"fn": "\xed\xa0\x80"}',
    '{"a": 1}'.encode("utf-16"), b'{"a": "\x80"}'],
    ids=["latin-1", "overlong", "surrogate", "utf-16", "continuation"])
def test_not_utf8(data: bytes) -> None:
    """Bytes that are not UTF-8 (Latin-1, overlong, encoded surrogates, UTF-16) are refused."""
    message = refused(data).message
    assert message in {"the payload is not UTF-8.", "the payload starts with a byte order mark."}


def test_escaped_surrogate_pair_is_one_character() -> None:
    """A correctly paired escaped surrogate pair is read as the one character it encodes."""
    assert loads(b'{"fn": "\\ud83d\\ude00"}') == {"fn": "\U0001f600"}


@pytest.mark.parametrize("data", [b'"\\ud800"', b'{"fn": "a\\udfffb"}', b'{"\\ud800": 1}'],
                         ids=["value", "low-surrogate", "name"])
def test_escaped_unpaired_surrogate_is_refused(data: bytes) -> None:
    """An escaped unpaired surrogate is not Unicode text: malformed (I-JSON, RFC 7493 §2.1)."""
    error = refused(data)
    assert error.code == "malformed"
    assert error.message == ("the payload is not strict JSON: a string holds a lone UTF-16 "
                             "surrogate escape, which is not a Unicode character.")


def test_depth_limit() -> None:
    """MAX_DEPTH levels of nesting are read; one more is refused, before any recursion."""
    assert MAX_DEPTH == 32
    assert loads(b"[" * 32 + b"]" * 32) == _nested(32)
    assert refused(b"[" * 33 + b"]" * 33).message == "the payload nests deeper than 32 levels."
    assert refused(b'{"a":' * 33 + b"1" + b"}" * 33).message == (
        "the payload nests deeper than 32 levels.")
    assert refused(b"[" * 60_000).message == "the payload nests deeper than 32 levels."


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    """Brackets and escaped quotes inside strings are not nesting."""
    text = json.dumps(["[" * 100, '\\"[{' * 50]).encode()
    assert loads(text) == ["[" * 100, '\\"[{' * 50]


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_custom_depth() -> None:
    """The caller may lower the depth limit."""
    assert loads(b"[[1]]", max_depth=2) == [[1]]
    assert refused(b"[[[1]]]", max_depth=2).message == "the payload nests deeper than 2 levels."


def test_size_limit() -> None:
    """Input larger than max_bytes is too_large; exactly max_bytes is read."""
    exact = b'"' + b"a" * 98 + b'"'
    assert loads(exact, max_bytes=100) == "a" * 98
    error = refused(exact + b" ", max_bytes=100)
    assert error.code == "too_large"
    assert error.message == "the payload is larger than 100 bytes."


@pytest.mark.parametrize("data", [b"", b"{", b'{"a": 1,}', b"{'a': 1}", b'{"a": 1} {}',
                                  b"[1, 2", b"01", b'"\\x41"', b'"tab\there"'],
                         ids=["empty", "open", "trailing-comma", "single-quotes", "two-values",
                              "unclosed", "leading-zero", "bad-escape", "raw-control"])
def test_invalid_json(data: bytes) -> None:
    """Text that is not JSON is malformed, with a sentence naming what was read and where the
    first mistake is (line and column)."""
    error = refused(data)
    assert error.code == "malformed"
    assert re.fullmatch(r"the payload is not valid JSON: [a-z ',\\]+ at line 1, column \d+\.",
                        error.message), error.message


def test_huge_integer_is_malformed_not_a_crash() -> None:
    """An integer longer than Python's digit limit is malformed, not a ValueError leak."""
    assert refused(b"1" * 5000).message == "the payload is not valid JSON."


def test_dumps_compact_form() -> None:
    """dumps_compact writes UTF-8 without spaces or ASCII escapes, and refuses NaN."""
    assert dumps_compact({"fn": "Zoë", "a": [1, 2]}) == '{"fn":"Zoë","a":[1,2]}'.encode()
    with pytest.raises(ValueError, match="Out of range float"):
        dumps_compact({"exp": float("nan")})


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=20,
)


@given(JSON_VALUES)
@settings(max_examples=200, deadline=None)
def test_round_trip(value: Any) -> None:
    """For every JSON value (no duplicate names by construction), loads(dumps(v)) == v."""
    assert loads(dumps_compact(value)) == value
    assert loads(json.dumps(value, indent=2).encode()) == value


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_arbitrary_bytes_never_raise_anything_else(data: bytes) -> None:
    """Any bytes either parse or raise StrictJSONError; no other exception escapes."""
    codes: list[str] = []
    try:
        loads(data)
    except StrictJSONError as error:
        codes.append(error.code)
    assert set(codes) <= {"malformed", "too_large"}
