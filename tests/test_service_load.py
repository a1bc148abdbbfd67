"""Load and faults on loopback: two ``vc-im serve`` processes sharing one store race for the
same 1,000 presentations, and a store cut off mid-run never lets a presentation through
twice and comes back without a restart."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers.backends import cleaned, unique_url
from tests.helpers.service import AUDIENCE, Minter, Proxy, Service, request, running

pytestmark = pytest.mark.slow
COUNT = 1000


def outcome(service: Service, token: str, nonce: str) -> str:
    status, result = request(service.base, "POST", "/presentations/verify",
                             {"verifiablePresentation": token,
                              "options": {"challenge": nonce, "domain": AUDIENCE}}, timeout=60)
    assert status == 200, result
    return "valid" if result["verified"] else str(result["errors"][0]["code"])


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from cleaned(unique_url(request.param, str(tmp_path)))


def test_two_services_accept_each_presentation_once(tmp_path: Path, store_url: str) -> None:
    minter = Minter(tmp_path)
    items = [(minter.presentation(nonce), nonce)
             for nonce in (f"n-{secrets.token_hex(8)}" for _ in range(COUNT))]
    args = ("--trust", str(minter.trust_path), "--audience", AUDIENCE, "--store", store_url)
    with running(tmp_path, *args) as first, running(tmp_path, *args) as second, \
            ThreadPoolExecutor(32) as pool:
        futures = [pool.submit(outcome, service, token, nonce)
                   for token, nonce in items for service in (first, second)]
        counts = Counter(future.result() for future in futures)
    assert counts == {"valid": COUNT, "replay": COUNT}


@pytest.mark.parametrize(("upstream", "url"), [
    (5432, "postgresql://postgres@127.0.0.1:{port}/test?schema={tag}"),
    (6379, "redis://127.0.0.1:{port}/15?prefix={tag}"),
])
def test_store_outage_fails_closed_and_recovers(tmp_path: Path, upstream: int,
                                                url: str) -> None:
    proxy = Proxy(upstream)
    tag = "t_" + secrets.token_hex(6)
    store_url = url.format(port=proxy.port, tag=tag)
    direct = url.format(port=upstream, tag=tag)
    minter = Minter(tmp_path)
    try:
        with running(tmp_path, "--trust", str(minter.trust_path), "--audience", AUDIENCE,
                     "--store", store_url) as service:
            before = [(minter.presentation(n), n) for n in ("n-a1", "n-a2")]
            assert [outcome(service, *item) for item in before] == ["valid", "valid"]

            proxy.cut()
            during = [(minter.presentation(n), n) for n in ("n-b1", "n-b2")]
            assert [outcome(service, *item) for item in during + before] == [
                "store_unavailable"] * 4
            assert request(service.base, "GET", "/readyz")[0] == 503
            assert request(service.base, "POST", "/challenges", {})[0] == 503

            proxy.restore()
            assert request(service.base, "GET", "/readyz")[0] == 200
            # Nothing seen during the outage was recorded, and nothing is accepted twice.
            assert [outcome(service, *item) for item in during] == ["valid", "valid"]
            assert [outcome(service, *item) for item in before + during] == ["replay"] * 4
            assert service.process.poll() is None
            log = service.log.read_text()
            assert '"code":"store_unavailable"' in log
    finally:
        proxy.cut()
        cleanup = cleaned(direct)
        next(cleanup)
        next(cleanup, None)
