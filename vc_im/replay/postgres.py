"""The replay store on PostgreSQL (psycopg 3), shared by every verifier that names it.

* One atomic statement decides each consumption: ``INSERT ... ON CONFLICT (key) DO UPDATE
  ... WHERE <the old row no longer counts> RETURNING`` on the primary key, and
  ``UPDATE ... WHERE NOT consumed RETURNING`` for an issued nonce. Under READ COMMITTED a
  second writer of the same key waits for the first and then sees its row, so two verifiers
  racing for one presentation accept it once. The token and its nonce are consumed in one
  transaction: when the nonce is refused, the token's row is rolled back.
* Expired rows are purged in bounded batches (:data:`PURGE_BATCH` rows per statement).
* The schema is versioned (``meta.version``) and created or upgraded under an advisory
  lock, by ``vc-im store migrate URL`` or on first use.
* A connection or statement error raises :class:`StoreUnavailable` and drops the
  connection; the next operation reconnects, so the verifier recovers by itself.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from vc_im.replay._base import (
    DEFAULT_NONCE_TTL,
    ISSUED_NONCE_RETENTION,
    NETWORK_TIMEOUT_SECONDS,
    PresentationUse,
    ReplayOutcome,
    ReplayStoreError,
    StoreStats,
    StoreUnavailable,
    check_keep,
    check_ttl,
    issued_here,
    lower_reason,
    new_nonce,
    replay_key,
    split_store_url,
)
from vc_im.times import as_now

__all__ = ["PURGE_BATCH", "SCHEMA_VERSION", "PostgresReplayStore"]

#: The schema version this code writes; ``migrate`` brings older schemas up to it.
SCHEMA_VERSION = 1
#: Rows deleted per purge statement, so a purge never holds long locks.
PURGE_BATCH = 1000
#: Most purge statements one :meth:`PostgresReplayStore.issue_nonce` runs.
_PURGE_ROUNDS_PER_ISSUE = 1
_SCHEMA_NAME = re.compile(r"\A[a-z_][a-z0-9_]{0,62}\Z")
_ADVISORY_LOCK = 0x7663696D  # "vcim"

# Version 1: the SQLite store's tables, in one PostgreSQL schema.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE IF NOT EXISTS {s}.nonce (key bytea PRIMARY KEY, expires_at bigint,"
        " consumed boolean NOT NULL, keep_until bigint NOT NULL)",
        "CREATE INDEX IF NOT EXISTS nonce_keep_until ON {s}.nonce (keep_until)",
        "CREATE TABLE IF NOT EXISTS {s}.seen (key bytea PRIMARY KEY, keep_until bigint NOT NULL)",
        "CREATE INDEX IF NOT EXISTS seen_keep_until ON {s}.seen (keep_until)",
        "CREATE TABLE IF NOT EXISTS {s}.secret (id integer PRIMARY KEY CHECK (id = 1),"
        " value bytea NOT NULL)",
    ),
}

_PURGES = (
    "DELETE FROM {s}.nonce WHERE key IN"
    " (SELECT key FROM {s}.nonce WHERE keep_until <= %s LIMIT %s)",
    "DELETE FROM {s}.seen WHERE key IN"
    " (SELECT key FROM {s}.seen WHERE keep_until <= %s LIMIT %s)",
)


def _redact(url: str) -> str:
    """``url`` without its password and query, safe to show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = (f"{parts.username}@" if parts.username else "") + host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class PostgresReplayStore:
    """The replay store in one PostgreSQL schema. One instance belongs to one thread."""

    __slots__ = ("_conn", "_conninfo", "_migrated", "_schema", "_secret", "location")

    def __init__(self, conninfo: str, schema: str, location: str) -> None:
        """Remember where the store is; connect on first use. Use :meth:`from_url`."""
        self._conninfo = conninfo
        self._schema = schema
        self.location = location
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self._migrated = False
        self._secret: bytes | None = None

    @classmethod
    def from_url(cls, url: str) -> PostgresReplayStore:
        """``postgresql://user@host:port/db?schema=NAME``; other query members go to libpq."""
        parts, schema, rest = split_store_url(url, option="schema", default="vc_im")
        if not _SCHEMA_NAME.match(schema):
            raise ReplayStoreError(f"the PostgreSQL schema {schema!r} is not a lower-case name "
                                   "of letters, digits and underscores.")
        conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(rest),
                               parts.fragment))
        return cls(conninfo, schema, f"{_redact(url)} (schema {schema})")

    # --- connection ---------------------------------------------------------------------

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        """Drop the connection (the next call reconnects) and say what went wrong."""
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None
        return StoreUnavailable(f"the replay store {self.location} is unavailable: "
                                f"{lower_reason(exc)}.")

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        self._conn = None
        try:
            conn = psycopg.connect(self._conninfo, autocommit=True,
                                   connect_timeout=max(1, int(NETWORK_TIMEOUT_SECONDS)))
            conn.execute(f"SET statement_timeout = {int(NETWORK_TIMEOUT_SECONDS * 1000)}")
        except psycopg.Error as exc:
            raise self._unavailable(exc) from exc
        self._conn = conn
        if not self._migrated:
            self.migrate()
        return conn

    def _q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(s=sql.Identifier(self._schema))

    def migrate(self) -> int:
        """Create or upgrade the schema to :data:`SCHEMA_VERSION`; returns the version.

        Idempotent, and safe when many verifiers start at once (an advisory lock)."""
        conn = self._connection() if self._conn is None else self._conn
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK,))
                conn.execute(self._q("CREATE SCHEMA IF NOT EXISTS {s}"))
                conn.execute(self._q("CREATE TABLE IF NOT EXISTS {s}.meta"
                                     " (id integer PRIMARY KEY CHECK (id = 1),"
                                     " version integer NOT NULL)"))
                row = conn.execute(self._q("SELECT version FROM {s}.meta")).fetchone()
                version = 0 if row is None else int(row[0])
                if version > SCHEMA_VERSION:
                    raise ReplayStoreError(
                        f"cannot use the replay store {self.location}: it was written by a "
                        f"newer vc-im (schema {version}).")
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in _MIGRATIONS[step]:
                        conn.execute(self._q(statement))
                conn.execute(self._q("INSERT INTO {s}.secret (id, value) VALUES (1, %s)"
                                     " ON CONFLICT (id) DO NOTHING"), (secrets.token_bytes(32),))
                conn.execute(self._q("INSERT INTO {s}.meta (id, version) VALUES (1, %s)"
                                     " ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version"),
                             (SCHEMA_VERSION,))
        except psycopg.Error as exc:
            raise self._unavailable(exc) from exc
        self._migrated = True
        return SCHEMA_VERSION

    def _store_secret(self, conn: psycopg.Connection[tuple[Any, ...]]) -> bytes:
        if self._secret is None:
            row = conn.execute(self._q("SELECT value FROM {s}.secret WHERE id = 1")).fetchone()
            if row is None:
                raise ReplayStoreError(f"the replay store {self.location} has no secret; "
                                       "run vc-im store migrate.")
            self._secret = bytes(row[0])
        return self._secret

    def close(self) -> None:
        """Close the connection, if one is open."""
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the database answers now."""
        conn = self._connection()
        try:
            conn.execute("SELECT 1").fetchone()
        except psycopg.Error as exc:
            raise self._unavailable(exc) from exc

    # --- the replay rules ---------------------------------------------------------------

    def issue_nonce(self, *, now: float, ttl: int = DEFAULT_NONCE_TTL, purge: bool = True) -> str:
        """A fresh nonce usable until ``now + ttl``; purges one bounded batch unless told not
        to (a simulated ``now`` must not drop rows that are live in real time)."""
        now = as_now(now)  # a float clock is floored; anything else is refused
        expires_at = now + check_ttl(ttl)
        conn = self._connection()
        try:
            nonce = new_nonce(self._store_secret(conn))
            if purge:
                for _ in range(_PURGE_ROUNDS_PER_ISSUE):
                    self._purge_batch(conn, now)
            conn.execute(self._q("INSERT INTO {s}.nonce (key, expires_at, consumed, keep_until)"
                                 " VALUES (%s, %s, false, %s)"),
                         (replay_key("nonce", nonce), expires_at,
                          expires_at + ISSUED_NONCE_RETENTION))
        except psycopg.Error as exc:
            raise self._unavailable(exc) from exc
        return nonce

    def consume_presentation(self, *, nonce: str | None, issuer: str, jti: str, now: int,
                             expires_at: int) -> ReplayOutcome:
        """Consume a presentation's nonce and its (``iss``, ``jti``) in one transaction."""
        return self._consume(replay_key("presentation", issuer, jti), nonce, now=now,
                             expires_at=expires_at)

    def consume_dpop(self, *, htu: str, jti: str, nonce: str | None, now: int,
                     expires_at: int) -> ReplayOutcome:
        """Consume a DPoP proof: its ``jti`` is single use per ``htu`` (RFC 9449 §11.1)."""
        return self._consume(replay_key("dpop", htu, jti), nonce, now=now, expires_at=expires_at)

    def consume_presentations(self, uses: Sequence[PresentationUse]) -> list[ReplayOutcome]:
        """Consume many presentations in one transaction (a group commit), each under its own
        savepoint so that a refused one leaves nothing behind; all are durable when this
        returns, none when it raises."""
        for use in uses:
            check_keep(use.now, use.expires_at)
        conn = self._connection()
        outcomes: list[ReplayOutcome] = []
        try:
            secret = self._store_secret(conn)
            with conn.transaction():
                for use in uses:
                    with conn.transaction():
                        outcome = self._decide(conn, replay_key("presentation", use.issuer,
                                                                use.jti),
                                               use.nonce, secret, use.now, use.expires_at)
                        outcomes.append(outcome)
                        if outcome is not ReplayOutcome.ACCEPTED:
                            raise psycopg.Rollback
        except psycopg.Error as exc:
            raise self._unavailable(exc) from exc
        return outcomes

    def _consume(self, token_key: bytes, nonce: str | None, *, now: int,
                 expires_at: int) -> ReplayOutcome:
        check_keep(now, expires_at)
        conn = self._connection()
        outcome = ReplayOutcome.ACCEPTED
        try:
            secret = self._store_secret(conn)
            with conn.transaction():
                outcome = self._decide(conn, token_key, nonce, secret, now, expires_at)
                if outcome is not ReplayOutcome.ACCEPTED:
                    raise psycopg.Rollback
        except psycopg.Error as exc:
            raise self._unavailable(exc) from exc
        return outcome

    def _decide(self, conn: psycopg.Connection[tuple[Any, ...]], token_key: bytes,
                nonce: str | None, secret: bytes, now: int, expires_at: int) -> ReplayOutcome:
        """The decision, inside the caller's transaction; anything but ACCEPTED rolls back."""
        # The token: inserted, or a dead row taken over; a live row means a replay.
        if conn.execute(self._q(
                "INSERT INTO {s}.seen (key, keep_until) VALUES (%s, %s)"
                " ON CONFLICT (key) DO UPDATE SET keep_until = EXCLUDED.keep_until"
                " WHERE {s}.seen.keep_until <= %s RETURNING 1"),
                (token_key, expires_at, now)).fetchone() is None:
            return ReplayOutcome.REPLAY
        if nonce is None:
            return ReplayOutcome.ACCEPTED
        nonce_key = replay_key("nonce", nonce)
        # An issued nonce within its TTL, not consumed yet: consume it.
        if conn.execute(self._q(
                "UPDATE {s}.nonce SET consumed = true, keep_until = greatest(keep_until, %s)"
                " WHERE key = %s AND keep_until > %s AND NOT consumed"
                " AND expires_at IS NOT NULL AND expires_at > %s RETURNING 1"),
                (expires_at, nonce_key, now, now)).fetchone() is not None:
            return ReplayOutcome.ACCEPTED
        row = conn.execute(self._q(
            "SELECT consumed FROM {s}.nonce WHERE key = %s AND keep_until > %s"),
            (nonce_key, now)).fetchone()
        if row is not None:  # live: consumed already, or issued and past its TTL
            return ReplayOutcome.REPLAY if row[0] else ReplayOutcome.NONCE_EXPIRED
        if issued_here(nonce, secret):  # issued here, and its row purged after its TTL
            return ReplayOutcome.NONCE_EXPIRED
        # A nonce the caller chose: recorded as consumed, unless another verifier just did.
        if conn.execute(self._q(
                "INSERT INTO {s}.nonce (key, expires_at, consumed, keep_until)"
                " VALUES (%s, NULL, true, %s) ON CONFLICT (key) DO UPDATE"
                " SET expires_at = NULL, consumed = true, keep_until = EXCLUDED.keep_until"
                " WHERE {s}.nonce.keep_until <= %s RETURNING 1"),
                (nonce_key, expires_at, now)).fetchone() is None:
            return ReplayOutcome.REPLAY
        return ReplayOutcome.ACCEPTED

    def _purge_batch(self, conn: psycopg.Connection[tuple[Any, ...]], now: int) -> int:
        dropped = 0
        for statement in _PURGES:
            cursor = conn.execute(self._q(statement), (now, PURGE_BATCH))
            dropped += max(cursor.rowcount, 0)
        return dropped

    def purge(self, *, now: int) -> int:
        """Drop every row that no longer counts at ``now``, batch by batch; how many went."""
        conn = self._connection()
        total = 0
        try:
            while True:
                dropped = self._purge_batch(conn, now)
                total += dropped
                if dropped == 0:
                    return total
        except psycopg.Error as exc:
            raise self._unavailable(exc) from exc

    def stats(self, *, now: int) -> StoreStats:
        """Counts of the rows that still count at ``now``, and the oldest ``keep_until``."""
        conn = self._connection()
        try:
            outstanding, consumed, oldest_nonce = conn.execute(self._q(
                "SELECT count(*) FILTER (WHERE NOT consumed), count(*) FILTER (WHERE consumed),"
                " min(keep_until) FROM {s}.nonce WHERE keep_until > %s"), (now,)).fetchone() \
                or (0, 0, None)
            seen, oldest_seen = conn.execute(self._q(
                "SELECT count(*), min(keep_until) FROM {s}.seen WHERE keep_until > %s"),
                (now,)).fetchone() or (0, None)
        except psycopg.Error as exc:
            raise self._unavailable(exc) from exc
        oldest = [int(value) for value in (oldest_nonce, oldest_seen) if value is not None]
        return StoreStats("postgresql", int(outstanding), int(consumed), int(seen),
                          min(oldest) if oldest else None)

    def drop(self) -> None:
        """Drop the whole schema (tests clean up with it); irreversible."""
        conn = self._connection()
        try:
            conn.execute(self._q("DROP SCHEMA IF EXISTS {s} CASCADE"))
        except psycopg.Error as exc:
            raise self._unavailable(exc) from exc
        self._migrated = False
        self._secret = None
