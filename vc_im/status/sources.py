"""Where a verifier finds status lists: the list credentials it was handed or fetched.

Lists are matched to entries by the list credential's id (its URL). A verified list is
kept for the life of the :class:`StatusSources`, so the credentials of one presentation
share one decompression per list. Named URLs that could not be fetched
(:func:`vc_im.status.remote.fetch_lists`) are kept as failures, so a missing list says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from vc_im.keys import Key
from vc_im.model import Encoding
from vc_im.status.lists import Purpose, StatusList, peek_list_id, verify_list

__all__ = ["MAX_STATUS_LISTS", "StatusSources"]

#: List credentials one verification accepts at most.
MAX_STATUS_LISTS = 16


@dataclass(frozen=True, slots=True)
class StatusSources:
    """The list credentials given to a verifier, and whether a missing one only warns."""

    tokens: tuple[str, ...] = ()
    #: ``--status-optional``: a list that was not given is a warning, not a failure.
    optional: bool = False
    #: (URL, sentence) for each named status URL that could not be fetched.
    failures: tuple[tuple[str, str], ...] = ()
    _verified: dict[tuple[str, str, str, str, str, str], StatusList] = field(
        default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.tokens) > MAX_STATUS_LISTS:
            raise ValueError(f"at most {MAX_STATUS_LISTS} status lists are accepted")

    def find(self, url: str) -> str | None:
        """The list credential whose id is ``url``, unverified; None when none was given."""
        return next((token for token in self.tokens if peek_list_id(token) == url), None)

    def unavailable(self, url: str) -> str | None:
        """Why the list ``url`` may be missing: the failure of fetching ``url`` itself, else
        of every URL that failed (any could have held it); None when no fetch failed."""
        exact = [sentence for named, sentence in self.failures if named == url]
        return "; ".join(exact or [sentence for _named, sentence in self.failures]) or None

    def load(self, url: str, *, issuer: str, keys: Sequence[Key], purpose: Purpose,
             encoding: Encoding, now: int, leeway: int) -> StatusList | None:
        """The verified list ``url`` (None when not given); :class:`StatusUnavailable` when
        it cannot be used for this issuer and purpose."""
        token = self.find(url)
        if token is None:
            return None
        cache_key = (url, issuer, purpose.value, encoding.value,
                     ",".join(sorted(key.thumbprint() for key in keys)), token)
        cached = self._verified.get(cache_key)
        if cached is not None and cached.valid_until > now:
            return cached
        result = verify_list(token, url=url, issuer=issuer, keys=keys, purpose=purpose,
                             encoding=encoding, now=now, leeway=leeway)
        self._verified[cache_key] = result
        return result
