"""The test vectors in tests/vectors: public ones (sources and licences in its README.md) and
vc_im's own cases. Every test reads its data from here, never from outside the repository,
and a missing vector fails the test that needs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: tests/vectors.
VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def vector_path(*parts: str) -> Path:
    """The path of ``tests/vectors/PARTS``, which must exist."""
    path = VECTORS.joinpath(*parts)
    assert path.is_file(), (f"the test vector {path} is missing; tests/vectors/README.md "
                            "says where each one comes from")
    return path


def vector_text(*parts: str) -> str:
    """A vector file's text (UTF-8)."""
    return vector_path(*parts).read_text(encoding="utf-8")


def vector_json(*parts: str) -> Any:
    """A vector file parsed as JSON."""
    return json.loads(vector_text(*parts))
