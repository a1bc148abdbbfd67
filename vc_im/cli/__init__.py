"""The ``vc-im`` command line: a thin layer over the library.

Each command module registers its commands on the shared typer app and
imports the library modules it needs inside the command, so that ``vc-im
--help`` stays fast.
"""

from __future__ import annotations

import sys
import warnings

from vc_im.cli import (  # noqa: F401  (each module registers its commands)
    conformance,
    credentials,
    demo,
    keys,
    presentations,
    replay,
    serve,
    statements,
    status,
    uri,
    x509,
)
from vc_im.cli._app import app


def _has_surrogate(text: str) -> bool:
    """Bytes that are not UTF-8 reach ``sys.argv`` as lone surrogates."""
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def main() -> None:
    """Entry point of the ``vc-im`` console script.

    Every expected failure already ends in one sentence and its exit code; an
    unexpected one (a bug) still ends in one sentence and exit 2, never a traceback
    that could show key material.
    """
    # ``uri`` commands judge their argument as data (an invalid identifier, exit 1); the
    # others cannot use text that is not UTF-8 (a usage error, exit 2).
    if sys.argv[1:2] != ["uri"] and any(_has_surrogate(arg) for arg in sys.argv[1:]):
        sys.stderr.write("vc-im: every argument must be UTF-8 text.\n")
        raise SystemExit(2)
    # Library warnings (deprecations, odd certificate fields) are not the user's business:
    # a command that succeeds writes nothing to stderr.
    warnings.simplefilter("ignore")
    try:
        app()
    except Exception as exc:  # the last line of defence, by design
        sys.stderr.write(f"vc-im: internal error ({type(exc).__name__}); please report it.\n")
        raise SystemExit(2) from None


def vcdm11_generator_main() -> None:
    """Entry point of ``vc-im-vcdm11-generator``: ``vc-im conformance vcdm11-generator ARGS``,
    under one name that the VC Data Model 1.1 test suite's configuration can hold."""
    sys.argv[1:1] = ["conformance", "vcdm11-generator"]
    main()


__all__ = ["app", "main", "vcdm11_generator_main"]
