"""Run ``vc-im serve`` as a real process on loopback, mint presentations for it with the real
clock, and put a killable TCP proxy in front of the machine's shared PostgreSQL and Redis."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.conftest import DEVICE, HANDLE, ISSUER
from vc_im import keys
from vc_im.credentials import issue_credential
from vc_im.presentations import create_presentation
from vc_im.times import now_seconds

AUDIENCE = "https://verifier.example.org"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Minter:
    """An issuer, a trust file and a device: presentations on demand, for the real now."""

    def __init__(self, directory: Path) -> None:
        self.issuer = keys.generate("Ed25519")
        self.device = keys.generate("Ed25519")
        self.trust_path = directory / "trust.json"
        self.trust_path.write_text(json.dumps({"issuers": [{
            "id": ISSUER, "keys": [dict(self.issuer.public_jwk)], "domains": ["example.com"]}]}))
        self.credential = issue_credential(
            self.issuer, issuer=ISSUER, subject=DEVICE, fn="Alice", now=now_seconds() - 60,
            instant_messages=[HANDLE], holder_key=self.device.public())

    def presentation(self, nonce: str) -> str:
        return create_presentation(self.device, [self.credential], audience=AUDIENCE,
                                   nonce=nonce, now=now_seconds())


def request(base: str, method: str, path: str, body: Any = None,
            raw: bytes | None = None, timeout: float = 30) -> tuple[int, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method,  # noqa: S310
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:  # noqa: S310 (loopback)
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


class Service:
    """One ``vc-im serve`` process; its stderr (the access log) goes to a file."""

    def __init__(self, directory: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = directory / f"serve-{self.port}.log"
        environment = {**os.environ, "XDG_STATE_HOME": str(directory / "state"), **(env or {})}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "vc_im", "serve", "--port", str(self.port), *args],
                stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=directory)
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise AssertionError("vc-im serve exited: " + self.log.read_text())
            with contextlib.suppress(OSError):
                if request(self.base, "GET", "/healthz", timeout=2)[0] == 200:
                    return
            if time.monotonic() > deadline:
                raise AssertionError("vc-im serve did not come up: " + self.log.read_text())
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@contextlib.contextmanager
def running(directory: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Service]:
    service = Service(directory, *args, env=env)
    try:
        yield service
    finally:
        service.stop()


class Proxy:
    """A TCP proxy on loopback that can be cut off (every connection dropped, new ones
    refused) and restored on the same port, standing in for a store outage."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = upstream_port
        self.port = free_port()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self._listener is not None:
            # shutdown() first: a close() alone leaves the socket listening while the accept
            # thread is blocked on it.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._conns:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._conns.clear()
