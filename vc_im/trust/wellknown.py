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

Fetching happens only from URLs the user names, through the guarded HTTPS fetcher of
:mod:`vc_im.trust.fetch` (HTTPS only, same-host redirects, no proxy, public addresses checked
after resolution unless the caller allows the private network, a size limit and a deadline).
A URL that fails is recorded, never raised, and every failure to connect, resolve, complete
TLS or answer in time reads the same, so fetching cannot be used to map a network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from vc_im.errors import InputError
from vc_im.identifiers import ImId
from vc_im.keys import Key
from vc_im.times import seconds_to_rfc3339
from vc_im.trust.fetch import MAX_BODY_BYTES, MAX_URL_CHARS, fetch_texts
from vc_im.trust.paths import TrustMethod, TrustPath
from vc_im.trust.services import service_of
from vc_im.trust.statements import (
    DEFAULT_LEEWAY,
    Statement,
    StatementError,
    StatementKind,
    account_host,
    read_statement,
)
from vc_im.trust.statements import short_thumbprint as short

__all__ = ["MAX_BODY_BYTES", "METHOD", "FetchedStatement", "evaluate_well_known",
           "fetch_statements", "url_host"]

METHOD: Final = TrustMethod.WELL_KNOWN


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
    if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS:
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


def fetch_statements(urls: Sequence[str], *, ca_file: Path | None, timeout: float = 5.0,
                     allow_private_network: bool = False) -> list[FetchedStatement]:
    """Fetch a statement from each URL, in order; one failure per URL never stops the rest.

    Every URL is checked before anything is fetched (:class:`InputError` for a URL that
    is not https:// or whose host is not a well-known service, see :func:`url_host`), then
    fetched by :func:`vc_im.trust.fetch.fetch_texts`: ``timeout`` bounds each network
    operation and the whole fetch of one URL, bodies over :data:`MAX_BODY_BYTES` are
    refused, and connections go only to public addresses, checked after resolution, unless
    ``allow_private_network`` (which also admits loopback hosts).
    """
    if timeout <= 0:
        raise InputError("the fetch timeout must be positive.")
    hosts = [url_host(url, allow_private_network=allow_private_network) for url in urls]
    fetched = fetch_texts(urls, ca_file=ca_file, timeout=timeout,
                          allow_private_network=allow_private_network)
    return [FetchedStatement(item.url, host, item.text,
                             "" if item.text is not None else item.failure("statement"),
                             allow_private_network)
            for item, host in zip(fetched, hosts, strict=True)]


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
