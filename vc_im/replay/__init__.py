"""The replay store: verifier nonces, and the tokens already accepted.

Three backends behind one interface (:class:`ReplayBackend`), chosen by URL with
:func:`open_store`:

* a path or ``sqlite:///path``: the embedded default (:class:`ReplayStore`), for one machine;
* ``postgresql://...``: PostgreSQL (psycopg 3), shared by many verifiers;
* ``redis://...`` or ``rediss://...``: Redis (redis-py), shared by many verifiers.

Library functions take the store object (or a path, opened for the call).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from vc_im.replay._base import (
    BUSY_TIMEOUT_SECONDS,
    DEFAULT_NONCE_TTL,
    ISSUED_NONCE_RETENTION,
    NETWORK_TIMEOUT_SECONDS,
    NONCE_BYTES,
    GroupConsumer,
    PresentationUse,
    ReplayBackend,
    ReplayOutcome,
    ReplayStoreError,
    StoreStats,
    StoreUnavailable,
    default_store_path,
    replay_key,
)
from vc_im.replay.sqlite import ReplayStore

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "DEFAULT_NONCE_TTL",
    "ISSUED_NONCE_RETENTION",
    "NETWORK_TIMEOUT_SECONDS",
    "NONCE_BYTES",
    "GroupConsumer",
    "PresentationUse",
    "ReplayBackend",
    "ReplayOutcome",
    "ReplayStore",
    "ReplayStoreError",
    "StoreLike",
    "StoreStats",
    "StoreUnavailable",
    "default_store_path",
    "open_store",
    "opened",
    "replay_key",
    "store_kind",
]

#: A replay store, or where one is (a path or a URL) to open for this call.
StoreLike = ReplayBackend | Path | str

_NETWORK_SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql",
                    "redis": "redis", "rediss": "redis"}


def store_kind(location: str | Path) -> str:
    """``sqlite``, ``postgresql`` or ``redis``: which backend ``location`` names.

    A bare path (no ``scheme://``) is SQLite; an unknown scheme is refused rather than taken
    for a file name."""
    if isinstance(location, Path):
        return "sqlite"
    if "://" not in location:
        return "sqlite"
    scheme = location.split("://", 1)[0].lower()
    if scheme == "sqlite":
        return "sqlite"
    if scheme in _NETWORK_SCHEMES:
        return _NETWORK_SCHEMES[scheme]
    raise ReplayStoreError(f"the replay store URL scheme {scheme!r} is not one of sqlite, "
                           "postgresql or redis.")


def _sqlite_path(location: str | Path) -> Path:
    if isinstance(location, Path) or "://" not in location:
        return Path(location)
    parts = urlsplit(location)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise ReplayStoreError("a sqlite store URL is sqlite:///absolute/path, with no host, "
                               "query or fragment.")
    path = unquote(parts.path)
    if not path:
        raise ReplayStoreError("the sqlite store URL names no file.")
    return Path(path)


def open_store(location: str | Path) -> ReplayBackend:
    """Open the replay store ``location`` names: a path, ``sqlite:///path``,
    ``postgresql://...`` (query ``schema=NAME``, default ``vc_im``) or ``redis://...``
    (query ``prefix=NAME``, default ``vc-im``).

    A SQLite file is created and opened now; a network store connects on first use, so a
    verifier can start while its database is still coming up (it fails closed until then).
    """
    kind = store_kind(location)
    if kind == "sqlite":
        return ReplayStore.open(_sqlite_path(location))
    assert isinstance(location, str)
    if kind == "postgresql":
        from vc_im.replay.postgres import PostgresReplayStore

        return PostgresReplayStore.from_url(location)
    from vc_im.replay.redis import RedisReplayStore

    return RedisReplayStore.from_url(location)


@contextlib.contextmanager
def opened(store: StoreLike | None) -> Iterator[ReplayBackend]:
    """The store to consume in: an open store is used as it is (it stays the caller's);
    a path or URL is opened for this call and closed after.
    The library never chooses a location: without a store, this raises."""
    if store is None:
        raise ReplayStoreError("accepting a presentation or proof consumes it in a replay "
                               "store, and none was given.")
    if not isinstance(store, (str, Path)):
        yield store
        return
    with open_store(store) as owned:
        yield owned
