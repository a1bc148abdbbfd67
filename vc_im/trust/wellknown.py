"""Well-known service cross-signing (the MIMI identity draft's §4.3): k of n services agree.

A user publishes the same kind of statement on each of their service accounts (a personal
web site's .well-known page, a code forge profile, ...): "IM identity ``iss``, holding key
``cnf.jwk``, owns the account ``sub``", signed by that key. One service may be compromised;
many at once are unlikely to be. So a verifier accepts an identity's key when at least
``threshold`` independent services bind it to that key and none binds it to another.

Independence is judged by host: two accounts on one host are one service, whatever their
ports or paths. A statement fetched from a URL counts only for the host it was fetched
from, so one service cannot speak for another. Fetching happens only from URLs the user
names, over HTTPS only, with a CA bundle of the caller's choice, no redirect to another
host, no proxy, a size limit and a timeout; a URL that fails is recorded, never raised.
"""

from __future__ import annotations

import http.client
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final
from urllib.parse import urlsplit

from vc_im.errors import InputError
from vc_im.identifiers import ImId
from vc_im.keys import Key
from vc_im.times import seconds_to_rfc3339
from vc_im.trust.paths import TrustPath
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

METHOD: Final = "well_known"
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
    """

    url: str
    host: str
    token: str | None
    failure: str = ""


def url_host(url: str) -> str:
    """The host of an https:// URL the user named; :class:`InputError` for anything else.

    Beyond the scheme, a URL is held to the rules of a service account URL
    (:func:`vc_im.statements.account_host`): the host it names is the service it speaks for.
    """
    if not isinstance(url, str) or not url or len(url) > _MAX_URL_CHARS:
        raise InputError("a statement URL is an https:// URL of at most 2048 characters.")
    scheme = urlsplit(url).scheme if url.isprintable() else ""
    if scheme.lower() != "https" and url.isprintable():
        raise InputError(f"statements are fetched over HTTPS only, and {url[:80]!r} uses "
                         f"{scheme or 'no scheme'}.")
    try:
        return account_host(url)
    except ValueError as exc:
        shown = url[:80].encode("ascii", "backslashreplace").decode("ascii")
        raise InputError(f"the statement URL {shown!r} is unusable: {exc}.") from exc


class _RedirectRefused(Exception):
    """A redirect to another host or scheme; becomes a recorded failure."""


class _SameHostRedirect(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to https:// on the same host (ports and paths may change)."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int,
                         msg: str, headers: http.client.HTTPMessage, newurl: str,
                         ) -> urllib.request.Request | None:
        target = urlsplit(newurl)
        try:
            same = (target.scheme.lower() == "https" and target.hostname is not None
                    and normalize_host(target.hostname) == url_host(req.full_url))
        except (ValueError, InputError):
            same = False
        if not same:
            fp.close()
            where = target.hostname or "an unusable URL"
            raise _RedirectRefused(f"the service redirected (HTTP {code}) to {where!s:.80}, "
                                   "and redirects are followed only to https:// on the same "
                                   "host")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


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


def _opener(context: ssl.SSLContext) -> urllib.request.OpenerDirector:
    """HTTPS only (no http:, file: or ftp: handler), no proxy, same-host redirects only."""
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.HTTPSHandler(context=context), _SameHostRedirect(),
                    urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def fetch_statements(urls: Sequence[str], *, ca_file: Path | None,
                     timeout: float = 5.0) -> list[FetchedStatement]:
    """Fetch a statement from each URL, in order; one failure per URL never stops the rest.

    Every URL is checked before anything is fetched (:class:`InputError` for a URL that
    is not https://). ``timeout`` bounds each network operation and the whole fetch of
    one URL. Bodies over :data:`MAX_BODY_BYTES` are refused.
    """
    if timeout <= 0:
        raise InputError("the fetch timeout must be positive.")
    hosts = [url_host(url) for url in urls]
    opener = _opener(_ssl_context(ca_file))
    return [_fetch_within(opener, url, host, timeout)
            for url, host in zip(urls, hosts, strict=True)]


def _fetch_within(opener: urllib.request.OpenerDirector, url: str, host: str,
                  timeout: float) -> FetchedStatement:
    """One fetch with a hard deadline: urllib's timeout bounds each socket read, so a server
    that drips its status line or headers could hold it much longer. The fetch runs in a
    daemon thread; past the deadline it is abandoned (its socket times out on its own)."""
    outcome: list[FetchedStatement] = []

    def fetch() -> None:
        try:
            outcome.append(_fetch_one(opener, url, host, timeout))
        except Exception as exc:  # a failed fetch is a recorded failure, never a crash
            outcome.append(_failed(url, host, f"the fetch failed ({type(exc).__name__})"))

    worker = threading.Thread(target=fetch, name=f"vc-im fetch {host}", daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    if outcome:
        return outcome[0]
    return _failed(url, host, f"the response took longer than {timeout:g} s")


def _fetch_one(opener: urllib.request.OpenerDirector, url: str, host: str,
               timeout: float) -> FetchedStatement:
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
                    return _failed(url, host, f"the response took longer than {timeout:g} s")
    except _RedirectRefused as exc:
        return _failed(url, host, str(exc))
    except urllib.error.HTTPError as exc:
        exc.close()
        return _failed(url, host, f"the service answered HTTP {exc.code}")
    except urllib.error.URLError as exc:
        return _failed(url, host, _network_reason(exc.reason, timeout))
    except (TimeoutError, http.client.HTTPException, OSError, ValueError) as exc:
        return _failed(url, host, _network_reason(exc, timeout))
    if len(body) > MAX_BODY_BYTES:
        return _failed(url, host, f"the response is larger than {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("ascii").strip()
    except UnicodeDecodeError:
        return _failed(url, host, "the response is not a compact JWS (it is not ASCII)")
    if not text:
        return _failed(url, host, "the response is empty")
    return FetchedStatement(url, host, text)


def _network_reason(reason: object, timeout: float) -> str:
    if isinstance(reason, ssl.SSLCertVerificationError):
        detail = reason.verify_message or "verification failed"
        return f"the service's TLS certificate did not verify ({detail})"
    if isinstance(reason, TimeoutError):
        return f"the service did not answer within {timeout:g} s"
    if isinstance(reason, ssl.SSLError):
        return f"the TLS handshake failed ({reason.reason or type(reason).__name__})"
    if isinstance(reason, OSError) and reason.strerror:
        return f"the service cannot be reached ({reason.strerror})"
    return f"the service cannot be reached ({type(reason).__name__})"


def _failed(url: str, host: str, reason: str) -> FetchedStatement:
    return FetchedStatement(url, host, None, reason)


# --------------------------------------------------------------------------------------------
# Evaluating


def evaluate_well_known(*, identity: ImId, key: Key,
                        statements: Sequence[Statement | FetchedStatement], threshold: int,
                        now: int, leeway: int = DEFAULT_LEEWAY) -> TrustPath:
    """Whether at least ``threshold`` distinct service hosts bind ``identity`` to ``key``
    and none binds it to another key (a contradiction: ``ok`` False, ``contradiction`` True).

    Fetched statements are read here at ``now``; a statement that is invalid, of another
    kind, for another identity, or fetched from a host other than its account's, does not
    count, and a step says why.
    """
    if threshold < 1:
        raise InputError("the well-known threshold must be at least 1.")
    agree: dict[str, str] = {}  # host -> account
    contradict: dict[str, tuple[str, Key]] = {}
    steps: list[str] = []
    for item in statements:
        source = item.url if isinstance(item, FetchedStatement) else None
        statement, host, why = _usable(item, identity, now, leeway)
        if statement is None or statement.key is None:
            steps.append(f"not counted: {why}")
            continue
        account = str(statement.subject)
        fetched = f" (fetched from {source})" if source is not None else ""
        if statement.key.thumbprint() != key.thumbprint():
            contradict.setdefault(host, (account, statement.key))
            steps.append(f"{host}: {account} binds {identity} to another key, "
                         f"{short(statement.key)}{fetched}")
        elif host in agree:
            steps.append(f"{host} again: {account} counts once with {agree[host]}, as the "
                         f"same service{fetched}")
        else:
            agree[host] = account
            steps.append(f"{host}: {account} binds {identity} to key {short(key)}{fetched}")
    if contradict:
        named = ", ".join(f"{host} names key {short(other)}"
                          for host, (_account, other) in sorted(contradict.items()))
        return TrustPath(METHOD, False, None, tuple(steps),
                         f"a contradiction: {named}, not key {short(key)}, for {identity}.",
                         contradiction=True)
    if len(agree) < threshold:
        count = len(agree)
        hosts = f" ({', '.join(sorted(agree))})" if agree else ""
        services = "1 independent service" if count == 1 else f"{count} independent services"
        return TrustPath(METHOD, False, None, tuple(steps),
                         f"only {services}{hosts} bind{'s' if count == 1 else ''} {identity} to "
                         f"key {short(key)}, and at least {threshold} must.")
    return TrustPath(METHOD, True, key.public(), tuple(steps))


def _usable(item: Statement | FetchedStatement, identity: ImId, now: int,
            leeway: int) -> tuple[Statement | None, str, str]:
    """(statement, its service host, "") when ``item`` counts for ``identity``, else
    (None, "", why not)."""
    if isinstance(item, FetchedStatement):
        if item.token is None:
            return None, "", f"{item.url}: {item.failure}"
        try:
            statement = read_statement(item.token, now=now, leeway=leeway)
        except StatementError as exc:
            return None, "", f"{item.url}: {exc.code}: {exc.message.rstrip('.')}"
        where = item.url
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
    except ValueError as exc:
        return None, "", f"{where}: {exc}"
    if isinstance(item, FetchedStatement) and host != item.host:
        return None, "", (f"{item.url}: it names the account {statement.subject} on {host}, "
                          "and a statement counts only for the host it was fetched from, "
                          f"{item.host}")
    return statement, host, ""
