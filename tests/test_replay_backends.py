"""One suite of replay semantics that every backend passes: SQLite, and the machine's real
PostgreSQL and Redis, each under a private schema or key prefix."""

from __future__ import annotations

import multiprocessing
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.backends import BACKENDS, POSTGRES_URL, cleaned, unique_url
from vc_im.replay import (
    ISSUED_NONCE_RETENTION,
    ReplayBackend,
    ReplayOutcome,
    ReplayStore,
    ReplayStoreError,
    StoreUnavailable,
    open_store,
    opened,
    store_kind,
)

T0 = 1_700_000_000
ISSUER = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
HTU = "https://im.example.com/client/token"
ACCEPTED, REPLAY, EXPIRED = (ReplayOutcome.ACCEPTED, ReplayOutcome.REPLAY,
                             ReplayOutcome.NONCE_EXPIRED)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from cleaned(unique_url(request.param, str(tmp_path)))


@pytest.fixture
def store(url: str) -> Iterator[ReplayBackend]:
    with open_store(url) as opened_store:
        yield opened_store


def present(store: ReplayBackend, nonce: str, jti: str, now: int = T0 + 1) -> ReplayOutcome:
    return store.consume_presentation(nonce=nonce, issuer=ISSUER, jti=jti, now=now,
                                      expires_at=now + 300)


def test_issued_nonce_is_accepted_once(store: ReplayBackend) -> None:
    nonce = store.issue_nonce(now=T0)
    assert len(nonce) == 43
    assert present(store, nonce, "j1") is ACCEPTED
    assert present(store, nonce, "j2") is REPLAY  # the nonce is spent
    assert present(store, "other", "j1") is REPLAY  # so is (iss, jti)


def test_same_presentation_twice_is_replay_even_after_the_ttl(store: ReplayBackend) -> None:
    """A replay wins over an expired nonce."""
    nonce = store.issue_nonce(now=T0, ttl=10)
    assert present(store, nonce, "j1", now=T0 + 5) is ACCEPTED
    assert present(store, nonce, "j1", now=T0 + 50) is REPLAY


def test_issued_nonce_expires_after_its_ttl(store: ReplayBackend) -> None:
    nonce = store.issue_nonce(now=T0, ttl=10)
    assert present(store, nonce, "j1", now=T0 + 10) is EXPIRED
    assert present(store, nonce, "j1", now=T0 + 9) is ACCEPTED


def test_issued_nonce_stays_expired_once_its_entry_is_gone(store: ReplayBackend) -> None:
    """The MAC rule: past the retention the row or key no longer counts, the nonce is still
    this store's own, so it is expired, not a fresh caller-chosen nonce."""
    nonce = store.issue_nonce(now=T0, ttl=10)
    late = T0 + 10 + ISSUED_NONCE_RETENTION + 1
    store.purge(now=late)
    assert present(store, nonce, "j1", now=late) is EXPIRED


def test_nonce_of_another_store_is_a_caller_chosen_nonce(url: str, tmp_path: Path) -> None:
    with open_store(unique_url("sqlite", str(tmp_path))) as other:
        foreign = other.issue_nonce(now=T0)
    with open_store(url) as store:
        assert present(store, foreign, "j1") is ACCEPTED
        assert present(store, foreign, "j2") is REPLAY


def test_caller_chosen_nonce_is_single_use_until_its_entry_lapses(store: ReplayBackend) -> None:
    assert present(store, "n-0S6_WzA2Mj", "j1") is ACCEPTED
    assert present(store, "n-0S6_WzA2Mj", "j2") is REPLAY
    # Kept until the presentation's end of acceptance, then usable again (by a new jti).
    assert present(store, "n-0S6_WzA2Mj", "j3", now=T0 + 400) is ACCEPTED


def test_refused_nonce_leaves_the_token_unconsumed(store: ReplayBackend) -> None:
    """The token and its nonce are one decision: an expired nonce records nothing."""
    nonce = store.issue_nonce(now=T0, ttl=10)
    assert present(store, nonce, "j1", now=T0 + 20) is EXPIRED
    fresh = store.issue_nonce(now=T0 + 20)
    assert present(store, fresh, "j1", now=T0 + 21) is ACCEPTED


def test_dpop_jti_is_single_use_per_htu(store: ReplayBackend) -> None:
    def dpop(htu: str, jti: str) -> ReplayOutcome:
        return store.consume_dpop(htu=htu, jti=jti, nonce=None, now=T0, expires_at=T0 + 360)

    assert dpop(HTU, "p1") is ACCEPTED
    assert dpop(HTU, "p1") is REPLAY
    assert dpop(HTU + "/other", "p1") is ACCEPTED


def test_stats_count_what_still_counts(store: ReplayBackend) -> None:
    store.issue_nonce(now=T0)
    spent = store.issue_nonce(now=T0)
    assert present(store, spent, "j1") is ACCEPTED
    stats = store.stats(now=T0 + 1)
    assert (stats.nonces_outstanding, stats.nonces_consumed, stats.tokens_seen) == (1, 1, 1)
    assert stats.oldest_expiry == T0 + 301
    assert store.stats(now=T0 + 10 ** 6).tokens_seen == 0


def test_entries_are_shared_by_every_handle_on_the_store(url: str) -> None:
    with open_store(url) as first, open_store(url) as second:
        nonce = first.issue_nonce(now=T0)
        assert present(second, nonce, "j1") is ACCEPTED
        assert present(first, nonce, "j1") is REPLAY


def _race(url: str, nonce: str, start: multiprocessing.synchronize.Event,
          results: multiprocessing.Queue[str]) -> None:
    with open_store(url) as store:
        start.wait()
        results.put(str(present(store, nonce, "race")))


@pytest.mark.slow
def test_racing_processes_accept_once(url: str) -> None:
    """Eight processes consume the same presentation at once: exactly one is accepted."""
    with open_store(url) as store:
        nonce = store.issue_nonce(now=T0)
    context = multiprocessing.get_context("spawn" if sys.platform == "darwin" else "fork")
    start = context.Event()
    results: multiprocessing.Queue[str] = context.Queue()
    workers = [context.Process(target=_race, args=(url, nonce, start, results))
               for _ in range(8)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(60)
    outcomes = sorted(results.get(timeout=5) for _ in workers)
    assert outcomes == ["accepted"] + ["replay"] * 7


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("scheme", ["postgresql", "redis"])
def test_unreachable_store_is_unavailable_never_accepted(scheme: str) -> None:
    port = _closed_port()
    location = (f"postgresql://postgres:secret-password@127.0.0.1:{port}/test" if
                scheme == "postgresql" else f"redis://:secret-password@127.0.0.1:{port}/15")
    with open_store(location) as store:
        with pytest.raises(StoreUnavailable) as caught:
            present(store, "n-0S6_WzA2Mj", "j1")
        assert caught.value.code == "store_unavailable"
        assert "secret-password" not in caught.value.message
        with pytest.raises(StoreUnavailable):
            store.ping()


def test_store_kind_and_urls(tmp_path: Path) -> None:
    assert store_kind("replay.sqlite3") == "sqlite"
    assert store_kind(tmp_path) == "sqlite"
    assert store_kind("sqlite:///x/y.sqlite3") == "sqlite"
    assert store_kind("postgres://h/db") == "postgresql"
    assert store_kind("rediss://h") == "redis"
    with pytest.raises(ReplayStoreError, match="scheme 'mysql' is not one of"):
        store_kind("mysql://h/db")
    with pytest.raises(ReplayStoreError, match="no host"):
        open_store("sqlite://host/x.sqlite3")
    with pytest.raises(ReplayStoreError, match="schema"):
        open_store(POSTGRES_URL + "?schema=Robert');DROP")
    with pytest.raises(ReplayStoreError, match="prefix"):
        open_store("redis://127.0.0.1:6379/15?prefix=a%20b")
    with open_store(f"sqlite://{tmp_path}/u.sqlite3") as store:
        assert isinstance(store, ReplayStore)
    assert (tmp_path / "u.sqlite3").exists()


def test_opened_takes_an_object_a_path_or_a_url(url: str) -> None:
    with open_store(url) as store, opened(store) as same:
        assert same is store
    with opened(url) as fresh:
        assert fresh.location
