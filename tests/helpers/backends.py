"""Replay stores on the machine's real PostgreSQL and Redis, each under its own schema or key
prefix (so parallel runs never collide), dropped after the test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

from vc_im.replay import open_store

#: The machine's shared services (trust auth, database ``test``; Redis DB 15 for tests).
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/15"
BACKENDS = ("sqlite", "postgresql", "redis")


def unique_url(kind: str, tmp_dir: str) -> str:
    """A fresh store location of ``kind``: a file in the test's tmp dir, a private schema, or
    a private key prefix."""
    tag = "t_" + secrets.token_hex(6)
    if kind == "sqlite":
        return f"sqlite://{tmp_dir}/replay-{tag}.sqlite3"
    if kind == "postgresql":
        return f"{POSTGRES_URL}?schema={tag}"
    return f"{REDIS_URL}?prefix={tag}"


def drop(url: str) -> None:
    """Remove a network store's schema or keys (a SQLite file goes with tmp_path)."""
    if url.startswith("sqlite:"):
        return
    with open_store(url) as store:
        store.drop()  # type: ignore[attr-defined]


def cleaned(url: str) -> Iterator[str]:
    """Yield ``url``, then drop what the test wrote there."""
    try:
        yield url
    finally:
        drop(url)
