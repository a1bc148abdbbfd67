"""The import graph keeps its promises: a light CLI start-up, a library that never imports the
CLI stack, and an identifier module that depends on nothing else in the package."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("joserfc", "pyld", "jsonschema", "referencing", "cryptography", "sqlite3")


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    program = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            check=True, timeout=60)
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_help_loads_no_cryptography_jsonld_or_schema_library() -> None:
    """``vc-im --help`` parses no key, context or schema: none of those libraries load."""
    loaded = modules_after("import sys\nsys.argv = ['vc-im', '--help']\n"
                           "from vc_im.cli import main\ntry:\n    main()\n"
                           "except SystemExit:\n    pass")
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY) == []


def test_identifiers_depend_on_nothing_else_in_the_package() -> None:
    """Importing vc_im.identifiers loads no other vc_im module."""
    loaded = modules_after("import vc_im.identifiers")
    assert sorted(m for m in loaded if m.startswith("vc_im")) == ["vc_im", "vc_im.identifiers"]


@pytest.mark.parametrize("module", ["vc_im._checks.credential", "vc_im.verify",
                                    "vc_im.presentations", "vc_im.dpop", "vc_im.credentials",
                                    "vc_im.trust",
                                    "vc_im.trust.statements", "vc_im.trust.x509", "vc_im.replay"])
def test_library_never_imports_the_cli(module: str) -> None:
    """Library modules load neither vc_im.cli nor typer."""
    loaded = modules_after(f"import {module}")
    assert sorted(m for m in loaded if m.startswith(("vc_im.cli", "typer", "click"))) == []


def test_importing_the_verifier_defers_what_a_check_may_not_need() -> None:
    """Importing the credential checks loads no JSON-LD processor, schema, X.509 or SQLite
    layer: each loads when a check first needs it."""
    loaded = modules_after("import vc_im._checks.credential")
    deferred = ("pyld", "jsonschema", "sqlite3", "vc_im.trust.x509",
                "vc_im.replay", "vc_im.trust.wot", "vc_im.trust.wellknown")
    assert sorted(m for m in loaded if m.startswith(deferred)) == []
