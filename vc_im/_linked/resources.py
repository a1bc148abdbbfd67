"""Where the JSON-LD contexts and JSON Schemas that vc_im reads live.

Both directories sit at the top of the repository (``contexts/``, ``schemas/``)
so that they can be reviewed as data. A built wheel carries copies inside the
package, at ``vc_im/_data/contexts`` and ``vc_im/_data/schemas`` (hatch's
``force-include`` in ``pyproject.toml``); those win whenever they exist. A
source checkout or an editable install has no ``_data`` and falls back to the
repository's own directories, recognised by the ``pyproject.toml`` beside the
package, so that an unrelated top-level ``contexts/`` in ``site-packages`` is
never picked up by mistake.

Nothing here reads a file: callers open what they need, and the JSON-LD module
checks every context against a pinned SHA-256 before using it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from vc_im.errors import VcImError

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def _locate(name: str, package_dir: Path = _PACKAGE_DIR) -> Path:
    """Return the installed copy of data directory ``name``, else the checkout's."""
    installed = package_dir / "_data" / name
    if installed.is_dir():
        return installed
    checkout = package_dir.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / name).is_dir():
        return checkout / name
    raise VcImError(
        f"vc_im cannot find its {name}/ directory (looked in {installed} and {checkout / name}); "
        "reinstall the package",
        code="broken_install",
    )


@cache
def contexts_dir() -> Path:
    """The directory holding the JSON-LD context files (``*.jsonld``)."""
    return _locate("contexts")


@cache
def schemas_dir() -> Path:
    """The directory holding the JSON Schema files (``*.schema.json``)."""
    return _locate("schemas")
