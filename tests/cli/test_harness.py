"""tests.helpers.cli keeps a real vc-im process inside the test's own directory, whatever the
environment of the test run says."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import INHERITED, process_env, run_process


@pytest.mark.slow
def test_a_process_keeps_its_default_store_in_its_own_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test run's XDG_STATE_HOME and HOME do not reach the process: ``vc-im nonce``
    without --store writes its default store under the process's directory and nowhere else."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "user-state"))
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    work = tmp_path / "work"
    work.mkdir()
    result = run_process("nonce", cwd=work)
    assert (result.returncode, result.stderr) == (0, "")
    assert (work / "state" / "vc-im" / "replay.sqlite3").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["work"]


def test_the_environment_is_built_not_inherited(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Only PATH (and Windows' SYSTEMROOT) come from the test run; home, state and temporary
    directories are inside the process's directory; overrides add or remove variables."""
    monkeypatch.setenv("VC_IM_LEAK", "1")
    env = process_env(tmp_path, {"EXTRA": "1", "HOME": None})
    assert "VC_IM_LEAK" not in env
    assert set(env) - {"EXTRA"} <= {*INHERITED, "XDG_STATE_HOME", "TMPDIR", "PYTHONPATH",
                                    "PYTHONDONTWRITEBYTECODE", "NO_COLOR", "TERM", "COLUMNS"}
    assert (env["EXTRA"], "HOME" in env) == ("1", False)
    assert (env["XDG_STATE_HOME"], env["TMPDIR"]) == (str(tmp_path / "state"), str(tmp_path))
    assert process_env(tmp_path)["HOME"] == str(tmp_path / "home")
