"""The ``vc-im`` command line: a thin layer over the library.

Each command module registers its commands on the shared typer app and
imports the library modules it needs inside the command, so that ``vc-im
--help`` stays fast.
"""

from __future__ import annotations

from vc_im.cli import (  # noqa: F401  (each module registers its commands)
    credentials,
    demo,
    presentations,
    replay,
    statements,
    uri,
    x509,
)
from vc_im.cli._app import app


def main() -> None:
    """Entry point of the ``vc-im`` console script."""
    app()


__all__ = ["app", "main"]
