"""Well-known service cross-signing (the MIMI identity draft's §4.3): k of n services agree.

A user publishes the same kind of statement on each of their service accounts (a personal
web site's .well-known page, a code forge profile, ...): "IM identity ``iss``, holding key
``cnf.jwk``, owns the account ``sub``", signed by that key. One service may be compromised;
many at once are unlikely to be. So a verifier accepts an identity's key when at least
``threshold`` independent services bind it to that key and none binds it to another.

Independence is judged by registrable domain (:mod:`vc_im.trust.services`): accounts on
``a.example.com`` and ``b.example.com`` are one service, whatever their ports or paths, and
IP literals and single-label hosts are no service at all. A statement fetched from a URL
counts only for the host it was fetched from, so one service cannot speak for another.

Fetching happens only from URLs the user names, over HTTPS only, with a CA bundle of the
caller's choice, no redirect to another host, no proxy, a size limit and a timeout. Every
connection (redirects included) goes only to addresses on the public internet, checked
after name resolution, unless the caller allows the private network. A URL that fails is
recorded, never raised, and every failure to connect, resolve, complete TLS or answer in
time reads the same, so fetching cannot be used to map a network.
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
from vc_im.identifiers import ImId
from vc_im.keys import Key
from vc_im.times import seconds_to_rfc3339
from vc_im.trust.paths import TrustMethod, TrustPath
from vc_im.trust.services import is_public_address, service_of
from vc_im.trust.statements import (
    DEFAULT_LEEWAY,
    Statement,
    StatementError,
    StatementKind,
    account_host,
    normalize_host,
    read_statement,
)
from vc_im.trust.statements import short_thumbprint as short

__all__ = ["MAX_BODY_BYTES", "METHOD", "FetchedStatement", "evaluate_well_known",
           "fetch_statements", "url_host"]

METHOD: Final = TrustMethod.WELL_KNOWN
#: A statement larger than this is refused unread (the size limit of every token).
MAX_BODY_BYTES: Final = 65536
#: Redirects followed within one host before giving up.
MAX_REDIRECTS: Final = 3
_CHUNK: Final = 8192
_MAX_URL_CHARS: Final = 2048


@dataclass(frozen=True, slots=True)
class FetchedStatement:
    """What one URL gave: the statement's text, or why there is none.

    The text is read (signature, claims, times) by :func:`evaluate_well_known`, which
    knows the time; ``host`` is the URL's host, the only service it may speak for.
    ``failure`` is one sentence that names the URL; ``allow_private_network`` records
    that the caller let the fetch reach the private network, so a loopback host may count.
    """

    url: str
    host: str
    token: str | None
    failure: str = ""
    allow_private_network: bool = False


def url_host(url: str, *, allow_private_network: bool = False) -> str:
    """The host of an https:// URL the user named; :class:`InputError` for anything else.

    Beyond the scheme, a URL is held to the rules of a service account URL
    (:func:`vc_im.statements.account_host`), and its host must be a well-known service
    (:func:`vc_im.trust.services.service_of`; loopback hosts only when
    ``allow_private_network``): the host it names is the service it speaks for.
    """
    if not isinstance(url, str) or not url or len(url) > _MAX_URL_CHARS:
        raise InputError("a statement URL is an https:// URL of at most 2048 characters.")
    scheme = urlsplit(url).scheme if url.isprintable() else ""
    if scheme.lower() != "https" and url.isprintable():
        raise InputError(f"statements are fetched over HTTPS only, and {url[:80]!r} uses "
                         f"{scheme or 'no scheme'}.")
    try:
        host = account_host(url)
        service_of(host, allow_loopback=allow_private_network)
    except ValueError as exc:
        shown = url[:80].encode("ascii", "backslashreplace").decode("ascii")
        raise InputError(f"the statement URL {shown!r} is unusable: {exc}.") from exc
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


def _ssl_context(ca_file: Path | None) -> ssl.SSLContext:
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


def fetch_statements(urls: Sequence[str], *, ca_file: Path | None, timeout: float = 5.0,
                     allow_private_network: bool = False) -> list[FetchedStatement]:
    """Fetch a statement from each URL, in order; one failure per URL never stops the rest.

    Every URL is checked before anything is fetched (:class:`InputError` for a URL that
    is not https:// or whose host is not a well-known service, see :func:`url_host`).
    ``timeout`` bounds each network operation and the whole fetch of one URL. Bodies over
    :data:`MAX_BODY_BYTES` are refused. Connections go only to public addresses, checked
    after resolution, unless ``allow_private_network`` (which also admits loopback hosts).
    """
    if timeout <= 0:
        raise InputError("the fetch timeout must be positive.")
    hosts = [url_host(url, allow_private_network=allow_private_network) for url in urls]
    opener = _opener(_ssl_context(ca_file), allow_private_network=allow_private_network)
    fetched = [_fetch_within(opener, url, host, timeout)
               for url, host in zip(urls, hosts, strict=True)]
    return [FetchedStatement(item.url, item.host, item.token, item.failure,
                             allow_private_network) for item in fetched]


def _fetch_within(opener: urllib.request.OpenerDirector, url: str, host: str,
                  timeout: float) -> FetchedStatement:
    """One fetch with a hard deadline: urllib's timeout bounds each socket read, so a server
    that drips its status line or headers could hold it much longer. The fetch runs in a
    daemon thread; past the deadline it is abandoned (its socket times out on its own)."""
    outcome: list[FetchedStatement] = []

    def fetch() -> None:
        try:
            outcome.append(_fetch_one(opener, url, host, timeout))
        except Exception:  # a failed fetch is a recorded failure, never a crash
            outcome.append(_failed(url, host))

    worker = threading.Thread(target=fetch, name=f"vc-im fetch {host}", daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    if outcome:
        return outcome[0]
    return _failed(url, host)


def _fetch_one(opener: urllib.request.OpenerDirector, url: str, host: str,
               timeout: float) -> FetchedStatement:
    """One fetch. Whatever goes wrong before a service answers over verified TLS (no address,
    a refused address, a refused or reset connection, a failed handshake, a timeout) is the
    one failure "could not be fetched"; what the service then says is named."""
    deadline = time.monotonic() + timeout
    # The scheme is https (url_host), and the opener has no handler for any other.
    request = urllib.request.Request(url, headers={  # noqa: S310
        "Accept": "application/jwt, text/plain;q=0.5", "User-Agent": "vc-im"})
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                return _failed(url, host, f"the response is larger than {MAX_BODY_BYTES} bytes")
            body = b""
            while len(body) <= MAX_BODY_BYTES:
                # read1: whatever arrived, at most one socket read, so a server that
                # drips bytes cannot hold the fetch much past the deadline.
                chunk = response.read1(_CHUNK)
                if not chunk:
                    break
                body += chunk
                if time.monotonic() > deadline:
                    return _failed(url, host)
    except _RedirectRefused as exc:
        return _failed(url, host, str(exc))
    except urllib.error.HTTPError as exc:
        exc.close()
        return _failed(url, host, f"the service answered HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, http.client.HTTPException, OSError,
            ValueError):
        return _failed(url, host)
    if len(body) > MAX_BODY_BYTES:
        return _failed(url, host, f"the response is larger than {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("ascii").strip()
    except UnicodeDecodeError:
        return _failed(url, host, "the response is not a compact JWS (it is not ASCII)")
    if not text:
        return _failed(url, host, "the response is empty")
    return FetchedStatement(url, host, text)


def _failed(url: str, host: str, detail: str = "") -> FetchedStatement:
    """A failed fetch: "the statement at URL could not be fetched", and what the service
    said when it answered."""
    return FetchedStatement(url, host, None, f"the statement at {url} could not be fetched"
                            + (f": {detail}" if detail else ""))


# --------------------------------------------------------------------------------------------
# Evaluating


def evaluate_well_known(*, identity: ImId, key: Key,
                        statements: Sequence[Statement | FetchedStatement], threshold: int,
                        now: int, leeway: int = DEFAULT_LEEWAY,
                        allow_private_network: bool = False) -> TrustPath:
    """Whether at least ``threshold`` independent services bind ``identity`` to ``key``
    and none binds it to another key (a contradiction: ``ok`` False, ``contradiction`` True).

    A service is a registrable domain (:func:`vc_im.trust.services.service_of`): accounts
    on one count once. Fetched statements are read here at ``now``; a statement that is
    invalid, of another kind, for another identity, on a host that is no service (an IP
    literal, a single-label host), or fetched from a host other than its account's, does
    not count, and a step says why. Loopback hosts count, as one service, for statements
    fetched with the private network allowed, or for all with ``allow_private_network``.
    """
    if threshold < 1:
        raise InputError("the well-known threshold must be at least 1.")
    agree: dict[str, str] = {}  # service -> account
    contradict: dict[str, tuple[str, Key]] = {}
    steps: list[str] = []
    for item in statements:
        source = item.url if isinstance(item, FetchedStatement) else None
        statement, service, why = _usable(item, identity, now, leeway, allow_private_network)
        if statement is None or statement.key is None:
            steps.append(f"not counted: {why}")
            continue
        account = str(statement.subject)
        fetched = f" (fetched from {source})" if source is not None else ""
        if statement.key.thumbprint() != key.thumbprint():
            contradict.setdefault(service, (account, statement.key))
            steps.append(f"{service}: {account} binds {identity} to another key, "
                         f"{short(statement.key)}{fetched}")
        elif service in agree:
            steps.append(f"{service} again: {account} counts once with {agree[service]}, as "
                         f"the same service{fetched}")
        else:
            agree[service] = account
            steps.append(f"{service}: {account} binds {identity} to key {short(key)}{fetched}")
    if contradict:
        named = ", ".join(f"{service} names key {short(other)}"
                          for service, (_account, other) in sorted(contradict.items()))
        return TrustPath(METHOD, False, None, tuple(steps),
                         f"a contradiction: {named}, not key {short(key)}, for {identity}.",
                         contradiction=True)
    if len(agree) < threshold:
        count = len(agree)
        services = f" ({', '.join(sorted(agree))})" if agree else ""
        counted = "1 independent service" if count == 1 else f"{count} independent services"
        return TrustPath(METHOD, False, None, tuple(steps),
                         f"only {counted}{services} bind{'s' if count == 1 else ''} {identity} "
                         f"to key {short(key)}, and at least {threshold} must.")
    return TrustPath(METHOD, True, key.public(), tuple(steps))


def _usable(item: Statement | FetchedStatement, identity: ImId, now: int, leeway: int,
            allow_private_network: bool) -> tuple[Statement | None, str, str]:
    """(statement, its service, "") when ``item`` counts for ``identity``, else
    (None, "", why not)."""
    if isinstance(item, FetchedStatement):
        if item.token is None:
            return None, "", item.failure
        try:
            statement = read_statement(item.token, now=now, leeway=leeway)
        except StatementError as exc:
            return None, "", f"{item.url}: {exc.code}: {exc.message.rstrip('.')}"
        where = item.url
        allow_private_network = allow_private_network or item.allow_private_network
    else:
        statement = item
        where = str(statement.subject) if statement.subject is not None else statement.jti
        if (statement.expires_at is not None
                and now - leeway >= statement.expires_at):
            return None, "", (f"{where}: the statement expired at "
                              f"{seconds_to_rfc3339(statement.expires_at)}")
    if statement.kind is not StatementKind.WELLKNOWN:
        return None, "", f"{where}: a {statement.kind.short} statement, not a well-known one"
    if statement.issuer != identity:
        return None, "", f"{where}: the statement is for {statement.issuer}, not {identity}"
    try:
        host = account_host(str(statement.subject))
        service = service_of(host, allow_loopback=allow_private_network)
    except ValueError as exc:
        return None, "", f"{where}: {exc}"
    if isinstance(item, FetchedStatement) and host != item.host:
        return None, "", (f"{item.url}: it names the account {statement.subject} on {host}, "
                          "and a statement counts only for the host it was fetched from, "
                          f"{item.host}")
    return statement, service, ""
