"""The status bitstring and its two text encodings, decoded within fixed bounds.

Both specifications (W3C Bitstring Status List v1.0 §4 and StatusList2021 §2) number
entries from the left: index 0 is the most significant bit of the first byte. The list is
GZIP-compressed (RFC 1952) and then base64url-encoded without padding; Bitstring Status
List puts a Multibase ``u`` prefix in front, StatusList2021 does not.

A list is hostile input until its signature verifies, and even then its size is the
issuer's choice: decompression stops at :data:`MAX_BITS` (2^27 bits, 16 MiB), so a
gzip bomb costs at most that much memory and is refused.
"""

from __future__ import annotations

import base64
import gzip
import re
import zlib
from typing import Final

from vc_im.errors import VcImError

__all__ = ["MAX_BITS", "MAX_ENCODED_CHARS", "MIN_ENTRIES", "StatusUnavailable", "decode",
           "encode", "get_bit", "set_bit"]

#: Both specifications: a list holds at least 16 KiB of bits, for herd privacy.
MIN_ENTRIES: Final = 131_072
#: The largest list vc_im decompresses: 2^27 bits (16 MiB).
MAX_BITS: Final = 2**27
#: The longest encodedList accepted (a signed list credential is at most 64 KiB anyway).
MAX_ENCODED_CHARS: Final = 65_536

_BASE64URL = re.compile(r"\A[A-Za-z0-9_-]*\Z")


class StatusUnavailable(VcImError):
    """A status list cannot be used: missing, unreadable, expired, foreign, mismatched."""

    code = "status_unavailable"


def encode(bits: bytes, *, multibase: bool) -> str:
    """GZIP then base64url without padding (with the Multibase ``u`` prefix when asked).

    ``mtime=0`` makes the output a function of the bits alone.
    """
    text = base64.urlsafe_b64encode(gzip.compress(bytes(bits), mtime=0)).decode("ascii")
    text = text.rstrip("=")
    return "u" + text if multibase else text


def decode(encoded: object, *, multibase: bool) -> bytes:
    """The bitstring an ``encodedList`` stands for; :class:`StatusUnavailable` when unreadable
    or larger than :data:`MAX_BITS`."""
    if not isinstance(encoded, str) or len(encoded) > MAX_ENCODED_CHARS:
        raise StatusUnavailable("the list's encodedList is not a string of at most "
                                f"{MAX_ENCODED_CHARS} characters (unreadable)")
    if multibase:
        if not encoded.startswith("u"):
            raise StatusUnavailable("the list's encodedList is not Multibase base64url "
                                    "(no 'u' prefix) (unreadable)")
        encoded = encoded[1:]
    if not _BASE64URL.match(encoded) or len(encoded) % 4 == 1:
        raise StatusUnavailable("the list's encodedList is not base64url without padding "
                                "(unreadable)")
    compressed = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP framing only
    limit = MAX_BITS // 8
    try:
        bits = inflater.decompress(compressed, limit + 1)
    except zlib.error as exc:
        raise StatusUnavailable("the list's encodedList is not GZIP data (unreadable)") from exc
    if len(bits) > limit:
        raise StatusUnavailable(f"the list inflates past {MAX_BITS} bits, the most vc_im "
                                "decompresses (unreadable)")
    if not inflater.eof or inflater.unused_data:
        raise StatusUnavailable("the list's GZIP data is truncated or followed by other data "
                                "(unreadable)")
    return bits


def get_bit(bits: bytes, index: int) -> bool:
    """Bit ``index``, counting from the most significant bit of the first byte."""
    return bool(bits[index >> 3] & (0x80 >> (index & 7)))


def set_bit(bits: bytearray, index: int, value: bool = True) -> None:
    """Set or clear bit ``index`` (same numbering as :func:`get_bit`)."""
    mask = 0x80 >> (index & 7)
    if value:
        bits[index >> 3] |= mask
    else:
        bits[index >> 3] &= ~mask & 0xFF
