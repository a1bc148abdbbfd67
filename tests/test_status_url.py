"""``vc-im verify --status-url``: status lists fetched from a loopback HTTPS server (trusting a
test CA, with --allow-private-network), matched by the list's id, cached in the state
directory while valid, and refused when the URL, address or body is not acceptable. Real
subprocess runs of the CLI against a real TLS server."""

from __future__ import annotations

import hashlib
import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_status_cli import NOW, Provider, device, status_check, vc_im
from tests.trust.test_wellknown import mint_tls
from vc_im import keys
from vc_im.errors import InputError
from vc_im.model import Encoding
from vc_im.status import Purpose, sign_list
from vc_im.status.remote import fetch_lists
from vc_im.times import parse_time

pytestmark = pytest.mark.slow

LATER = "2025-01-01T12:00:00Z"  # within the lists' one day of validity
TOO_LATE = "2025-01-03T00:00:00Z"  # after it
FMT = "vc2"


class Server:
    """An HTTPS server on 127.0.0.1 (certificate from a CA minted in the test's directory)
    serving ``routes``, recording every request path; :meth:`stop` takes it down."""

    def __init__(self, directory: Path) -> None:
        self.routes: dict[str, bytes] = {}
        self.requests: list[str] = []
        requests, routes = self.requests, self.routes

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                body = routes.get(self.path)
                self.send_response(404 if body is None else 200)
                self.send_header("Content-Type", "application/jwt")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: object) -> None:
                pass

        directory.mkdir()
        self.ca, cert, key = mint_tls(directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.base = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self.running = False


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "tls")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's state directory, inside the test's own directory; its status cache."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "vc-im" / "status-cache"


@pytest.fixture
def provider(tmp_path: Path) -> Provider:
    """An issuer whose lists' ids are https://im.example.com/status/vc2-*, published at NOW
    (valid one day)."""
    (tmp_path / "issuer").mkdir()
    return Provider(tmp_path / "issuer", FMT)


def serve_lists(p: Provider, server: Server) -> list[str]:
    """Put the published lists on the server, at paths other than their ids: the URLs."""
    urls = []
    for path in sorted(p.lists.iterdir()):
        server.routes[f"/mirror/{path.name}"] = path.read_bytes()
        urls.append(f"{server.base}/mirror/{path.name}")
    return urls


def verify(p: Provider, token: Path, now: str, *extra: object, server: Server | None = None,
           ok: bool | None = None) -> dict[str, Any]:
    """``vc-im verify --json`` of ``token``, trusting the server's CA, private network allowed."""
    tls = ("--ca-file", server.ca, "--allow-private-network") if server is not None else ()
    result = vc_im("verify", "--trust", p.trust, "--now", now, "--json", *tls, *extra, token,
                   ok=ok)
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def url_args(urls: list[str]) -> list[str]:
    return [arg for url in urls for arg in ("--status-url", url)]


def served(server: Server, url: str) -> bytes:
    """The token the server serves at ``url``, without the trailing newline."""
    return server.routes[url[len(server.base):]].strip()


def cache_name(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def test_fetched_lists_are_used_then_cached_until_they_expire(
        provider: Provider, server: Server, state: Path) -> None:
    """Lists fetched from the named URLs (not the ids the credential names) decide the
    status; they are cached under the SHA-256 of their URL and used from there, with the
    server up or down, while valid; after their validity the cache is not used, and with
    the server down the status is unavailable, the reason and the warnings saying why."""
    p = provider
    good, bad = p.issue(device(1)), p.issue(device(2))
    vc_im("status", "revoke", "--registry", p.registry, "--subject", device(2), "--now", NOW)
    p.publish(NOW)
    urls = serve_lists(p, server)

    report = verify(p, good, NOW, *url_args(urls), server=server, ok=True)
    assert status_check(report)["status"] == "passed"
    assert sorted(entry["list"] for entry in report["status"]) == [
        f"https://im.example.com/status/{FMT}-revocation",
        f"https://im.example.com/status/{FMT}-suspension"]
    assert "warnings" not in report
    assert sorted(server.requests) == [f"/mirror/{FMT}-revocation", f"/mirror/{FMT}-suspension"]
    assert sorted(f.name for f in state.iterdir()) == sorted(cache_name(url) for url in urls)
    assert all((state / cache_name(url)).read_bytes() == served(server, url)
               for url in urls)

    revoked = verify(p, bad, NOW, *url_args(urls), server=server, ok=False)
    assert (status_check(revoked)["status"], status_check(revoked)["code"]) == ("failed",
                                                                                "revoked")
    assert len(server.requests) == 2  # from the cache, though the server is up

    server.stop()
    later = verify(p, good, LATER, *url_args(urls), server=server, ok=True)
    assert status_check(later)["status"] == "passed"
    assert "warnings" not in later

    expired = verify(p, good, TOO_LATE, *url_args(urls), server=server, ok=False)
    check = status_check(expired)
    failures = [f"the status list at {url} could not be fetched" for url in urls]
    assert (check["status"], check["code"]) == ("failed", "status_unavailable")
    assert check["reason"] == (f"The revocation list https://im.example.com/status/"
                               f"{FMT}-revocation is unavailable: {'; '.join(failures)}.")
    assert expired["warnings"] == failures
    text = vc_im("verify", "--trust", p.trust, "--now", TOO_LATE, "--ca-file", server.ca,
                 "--allow-private-network", *url_args(urls), good, ok=False)
    assert text.stdout.startswith("invalid: status_unavailable\n" + "".join(
        f"warning: {failure}\n" for failure in failures))
    assert "could not be fetched" in text.stderr

    optional = verify(p, good, TOO_LATE, *url_args(urls), "--status-optional",
                      server=server, ok=True)
    assert status_check(optional)["status"] == "passed"
    assert [entry["status"] for entry in optional["status"]] == ["unchecked", "unchecked"]
    assert set(failures) <= set(optional["warnings"])
    assert all("could not be fetched" in warning for warning in optional["warnings"])


def test_status_url_must_be_https(provider: Provider, server: Server, state: Path) -> None:
    """--status-url with http:// is a usage error before anything is fetched."""
    token = provider.issue(device(1))
    url = f"http://127.0.0.1:{server.port}/mirror/{FMT}-revocation"
    result = vc_im("verify", "--trust", provider.trust, "--status-url", url,
                   "--allow-private-network", token, ok=None)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", f"vc-im: status lists are fetched over HTTPS only, and '{url}' uses http.\n")
    assert server.requests == []
    assert not state.exists()


def test_private_addresses_need_the_flag(provider: Provider, server: Server,
                                        state: Path) -> None:
    """Without --allow-private-network, an IP literal on the loopback is a usage error, and
    a name resolving to the loopback (localhost) is refused after resolution: the fetch fails
    (status_unavailable) and the server sees no request either way."""
    p = provider
    token = p.issue(device(1))
    p.publish(NOW)
    (url, _), path = serve_lists(p, server), f"/mirror/{FMT}-revocation"
    literal = vc_im("verify", "--trust", p.trust, "--ca-file", server.ca, "--now", NOW,
                    "--status-url", url, token, ok=None)
    assert (literal.returncode, literal.stdout, literal.stderr) == (
        2, "", f"vc-im: the status list URL '{url}' is unusable: 127.0.0.1 is not an address "
               "on the public internet.\n")
    named = f"https://localhost:{server.port}{path}"
    report = verify(p, token, NOW, "--ca-file", server.ca, "--status-url", named, ok=False)
    assert (status_check(report)["code"], report["warnings"]) == (
        "status_unavailable", [f"the status list at {named} could not be fetched"])
    assert server.requests == []
    assert not state.exists()


@pytest.mark.parametrize(("body", "detail"), [
    (b"e" * 70_000, "the response is larger than 65536 bytes"),
    (b"hello", "the response is not a status list credential (a compact JWS has three parts "
               "separated by '.', not 1)"),
], ids=["over-size", "not-a-list"])
def test_an_unacceptable_body_is_a_fetch_failure(
        body: bytes, detail: str, provider: Provider, server: Server, state: Path) -> None:
    """An over-size body (more than a token's 64 KiB) or one that is no list credential is a
    failed fetch, named in the status check's reason; nothing is cached."""
    token = provider.issue(device(1))
    server.routes["/list"] = body
    url = f"{server.base}/list"
    report = verify(provider, token, NOW, "--status-url", url, server=server, ok=False)
    failure = f"the status list at {url} could not be fetched: {detail}"
    check = status_check(report)
    assert (check["code"], check["reason"], report["warnings"]) == (
        "status_unavailable", f"The revocation list https://im.example.com/status/"
        f"{FMT}-revocation is unavailable: {failure}.", [failure])
    assert server.requests == ["/list"]
    assert not (state / cache_name(url)).exists()


def test_a_corrupt_cache_file_is_ignored_and_replaced(provider: Provider, server: Server,
                                                     state: Path) -> None:
    """A cache file that is no list credential is ignored: the list is fetched again and
    the file replaced."""
    p = provider
    token = p.issue(device(1))
    p.publish(NOW)
    urls = serve_lists(p, server)
    state.mkdir(parents=True)
    for url in urls:
        (state / cache_name(url)).write_bytes(b"\x00garbage")
    report = verify(p, token, NOW, *url_args(urls), server=server, ok=True)
    assert status_check(report)["status"] == "passed"
    assert len(server.requests) == 2
    assert all((state / cache_name(url)).read_bytes() == served(server, url)
               for url in urls)


def test_a_cached_list_is_verified_on_every_use(provider: Provider, server: Server,
                                                state: Path) -> None:
    """A well-formed, unexpired list in the cache that another key signed is used (not
    fetched) and refused like a handed-in list: status_unavailable, never trusted."""
    p = provider
    token = p.issue(device(1))
    p.publish(NOW)
    urls = serve_lists(p, server)
    state.mkdir(parents=True)
    forger = keys.generate()
    at = parse_time(NOW)
    for url, purpose in zip(urls, (Purpose.REVOCATION, Purpose.SUSPENSION), strict=True):
        forged = sign_list(forger, url=f"https://im.example.com/status/{FMT}-{purpose.value}",
                           issuer="https://im.example.com", purpose=purpose,
                           encoding=Encoding.VC2, bits=bytes(16384), now=at, valid_for=86400)
        (state / cache_name(url)).write_text(forged)
    report = verify(p, token, NOW, *url_args(urls), server=server, ok=False)
    check = status_check(report)
    assert check["code"] == "status_unavailable"
    assert "not signed by a trusted key" in check["reason"]
    assert server.requests == []


@pytest.mark.parametrize(("url", "message"), [
    ("file:///etc/passwd", "status lists are fetched over HTTPS only, and 'file:///etc/passwd' "
                           "uses file."),
    ("https://eve@im.example.com/list", "the status list URL 'https://eve@im.example.com/list' "
                                        "is unusable: the URL carries user information."),
    ("https://im.example.com/list#x", "the status list URL 'https://im.example.com/list#x' is "
                                      "unusable: the URL has a fragment."),
    ("https://169.254.169.254/latest", "the status list URL 'https://169.254.169.254/latest' "
                                       "is unusable: 169.254.169.254 is not an address on the "
                                       "public internet."),
    ("https://[::ffff:10.0.0.1]/list", "the status list URL 'https://[::ffff:10.0.0.1]/list' is "
                                       "unusable: 10.0.0.1 is not an address on the public "
                                       "internet."),
])
def test_unusable_urls_are_refused_before_any_fetch(url: str, message: str,
                                                    tmp_path: Path) -> None:
    """Every URL is checked before anything is fetched or any cache file read."""
    with pytest.raises(InputError) as caught:
        fetch_lists(["https://im.example.com:9/never-fetched", url], now=0,
                    cache_dir=tmp_path / "cache")
    assert caught.value.message == message
    assert not (tmp_path / "cache").exists()


def test_more_than_sixteen_lists_is_a_usage_error(provider: Provider, tmp_path: Path) -> None:
    """--status-list and --status-url together name at most 16 lists."""
    token = provider.issue(device(1))
    args = [arg for n in range(17) for arg in ("--status-url", f"https://l{n}.example/list")]
    result = vc_im("verify", "--trust", provider.trust, *args, token, ok=None)
    assert (result.returncode, result.stderr) == (
        2, "vc-im: at most 16 status lists (--status-list and --status-url together) are "
           "accepted.\n")
