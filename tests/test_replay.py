"""The replay store: nonces, presentation and DPoP replay, concurrency and crash safety."""

from __future__ import annotations

import base64
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vc_im.errors import InputError
from vc_im.replay import (
    DEFAULT_NONCE_TTL,
    ISSUED_NONCE_RETENTION,
    ReplayOutcome,
    ReplayStore,
    ReplayStoreError,
    default_store_path,
    replay_key,
)

T0 = 1_700_000_000
ISSUER = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
HTU = "https://im.example.com/client/token"
BASE64URL_43 = re.compile(r"\A[A-Za-z0-9_-]{43}\Z")

ACCEPTED = ReplayOutcome.ACCEPTED
REPLAY = ReplayOutcome.REPLAY
NONCE_EXPIRED = ReplayOutcome.NONCE_EXPIRED


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ReplayStore]:
    with ReplayStore.open(tmp_path / "replay.sqlite3") as opened:
        yield opened


def present(store: ReplayStore, nonce: str, jti: str, now: int, *, issuer: str = ISSUER,
            expires_at: int | None = None) -> ReplayOutcome:
    """Consume a presentation that expires 300 s after ``now`` unless told otherwise."""
    return store.consume_presentation(nonce=nonce, issuer=issuer, jti=jti, now=now,
                                      expires_at=now + 300 if expires_at is None else expires_at)


# --- nonces ---------------------------------------------------------------------------------


def test_issued_nonce_is_256_bit_base64url_and_fresh(store: ReplayStore) -> None:
    """An issued nonce is 43 base64url characters without padding (32 bytes), never repeated."""
    nonces = [store.issue_nonce(now=T0) for _ in range(50)]
    for nonce in nonces:
        assert BASE64URL_43.match(nonce)
        assert len(base64.urlsafe_b64decode(nonce + "=")) == 32
    assert len(set(nonces)) == 50


def test_issued_nonce_is_single_use(store: ReplayStore) -> None:
    """An issued nonce is accepted once; a second presentation carrying it is a replay."""
    nonce = store.issue_nonce(now=T0)
    assert present(store, nonce, "jti-1", T0 + 1) == ACCEPTED
    assert present(store, nonce, "jti-2", T0 + 2) == REPLAY


def test_issued_nonce_expires_at_its_ttl(store: ReplayStore) -> None:
    """An issued nonce is usable until now + ttl - 1 and expired from now + ttl on."""
    early = store.issue_nonce(now=T0, ttl=60)
    late = store.issue_nonce(now=T0, ttl=60)
    assert present(store, early, "jti-early", T0 + 59) == ACCEPTED
    assert present(store, late, "jti-late", T0 + 60) == NONCE_EXPIRED


def test_default_ttl_is_300_seconds(store: ReplayStore) -> None:
    """Without ``ttl`` an issued nonce lasts DEFAULT_NONCE_TTL = 300 s."""
    assert DEFAULT_NONCE_TTL == 300
    nonce = store.issue_nonce(now=T0)
    assert present(store, nonce, "jti-1", T0 + 300) == NONCE_EXPIRED
    assert present(store, nonce, "jti-2", T0 + 299) == ACCEPTED


def test_expired_nonce_records_nothing(store: ReplayStore) -> None:
    """A NONCE_EXPIRED outcome records neither the nonce nor the (iss, jti) pair."""
    nonce = store.issue_nonce(now=T0, ttl=10)
    assert present(store, nonce, "jti-1", T0 + 10) == NONCE_EXPIRED
    assert present(store, nonce, "jti-1", T0 + 11) == NONCE_EXPIRED
    fresh = store.issue_nonce(now=T0 + 11)
    assert present(store, fresh, "jti-1", T0 + 12) == ACCEPTED


def test_expired_nonce_stays_expired_after_purge(store: ReplayStore) -> None:
    """Purging keeps an issued nonce's tombstone, so it does not turn into a caller-chosen nonce."""
    nonce = store.issue_nonce(now=T0, ttl=10)
    assert store.purge(now=T0 + 1000) == 0
    assert present(store, nonce, "jti-1", T0 + 1000) == NONCE_EXPIRED


def test_expired_nonce_stays_expired_after_its_row_is_purged(store: ReplayStore) -> None:
    """An issued nonce carries the store's MAC: after its row is purged it is still known as
    this store's own and still expired, never taken for a caller-chosen nonce."""
    nonce = store.issue_nonce(now=T0, ttl=10)
    end = T0 + 10 + ISSUED_NONCE_RETENTION
    assert present(store, nonce, "jti-1", end - 1) == NONCE_EXPIRED
    assert store.purge(now=end) == 1
    assert present(store, nonce, "jti-1", end) == NONCE_EXPIRED
    assert present(store, nonce, "jti-2", end + 10 * ISSUED_NONCE_RETENTION) == NONCE_EXPIRED


def test_replay_wins_over_expiry(store: ReplayStore) -> None:
    """The same presentation verified again after the nonce's TTL is a replay, not expired."""
    nonce = store.issue_nonce(now=T0, ttl=30)
    assert present(store, nonce, "jti-1", T0 + 20, expires_at=T0 + 400) == ACCEPTED
    assert present(store, nonce, "jti-1", T0 + 100, expires_at=T0 + 400) == REPLAY


def test_consumed_issued_nonce_kept_until_presentation_expires(store: ReplayStore) -> None:
    """A consumed issued nonce is a replay until the later of its retention and the token's
    end; after that it is an expired nonce of this store's, never usable again."""
    nonce = store.issue_nonce(now=T0, ttl=10)
    far = T0 + 10 + ISSUED_NONCE_RETENTION + 500
    assert present(store, nonce, "jti-1", T0 + 5, expires_at=far) == ACCEPTED
    assert present(store, nonce, "jti-2", far - 1) == REPLAY
    assert present(store, nonce, "jti-3", far) == NONCE_EXPIRED


def test_caller_chosen_nonce_is_single_use_until_expiry(store: ReplayStore) -> None:
    """A nonce the store never issued is accepted once, a replay until expires_at, then free."""
    assert present(store, "n-0S6_WzA2Mj", "jti-1", T0, expires_at=T0 + 300) == ACCEPTED
    assert present(store, "n-0S6_WzA2Mj", "jti-2", T0 + 299) == REPLAY
    assert present(store, "n-0S6_WzA2Mj", "jti-3", T0 + 300) == ACCEPTED


def test_nonce_ttl_must_be_positive(store: ReplayStore) -> None:
    """A zero TTL is refused with InputError and its exact sentence."""
    with pytest.raises(InputError) as caught:
        store.issue_nonce(now=T0, ttl=0)
    assert caught.value.message == "the nonce TTL must be a positive number of seconds, not 0."
    assert caught.value.code == "bad_input"


# --- presentations and DPoP -----------------------------------------------------------------


def test_issuer_jti_replay_with_a_different_nonce(store: ReplayStore) -> None:
    """A seen (iss, jti) under a fresh nonce is a replay, and that nonce stays unconsumed."""
    assert present(store, store.issue_nonce(now=T0), "jti-1", T0) == ACCEPTED
    fresh = store.issue_nonce(now=T0)
    assert present(store, fresh, "jti-1", T0 + 1) == REPLAY
    assert present(store, fresh, "jti-2", T0 + 2) == ACCEPTED


def test_same_jti_from_another_issuer_is_accepted(store: ReplayStore) -> None:
    """jti values are scoped by issuer: one jti from two holders is two presentations."""
    assert present(store, "nonce-a", "jti-1", T0, issuer="im:a/1@example.com") == ACCEPTED
    assert present(store, "nonce-b", "jti-1", T0, issuer="im:a/2@example.com") == ACCEPTED


def test_seen_pair_reusable_only_after_expiry(store: ReplayStore) -> None:
    """An (iss, jti) pair is a replay while now < expires_at and free from expires_at on."""
    assert present(store, "n1", "jti-1", T0, expires_at=T0 + 100) == ACCEPTED
    assert present(store, "n2", "jti-1", T0 + 99) == REPLAY
    assert present(store, "n3", "jti-1", T0 + 100) == ACCEPTED


def test_fields_cannot_blur_into_each_other(store: ReplayStore) -> None:
    """("ab", "c") and ("a", "bc") are different keys, as are a presentation and a DPoP jti."""
    assert present(store, "n1", "c", T0, issuer="ab") == ACCEPTED
    assert present(store, "n2", "bc", T0, issuer="a") == ACCEPTED
    assert store.consume_dpop(htu="ab", jti="c", nonce=None, now=T0, expires_at=T0 + 60) == ACCEPTED


def test_lone_surrogates_hash_instead_of_crashing(store: ReplayStore) -> None:
    """Strings JSON can carry (lone surrogates) are valid keys and replay-checked like others."""
    assert present(store, "\ud800", "\udfff", T0, issuer="\ud83d") == ACCEPTED
    assert present(store, "other", "\udfff", T0, issuer="\ud83d") == REPLAY


def test_dpop_jti_single_use_per_htu(store: ReplayStore) -> None:
    """A DPoP jti is accepted once per htu and again for another htu (RFC 9449 §11.1)."""
    def dpop(htu: str, now: int) -> ReplayOutcome:
        return store.consume_dpop(htu=htu, jti="-BwC3ESc6acc2lTc", nonce=None, now=now,
                                  expires_at=now + 360)
    assert dpop(HTU, T0) == ACCEPTED
    assert dpop(HTU, T0 + 1) == REPLAY
    assert dpop("https://im.example.com/other", T0 + 2) == ACCEPTED
    assert dpop(HTU, T0 + 360) == ACCEPTED


def test_dpop_nonce_is_consumed_like_a_presentation_nonce(store: ReplayStore) -> None:
    """An issued nonce used by a DPoP proof is spent for presentations too, and expires alike."""
    nonce = store.issue_nonce(now=T0, ttl=60)
    assert store.consume_dpop(htu=HTU, jti="j1", nonce=nonce, now=T0, expires_at=T0 + 60) == (
        ACCEPTED)
    assert store.consume_dpop(htu=HTU, jti="j2", nonce=nonce, now=T0, expires_at=T0 + 60) == (
        REPLAY)
    assert present(store, nonce, "jti-1", T0 + 1) == REPLAY
    expired = store.issue_nonce(now=T0, ttl=60)
    assert store.consume_dpop(htu=HTU, jti="j3", nonce=expired, now=T0 + 60,
                              expires_at=T0 + 120) == NONCE_EXPIRED


def test_expires_at_must_be_after_now(store: ReplayStore) -> None:
    """An entry that would already be expired is refused, since it could never stop a replay."""
    with pytest.raises(InputError) as caught:
        present(store, "n1", "jti-1", T0, expires_at=T0)
    assert caught.value.message == (
        "a replay entry must be kept until after now; pass the token's exp plus the leeway.")


# --- purge and persistence ------------------------------------------------------------------


def test_purge_counts_exactly_what_expired(store: ReplayStore) -> None:
    """purge drops only rows whose keep_until has passed and returns their number."""
    assert present(store, "n1", "jti-1", T0, expires_at=T0 + 100) == ACCEPTED  # 2 rows
    assert store.consume_dpop(htu=HTU, jti="j", nonce=None, now=T0, expires_at=T0 + 200) == ACCEPTED
    assert store.purge(now=T0 + 99) == 0
    assert store.purge(now=T0 + 100) == 2
    assert store.purge(now=T0 + 200) == 1
    assert store.purge(now=T0 + 200) == 0


def test_issue_nonce_purges_unless_told_not_to(store: ReplayStore) -> None:
    """issue_nonce purges with its now by default; purge=False leaves every row in place."""
    assert present(store, "n1", "jti-1", T0, expires_at=T0 + 100) == ACCEPTED
    store.issue_nonce(now=T0 + 500, purge=False)
    assert store.purge(now=T0 + 100) == 2
    assert present(store, "n2", "jti-2", T0, expires_at=T0 + 100) == ACCEPTED
    store.issue_nonce(now=T0 + 500)
    assert store.purge(now=T0 + 100) == 0


def test_state_survives_reopening(tmp_path: Path) -> None:
    """What one opening recorded, the next opening of the same file still knows."""
    path = tmp_path / "replay.sqlite3"
    with ReplayStore.open(path) as first:
        nonce = first.issue_nonce(now=T0)
        assert present(first, nonce, "jti-1", T0) == ACCEPTED
    with ReplayStore.open(path) as second:
        assert present(second, nonce, "jti-2", T0 + 1) == REPLAY
        assert present(second, "other", "jti-1", T0 + 1) == REPLAY


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=4), max_size=3), st.lists(st.text(max_size=4), max_size=3))
def test_replay_key_is_injective(left: list[str], right: list[str]) -> None:
    """Two field tuples share a replay key exactly when they are equal."""
    assert (replay_key("presentation", *left) == replay_key("presentation", *right)) == (
        left == right)


# --- the file -------------------------------------------------------------------------------


def test_store_file_is_private_wal_database(tmp_path: Path) -> None:
    """open creates missing directories 0700 and the file 0600, in WAL mode with the schema."""
    old_umask = os.umask(0o022)
    try:
        path = tmp_path / "a" / "b" / "replay.sqlite3"
        with ReplayStore.open(path) as opened:
            opened.issue_nonce(now=T0)
    finally:
        os.umask(old_umask)
    assert (path.parent.parent.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777) == (
        0o700, 0o700)
    assert path.stat().st_mode & 0o777 == 0o600
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        assert tables.fetchall() == [("nonce",), ("secret",), ("seen",)]
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)
    finally:
        conn.close()


def test_directory_is_not_a_store(tmp_path: Path) -> None:
    """A directory given as the store fails with one sentence naming it."""
    with pytest.raises(ReplayStoreError) as caught:
        ReplayStore.open(tmp_path)
    assert caught.value.message == f"cannot use the replay store {tmp_path}: is a directory."
    assert (caught.value.code, caught.value.exit_code) == ("replay_store", 2)


def test_text_file_is_not_a_store(tmp_path: Path) -> None:
    """A file that is not an SQLite database fails with one sentence and is left unchanged."""
    path = tmp_path / "notes.txt"
    path.write_text("these are not the rows you are looking for\n" * 100)
    with pytest.raises(ReplayStoreError) as caught:
        ReplayStore.open(path)
    assert caught.value.message == f"cannot use the replay store {path}: file is not a database."
    assert path.read_text() == "these are not the rows you are looking for\n" * 100


def test_store_under_a_file_fails(tmp_path: Path) -> None:
    """A store path whose parent is a regular file fails with one sentence."""
    (tmp_path / "plain").write_text("x")
    path = tmp_path / "plain" / "replay.sqlite3"
    with pytest.raises(ReplayStoreError) as caught:
        ReplayStore.open(path)
    assert caught.value.message == f"cannot use the replay store {path}: not a directory."


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A store written with a newer schema version is refused rather than misread."""
    path = tmp_path / "replay.sqlite3"
    ReplayStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    with pytest.raises(ReplayStoreError) as caught:
        ReplayStore.open(path)
    assert caught.value.message == (
        f"cannot use the replay store {path}: it was written by a newer vc-im (schema 7).")


def test_store_locked_too_long_fails(tmp_path: Path) -> None:
    """A write lock held past busy_timeout fails with one sentence, and the store works after."""
    path = tmp_path / "replay.sqlite3"
    with ReplayStore.open(path, busy_timeout=0.2) as opened:
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            started = time.monotonic()
            with pytest.raises(ReplayStoreError) as caught:
                opened.issue_nonce(now=T0)
            assert time.monotonic() - started >= 0.2
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        assert caught.value.message == (
            f"cannot use the replay store {path}: it stayed locked by another process for more "
            "than 0.2 s.")
        assert present(opened, opened.issue_nonce(now=T0), "jti-1", T0) == ACCEPTED


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unreadable_store_fails(tmp_path: Path) -> None:
    """A store file without read permission fails with one sentence naming it."""
    path = tmp_path / "replay.sqlite3"
    ReplayStore.open(path).close()
    path.chmod(0o000)
    with pytest.raises(ReplayStoreError) as caught:
        ReplayStore.open(path)
    assert caught.value.message == f"cannot use the replay store {path}: permission denied."


def test_default_store_path_reads_environment_at_call_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """XDG_STATE_HOME wins when set and non-empty; otherwise HOME/.local/state is used."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_store_path() == tmp_path / "state" / "vc-im" / "replay.sqlite3"
    monkeypatch.setenv("XDG_STATE_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_store_path() == tmp_path / "home" / ".local/state/vc-im/replay.sqlite3"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert default_store_path() == tmp_path / "home" / ".local/state/vc-im/replay.sqlite3"


# --- several processes ----------------------------------------------------------------------

RACER = r"""
import sys, time
from pathlib import Path
from vc_im.replay import ReplayStore

store_path, flag_dir, me = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
with ReplayStore.open(store_path) as store:
    for line in sys.stdin:
        round_no, nonce = line.split()
        print("ready", flush=True)
        flag = flag_dir / f"go-{round_no}"
        while not flag.exists():
            time.sleep(0.0005)
        outcome = store.consume_presentation(
            nonce=nonce, issuer=f"im:racer/{me}@example.com", jti=f"jti-{round_no}",
            now=1_700_000_000, expires_at=1_700_000_300)
        print(outcome.value, flush=True)
"""


def test_racing_processes_consume_a_nonce_once(tmp_path: Path) -> None:
    """Six processes released together to consume one nonce: exactly one wins, in every round."""
    path = tmp_path / "replay.sqlite3"
    racers = 6
    # The store does not exist yet: the racers and this process also race to create it.
    procs = [
        subprocess.Popen([sys.executable, "-c", RACER, str(path), str(tmp_path), str(me)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for me in range(racers)
    ]
    try:
        with ReplayStore.open(path) as store:
            nonces = [store.issue_nonce(now=T0) for _ in range(3)]
        nonces += ["caller-chosen-1", "caller-chosen-2"]
        for round_no, nonce in enumerate(nonces):
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write(f"{round_no} {nonce}\n")
                proc.stdin.flush()
            assert [proc.stdout.readline() for proc in procs if proc.stdout] == ["ready\n"] * racers
            (tmp_path / f"go-{round_no}").touch()
            outcomes = sorted(proc.stdout.readline().strip() for proc in procs if proc.stdout)
            assert outcomes == ["accepted"] + ["replay"] * (racers - 1), f"round {round_no}"
    finally:
        for proc in procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in procs:
            assert proc.wait(timeout=10) == 0


WRITER = r"""
import sys
from pathlib import Path
from vc_im.replay import ReplayStore

with ReplayStore.open(Path(sys.argv[1])) as store:
    i = 0
    while True:
        nonce = store.issue_nonce(now=1_700_000_000, ttl=300, purge=False)
        print("I", nonce, flush=True)
        chosen = f"chosen-{i}"
        store.consume_presentation(nonce=chosen, issuer="im:w/1@example.com", jti=f"j-{i}",
                                   now=1_700_000_000, expires_at=1_700_000_300)
        print("C", chosen, flush=True)
        i += 1
"""


def test_kill_during_writes_loses_nothing_committed(tmp_path: Path) -> None:
    """A writer killed with SIGKILL leaves an intact store holding every write it reported."""
    path = tmp_path / "replay.sqlite3"
    rng = random.Random(20261129)
    for attempt in range(3):
        log = tmp_path / f"writer-{attempt}.log"
        with log.open("w") as out:
            proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=out)
            deadline = time.monotonic() + 10
            while log.stat().st_size < 2000 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.05, 0.4))
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=10) == -signal.SIGKILL
        lines = [line.split() for line in log.read_text().splitlines(keepends=True)
                 if line.endswith("\n")]
        issued = [value for kind, value in lines if kind == "I"]
        chosen = [value for kind, value in lines if kind == "C"]
        assert len(issued) >= 20, "the writer was killed before it got going"

        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finally:
            conn.close()
        with ReplayStore.open(path) as store:
            # An issued nonce is known to the store exactly when it reports it as expired.
            after_ttl = T0 + 300
            assert {store.consume_presentation(nonce=n, issuer="check", jti=n, now=after_ttl,
                                               expires_at=after_ttl + 10)
                    for n in issued} == {NONCE_EXPIRED}
            assert {present(store, n, f"check-{n}", T0 + 1) for n in chosen} == {REPLAY}
