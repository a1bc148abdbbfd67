"""vc_im.trust.services: registrable domains from the packaged Public Suffix List, IP literals
in every form a resolver reads, and which addresses lie on the public internet."""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys

import pytest

from vc_im.trust.services import LOOPBACK_SERVICE, ip_literal, is_public_address, service_of


@pytest.mark.parametrize(("host", "service"), [
    ("example.com", "example.com"),
    ("a.b.example.com", "example.com"),
    ("a.example.co.uk", "example.co.uk"),
    ("alice.github.io", "github.io"),
    ("city.kawasaki.jp", "city.kawasaki.jp"),
    ("a.b.kawasaki.jp", "a.b.kawasaki.jp"),
    ("www.xn--fsqu00a.xn--fiqs8s", "xn--fsqu00a.xn--fiqs8s"),
    ("social.example", "social.example"),
])
def test_a_service_is_a_registrable_domain(host: str, service: str) -> None:
    """The public suffix (ICANN section, wildcards and exceptions included; an unknown
    top-level domain is one label) plus one label."""
    assert service_of(host) == service


@pytest.mark.parametrize(("host", "why"), [
    ("co.uk", "co.uk is a public suffix, not a well-known service"),
    ("kawasaki.jp", "kawasaki.jp is a public suffix, not a well-known service"),
    ("intranet", "a single-label host (intranet) is not a well-known service"),
    ("localhost", "localhost is this machine, not a well-known service"),
    ("db.localhost", "db.localhost is this machine, not a well-known service"),
    ("93.184.216.34", "an IP address is not a well-known service"),
    ("127.1", "an IP address is not a well-known service"),
    ("[::1]", "an IP address is not a well-known service"),
    ("1.2.3.4.5", "the host is not a DNS name or an IP address"),
])
def test_what_is_no_service(host: str, why: str) -> None:
    """Public suffixes, single labels, this machine and IP literals are no service."""
    with pytest.raises(ValueError, match=r"\A" + re.escape(why) + r"\Z"):
        service_of(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1", "2130706433", "0x7f.1", "017700000001",
                                  "[::ffff:127.0.0.1]", "::1", "localhost", "app.localhost"])
def test_loopback_hosts_are_one_service_when_allowed(host: str) -> None:
    """Every spelling of this machine is the one service localhost, when loopback is allowed;
    other IP literals never are."""
    assert service_of(host, allow_loopback=True) == LOOPBACK_SERVICE
    with pytest.raises(ValueError, match="an IP address is not a well-known service"):
        service_of("10.0.0.1", allow_loopback=True)


@pytest.mark.parametrize(("host", "address"), [
    ("127.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0x7f.0.0.1", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"), ("::ffff:10.1.2.3", "10.1.2.3"), ("[2001:db8::1]", "2001:db8::1"),
    ("example.com", None), ("a.0x1g", None),
])
def test_ip_literals_in_every_form(host: str, address: str | None) -> None:
    """Legacy IPv4 forms (fewer parts, decimal, octal, hex) and IPv4-mapped IPv6 are read as
    the address a resolver would connect to; DNS names are not literals."""
    found = ip_literal(host)
    assert (None if found is None else str(found)) == address


@pytest.mark.parametrize(("address", "public"), [
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True),
    ("64:ff9b::808:808", True),
    ("127.0.0.1", False), ("10.0.0.1", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False),  # noqa: S104
    ("224.0.0.1", False), ("255.255.255.255", False), ("::1", False), ("::", False),
    ("fe80::1", False), ("fc00::1", False), ("ff02::1", False),
    ("::ffff:127.0.0.1", False), ("2002:a00:1::", False), ("64:ff9b::a9fe:a9fe", False),
])
def test_public_addresses(address: str, public: bool) -> None:
    """Loopback, private, link-local, shared, unspecified, broadcast and multicast addresses
    are not public, nor IPv6 addresses that embed one (mapped, 6to4, NAT64)."""
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_the_suffix_list_loads_only_when_a_service_is_judged() -> None:
    """Importing the statements and well-known modules does not read the Public Suffix List."""
    program = ("import sys, json\nimport vc_im.trust.wellknown\n"
               "before = 'publicsuffixlist' in sys.modules\n"
               "from vc_im.trust.services import service_of\nservice_of('a.example.com')\n"
               "print(json.dumps([before, 'publicsuffixlist' in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            check=True, timeout=60)
    assert json.loads(result.stdout) == [False, True]
