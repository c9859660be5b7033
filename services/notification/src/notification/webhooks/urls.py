"""Where a webhook may point: https, and never at this platform's own network.

Outside development a receiver must be https and must not resolve to a
loopback, link-local (including the cloud metadata address), private,
unspecified, multicast or otherwise reserved address: a subscription must not
turn the platform into a proxy into its own network. The check runs when the
subscription is made and again before every delivery (DNS may change).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from fieldvault_platform.errors import InvalidArgument

MAX_URL_LENGTH = 2048


def check_form(url: str, *, allow_insecure: bool) -> tuple[str, str, int]:
    """The URL's scheme, host and port, or InvalidArgument saying what is wrong."""
    if not url or len(url) > MAX_URL_LENGTH:
        raise InvalidArgument(f"url must be 1-{MAX_URL_LENGTH} characters")
    if any(ord(char) < 0x21 or ord(char) >= 0x7F for char in url):
        # Non-ASCII too: an international host name goes in its punycode form, and
        # invisible or bidi characters cannot disguise where deliveries go.
        raise InvalidArgument(
            "url must be ASCII without spaces or control characters (punycode for IDNs)"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidArgument("url is not a valid URL") from None
    allowed = {"https", "http"} if allow_insecure else {"https"}
    if parts.scheme not in allowed:
        raise InvalidArgument("url must use https")
    if not parts.hostname:
        raise InvalidArgument("url must name a host")
    if parts.username or parts.password:
        raise InvalidArgument("url must not carry credentials; the signature authenticates us")
    if parts.fragment:
        raise InvalidArgument("url must not have a fragment")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def check_destination(url: str, *, allow_insecure: bool) -> None:
    """Refuse a URL whose host resolves to an address inside any private network."""
    _, host, port = check_form(url, allow_insecure=allow_insecure)
    if allow_insecure:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise InvalidArgument("url's host does not resolve") from None
    if not infos or any(_refused(str(info[4][0])) for info in infos):
        raise InvalidArgument(
            "url must not point at a loopback, link-local, private or reserved address"
        )
