"""Which independent service a host belongs to, and which network addresses may be fetched.

Well-known service cross-signing (the MIMI identity draft's §4.3) counts *independent*
services. A host name alone does not tell them apart: whoever holds ``example.com`` also
holds ``a.example.com`` and ``b.example.com``, and ``127.0.0.1``, ``127.1``,
``2130706433``, ``::ffff:127.0.0.1`` and ``localhost`` are one machine. So a service is a
registrable domain: the public suffix (from the Public Suffix List's ICANN section) plus one
label, ``example.com`` for ``a.example.com`` and ``example.co.uk`` for ``a.example.co.uk``.
The list's private section (``github.io``, ``blogspot.com``, ...) is deliberately not used:
anyone can get a name under those suffixes, so two of them would count as two services for
one user. IP literals, single-label hosts and public suffixes themselves are not services;
loopback hosts may stand for one service, ``localhost``, when the caller allows the private
network (for tests against a local server).

The list is the one the ``publicsuffixlist`` package ships, read from disk on first use; it
is never fetched. This module is the only one that knows about that package.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

__all__ = ["LOOPBACK_SERVICE", "ip_literal", "is_public_address", "service_of"]

#: The one service every loopback host stands for, when loopback hosts are allowed.
LOOPBACK_SERVICE: Final = "localhost"
#: IPv6 prefixes whose addresses embed an IPv4 address that decides where they lead.
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.cache
def _suffixes() -> PublicSuffixList:
    """The ICANN section of the packaged Public Suffix List, parsed once per process."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=True)


def ip_literal(host: str) -> IPAddress | None:
    """The address ``host`` names when it is an IP literal, in any of the forms a resolver
    accepts (``127.1``, ``2130706433``, ``0x7f.1``, ``[::1]``), IPv4-mapped IPv6 as IPv4;
    None for a DNS name. A name whose last label is numeric is an IPv4 literal even when no
    resolver would take it (``1.2.3.4.5``): no top-level domain is numeric. Raises
    :class:`ValueError` for such an unusable literal."""
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        address: IPAddress = ipaddress.ip_address(text)
    except ValueError:
        last = text.removesuffix(".").rpartition(".")[2].lower()
        if not last.isascii() or not (last.isdigit() or (last.startswith("0x") and all(
                char in "0123456789abcdef" for char in last[2:]))):
            return None
        try:
            # inet_aton reads exactly the legacy forms (octal, hex, fewer parts) resolvers do.
            address = ipaddress.IPv4Address(socket.inet_aton(text.removesuffix(".")))
        except (OSError, ValueError) as exc:
            raise ValueError("the host is not a DNS name or an IP address") from exc
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_loopback_name(host: str) -> bool:
    """``localhost`` and the names under it (RFC 6761 §6.3: they always mean this machine)."""
    return host == "localhost" or host.endswith(".localhost")


def service_of(host: str, *, allow_loopback: bool = False) -> str:
    """The independent service a normalised host (lower-case A-labels, as
    :func:`vc_im.trust.statements.normalize_host` gives) belongs to: its registrable domain,
    or :data:`LOOPBACK_SERVICE` for a loopback host when ``allow_loopback``.

    Raises :class:`ValueError` (a clause for a message) for an IP literal, a single-label
    host, a public suffix, or a loopback host that is not allowed.
    """
    address = ip_literal(host)
    if address is not None:
        if allow_loopback and address.is_loopback:
            return LOOPBACK_SERVICE
        raise ValueError("an IP address is not a well-known service")
    if _is_loopback_name(host):
        if allow_loopback:
            return LOOPBACK_SERVICE
        raise ValueError(f"{host} is this machine, not a well-known service")
    if "." not in host:
        raise ValueError(f"a single-label host ({host}) is not a well-known service")
    registrable = _suffixes().privatesuffix(host)
    if not isinstance(registrable, str):
        raise ValueError(f"{host} is a public suffix, not a well-known service")
    return registrable


def is_public_address(address: IPAddress) -> bool:
    """Whether ``address`` lies on the public internet: not loopback, private, link-local
    (``169.254.169.254``, cloud metadata), shared, reserved, unspecified or multicast, also
    when an IPv6 address embeds such an IPv4 one (mapped, 6to4, NAT64)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    return address.is_global and not address.is_multicast
