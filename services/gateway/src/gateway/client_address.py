"""The client's IP address behind trusted proxies, for throttling and the audit log."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request

from gateway.dependencies import AppSettings
from gateway.settings import IPNetwork


def client_address(request: Request, settings: AppSettings) -> str:
    """The client's IP address, for login throttling and the audit log.

    The socket peer, unless it is a configured trusted proxy: then the
    ``X-Forwarded-For`` hops are read from the right (the hop nearest to us),
    past every trusted proxy, and the first other address is the client. Hops
    to the left of it were written by the client and are never believed.
    """
    networks = settings.trusted_proxy_networks()
    peer = request.client.host if request.client else ""
    if not _is_trusted(peer, networks):
        return peer
    client = peer
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        try:
            client = str(ipaddress.ip_address(hop))
        except ValueError:
            break
        if not _is_trusted(client, networks):
            break
    return client


def _is_trusted(address: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


async def source_address(request: Request, settings: AppSettings) -> str:
    """:func:`client_address` as a dependency (``async``: no thread-pool hop)."""
    return client_address(request, settings)


SourceAddress = Annotated[str, Depends(source_address)]
