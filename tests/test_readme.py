"""README.md's examples are true: every block marked ``<!-- readme-test: NAME -->`` runs,
in order, in one empty directory, as a user would paste it into bash."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import process_env

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"<!-- readme-test: (?P<name>[\w-]+) -->\n```sh\n(?P<code>.*?)```", re.S)


def blocks() -> list[tuple[str, str]]:
    """The runnable blocks of README.md, in order."""
    return [(m["name"], m["code"]) for m in BLOCK.finditer(README.read_text(encoding="utf-8"))]


def test_readme_has_the_examples_the_docs_promise() -> None:
    """The flow, one worked example per trust model, the certificate cascade, the
    access-token flow, the credential profiles and a W3C presentation are marked runnable."""
    assert [name for name, _ in blocks()] == ["flow", "central", "cascade", "x509",
                                              "x509-cascade", "wot", "wellknown", "status",
                                              "token", "profiles", "w3c",
                                              "w3c-presentation"]


def test_readme_examples_run(tmp_path: Path) -> None:
    """Each block exits 0 with nothing unexpected on stderr, and verifications print valid."""
    # vc-im's clean environment, with this Python's scripts (vc-im itself) first on PATH.
    env = process_env(tmp_path, {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"})
    bash = shutil.which("bash")
    assert bash is not None
    for name, code in blocks():
        result = subprocess.run([bash, "-euo", "pipefail", "-c", code], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=120,
                                check=False)
        assert result.returncode == 0, f"{name}: {result.stderr}{result.stdout[-2000:]}"
        assert "Traceback" not in result.stderr + result.stdout, name
        # An example that shows a refusal prints that refusal's one sentence, nothing else.
        unexpected = [line for line in result.stderr.splitlines()
                      if not line.startswith("vc-im: invalid (")]
        assert unexpected == [], f"{name}: {result.stderr}"
        assert "\nvalid\n" in f"\n{result.stdout}", f"{name}: {result.stdout[-2000:]}"


def test_readme_python_example_runs() -> None:
    """The README's Python example runs as written (its own assert checks the report)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    exec(compile(blocks[0], "README.md", "exec"), {})  # noqa: S102  (the README's own code)
