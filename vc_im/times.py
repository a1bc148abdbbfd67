"""Time values: NumericDates, RFC 3339 date-times and durations.

JWTs carry NumericDates (RFC 7519 §2: seconds since the epoch); credentials
carry XML Schema dateTimes; the CLI takes both, plus durations like ``90d``.
Everything here is pure: callers pass ``now`` explicitly.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from vc_im.errors import InputError

#: 9999-12-31T23:59:59Z, the largest NumericDate a credential can carry.
MAX_NUMERIC_DATE = 253_402_300_799
#: 13 digits: milliseconds, not seconds (the seed's example makes this mistake).
MILLISECONDS_THRESHOLD = 1_000_000_000_000

#: The leeway every time check allows unless told otherwise (CONTRACT.md).
DEFAULT_LEEWAY = 60


@dataclass(frozen=True, slots=True)
class TimeRules:
    """The verifier's clock and its leeway: the one place where a time window is judged.

    Credentials, presentations, DPoP proofs and statements all ask these questions, so a
    leeway means the same everywhere (CONTRACT.md: it applies to every time check).
    """

    now: int
    leeway: int = DEFAULT_LEEWAY

    def __post_init__(self) -> None:
        # A float clock (``time.time()``) is floored here too, so every window is whole seconds.
        object.__setattr__(self, "now", as_now(self.now))

    def not_yet(self, start: int) -> bool:
        """``nbf`` / ``validFrom``: the window starts after now, even with the leeway."""
        return self.now + self.leeway < start

    def ended(self, end: int) -> bool:
        """``exp`` / ``validUntil``: the window ended at or before now, even with the leeway."""
        return self.now - self.leeway >= end

    def in_future(self, moment: int) -> bool:
        """``iat``: a creation time later than now, beyond the leeway."""
        return moment > self.now + self.leeway

    def too_old(self, created: int, max_age: int) -> bool:
        """Created more than ``max_age`` seconds ago, beyond the leeway."""
        return self.now - created > max_age + self.leeway


_DURATION = re.compile(r"\A([0-9]{1,9})([smhd])\Z")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RFC3339 = re.compile(
    r"\A(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})\Z"
)


def as_now(value: object, name: str = "now") -> int:
    """``value`` as whole seconds since the epoch, checked as the argument it is.

    Every library function that takes a ``now`` calls this first, so that a mistake is
    blamed on the argument, not on a token: an ``int`` is taken as it is and a ``float``
    (``time.time()``) is floored to the second; a bool, a string, a datetime or anything
    else raises :class:`TypeError`, and NaN, infinities, negative times and times past
    9999 (milliseconds, say) raise :class:`~vc_im.errors.InputError` (a ``ValueError``);
    both messages name ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be seconds since the epoch (an int, or a float that is "
                        f"floored), not {type(value).__name__}.")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{name} must be a finite number of seconds, not {value!r}.")
        value = math.floor(value)
    seconds = int(value)
    if not 0 <= seconds <= MAX_NUMERIC_DATE:
        raise InputError(f"{name} is {seconds}, outside 0 to 9999-12-31T23:59:59Z in seconds "
                         "since the epoch (milliseconds, perhaps?).")
    return seconds


def numeric_date_problem(claim: str, value: object) -> str | None:
    """Why ``value`` is not a NumericDate a token may carry (RFC 7519 §2), or None.

    Integer seconds from 0 to :data:`MAX_NUMERIC_DATE`; a 13-digit value gets its
    own explanation, since the MIMI identity draft's example counts milliseconds.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{claim} must be an integer NumericDate (seconds since the epoch)"
    if value >= MILLISECONDS_THRESHOLD:
        hint = (f" ({seconds_to_rfc3339(value // 1000)} if divided by 1000)"
                if value // 1000 <= MAX_NUMERIC_DATE else "")
        return (f"{claim} is {value}, a time in milliseconds{hint}; JWT NumericDates count "
                "seconds (RFC 7519 §2), a mistake the MIMI identity draft's example makes")
    if value < 0 or value > MAX_NUMERIC_DATE:
        return (f"{claim} is {value}, outside the NumericDates a token can carry (0 to "
                "9999-12-31T23:59:59Z)")
    return None


def parse_duration(text: str) -> int:
    """Seconds in a duration like ``90d``, ``12h``, ``30m`` or ``3600s``."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise InputError(f"{text!r} is not a duration; write a number and a unit, like 90d, 12h, "
                         "30m or 3600s.")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise InputError(f"the duration {text!r} must be positive.")
    return seconds


def parse_time(text: str) -> int:
    """Seconds since the epoch from an RFC 3339 date-time or an integer string."""
    stripped = text.strip()
    if stripped.isdigit():
        value = int(stripped)
        if value > MAX_NUMERIC_DATE:
            raise InputError(f"the time {text!r} is too large; give seconds, not milliseconds.")
        return value
    seconds = rfc3339_to_seconds(stripped)
    if seconds is None:
        raise InputError(f"{text!r} is not a time; give an RFC 3339 date-time like "
                         "2026-01-31T12:00:00Z or integer seconds since the epoch.")
    return seconds


def rfc3339_to_seconds(text: str) -> int | None:
    """Whole seconds of an RFC 3339 date-time with an explicit offset, or None if it is not one."""
    if _RFC3339.match(text) is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(parsed.timestamp())


@functools.lru_cache(maxsize=4096)
def seconds_to_rfc3339(seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``: the dateTime form credentials carry (kept for the times
    a batch's tokens share)."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_seconds() -> int:
    """The current time; the only place vc_im reads the clock (the CLI calls it)."""
    return int(datetime.now(tz=UTC).timestamp())
