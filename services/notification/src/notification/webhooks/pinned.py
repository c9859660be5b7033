"""Sending a webhook request to exactly the address that passed the destination check.

Left to itself httpx would resolve the URL's host name again when it connects,
and the second answer could differ from the checked one (DNS rebinding: a
public address for the check, 127.0.0.1 a moment later). So the request is
addressed to the checked IP itself, and the name goes where the receiver and
TLS expect it: the ``Host`` header, and for https the TLS server name (SNI)
and the certificate check, through httpcore's ``sni_hostname`` extension.

Connections are not kept alive: httpcore's pool matches a connection by
scheme, address and port only, so a kept connection whose certificate was
checked for one name could otherwise carry a later request for another name
served from the same address.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping

import httpx

from notification.webhooks.urls import Destination

DEFAULT_PORTS = {"https": 443, "http": 80}
#: Checked addresses tried in turn when connecting fails, at most (each with the full timeout).
MAX_ADDRESSES_TRIED = 3


def pinned_client(verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """The client webhooks are sent with: no proxy from the environment, no kept connections."""
    return httpx.AsyncClient(
        trust_env=False, verify=verify, limits=httpx.Limits(max_keepalive_connections=0)
    )


def pinned_url(destination: Destination, address: str) -> httpx.URL:
    """The subscribed URL with its host replaced by one of the checked addresses."""
    return httpx.URL(destination.url).copy_with(host=address)


def host_header(destination: Destination) -> str:
    host = f"[{destination.host}]" if ":" in destination.host else destination.host
    if destination.port == DEFAULT_PORTS.get(destination.scheme):
        return host
    return f"{host}:{destination.port}"


async def post(
    client: httpx.AsyncClient,
    destination: Destination,
    *,
    content: bytes,
    headers: Mapping[str, str],
    timeout: float,
) -> httpx.Response:
    """POST to the destination's checked addresses; redirects are never followed.

    The next checked address is tried only when a connection could not be made
    (say, an IPv6 address from a host without IPv6), as httpx itself would;
    once a request was sent, its outcome is the attempt's.
    """
    extensions = {"sni_hostname": destination.host} if destination.scheme == "https" else {}
    candidates = destination.addresses[:MAX_ADDRESSES_TRIED]
    for index, address in enumerate(candidates):
        try:
            return await client.post(
                pinned_url(destination, address),
                content=content,
                headers={**headers, "Host": host_header(destination)},
                timeout=timeout,
                follow_redirects=False,
                extensions=extensions,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout):
            if index == len(candidates) - 1:
                raise
    raise httpx.ConnectError("no address to connect to")
