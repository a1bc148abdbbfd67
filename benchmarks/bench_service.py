"""Print the throughput of ``POST /presentations/verify`` on loopback next to the in-process
rate of ``verify_presentation``, on the embedded SQLite store or on a URL (--store).

Run: ``python benchmarks/bench_service.py [--count N] [--concurrency C] [--store URL]``.
The load tool is httpx's async client with C connections kept open; every request carries a
fresh presentation, so each one is a full verification and one replay-store write. A
measurement, not a test: it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from service_helpers import AUDIENCE, Minter, running

from vc_im.presentations import verify_presentation
from vc_im.replay import open_store
from vc_im.times import now_seconds
from vc_im.trust import read_trust_file


async def load(base: str, bodies: list[bytes], concurrency: int) -> tuple[float, int]:
    """Send every body once, ``concurrency`` at a time; seconds taken and how many verified."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    verified = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal verified
        while not queue.empty():
            body = queue.get_nowait()
            answer = await client.post(base + "/presentations/verify", content=body,
                                       headers={"content-type": "application/json"})
            verified += bool(answer.json()["verified"])

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return time.perf_counter() - start, verified


def main() -> None:
    """Mint presentations, time them in process, then through a real ``vc-im serve``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--store", default="")
    options = parser.parse_args()
    directory = Path(tempfile.mkdtemp())
    minter = Minter(directory)
    store_url = options.store or str(directory / "bench.sqlite3")

    def minted() -> list[tuple[str, str]]:
        return [(minter.presentation(nonce), nonce)
                for nonce in (f"n-{secrets.token_hex(8)}" for _ in range(options.count))]

    trust = read_trust_file(minter.trust_path)
    items = minted()
    with open_store(store_url) as store:
        start = time.perf_counter()
        for token, nonce in items:
            verify_presentation(token, trust, now=now_seconds(), audience=AUDIENCE,
                                nonce=nonce, store=store)
        in_process = options.count / (time.perf_counter() - start)

    bodies = [json.dumps({"verifiablePresentation": token, "options": {"challenge": nonce}})
              .encode() for token, nonce in minted()]
    with running(directory, "--trust", str(minter.trust_path), "--audience", AUDIENCE,
                 "--store", store_url):
        pass  # warm the interpreter's caches on disk
    with running(directory, "--trust", str(minter.trust_path), "--audience", AUDIENCE,
                 "--store", store_url) as service:
        seconds, verified = asyncio.run(load(service.base, bodies, options.concurrency))
    print(f"store: {store_url.split('?')[0]}")
    print(f"in-process verify_presentation: {in_process:8.0f} /s (one thread)")
    print(f"POST /presentations/verify:     {options.count / seconds:8.0f} /s "
          f"({options.concurrency} connections, one process, {verified} verified)")


if __name__ == "__main__":
    main()
