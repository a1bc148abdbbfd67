"""tests/vectors: every file in it is listed where its source is recorded, and every file the
READMEs list is there."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from tests.helpers.vectors import VECTORS, vector_text


def listed_in(readme: str) -> set[str]:
    """The paths (relative to tests/vectors) in the first column of ``readme``'s tables: what
    each row describes. A path ending in ``/`` stands for its whole directory."""
    base = PurePosixPath(readme).parent
    listed: set[str] = set()
    for line in vector_text(readme).splitlines():
        cells = line.split("|")
        if len(cells) > 2 and not set(cells[1].strip()) <= set("-: "):
            for name in re.findall(r"`([^`]+)`", cells[1]):
                listed.add(str(base / name) + ("/" if name.endswith("/") else ""))
    return listed


def all_listed() -> set[str]:
    """What tests/vectors/README.md and the directory READMEs list."""
    return listed_in("README.md") | listed_in("credentials/README.md")


def test_every_vector_file_is_listed_with_its_source() -> None:
    """Each file is a row (source, licence or description) of tests/vectors/README.md or of
    its directory's README.md, or lies in a directory listed as a whole."""
    listed = all_listed()
    unlisted = []
    for path in sorted(VECTORS.rglob("*")):
        relative = path.relative_to(VECTORS).as_posix()
        if path.is_file() and path.name != "README.md" and relative not in listed and not any(
                relative.startswith(name) for name in listed if name.endswith("/")):
            unlisted.append(relative)
    assert unlisted == []


def test_every_listed_vector_is_there() -> None:
    """No README lists a vector file or directory that is missing."""
    missing = sorted(name for name in all_listed() if not (VECTORS / name).exists())
    assert missing == []
