"""Where a webhook may point: https, and never at this platform's own network.

Outside development a receiver must be https and must not resolve to a
loopback, link-local (including the cloud metadata address), private,
unspecified, multicast or otherwise reserved address: a subscription must not
turn the platform into a proxy into its own network. The check runs when the
subscription is made and again before every delivery (DNS may change), and
the delivery connects to exactly the address that passed it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from fieldvault_platform.errors import InvalidArgument
from notification.webhooks import addresses

MAX_URL_LENGTH = 2048
REFUSED_DESTINATION = (
    "url's host must resolve, and only to public addresses "
    "(not loopback, link-local, private or reserved ones)"
)


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


@dataclass(frozen=True, slots=True)
class Destination:
    """Where one delivery goes: the subscribed URL, and the address that passed the check."""

    url: str
    scheme: str
    host: str
    port: int
    #: The IP addresses that passed the check, in the resolver's order: the
    #: delivery connects to these and nothing else (the name is not resolved again).
    addresses: tuple[str, ...]


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host``, in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def resolve_destination(
    url: str, *, allow_insecure: bool, resolve: Resolver = system_resolver
) -> Destination:
    """Resolve the URL's host once: the addresses a delivery may connect to.

    Every address the name resolves to must be allowed (:mod:`.addresses`), so
    a name that answers with a public and a private address cannot be used to
    reach the private one later. The caller connects to the returned address
    and nothing else: a second resolution could give another answer (DNS
    rebinding). One refusal covers "does not resolve" and "resolves into a
    private network", so a subscription cannot map which internal names exist.
    """
    scheme, host, port = check_form(url, allow_insecure=allow_insecure)
    try:
        resolved = [addresses.parse(address) for address in await resolve(host, port)]
    except (OSError, ValueError):
        resolved = []
    if not resolved or (
        not allow_insecure and any(addresses.is_refused(address) for address in resolved)
    ):
        raise InvalidArgument(REFUSED_DESTINATION)
    return Destination(url, scheme, host, port, tuple(dict.fromkeys(map(str, resolved))))


async def check_destination(url: str, *, allow_insecure: bool) -> None:
    """Refuse a URL whose host resolves to an address inside any private network."""
    check_form(url, allow_insecure=allow_insecure)
    if not allow_insecure:
        await resolve_destination(url, allow_insecure=False)
