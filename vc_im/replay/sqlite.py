"""The embedded replay store (SQLite): verifier nonces, and the tokens already accepted.

A verifier must refuse a presentation or a DPoP proof it has already accepted, even when
several ``vc-im`` processes verify at once and even after one of them was killed. The
store is a small SQLite database (the only module of vc_im that uses sqlite3):

* every change is one ``BEGIN IMMEDIATE`` transaction, so two processes racing for one
  nonce are serialised by SQLite's write lock and only the first one commits;
* WAL journaling, so a process killed mid-write leaves the last committed state intact;
* ``synchronous=FULL``: in WAL mode ``NORMAL`` survives a killed process but may lose
  the last commits on power loss, and a lost commit here is a consumed nonce that can be
  used again; one fsync per verification is a small price for that.

Rows are keyed by SHA-256 digests of length-prefixed field tuples, never by token bytes
(ECDSA signatures are malleable, so one presentation has many encodings), and never hold
a nonce in clear (the file does not reveal the outstanding challenges).

Time is always the caller's ``now``: a row counts only while ``now < keep_until``, so the
answers do not depend on when :meth:`ReplayStore.purge` last ran.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from vc_im.replay._base import (
    BUSY_TIMEOUT_SECONDS,
    DEFAULT_NONCE_TTL,
    ISSUED_NONCE_CHARS,
    ISSUED_NONCE_RETENTION,
    PresentationUse,
    ReplayOutcome,
    ReplayStoreError,
    StoreStats,
    check_keep,
    check_ttl,
    issued_here,
    new_nonce,
    replay_key,
)
from vc_im.times import as_now

__all__ = ["ReplayStore"]

_SCHEMA_VERSION = 1
# nonce.key: SHA-256 of ("nonce", value). nonce.expires_at: the end of an issued nonce's
# TTL, NULL for a nonce the caller chose. nonce.consumed: 1 once a presentation or proof
# used it. seen.key: SHA-256 of ("presentation", iss, jti) or ("dpop", htu, jti).
# keep_until (both tables): the row counts while now < keep_until.
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS nonce (key BLOB PRIMARY KEY, expires_at INTEGER,"
    " consumed INTEGER NOT NULL, keep_until INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS nonce_keep_until ON nonce (keep_until)",
    "CREATE TABLE IF NOT EXISTS seen (key BLOB PRIMARY KEY, keep_until INTEGER NOT NULL)"
    " WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS seen_keep_until ON seen (keep_until)",
    # One random secret per store: issued nonces carry a MAC under it, so a nonce this store
    # issued is recognised as its own even after its row was purged.
    "CREATE TABLE IF NOT EXISTS secret (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " value BLOB NOT NULL)",
    "INSERT OR IGNORE INTO secret (id, value) VALUES (1, randomblob(32))",
)


#: Keys per ``IN (...)`` query: below SQLite's smallest limit on bound parameters (999).
_KEYS_PER_QUERY = 500


def _rows_of(conn: sqlite3.Connection, query: str, keys: Sequence[bytes]) -> list[Any]:
    """The rows ``query`` (with ``{}`` for the placeholders) finds for ``keys``."""
    rows: list[Any] = []
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), _KEYS_PER_QUERY):
        part = unique[start:start + _KEYS_PER_QUERY]
        rows.extend(conn.execute(query.format(",".join("?" * len(part))), part))
    return rows


def _store_error(
    path: Path, exc: BaseException, busy_timeout: float = BUSY_TIMEOUT_SECONDS
) -> ReplayStoreError:
    """One sentence naming the store and what is wrong with it."""
    if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorname", "") in (
        "SQLITE_BUSY",
        "SQLITE_LOCKED",
    ):
        reason = f"it stayed locked by another process for more than {busy_timeout:g} s"
    elif isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
    else:
        reason = str(exc) or type(exc).__name__
    reason = reason.rstrip(".")
    if reason[:1].isupper() and not reason[:2].isupper():
        reason = reason[0].lower() + reason[1:]
    return ReplayStoreError(f"cannot use the replay store {path}: {reason}.")


def _make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each with mode 0700.

    ``Path.mkdir(parents=True)`` would give the parents the default mode.
    """
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for item in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            item.mkdir(mode=0o700)


def _create_private_file(path: Path) -> None:
    """Create the database file with mode 0600 before SQLite does (it would use 0644).

    SQLite gives its ``-wal`` and ``-shm`` files the database file's mode.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    os.close(fd)


class ReplayStore:
    """Nonces issued by this verifier, and the presentations and proofs it accepted.

    Open it with :meth:`open`; use it as a context manager, or call :meth:`close`. One
    instance belongs to one thread; processes share the file safely.
    """

    __slots__ = ("_busy_timeout", "_conn", "location", "path")

    def __init__(self, path: Path, conn: sqlite3.Connection, busy_timeout: float) -> None:
        """Wrap an open connection; use :meth:`open` instead."""
        self.path = path
        self.location = str(path)
        self._conn = conn
        self._busy_timeout = busy_timeout

    @classmethod
    def open(cls, path: Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> ReplayStore:
        """Open (creating if needed) the store at ``path``: private file, WAL, schema.

        ``busy_timeout`` is how many seconds a transaction waits for another process's
        write lock before failing with :class:`ReplayStoreError`.
        """
        path = Path(path)
        try:
            _make_private_dirs(path.parent)
            _create_private_file(path)
            conn = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=True
            )
        except (OSError, sqlite3.Error) as exc:
            raise _store_error(path, exc, busy_timeout) from exc
        store = cls(path, conn, busy_timeout)
        try:
            store._prepare()
        except sqlite3.Error as exc:
            conn.close()
            raise _store_error(path, exc, busy_timeout) from exc
        except ReplayStoreError:
            conn.close()
            raise
        return store

    def _prepare(self) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            raise ReplayStoreError(
                f"cannot use the replay store {self.path}: it cannot be put in WAL mode."
            )
        conn.execute("PRAGMA synchronous = FULL")
        with self._transaction():
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > _SCHEMA_VERSION:
                raise ReplayStoreError(
                    f"cannot use the replay store {self.path}: it was written by a newer "
                    f"vc-im (schema {version})."
                )
            # executescript() would COMMIT first, so the statements run one by one.
            for statement in _SCHEMA:
                conn.execute(statement)
            if version != _SCHEMA_VERSION:
                conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    @staticmethod
    def _secret(conn: sqlite3.Connection) -> bytes:
        return bytes(conn.execute("SELECT value FROM secret WHERE id = 1").fetchone()[0])

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken before reading so that check-and-set is atomic."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _store_error(self.path, exc, self._busy_timeout) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _store_error(self.path, exc, self._busy_timeout) from exc
            raise

    def close(self) -> None:
        """Close the connection (committed data is already durable)."""
        self._conn.close()

    def __enter__(self) -> ReplayStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def issue_nonce(self, *, now: float, ttl: int = DEFAULT_NONCE_TTL, purge: bool = True) -> str:
        """A fresh 256-bit nonce (base64url, no padding), usable until ``now + ttl``.

        Expired rows are purged in the same transaction unless ``purge`` is false (for a
        simulated ``now``, which must not drop rows that are live in real time).
        """
        now = as_now(now)  # a float clock is floored; anything else is refused
        expires_at = now + check_ttl(ttl)
        with self._transaction() as conn:
            nonce = new_nonce(self._secret(conn))
            if purge:
                self._purge(conn, now)
            conn.execute(
                "INSERT INTO nonce (key, expires_at, consumed, keep_until) VALUES (?, ?, 0, ?)",
                (replay_key("nonce", nonce), expires_at, expires_at + ISSUED_NONCE_RETENTION),
            )
        return nonce

    def consume_presentation(
        self, *, nonce: str | None, issuer: str, jti: str, now: int, expires_at: int
    ) -> ReplayOutcome:
        """Consume a presentation's nonce and its (``iss``, ``jti``) in one transaction.

        ``expires_at`` is the last moment the presentation could still be accepted (its
        ``exp`` plus the leeway); both entries are kept until then. A replay wins over an
        expired nonce, so verifying the same presentation twice always says ``replay``.
        """
        return self._consume(
            replay_key("presentation", issuer, jti), nonce, now=now, expires_at=expires_at
        )

    def consume_dpop(
        self, *, htu: str, jti: str, nonce: str | None, now: int, expires_at: int
    ) -> ReplayOutcome:
        """Consume a DPoP proof: its ``jti`` is single use per ``htu`` (RFC 9449 §11.1).

        ``htu`` should be normalised by the caller; ``expires_at`` is the end of the proof's
        acceptance window (``iat`` plus the maximum age plus the leeway). A given ``nonce``
        is consumed as for a presentation.
        """
        return self._consume(replay_key("dpop", htu, jti), nonce, now=now, expires_at=expires_at)

    def consume_presentations(self, uses: Sequence[PresentationUse]) -> list[ReplayOutcome]:
        """Consume many presentations in one transaction (a group commit): each outcome is
        what consuming them one after another would give, and all are durable (one fsync)
        when this returns; when it raises, none was recorded.

        The group's rows are read in one query per table, decided in order here as
        :meth:`_decide` would decide them one by one, and written back in one statement per
        table (``tests/test_batch.py`` holds outcomes and rows to consuming one at a time)."""
        for use in uses:
            check_keep(use.now, use.expires_at)
        token_keys = [replay_key("presentation", use.issuer, use.jti) for use in uses]
        nonce_keys = [None if use.nonce is None else replay_key("nonce", use.nonce)
                      for use in uses]
        with self._transaction() as conn:
            seen: dict[bytes, int] = dict(_rows_of(
                conn, "SELECT key, keep_until FROM seen WHERE key IN ({})", token_keys))
            nonces: dict[bytes, tuple[int | None, int, int]] = {
                key: (expires_at, consumed, keep_until) for key, expires_at, consumed, keep_until
                in _rows_of(conn, "SELECT key, expires_at, consumed, keep_until FROM nonce "
                            "WHERE key IN ({})", [key for key in nonce_keys if key is not None])}
            written_seen: set[bytes] = set()
            written_nonces: set[bytes] = set()
            outcomes = []
            for use, token_key, nonce_key in zip(uses, token_keys, nonce_keys, strict=True):
                now = use.now
                row = nonces.get(nonce_key) if nonce_key is not None else None
                if row is not None and row[2] <= now:
                    row = None  # no longer counts: as if purged
                if seen.get(token_key, now) > now or (row is not None and row[1]):
                    outcomes.append(ReplayOutcome.REPLAY)
                elif (row[0] is not None and now >= row[0] if row is not None
                      else use.nonce is not None and len(use.nonce) == ISSUED_NONCE_CHARS
                      and issued_here(use.nonce, self._secret(conn))):
                    # Past its TTL; or issued here, its row purged long after: still expired.
                    outcomes.append(ReplayOutcome.NONCE_EXPIRED)
                else:
                    if nonce_key is not None:
                        nonces[nonce_key] = ((row[0], 1, max(row[2], use.expires_at))
                                             if row is not None else (None, 1, use.expires_at))
                        written_nonces.add(nonce_key)
                    seen[token_key] = use.expires_at
                    written_seen.add(token_key)
                    outcomes.append(ReplayOutcome.ACCEPTED)
            conn.executemany(
                "INSERT OR REPLACE INTO nonce (key, expires_at, consumed, keep_until) "
                "VALUES (?, ?, ?, ?)", [(key, *nonces[key]) for key in written_nonces])
            conn.executemany("INSERT OR REPLACE INTO seen (key, keep_until) VALUES (?, ?)",
                             [(key, seen[key]) for key in written_seen])
            return outcomes

    def _consume(
        self, token_key: bytes, nonce: str | None, *, now: int, expires_at: int
    ) -> ReplayOutcome:
        check_keep(now, expires_at)
        with self._transaction() as conn:
            return self._decide(conn, token_key, nonce, now=now, expires_at=expires_at)

    def _decide(
        self, conn: sqlite3.Connection, token_key: bytes, nonce: str | None, *, now: int,
        expires_at: int,
    ) -> ReplayOutcome:
        """One consumption, inside the caller's write transaction."""
        nonce_key = None if nonce is None else replay_key("nonce", nonce)
        seen = conn.execute(
            "SELECT 1 FROM seen WHERE key = ? AND keep_until > ?", (token_key, now)
        ).fetchone()
        row = None
        if nonce_key is not None:
            row = conn.execute(
                "SELECT expires_at, consumed FROM nonce WHERE key = ? AND keep_until > ?",
                (nonce_key, now),
            ).fetchone()
        if seen is not None or (row is not None and row[1]):
            return ReplayOutcome.REPLAY
        if row is not None and row[0] is not None and now >= row[0]:
            return ReplayOutcome.NONCE_EXPIRED
        if (row is None and nonce is not None and len(nonce) == ISSUED_NONCE_CHARS
                and issued_here(nonce, self._secret(conn))):
            # Issued here, and its row purged long after its TTL: still expired.
            return ReplayOutcome.NONCE_EXPIRED
        if nonce_key is not None:
            if row is not None:  # issued by us, within its TTL
                conn.execute(
                    "UPDATE nonce SET consumed = 1, keep_until = max(keep_until, ?) "
                    "WHERE key = ?",
                    (expires_at, nonce_key),
                )
            else:  # chosen by the caller, or a stale row not purged yet
                conn.execute(
                    "INSERT OR REPLACE INTO nonce (key, expires_at, consumed, keep_until) "
                    "VALUES (?, NULL, 1, ?)",
                    (nonce_key, expires_at),
                )
        conn.execute(
            "INSERT OR REPLACE INTO seen (key, keep_until) VALUES (?, ?)",
            (token_key, expires_at),
        )
        return ReplayOutcome.ACCEPTED

    def purge(self, *, now: int) -> int:
        """Drop the rows that no longer count at ``now``; returns how many were dropped."""
        with self._transaction() as conn:
            return self._purge(conn, now)

    @staticmethod
    def _purge(conn: sqlite3.Connection, now: int) -> int:
        dropped = conn.execute("DELETE FROM nonce WHERE keep_until <= ?", (now,)).rowcount
        dropped += conn.execute("DELETE FROM seen WHERE keep_until <= ?", (now,)).rowcount
        return dropped

    def stats(self, *, now: int) -> StoreStats:
        """Counts of the rows that still count at ``now``, and the oldest ``keep_until``."""
        with self._transaction() as conn:
            outstanding, consumed, oldest_nonce = conn.execute(
                "SELECT coalesce(sum(consumed = 0), 0), coalesce(sum(consumed), 0),"
                " min(keep_until) FROM nonce WHERE keep_until > ?", (now,)).fetchone()
            seen, oldest_seen = conn.execute(
                "SELECT count(*), min(keep_until) FROM seen WHERE keep_until > ?",
                (now,)).fetchone()
        oldest = [value for value in (oldest_nonce, oldest_seen) if value is not None]
        return StoreStats("sqlite", int(outstanding), int(consumed), int(seen),
                          min(oldest) if oldest else None)

    def ping(self) -> None:
        """Raise :class:`ReplayStoreError` unless the database answers."""
        try:
            self._conn.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise _store_error(self.path, exc, self._busy_timeout) from exc
