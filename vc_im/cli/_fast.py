"""The start-up fast path of ``vc-im verify``: its common options parsed without typer.

typer builds the whole application and a pydantic adapter per option before it runs a
command, which is most of the start-up time of a cold ``vc-im verify``. The plain forms of
``verify`` (``--trust``, ``--audience``, ``--nonce``, ``--now``, ``--leeway``, ``--store``,
``--json`` and one token file, or ``--batch`` and ``--jobs``) are therefore read here;
anything else, or anything odd (a repeated option, a value that starts with ``-`` but
``--batch -``, ``--``, help, a global option), gives None and goes to typer, which then
behaves exactly as it always did.
``tests/cli/test_fast_verify.py`` holds this parser to typer's result on generated argument
lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: The options read here, by their spelling, with the name of the command's parameter.
_VALUED = {"--trust": "trust", "--audience": "audience", "--nonce": "nonce", "--now": "now",
           "--leeway": "leeway", "--store": "store", "--batch": "batch", "--jobs": "jobs"}
_FLAGS = {"--json": "as_json"}
#: typer's ``--leeway`` bounds (LeewayOption); a value outside them is typer's usage error.
_MAX_LEEWAY = 86400
#: ``--jobs`` has no upper bound in typer; a larger count is left to it.
_MAX_JOBS = 9999

#: What typer passes for every option of ``verify`` that is not given.
DEFAULTS: dict[str, object] = {
    "token_file": None, "audience": None, "nonce": None, "now": None, "leeway": 60,
    "store": None, "as_json": False, "parent": None, "statement": None, "statement_url": None,
    "ca_file": None, "allow_private_network": False, "status_list": None, "status_url": None,
    "status_optional": False, "profile": None, "batch": None, "jobs": 1,
}


def verify_options(args: Sequence[str]) -> dict[str, object] | None:
    """The keyword arguments typer would pass to ``verify`` for ``vc-im ARGS``, or None when
    ``args`` is not a plain ``verify`` this parser reads (typer then decides)."""
    if not args or args[0] != "verify":
        return None
    found: dict[str, object] = {}
    rest = list(args[1:])
    rest.reverse()  # popped from the end: the next argument is rest[-1]
    while rest:
        arg = rest.pop()
        if arg == "-" or not arg.startswith("-"):
            if "token_file" in found or not arg:
                return None
            found["token_file"] = arg
            continue
        name, equals, value = arg.partition("=")
        if name in _FLAGS and not equals:
            found[_FLAGS[name]] = True
            continue
        key = _VALUED.get(name)
        if key is None or key in found:
            return None
        if not equals:
            if not rest:
                return None
            value = rest.pop()
        if not value or (value.startswith("-") and not (key == "batch" and value == "-")):
            return None  # but "--batch -", stdin
        found[key] = value
    return _typed(found)


def _typed(found: dict[str, object]) -> dict[str, object] | None:
    """The values as typer converts them: ``--trust`` a Path, ``--leeway`` an int in its
    bounds and ``--jobs`` a count (written as plain ASCII digits; any other spelling is left
    to typer)."""
    trust = found.get("trust")
    if not isinstance(trust, str):
        return None  # --trust is required: typer writes the usage error
    found["trust"] = Path(trust)
    for key, bound in (("leeway", _MAX_LEEWAY), ("jobs", _MAX_JOBS)):
        text = found.get(key)
        if isinstance(text, str):
            if not (text.isascii() and text.isdigit() and len(text) <= 5) or int(text) > bound:
                return None
            found[key] = int(text)
    return {**DEFAULTS, **found}
