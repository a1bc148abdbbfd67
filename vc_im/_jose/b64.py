"""base64url as JOSE writes it (RFC 7515 §2): unpadded, and canonical when read.

One byte string has one spelling: non-zero padding bits would give a token, a key member
or a thumbprint a second form, so they are refused. Every base64url in vc_im goes through
these functions.
"""

from __future__ import annotations

import base64
import binascii

from vc_im.errors import TokenError, VcImError

_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, *, what: str, error: type[VcImError] = TokenError) -> bytes:
    """Decode canonical, unpadded base64url; anything else raises ``error`` naming ``what``."""
    if len(text) % 4 == 1 or "+" in text or "/" in text or "=" in text:
        raise error(f"the {what} is not unpadded base64url.")
    try:  # on the standard alphabet, strictly: any other character is refused
        data = binascii.a2b_base64((text + "=" * (-len(text) % 4)).encode("ascii")
                                   .translate(_TO_STANDARD), strict_mode=True)
    except (binascii.Error, ValueError) as exc:  # not ASCII, or not the alphabet
        raise error(f"the {what} is not unpadded base64url.") from exc
    tail = len(text) % 4  # 2 or 3 characters in the last group leave 4 or 2 padding bits
    if tail and text[-1] not in _CANONICAL_LAST[tail]:
        raise error(f"the {what} is not canonical base64url (non-zero padding bits).")
    return data


#: The characters that may end a last group of 2 or 3 (their padding bits are zero).
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}


def _is_canonical_by_encoding(text: str) -> bool:
    """The reference for the padding-bits rule: decoding and encoding again gives the text."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return b64url_encode(data) == text


def uint_encode(value: int) -> str:
    """RFC 7518 §2 Base64urlUInt: big-endian, as few octets as the value needs."""
    return b64url_encode(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def uint_decode(text: str, *, what: str, error: type[VcImError] = TokenError) -> int:
    """Read a Base64urlUInt, refusing leading zero octets (a second spelling)."""
    data = b64url_decode(text, what=what, error=error)
    if not data or (len(data) > 1 and data[0] == 0):
        raise error(f"the {what} is not the shortest big-endian encoding RFC 7518 requires.")
    return int.from_bytes(data, "big")
