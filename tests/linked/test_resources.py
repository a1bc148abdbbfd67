"""vc_im._linked.resources: the contexts/ and schemas/ directories, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

import vc_im
import vc_im._linked.resources as resources
from vc_im._linked.resources import contexts_dir, schemas_dir
from vc_im.errors import VcImError

PACKAGE = Path(vc_im.__file__).resolve().parent


def make_tree(root: Path, *dirs: str, pyproject: bool = False) -> Path:
    """A fake installation or checkout under ``root``; returns the package directory."""
    package = root / "vc_im"
    package.mkdir(parents=True)
    for name in dirs:
        (root / name).mkdir(parents=True)
    if pyproject:
        (root / "pyproject.toml").write_text('[project]\nname = "vc-im"\n')
    return package


def test_directories_found_for_this_package() -> None:
    """This package finds directories that hold the shipped files (installed or checkout)."""
    for found, name in ((contexts_dir(), "contexts"), (schemas_dir(), "schemas")):
        installed = PACKAGE / "_data" / name
        expected = installed if installed.is_dir() else PACKAGE.parent / name
        assert found == expected
    assert (contexts_dir() / "vc-im-v1.jsonld").is_file()
    assert (schemas_dir() / "credential-vc1.schema.json").is_file()


def test_directories_are_cached() -> None:
    """The lookup runs once per process."""
    assert contexts_dir() is contexts_dir()
    assert schemas_dir() is schemas_dir()


def test_installed_copy_wins(tmp_path: Path) -> None:
    """vc_im/_data/<name> is used when present, even inside a checkout."""
    package = make_tree(tmp_path, "vc_im/_data/contexts", "contexts", pyproject=True)
    assert resources._locate("contexts", package) == package / "_data" / "contexts"


def test_checkout_fallback(tmp_path: Path) -> None:
    """Without _data, a checkout (pyproject.toml beside the package) uses its own directory."""
    package = make_tree(tmp_path, "schemas", pyproject=True)
    assert resources._locate("schemas", package) == tmp_path / "schemas"


def test_stray_top_level_directory_is_not_used(tmp_path: Path) -> None:
    """A contexts/ beside an installed package (site-packages, no pyproject) is not taken."""
    package = make_tree(tmp_path, "contexts")
    with pytest.raises(VcImError) as info:
        resources._locate("contexts", package)
    assert info.value.code == "broken_install"


def test_missing_directories_raise_a_clear_error(tmp_path: Path) -> None:
    """Neither location present: one sentence naming both places."""
    package = make_tree(tmp_path, pyproject=True)
    with pytest.raises(VcImError) as info:
        resources._locate("schemas", package)
    assert (info.value.code, info.value.message) == (
        "broken_install",
        f"vc_im cannot find its schemas/ directory (looked in {package / '_data' / 'schemas'} "
        f"and {tmp_path / 'schemas'}); reinstall the package",
    )
