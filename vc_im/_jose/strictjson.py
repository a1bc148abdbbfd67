"""Strict JSON: what a verifier reads from hostile input.

RFC 8259 only says names SHOULD be unique, and Python's ``json`` keeps the
last duplicate silently: the seed's credential example loses its handle that
way. VC-JOSE-COSE asks for inputs that do not conform to be rejected whole, so
this reader refuses duplicate names, NaN and Infinity, non-UTF-8 bytes, a BOM,
and anything deeper or larger than the caller allows.
"""

from __future__ import annotations

import json
import re
from typing import Any

from vc_im.errors import TokenError

MAX_DEPTH = 32


class StrictJSONError(TokenError):
    """The bytes are not strict JSON; ``code`` is ``malformed``."""


def _reject_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not a JSON number.")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise StrictJSONError(f"the number {text[:20]} is out of range.")
    return value


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's members; a name given twice is refused (built in C, looked into only
    when the count says a name repeats)."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise StrictJSONError(f"the member name {name!r} appears twice in one object.")
            seen.add(name)
    return result


#: A JSON string (or an unterminated one running to the end), escapes included.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def _depth(text: str, bound: int = 0) -> int:
    """Deepest nesting of arrays and objects, counted outside strings, without recursion;
    ``bound`` when the text cannot nest deeper than ``bound``.

    The strings are cut out by one regular expression and only the brackets left are
    walked: the same count as :func:`_depth_by_char` (a test holds them equal), at a
    fraction of the cost of looking at every character in Python. A text with no more
    opening brackets than ``bound`` nests no deeper than that, whatever its strings hold:
    counting them (in C) answers most texts without the cut."""
    if text.count("{") + text.count("[") <= bound:
        return bound
    depth = deepest = 0
    for char in _BRACKETS.findall(_STRING.sub("", text)):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _depth_by_char(text: str) -> int:
    """The reference for :func:`_depth`: one character after another."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _reject_lone_surrogates(value: Any) -> None:
    """A JSON escape such as ``\\ud800`` can name half a character; that is not Unicode."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise StrictJSONError("a string holds a lone UTF-16 surrogate escape, which "
                                      "is not a Unicode character.") from exc
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


#: The strict reader, built once (``json.loads`` with hooks builds a decoder per call); like
#: ``json``'s own default decoder, one serves every thread.
_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_reject_constant,
                            parse_float=_finite_float)


def loads(data: bytes, *, what: str = "JSON", max_bytes: int = 65536,
          max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``data`` as strict JSON; raise :class:`StrictJSONError` naming ``what``."""
    if len(data) > max_bytes:
        raise StrictJSONError(f"the {what} is larger than {max_bytes} bytes.", code="too_large")
    if data.startswith(b"\xef\xbb\xbf"):
        raise StrictJSONError(f"the {what} starts with a byte order mark.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StrictJSONError(f"the {what} is not UTF-8.") from exc
    if _depth(text, max_depth) > max_depth:
        raise StrictJSONError(f"the {what} nests deeper than {max_depth} levels.")
    try:
        value = _DECODER.decode(text)
        if "\\u" in text:
            _reject_lone_surrogates(value)
    except StrictJSONError as exc:
        raise StrictJSONError(f"the {what} is not strict JSON: {exc.message}") from exc
    except json.JSONDecodeError as exc:
        problem = exc.msg.lower().removesuffix(" at")  # "invalid control character at"
        raise StrictJSONError(f"the {what} is not valid JSON: {problem} at line "
                              f"{exc.lineno}, column {exc.colno}.") from exc
    except (ValueError, RecursionError) as exc:
        raise StrictJSONError(f"the {what} is not valid JSON.") from exc
    return value


def dumps_compact(value: Any) -> bytes:
    """Compact UTF-8 JSON, the form vc_im signs."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")
