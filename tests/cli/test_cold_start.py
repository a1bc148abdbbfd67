"""Cold start: ``vc-im verify`` of one presentation imports only what that path needs,
counted with ``python -X importtime`` in a real process (a bound on the module count, and
the modules that belong to other paths)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import NOW, VERIFIER
from tests.helpers.cli import TIMEOUT, process_env, vc_im_command
from vc_im import keys
from vc_im.presentations import create_presentation

pytestmark = pytest.mark.slow

#: Modules ``vc-im verify`` of one presentation may import (measured: 334 with Python 3.11,
#: most of them pyld's, cryptography's and the standard library's; 578 before the fast path).
#: A new import that pulls in a package grows this by dozens; raise the bound only for a
#: module the path really needs.
MAX_MODULES = 360
#: What other commands need, never a single verification: the service, network stores, the
#: batch machinery and its progress bar, X.509, the web of trust, the linter; typer (and its
#: pydantic), which the fast path of verify bypasses; jsonschema and referencing, which only
#: write the reasons of a refusal; joserfc, which an Ed25519 signature does not need.
ELSEWHERE = ("fastapi", "uvicorn", "httpx", "psycopg", "redis", "rich", "multiprocessing",
             "typer", "click", "pydantic", "pydantic_core", "jsonschema", "referencing",
             "joserfc", "vc_im.batch", "vc_im.cli.batch", "vc_im.service", "vc_im.trust.x509",
             "vc_im.trust.wot", "vc_im.lint", "vc_im.replay.postgres", "vc_im.replay.redis",
             "vc_im.cli.credentials", "vc_im.cli.access_tokens", "vc_im._checks.dpop",
             "vc_im._checks.access_token")


def test_verify_one_presentation_imports_a_bounded_set(
        tmp_path: Path, make_credential: Callable[..., str], device_key: keys.Key,
        trust_file: Path) -> None:
    """A valid presentation verified by a fresh process: every check ran (the JSON-LD and
    compiled schema libraries loaded), under MAX_MODULES modules, none of ELSEWHERE."""
    token = create_presentation(device_key, [make_credential()], audience=VERIFIER,
                                nonce="n-cold", now=NOW, valid_for=300)
    (tmp_path / "vp.jwt").write_text(token)
    argv = [*vc_im_command(), "verify", "--trust", str(trust_file), "--audience", VERIFIER,
            "--nonce", "n-cold", "--now", str(NOW + 5), "--store", "replay.db", "--json",
            "vp.jwt"]
    result = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], cwd=tmp_path,
                            env=process_env(tmp_path), capture_output=True, text=True,
                            timeout=TIMEOUT, check=False)
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["ok"] is True
    modules = [line.split("|")[-1].strip() for line in result.stderr.splitlines()
               if line.startswith("import time:") and "imported package" not in line]
    assert "pyld.jsonld" in modules
    assert "jsonschema_rs" in modules
    assert len(modules) <= MAX_MODULES, len(modules)
    assert [m for m in modules if m.split(".")[0] in ELSEWHERE or m in ELSEWHERE] == []
