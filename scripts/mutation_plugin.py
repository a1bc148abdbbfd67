"""A pytest plugin that switches off one check of vc_im's verifier, for mutation testing.

Load it with ``-p mutation_plugin`` (``scripts/`` on ``PYTHONPATH``) and name the check in
``VC_IM_DISABLE_CHECK=KIND:NAME``, KIND being ``credential``, ``presentation``, ``dpop`` or
``content`` (the issuer's content checks). The plugin replaces that one step of the step
table, found BY NAME in the table the ``vc_im._checks`` facade exports, with a step that
always passes, and puts the new table in place of every module attribute in vc_im that is
the very same tuple object, so it works whatever module the tables move to. Without the
variable it does nothing. It needs no conftest: the suite itself is left as it is.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from typing import Any

import pytest

#: KIND -> the name of the table the facade exports.
TABLES = {"credential": "CREDENTIAL_STEPS", "presentation": "PRESENTATION_STEPS",
          "dpop": "DPOP_STEPS", "content": "CONTENT_STEPS"}


def _always_passes(state: Any) -> str:
    """The mutant: a check that checks nothing."""
    return "switched off for mutation testing"


def _import_everything() -> None:
    """Import every vc_im module, so each one that holds a table is patched."""
    import vc_im

    for info in pkgutil.walk_packages(vc_im.__path__, "vc_im."):
        if not info.name.endswith("__main__"):  # that one runs the CLI
            importlib.import_module(info.name)


def disable(spec: str) -> int:
    """Switch off the check ``spec`` (KIND:NAME); return how many attributes were patched."""
    kind, _, name = spec.partition(":")
    if kind not in TABLES:
        raise pytest.UsageError(f"VC_IM_DISABLE_CHECK: unknown kind {kind!r}; "
                                f"one of {', '.join(TABLES)}")
    _import_everything()
    facade = importlib.import_module("vc_im._checks")
    table = getattr(facade, TABLES[kind])
    names = [step_name for step_name, _ in table]
    if name not in names:
        raise pytest.UsageError(f"VC_IM_DISABLE_CHECK: {TABLES[kind]} has no check {name!r}; "
                                f"it has {', '.join(names)}")
    mutant = tuple((step_name, _always_passes if step_name == name else step)
                   for step_name, step in table)
    patched = 0
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith("vc_im"):
            continue
        for attribute, value in list(vars(module).items()):
            if value is table:
                setattr(module, attribute, mutant)
                patched += 1
    return patched


def pytest_configure(config: pytest.Config) -> None:
    """Apply the mutation named in the environment before any test module is imported."""
    spec = os.environ.get("VC_IM_DISABLE_CHECK")
    if spec:
        config.stash[_PATCHED] = (spec, disable(spec))


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say which check is off, and in how many places its table was replaced."""
    found = config.stash.get(_PATCHED, None)
    if found is None:
        return None
    spec, patched = found
    return f"vc_im mutation: {spec} switched off ({patched} table references replaced)"


_PATCHED = pytest.StashKey[tuple[str, int]]()
