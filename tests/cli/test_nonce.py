"""``vc-im nonce`` end to end: a real process, a real store, the documented exit codes."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from tests.helpers.cli import run_process
from vc_im.replay import ReplayOutcome, ReplayStore

T0 = 1_700_000_000
NONCE = re.compile(r"\A[A-Za-z0-9_-]{43}\n\Z")


def consume(path: Path, nonce: str, now: int, jti: str = "jti-1") -> ReplayOutcome:
    """Consume ``nonce`` in the store at ``path`` as a presentation would."""
    with ReplayStore.open(path) as store:
        return store.consume_presentation(nonce=nonce, issuer="im:a/1@example.com", jti=jti,
                                          now=now, expires_at=now + 300)


def test_nonce_prints_a_256_bit_base64url_nonce(tmp_path: Path) -> None:
    """It prints only a 43-character base64url nonce (32 bytes), exits 0 and writes no stderr."""
    result = run_process("nonce", "--store", str(tmp_path / "x.sqlite3"), cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert NONCE.match(result.stdout)
    assert len(base64.urlsafe_b64decode(result.stdout.strip() + "=")) == 32


def test_nonces_differ_between_runs(tmp_path: Path) -> None:
    """Two runs print two different nonces."""
    path = str(tmp_path / "x.sqlite3")
    first = run_process("nonce", "--store", path, cwd=tmp_path)
    assert first.stdout != run_process("nonce", "--store", path, cwd=tmp_path).stdout


def test_nonce_is_recorded_with_its_ttl(tmp_path: Path) -> None:
    """With --now and --ttl the nonce is usable until now + ttl - 1 and expired at now + ttl."""
    path = tmp_path / "x.sqlite3"
    first = run_process("nonce", "--ttl", "10m", "--now", str(T0), "--store", str(path),
                        cwd=tmp_path)
    second = run_process("nonce", "--ttl", "10m", "--now", "2023-11-14T22:13:20Z", "--store",
                         str(path), cwd=tmp_path)
    assert (first.returncode, second.returncode) == (0, 0)
    assert consume(path, first.stdout.strip(), T0 + 599) == ReplayOutcome.ACCEPTED
    assert consume(path, first.stdout.strip(), T0 + 599, "jti-2") == ReplayOutcome.REPLAY
    assert consume(path, second.stdout.strip(), T0 + 600, "jti-3") == ReplayOutcome.NONCE_EXPIRED


def test_default_ttl_is_300_seconds(tmp_path: Path) -> None:
    """Without --ttl the nonce expires 300 s after --now."""
    path = tmp_path / "x.sqlite3"
    result = run_process("nonce", "--now", str(T0), "--store", str(path), cwd=tmp_path)
    assert consume(path, result.stdout.strip(), T0 + 300) == ReplayOutcome.NONCE_EXPIRED


def test_simulated_now_purges_nothing(tmp_path: Path) -> None:
    """A far-future --now leaves live rows alone; the real clock purges rows long expired."""
    path = tmp_path / "x.sqlite3"
    assert consume(path, "caller-nonce", T0) == ReplayOutcome.ACCEPTED
    assert run_process("nonce", "--now", "2100-01-01T00:00:00Z", "--store", str(path),
                       cwd=tmp_path).returncode == 0
    assert consume(path, "caller-nonce", T0 + 1, "jti-2") == ReplayOutcome.REPLAY
    assert run_process("nonce", "--store", str(path), cwd=tmp_path).returncode == 0
    assert consume(path, "caller-nonce", T0 + 1, "jti-3") == ReplayOutcome.ACCEPTED


def test_bad_ttl_exits_2_with_one_sentence(tmp_path: Path) -> None:
    """An unparsable --ttl exits 2 with one sentence on stderr and nothing on stdout."""
    result = run_process("nonce", "--ttl", "5x", "--store", str(tmp_path / "x.sqlite3"),
                         cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("vc-im: '5x' is not a duration; write a number and a unit, like "
                             "90d, 12h, 30m or 3600s.\n")
    assert not (tmp_path / "x.sqlite3").exists()


def test_zero_ttl_exits_2(tmp_path: Path) -> None:
    """A zero --ttl exits 2 with one sentence."""
    result = run_process("nonce", "--ttl", "0s", "--store", str(tmp_path / "x.sqlite3"),
                         cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "vc-im: the duration '0s' must be positive.\n"


def test_bad_now_exits_2(tmp_path: Path) -> None:
    """An unparsable --now exits 2 with one sentence."""
    result = run_process("nonce", "--now", "yesterday", "--store", str(tmp_path / "x.sqlite3"),
                         cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("vc-im: 'yesterday' is not a time;")
    assert result.stderr.count("\n") == 1


def test_directory_store_exits_2_without_traceback(tmp_path: Path) -> None:
    """A directory as --store exits 2 with one sentence naming it."""
    result = run_process("nonce", "--store", str(tmp_path), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"vc-im: cannot use the replay store {tmp_path}: is a directory.\n"


def test_non_database_store_exits_2_without_traceback(tmp_path: Path) -> None:
    """A file that is not a database as --store exits 2 with one sentence naming it."""
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just some notes that are long enough\n" * 50)
    result = run_process("nonce", "--store", str(path), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"vc-im: cannot use the replay store {path}: file is not a database.\n"


def test_default_store_honours_xdg_state_home(tmp_path: Path) -> None:
    """Without --store the nonce goes to $XDG_STATE_HOME/vc-im/replay.sqlite3, mode 0600."""
    result = run_process("nonce", "--now", str(T0), cwd=tmp_path,
                         env={"XDG_STATE_HOME": str(tmp_path / "st")})
    assert (result.returncode, result.stderr) == (0, "")
    path = tmp_path / "st" / "vc-im" / "replay.sqlite3"
    assert path.stat().st_mode & 0o777 == 0o600
    assert consume(path, result.stdout.strip(), T0 + 300) == ReplayOutcome.NONCE_EXPIRED


def test_default_store_falls_back_to_home(tmp_path: Path) -> None:
    """Without XDG_STATE_HOME the store is $HOME/.local/state/vc-im/replay.sqlite3."""
    result = run_process("nonce", cwd=tmp_path,
                         env={"XDG_STATE_HOME": None, "HOME": str(tmp_path)})
    assert (result.returncode, result.stderr) == (0, "")
    assert (tmp_path / ".local" / "state" / "vc-im" / "replay.sqlite3").is_file()
