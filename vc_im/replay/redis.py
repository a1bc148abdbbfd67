"""The replay store on Redis (redis-py), shared by every verifier that names it.

Each nonce and each token (iss, jti) is one key, written with ``SET key value NX PXAT
expiry`` so that Redis forgets it when it no longer counts. Consuming a token and its nonce
is one Lua script, which Redis runs atomically: no other client's command runs between the
script's reads and writes, so two verifiers racing for one presentation accept it once.

Values carry their own ``keep_until`` and the script compares it with the caller's ``now``,
so the answers follow the caller's clock, like the other backends; the key's PXAT (never
earlier than a minute from the wall clock) only reclaims memory. Keys are SHA-256 digests,
never token bytes or nonces in clear. All keys of one store share a prefix (``prefix=``,
default ``vc-im``) and a hash tag, so they stay in one slot.

A connection or command error raises :class:`StoreUnavailable`; redis-py reconnects on the
next command, so the verifier recovers by itself.
"""

from __future__ import annotations

import re
import secrets
import time
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode, urlsplit, urlunsplit

import redis

from vc_im.replay._base import (
    DEFAULT_NONCE_TTL,
    ISSUED_NONCE_RETENTION,
    NETWORK_TIMEOUT_SECONDS,
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

__all__ = ["RedisReplayStore"]

_PREFIX = re.compile(r"\A[A-Za-z0-9_.:-]{1,64}\Z")
#: Keys live at least this long after the wall clock's now, whatever the caller's clock.
_MIN_LIFETIME = 60
#: Keys one SCAN round asks for (``stats``).
_SCAN_COUNT = 1000

# KEYS[1]: the token's key; KEYS[2]: the nonce's key (only when ARGV[4] is "1").
# ARGV: now, keep_until, the keys' PXAT in ms, "1" when a nonce is given, "1" when the nonce
# is one this store issued (its MAC verifies). A nonce's value is "C:E:K": C consumed (0/1),
# E the end of its TTL ("-" for a nonce the caller chose), K its keep_until; a token's is K.
_CONSUME = """
local now = tonumber(ARGV[1])
local keep = tonumber(ARGV[2])
local seen = redis.call('GET', KEYS[1])
if seen and tonumber(seen) > now then return 'replay' end
if ARGV[4] == '1' then
  local value = redis.call('GET', KEYS[2])
  local live = false
  if value then
    local c, e, k = string.match(value, '^([01]):([%d-]+):(%d+)$')
    if k and tonumber(k) > now then
      live = true
      if c == '1' then return 'replay' end
      if e == '-' or now >= tonumber(e) then return 'nonce_expired' end
      local kept = k
      if tonumber(k) < keep then kept = ARGV[2] end
      local pxat = ARGV[3]
      if tonumber(kept) * 1000 > tonumber(pxat) then pxat = kept .. '000' end
      redis.call('SET', KEYS[2], '1:' .. e .. ':' .. kept, 'PXAT', pxat)
    end
  end
  if not live then
    if ARGV[5] == '1' then return 'nonce_expired' end
    redis.call('SET', KEYS[2], '1:-:' .. ARGV[2], 'PXAT', ARGV[3])
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
return 'accepted'
"""


def _redact(url: str) -> str:
    """``url`` without its password and query, safe to show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = (f"{parts.username}@" if parts.username else "") + host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _pxat(keep_until: int) -> int:
    """Milliseconds since the epoch at which Redis may forget a key kept until ``keep_until``."""
    return max(keep_until, int(time.time()) + _MIN_LIFETIME) * 1000


class RedisReplayStore:
    """The replay store under one key prefix in one Redis database."""

    __slots__ = ("_client", "_prefix", "_script", "_secret", "location")

    def __init__(self, client: redis.Redis, prefix: str, location: str) -> None:
        """Wrap a client; use :meth:`from_url`."""
        self._client = client
        self._prefix = prefix
        self.location = location
        self._secret: bytes | None = None
        self._script = client.register_script(_CONSUME)

    @classmethod
    def from_url(cls, url: str) -> RedisReplayStore:
        """``redis://host:port/db?prefix=NAME``; other query members go to redis-py."""
        parts, prefix, rest = split_store_url(url, option="prefix", default="vc-im")
        if not _PREFIX.match(prefix):
            raise ReplayStoreError(f"the Redis key prefix {prefix!r} is not 1 to 64 letters, "
                                   "digits or _.:-.")
        location = f"{_redact(url)} (prefix {prefix})"
        try:
            client = redis.Redis.from_url(
                urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), "")),
                socket_timeout=NETWORK_TIMEOUT_SECONDS,
                socket_connect_timeout=NETWORK_TIMEOUT_SECONDS)
        except (ValueError, TypeError) as exc:
            raise ReplayStoreError(f"the replay store URL {location} is not usable: "
                                   f"{lower_reason(exc)}.") from exc
        return cls(client, prefix, location)

    def _key(self, kind: str, digest: bytes) -> str:
        # The hash tag keeps one store's keys in one cluster slot (the script needs that).
        return f"{{{self._prefix}}}:{kind}:{digest.hex()}"

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        return StoreUnavailable(f"the replay store {self.location} is unavailable: "
                                f"{lower_reason(exc)}.")

    def _store_secret(self) -> bytes:
        if self._secret is None:
            key = f"{{{self._prefix}}}:secret"
            self._client.set(key, secrets.token_bytes(32), nx=True)
            value = self._client.get(key)
            if not isinstance(value, bytes) or len(value) != 32:
                raise ReplayStoreError(f"the replay store {self.location} holds a damaged "
                                       "secret.")
            self._secret = value
        return self._secret

    def close(self) -> None:
        """Release the client's connections."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless Redis answers now."""
        try:
            self._client.ping()
        except redis.RedisError as exc:
            raise self._unavailable(exc) from exc

    def migrate(self) -> int:
        """Redis needs no schema: make sure the store's secret exists; version 1."""
        try:
            self._store_secret()
        except redis.RedisError as exc:
            raise self._unavailable(exc) from exc
        return 1

    def issue_nonce(self, *, now: float, ttl: int = DEFAULT_NONCE_TTL, purge: bool = True) -> str:
        """A fresh nonce usable until ``now + ttl`` (Redis expires keys itself: no purge)."""
        now = as_now(now)  # a float clock is floored; anything else is refused
        expires_at = now + check_ttl(ttl)
        keep_until = expires_at + ISSUED_NONCE_RETENTION
        try:
            nonce = new_nonce(self._store_secret())
            self._client.set(self._key("nonce", replay_key("nonce", nonce)),
                             f"0:{expires_at}:{keep_until}", nx=True, pxat=_pxat(keep_until))
        except redis.RedisError as exc:
            raise self._unavailable(exc) from exc
        return nonce

    def consume_presentation(self, *, nonce: str | None, issuer: str, jti: str, now: int,
                             expires_at: int) -> ReplayOutcome:
        """Consume a presentation's nonce and its (``iss``, ``jti``) in one script."""
        return self._consume(replay_key("presentation", issuer, jti), nonce, now=now,
                             expires_at=expires_at)

    def consume_dpop(self, *, htu: str, jti: str, nonce: str | None, now: int,
                     expires_at: int) -> ReplayOutcome:
        """Consume a DPoP proof: its ``jti`` is single use per ``htu`` (RFC 9449 §11.1)."""
        return self._consume(replay_key("dpop", htu, jti), nonce, now=now, expires_at=expires_at)

    def _consume(self, token_key: bytes, nonce: str | None, *, now: int,
                 expires_at: int) -> ReplayOutcome:
        check_keep(now, expires_at)
        keys = [self._key("seen", token_key)]
        mine = "0"
        try:
            if nonce is not None:
                keys.append(self._key("nonce", replay_key("nonce", nonce)))
                mine = "1" if issued_here(nonce, self._store_secret()) else "0"
            answer = self._script(keys=keys, args=[now, expires_at, _pxat(expires_at),
                                                   "0" if nonce is None else "1", mine])
        except redis.RedisError as exc:
            raise self._unavailable(exc) from exc
        text = answer.decode("ascii") if isinstance(answer, bytes) else str(answer)
        return ReplayOutcome(text)

    def purge(self, *, now: int) -> int:
        """Nothing to do: Redis drops each key at its PXAT."""
        return 0

    def stats(self, *, now: int) -> StoreStats:
        """Counts of the keys that still count at ``now`` (one SCAN), the oldest keep_until."""
        outstanding = consumed = seen = 0
        oldest: int | None = None
        try:
            for kind in ("nonce", "seen"):
                for key in self._client.scan_iter(match=f"{{{self._prefix}}}:{kind}:*",
                                                  count=_SCAN_COUNT):
                    value = self._client.get(key)
                    if not isinstance(value, bytes):
                        continue
                    fields = value.decode("ascii", "replace").split(":")
                    try:
                        keep_until = int(fields[-1])
                    except ValueError:
                        continue
                    if keep_until <= now:
                        continue
                    oldest = keep_until if oldest is None else min(oldest, keep_until)
                    if kind == "seen":
                        seen += 1
                    elif fields[0] == "1":
                        consumed += 1
                    else:
                        outstanding += 1
        except redis.RedisError as exc:
            raise self._unavailable(exc) from exc
        return StoreStats("redis", outstanding, consumed, seen, oldest)

    def drop(self) -> None:
        """Delete every key of this store (tests clean up with it); irreversible."""
        try:
            batch: list[Any] = []
            for key in self._client.scan_iter(match=f"{{{self._prefix}}}:*", count=_SCAN_COUNT):
                batch.append(key)
                if len(batch) >= _SCAN_COUNT:
                    self._client.delete(*batch)
                    batch.clear()
            if batch:
                self._client.delete(*batch)
        except redis.RedisError as exc:
            raise self._unavailable(exc) from exc
        self._secret = None
