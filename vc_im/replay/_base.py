"""What every replay store backend shares: outcomes, errors, keys, nonces and the interface.

The rules are the same on every engine (SQLite, PostgreSQL, Redis):

* a nonce or a token's (iss, jti) is accepted at most once: one atomic operation on the
  engine decides each consumption;
* an issued nonce carries a MAC under the store's own secret, so it stays expired after its
  TTL even once its row or key is gone;
* time is always the caller's ``now``: an entry counts only while ``now < keep_until``;
* an engine that cannot be reached or errors raises :class:`StoreUnavailable`, which the
  verifier turns into a failed check (``store_unavailable``), never an acceptance.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, runtime_checkable
from urllib.parse import SplitResult, parse_qsl, urlsplit

from vc_im.errors import InputError

#: Seconds an issued nonce stays usable (CONTRACT.md's default).
DEFAULT_NONCE_TTL = 300
#: Bytes in an issued nonce: 16 random, 16 of MAC under the store's secret (the contract asks
#: for at least 128 bits).
NONCE_BYTES = 32
#: Seconds an issued nonce's row is kept after its TTL; after that its MAC still marks it as
#: this store's own, so it stays expired instead of passing as a caller-chosen nonce.
ISSUED_NONCE_RETENTION = 86_400
#: How long a transaction waits for another process's write lock before giving up.
BUSY_TIMEOUT_SECONDS = 10.0
#: Seconds a network store may take to connect or to answer one operation.
NETWORK_TIMEOUT_SECONDS = 5.0


class ReplayStoreError(InputError):
    """The replay store cannot be used: not a database, no permission, or locked too long."""

    code = "replay_store"


class StoreUnavailable(ReplayStoreError):
    """A network store cannot be reached or failed mid-operation: verification fails closed."""

    code = "store_unavailable"


class ReplayOutcome(StrEnum):
    """What consuming a presentation or a DPoP proof decided."""

    ACCEPTED = "accepted"
    REPLAY = "replay"
    NONCE_EXPIRED = "nonce_expired"


@dataclass(frozen=True, slots=True)
class StoreStats:
    """What a store holds at ``now``: entries that still count, and the oldest expiry."""

    backend: str
    nonces_outstanding: int
    nonces_consumed: int
    tokens_seen: int
    oldest_expiry: int | None

    def as_json(self) -> dict[str, object]:
        """The stats as ``vc-im store stats --json`` prints them."""
        return {"backend": self.backend, "nonces_outstanding": self.nonces_outstanding,
                "nonces_consumed": self.nonces_consumed, "tokens_seen": self.tokens_seen,
                "oldest_expiry": self.oldest_expiry}


@dataclass(frozen=True, slots=True)
class PresentationUse:
    """One presentation to consume: what :meth:`ReplayBackend.consume_presentation` takes."""

    nonce: str | None
    issuer: str
    jti: str
    now: int
    expires_at: int


@runtime_checkable
class GroupConsumer(Protocol):
    """A store that can consume many presentations in one durable transaction."""

    def consume_presentations(self, uses: Sequence[PresentationUse]) -> list[ReplayOutcome]:
        """Each use's outcome, in order, as if consumed one after another; all of them are
        durable when this returns, none of them when it raises."""
        ...


@runtime_checkable
class ReplayBackend(Protocol):
    """The interface every replay store implements; the checks use only this."""

    #: Where the store is, safe to show (no password).
    location: str

    def issue_nonce(self, *, now: float, ttl: int = DEFAULT_NONCE_TTL, purge: bool = True) -> str:
        """A fresh nonce usable until ``now + ttl`` (a float ``now`` is floored)."""
        ...

    def consume_presentation(self, *, nonce: str | None, issuer: str, jti: str, now: int,
                             expires_at: int) -> ReplayOutcome:
        """Consume a presentation's nonce (when it has one the verifier checked) and (iss, jti)
        atomically."""
        ...

    def consume_dpop(self, *, htu: str, jti: str, nonce: str | None, now: int,
                     expires_at: int) -> ReplayOutcome:
        """Consume a DPoP proof's (htu, jti) and its nonce, if any, atomically."""
        ...

    def purge(self, *, now: int) -> int:
        """Drop entries that no longer count at ``now``; how many went."""
        ...

    def stats(self, *, now: int) -> StoreStats:
        """Counts of what still counts at ``now``, and the oldest expiry."""
        ...

    def ping(self) -> None:
        """Raise :class:`ReplayStoreError` unless the store answers now."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


def default_store_path() -> Path:
    """The CLI's default store; the library never picks one by itself.

    ``${XDG_STATE_HOME:-$HOME/.local/state}/vc-im/replay.sqlite3``, read now, not at import."""
    state_home = os.environ.get("XDG_STATE_HOME", "")
    if state_home:
        base = Path(state_home)
    else:
        try:
            base = Path.home() / ".local" / "state"
        except (RuntimeError, KeyError) as exc:
            raise ReplayStoreError(
                "cannot find the default replay store: HOME is unknown; pass --store."
            ) from exc
    return base / "vc-im" / "replay.sqlite3"


def replay_key(kind: str, *fields: str) -> bytes:
    """SHA-256 of ``kind`` and ``fields``, each prefixed by its length, so fields never blur.

    ``surrogatepass`` because JSON strings may hold lone surrogates, and they must hash,
    not crash.
    """
    digest = hashlib.sha256()
    for part in (kind, *fields):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.digest()


def new_nonce(secret: bytes) -> str:
    """16 random bytes and a 16-byte MAC of them under the store's secret: 256 bits, of which
    128 are random, and recognisable as this store's own."""
    random_part = secrets.token_bytes(NONCE_BYTES // 2)
    tag = hmac.new(secret, random_part, hashlib.sha256).digest()[: NONCE_BYTES // 2]
    return base64.urlsafe_b64encode(random_part + tag).rstrip(b"=").decode("ascii")


#: The length of a nonce a store issues (NONCE_BYTES in unpadded base64url).
ISSUED_NONCE_CHARS = 43


def issued_here(nonce: str, secret: bytes) -> bool:
    """Whether ``nonce`` is one this store issued (its MAC verifies), rows or not."""
    if len(nonce) != ISSUED_NONCE_CHARS:
        return False
    try:
        raw = base64.urlsafe_b64decode(nonce + "=")
    except (ValueError, binascii.Error):
        return False
    half = NONCE_BYTES // 2
    expected = hmac.new(secret, raw[:half], hashlib.sha256).digest()[:half]
    return len(raw) == NONCE_BYTES and hmac.compare_digest(raw[half:], expected)


def check_ttl(ttl: object) -> int:
    """``ttl`` as a positive number of seconds, or :class:`InputError`."""
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        raise InputError(f"the nonce TTL must be a positive number of seconds, not {ttl!r}.")
    return ttl


def check_keep(now: int, expires_at: int) -> None:
    """A consumed entry must outlive ``now``, or it would not count at all."""
    if expires_at <= now:
        raise InputError(
            "a replay entry must be kept until after now; pass the token's exp plus the leeway."
        )


def lower_reason(exc: BaseException) -> str:
    """The error's message as the end of one sentence: no final dot, lower-case start."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
    if reason[:1].isupper() and not reason[:2].isupper():
        reason = reason[0].lower() + reason[1:]
    return reason or type(exc).__name__


def split_store_url(url: str, *, option: str, default: str,
                    ) -> tuple[SplitResult, str, list[tuple[str, str]]]:
    """A network store's URL taken apart: its parts, the value of vc_im's own query member
    ``option`` (``default`` when absent), and the other members, which go to the client."""
    try:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError as exc:
        raise ReplayStoreError(f"the replay store URL is malformed: {lower_reason(exc)}.") \
            from exc
    value = default
    rest = []
    for name, item in query:
        if name == option:
            value = item
        else:
            rest.append((name, item))
    return parts, value, rest
