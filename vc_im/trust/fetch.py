"""Guarded HTTPS fetching of small signed documents from URLs the user named.

Well-known statements (:mod:`vc_im.trust.wellknown`) and status list credentials
(:mod:`vc_im.status.remote`) are fetched the same way, by :func:`fetch_texts`: HTTPS only
(the opener has no handler for any other scheme), a CA bundle of the caller's choice, no
proxy, redirects only to https:// on the same host, a size limit and a hard deadline. Every
connection (redirects included) goes only to addresses on the public internet, checked after
name resolution, and the socket goes to the very address that was checked, unless the caller
allows the private network. A URL that fails is recorded, never raised, and every failure to
connect, resolve, complete TLS or answer in time reads the same, so fetching cannot be used
to map a network.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final
from urllib.parse import urlsplit

from vc_im.errors import InputError
from vc_im.trust.services import ip_literal, is_public_address
from vc_im.trust.statements import https_url_host, normalize_host

__all__ = ["MAX_BODY_BYTES", "MAX_REDIRECTS", "MAX_URL_CHARS", "Fetched", "fetch_texts",
           "https_host", "ssl_context"]

#: A body larger than this is refused unread (the size limit of every token).
MAX_BODY_BYTES: Final = 65536
#: Redirects followed within one host before giving up.
MAX_REDIRECTS: Final = 3
#: The longest URL accepted.
MAX_URL_CHARS: Final = 2048
_CHUNK: Final = 8192
_ACCEPT: Final = "application/jwt, text/plain;q=0.5"


@dataclass(frozen=True, slots=True)
class Fetched:
    """What one URL gave: its text (ASCII, stripped, non-empty), or None and ``detail``,
    what the server said when it answered over verified TLS ("" when nothing did)."""

    url: str
    text: str | None
    detail: str = ""

    def failure(self, what: str) -> str:
        """The one sentence for a failed fetch: "the WHAT at URL could not be fetched", and
        what the server said, when it answered."""
        return (f"the {what} at {self.url} could not be fetched"
                + (f": {self.detail}" if self.detail else ""))


def https_host(url: str, *, what: str, allow_private_network: bool = False) -> str:
    """The normalised host of an https:// URL naming ``what``; :class:`InputError` otherwise.

    The URL carries no user information or fragment; an IP literal outside the public
    internet is refused here, before anything is resolved, unless ``allow_private_network``
    (names are checked after resolution, when connecting).
    """
    if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS:
        raise InputError(f"a {what} URL is an https:// URL of at most {MAX_URL_CHARS} "
                         "characters.")
    shown = url[:80].encode("ascii", "backslashreplace").decode("ascii")
    if not url.isprintable() or any(char.isspace() for char in url):
        raise InputError(f"the {what} URL {shown!r} is unusable: it contains whitespace or "
                         "control characters.")
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        raise InputError(f"{what}s are fetched over HTTPS only, and {shown!r} uses "
                         f"{parts.scheme or 'no scheme'}.")
    try:
        host = https_url_host(url)
        address = ip_literal(host)
        if address is not None and not allow_private_network and not is_public_address(
                address):
            raise ValueError(f"{host} is not an address on the public internet")
    except ValueError as exc:
        raise InputError(f"the {what} URL {shown!r} is unusable: {exc}.") from exc
    return host


class _RedirectRefused(Exception):
    """A redirect to another host or scheme; becomes a recorded failure."""


class _AddressRefused(OSError):
    """A host that resolves to an address outside the public internet."""


class _SameHostRedirect(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to https:// on the same host (ports and paths may change)."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int,
                         msg: str, headers: http.client.HTTPMessage, newurl: str,
                         ) -> urllib.request.Request | None:
        target = urlsplit(newurl)
        origin = urlsplit(req.full_url).hostname
        try:
            same = (target.scheme.lower() == "https" and target.hostname is not None
                    and origin is not None
                    and normalize_host(target.hostname) == normalize_host(origin))
        except ValueError:
            same = False
        if not same:
            fp.close()
            where = target.hostname or "an unusable URL"
            raise _RedirectRefused(f"the service redirected (HTTP {code}) to {where!s:.80}, "
                                   "and redirects are followed only to https:// on the same "
                                   "host")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _GuardedConnection(http.client.HTTPSConnection):
    """An HTTPS connection that resolves its host itself and connects only to public
    addresses (any address, with ``allow_private_network``). TLS still checks the
    certificate against the host name; the socket goes to the address that was checked, so
    a second resolution cannot swap it for another."""

    def __init__(self, host: str, *, allow_private_network: bool, **options: Any) -> None:
        super().__init__(host, **options)
        self._allow_private_network = allow_private_network
        self._create_connection = self._connect_checked

    def _connect_checked(self, address: tuple[str, int], timeout: float | None = None,
                         source_address: tuple[str, int] | None = None) -> socket.socket:
        host, port = address
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        if not self._allow_private_network and not all(
                is_public_address(ipaddress.ip_address(str(info[4][0]).partition("%")[0]))
                for info in found):
            raise _AddressRefused(f"{host} resolves to an address outside the public internet")
        last: OSError = _AddressRefused(f"{host} resolves to no address")
        for family, kind, protocol, _name, target in found:
            sock = socket.socket(family, kind, protocol)
            try:
                sock.settimeout(timeout)
                if source_address is not None:
                    sock.bind(source_address)
                sock.connect(target)
            except OSError as exc:
                sock.close()
                last = exc
                continue
            return sock
        raise last


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    """HTTPS through :class:`_GuardedConnection`: every connection is checked, redirects'
    too."""

    def __init__(self, context: ssl.SSLContext, *, allow_private_network: bool) -> None:
        super().__init__(context=context)
        self._tls = context
        self._allow_private_network = allow_private_network

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(_GuardedConnection,
                                       allow_private_network=self._allow_private_network)
        return self.do_open(connection, req, context=self._tls)


def ssl_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificate and host name checks on; trust ``ca_file`` alone, or the system's store."""
    try:
        if ca_file is None:
            return ssl.create_default_context()
        return ssl.create_default_context(cafile=str(ca_file))
    except FileNotFoundError as exc:
        raise InputError(f"the CA file {ca_file} does not exist.") from exc
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise InputError(f"the CA file {ca_file} holds no usable PEM certificates.") from exc


def _opener(context: ssl.SSLContext, *,
            allow_private_network: bool) -> urllib.request.OpenerDirector:
    """HTTPS only (no http:, file: or ftp: handler), no proxy, same-host redirects only,
    public addresses only (unless ``allow_private_network``)."""
    opener = urllib.request.OpenerDirector()
    for handler in (_GuardedHTTPSHandler(context, allow_private_network=allow_private_network),
                    _SameHostRedirect(), urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def fetch_texts(urls: Sequence[str], *, ca_file: Path | None, timeout: float = 5.0,
                allow_private_network: bool = False) -> list[Fetched]:
    """Fetch each URL, in order; one failure per URL never stops the rest.

    The caller has checked each URL (:func:`https_host`, or a stricter rule of its own).
    ``timeout`` bounds each network operation and the whole fetch of one URL. Bodies over
    :data:`MAX_BODY_BYTES` are refused; a body must be ASCII text (a compact JWS).
    """
    if timeout <= 0:
        raise InputError("the fetch timeout must be positive.")
    opener = _opener(ssl_context(ca_file), allow_private_network=allow_private_network)
    return [_fetch_within(opener, url, timeout) for url in urls]


def _fetch_within(opener: urllib.request.OpenerDirector, url: str,
                  timeout: float) -> Fetched:
    """One fetch with a hard deadline: urllib's timeout bounds each socket read, so a server
    that drips its status line or headers could hold it much longer. The fetch runs in a
    daemon thread; past the deadline it is abandoned (its socket times out on its own)."""
    outcome: list[Fetched] = []

    def fetch() -> None:
        try:
            outcome.append(_fetch_one(opener, url, timeout))
        except Exception:  # a failed fetch is a recorded failure, never a crash
            outcome.append(Fetched(url, None))

    host = urlsplit(url).hostname or "?"
    worker = threading.Thread(target=fetch, name=f"vc-im fetch {host}", daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    if outcome:
        return outcome[0]
    return Fetched(url, None)


def _fetch_one(opener: urllib.request.OpenerDirector, url: str, timeout: float) -> Fetched:
    """One fetch. Whatever goes wrong before a service answers over verified TLS (no address,
    a refused address, a refused or reset connection, a failed handshake, a timeout) is the
    one failure "could not be fetched"; what the service then says is named."""
    deadline = time.monotonic() + timeout
    # The scheme is https (checked by the caller), and the opener has no handler for any other.
    request = urllib.request.Request(url, headers={  # noqa: S310
        "Accept": _ACCEPT, "User-Agent": "vc-im"})
    too_large = f"the response is larger than {MAX_BODY_BYTES} bytes"
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                return Fetched(url, None, too_large)
            body = b""
            while len(body) <= MAX_BODY_BYTES:
                # read1: whatever arrived, at most one socket read, so a server that
                # drips bytes cannot hold the fetch much past the deadline.
                chunk = response.read1(_CHUNK)
                if not chunk:
                    break
                body += chunk
                if time.monotonic() > deadline:
                    return Fetched(url, None)
    except _RedirectRefused as exc:
        return Fetched(url, None, str(exc))
    except urllib.error.HTTPError as exc:
        exc.close()
        return Fetched(url, None, f"the service answered HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, http.client.HTTPException, OSError,
            ValueError):
        return Fetched(url, None)
    if len(body) > MAX_BODY_BYTES:
        return Fetched(url, None, too_large)
    try:
        text = body.decode("ascii").strip()
    except UnicodeDecodeError:
        return Fetched(url, None, "the response is not a compact JWS (it is not ASCII)")
    if not text:
        return Fetched(url, None, "the response is empty")
    return Fetched(url, text)
