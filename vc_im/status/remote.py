"""Status list credentials fetched from URLs the user named, cached in a directory given in.

Only the URLs a caller names are fetched, never the URL a credential names by itself: a
credential's entry is matched to a fetched list by the list credential's id, exactly as for
a list handed in as a file. Fetching is that of well-known statements
(:func:`vc_im.trust.fetch.fetch_texts`: HTTPS only, same-host redirects, public addresses
checked after resolution, at most one token's size, a hard deadline).

A fetched list is cached as one file per URL, named by the SHA-256 of the URL, and used again
while the list credential is still valid by its own times (``nbf`` or ``iat`` to ``exp`` and
``validUntil``, without leeway); after that it is fetched anew. The cache only saves
fetches: a cached list is verified again on every use, like any list handed in, and a cache
file that cannot be read as a list credential is ignored and replaced. The library never picks
the cache directory; the caller hands it in (the CLI uses its state directory).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeGuard

from vc_im import _jose as jose
from vc_im.errors import InputError, TokenError, VcImError
from vc_im.status.sources import MAX_STATUS_LISTS
from vc_im.times import rfc3339_to_seconds

__all__ = ["FetchedList", "cache_file", "fetch_lists"]

#: A list credential is a token: at most this many bytes, fetched or cached.
MAX_LIST_BYTES: Final = jose.MAX_TOKEN_BYTES
#: The word in every failure sentence: "the status list at URL could not be fetched".
WHAT: Final = "status list"


@dataclass(frozen=True, slots=True)
class FetchedList:
    """What one named URL gave: a list credential (unverified), or the sentence why none.

    ``cached`` says the token came from the cache; ``note`` is a sentence worth a warning
    that does not stop the list being used (it could not be cached).
    """

    url: str
    token: str | None
    failure: str = ""
    cached: bool = False
    note: str = ""


def cache_file(cache_dir: Path, url: str) -> Path:
    """Where the list fetched from ``url`` is cached: the URL's SHA-256, in hex."""
    return cache_dir / hashlib.sha256(url.encode("utf-8")).hexdigest()


def fetch_lists(urls: Sequence[str], *, now: int, cache_dir: Path | None = None,
                ca_file: Path | None = None, timeout: float = 5.0,
                allow_private_network: bool = False) -> tuple[FetchedList, ...]:
    """The list credential at each URL (each URL once, in order): from ``cache_dir`` while
    still valid at ``now``, else fetched (and cached). A failure is recorded, never raised.

    Every URL is checked before anything is fetched: :class:`InputError` for a URL that is
    not https://, or an IP literal outside the public internet without
    ``allow_private_network``, and for more than :data:`MAX_STATUS_LISTS` URLs.
    """
    from vc_im.trust.fetch import fetch_texts, https_host

    named = list(dict.fromkeys(urls))
    if len(named) > MAX_STATUS_LISTS:
        raise InputError(f"at most {MAX_STATUS_LISTS} status lists are accepted.")
    for url in named:
        https_host(url, what=WHAT, allow_private_network=allow_private_network)
    found: dict[str, FetchedList] = {}
    for url in named:
        token = _read_cache(cache_dir, url, now) if cache_dir is not None else None
        if token is not None:
            found[url] = FetchedList(url, token, cached=True)
    # Called even when everything was cached, so an unusable --ca-file is always an error.
    fetched = fetch_texts([url for url in named if url not in found], ca_file=ca_file,
                          timeout=timeout, allow_private_network=allow_private_network)
    for item in fetched:
        found[item.url] = _accept(item.url, item.text, item.failure(WHAT), cache_dir)
    return tuple(found[url] for url in named)


def _accept(url: str, text: str | None, failure: str, cache_dir: Path | None) -> FetchedList:
    """A fetched body as a list credential, cached; or the failure that names the URL."""
    if text is None:
        return FetchedList(url, None, failure)
    try:
        _lifetime(text)
    except ValueError as exc:
        return FetchedList(url, None, f"the {WHAT} at {url} could not be fetched: the response "
                                      f"is not a status list credential ({exc})")
    if cache_dir is None:
        return FetchedList(url, text)
    from vc_im.files import write_new_file

    try:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_new_file(cache_file(cache_dir, url), text.encode("ascii"), force=True)
    except (OSError, VcImError) as exc:
        reason = exc.message if isinstance(exc, VcImError) else (exc.strerror or str(exc))
        return FetchedList(url, text, note=f"the {WHAT} from {url} could not be cached in "
                                           f"{cache_dir}: {reason.rstrip('.')}")
    return FetchedList(url, text)


def _read_cache(cache_dir: Path, url: str, now: int) -> str | None:
    """The cached list credential for ``url`` while it is valid at ``now``; None when there
    is none, it has expired, or the file is not a list credential (a symlink, too large, not
    a compact JWS with a ``jti`` and times): such a file is ignored, and replaced."""
    path = cache_file(cache_dir, url)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            data = handle.read(MAX_LIST_BYTES + 1)
    except OSError:
        return None
    try:
        text = data.decode("ascii").strip()
        start, end = _lifetime(text)
    except ValueError:  # UnicodeDecodeError included
        return None
    return text if start <= now < end else None


def _lifetime(token: str) -> tuple[int, int]:
    """(from, until) of an unverified list credential: ``nbf`` (else ``iat``, else 0) to the
    earliest of ``exp``, ``validUntil`` and ``expirationDate``. :class:`ValueError` naming
    what is missing when it is not a compact JWS with a string ``jti`` and an integer ``exp``.
    """
    if len(token) > MAX_LIST_BYTES:
        raise ValueError(f"it is larger than {MAX_LIST_BYTES} bytes")
    try:
        payload = jose.peek_unverified(token).payload
    except TokenError as exc:
        raise ValueError(exc.message.rstrip(".")) from exc
    exp, start = payload.get("exp"), payload.get("nbf", payload.get("iat", 0))
    if not isinstance(payload.get("jti"), str) or not _is_int(exp) or not _is_int(start):
        raise ValueError("it has no jti, or no NumericDate exp")
    ends = [exp]
    vc = payload.get("vc")
    for model in (payload, vc if isinstance(vc, Mapping) else {}):
        ends.extend(_date(model, name) for name in ("validUntil", "expirationDate")
                    if name in model)
    return start, min(ends)


def _date(model: Mapping[str, Any], name: str) -> int:
    value = model[name]
    seconds = rfc3339_to_seconds(value) if isinstance(value, str) else None
    if seconds is None:
        raise ValueError(f"its {name} is not an RFC 3339 date-time")
    return seconds


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
