"""Which IP addresses a webhook may be delivered to: the rules as data.

An address is refused when it is not globally reachable — loopback, private,
shared (CGNAT), link-local (the cloud metadata address among them),
site-local, unspecified, documentation or otherwise reserved — or multicast.

An IPv6 address that carries an IPv4 address is judged by that IPv4 address,
because a translator, relay or tunnel on the way delivers to it: IPv4-mapped
and IPv4-translated forms, the deprecated IPv4-compatible form, NAT64's
well-known prefix (RFC 6052), 6to4 (RFC 3056) and Teredo (RFC 4380: both its
server and its client). Python's ``is_global`` calls most of these global
whatever they carry (``2002:7f00:1::`` is 127.0.0.1 behind a 6to4 relay), so
they are decoded here rather than left to it. The local-use NAT64 prefix
(RFC 8215) leads into a translator of the operator's own network and is
refused whole.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address


def _low_32_bits(address: IPv6Address) -> tuple[IPv4Address, ...]:
    return (IPv4Address(int(address) & 0xFFFF_FFFF),)


def _sixtofour(address: IPv6Address) -> tuple[IPv4Address, ...]:
    # 2002:AABB:CCDD::/48 is the site behind the IPv4 address AA.BB.CC.DD.
    return (IPv4Address((int(address) >> 80) & 0xFFFF_FFFF),)


def _teredo(address: IPv6Address) -> tuple[IPv4Address, ...]:
    teredo = address.teredo
    assert teredo is not None  # the prefix table only sends Teredo addresses here
    server, client = teredo
    return (server, client)


#: IPv6 prefixes that carry an IPv4 address, and how to read it out.
EMBEDDED_IPV4: tuple[tuple[IPv6Network, Callable[[IPv6Address], tuple[IPv4Address, ...]]], ...] = (
    (IPv6Network("::ffff:0:0/96"), _low_32_bits),  # IPv4-mapped
    (IPv6Network("::ffff:0:0:0/96"), _low_32_bits),  # IPv4-translated (SIIT)
    (IPv6Network("::/96"), _low_32_bits),  # IPv4-compatible (deprecated; :: and ::1 too)
    (IPv6Network("64:ff9b::/96"), _low_32_bits),  # NAT64, well-known prefix
    (IPv6Network("2002::/16"), _sixtofour),  # 6to4
    (IPv6Network("2001::/32"), _teredo),  # Teredo
)

#: IPv6 networks refused whatever they carry.
REFUSED_IPV6: tuple[IPv6Network, ...] = (
    IPv6Network("64:ff9b:1::/48"),  # NAT64 for local use (RFC 8215): the operator's own translator
    IPv6Network("fec0::/10"),  # site-local (deprecated, still routed inside some networks)
)


def parse(address: str) -> IPAddress:
    """An address as ``getaddrinfo`` reports it; an IPv6 zone (``%eth0``) is dropped."""
    return ipaddress.ip_address(address.split("%", 1)[0])


def embedded_ipv4(address: IPv6Address) -> tuple[IPv4Address, ...] | None:
    """The IPv4 addresses an IPv6 address leads to, or None when it carries none."""
    for network, extract in EMBEDDED_IPV4:
        if address in network:
            return extract(address)
    return None


def _refused_ipv4(address: IPv4Address) -> bool:
    return not address.is_global or address.is_multicast


def is_refused(address: IPAddress) -> bool:
    """Whether a webhook must not be delivered to this address."""
    if isinstance(address, IPv4Address):
        return _refused_ipv4(address)
    if any(address in network for network in REFUSED_IPV6):
        return True
    carried = embedded_ipv4(address)
    if carried is not None:
        return any(_refused_ipv4(ipv4) for ipv4 in carried)
    return not address.is_global or address.is_multicast
