"""Where a webhook delivery may connect: the address rules, and the address actually used.

The rules are property-tested over the whole IPv4 space and every IPv6 form
that carries an IPv4 address. The delivery tests use a real database, a real
local TCP server and httpx's real sockets; only the name lookup is scripted
(``socket.getaddrinfo``, which both the check and httpx would call) to play a
DNS server that rebinds a name between check and connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
import socket
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import example, given
from hypothesis import strategies as st

from fieldvault_platform.db import Database
from fieldvault_platform.errors import InvalidArgument
from fieldvault_platform.migrations import upgrade
from notification.models import Webhook, WebhookDelivery
from notification.settings import Settings
from notification.webhooks.addresses import is_refused
from notification.webhooks.delivery import WebhookSender
from notification.webhooks.pinned import host_header, pinned_client, pinned_url, post
from notification.webhooks.secret_box import SecretBox
from notification.webhooks.urls import Destination, resolve_destination

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

ipv4s = st.integers(min_value=0, max_value=2**32 - 1).map(IPv4Address)
refused_ipv4s = st.sampled_from(
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.9.9",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "192.0.2.10",
    ]
).map(IPv4Address)


def mapped(v4: IPv4Address) -> IPv6Address:
    return IPv6Address(0xFFFF << 32 | int(v4))


def translated(v4: IPv4Address) -> IPv6Address:
    return IPv6Address(0xFFFF << 48 | int(v4))


def compatible(v4: IPv4Address) -> IPv6Address:
    return IPv6Address(int(v4))


def nat64(v4: IPv4Address) -> IPv6Address:
    return IPv6Address(int(IPv6Address("64:ff9b::")) | int(v4))


def sixtofour(v4: IPv4Address, site: int = 0) -> IPv6Address:
    return IPv6Address(0x2002 << 112 | int(v4) << 80 | site)


def teredo(server: IPv4Address, client: IPv4Address) -> IPv6Address:
    # RFC 4380: prefix, server, flags, obfuscated port, obfuscated client.
    return IPv6Address(
        0x2001_0000 << 96 | int(server) << 64 | 0x1234 << 32 | (int(client) ^ 0xFFFF_FFFF)
    )


EMBEDDINGS = [mapped, translated, compatible, nat64, sixtofour]


@given(v4=ipv4s, embed=st.sampled_from(EMBEDDINGS))
@example(v4=IPv4Address("127.0.0.1"), embed=sixtofour)
@example(v4=IPv4Address("169.254.169.254"), embed=nat64)
@example(v4=IPv4Address("10.0.0.1"), embed=compatible)
@example(v4=IPv4Address("8.8.8.8"), embed=nat64)
def test_an_ipv6_form_carrying_an_ipv4_address_is_judged_as_that_address(
    v4: IPv4Address, embed: Any
) -> None:
    assert is_refused(embed(v4)) == is_refused(v4)


@given(v4=refused_ipv4s, site=st.integers(min_value=0, max_value=2**80 - 1))
def test_a_6to4_site_of_a_private_address_is_refused_whatever_its_subnet(
    v4: IPv4Address, site: int
) -> None:
    assert is_refused(sixtofour(v4, site))


@given(private=refused_ipv4s, public=st.sampled_from(["8.8.8.8", "1.1.1.1"]).map(IPv4Address))
def test_teredo_is_refused_when_its_server_or_client_is_private(
    private: IPv4Address, public: IPv4Address
) -> None:
    assert is_refused(teredo(public, private))
    assert is_refused(teredo(private, public))
    assert not is_refused(teredo(public, public))


@pytest.mark.parametrize(
    "address",
    [
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
        "64:ff9b:1::a00:1",  # local-use NAT64 leads into the operator's own network
        "64:ff9b:1::808:808",
        "100::1",
    ],
)
def test_ipv6_addresses_inside_private_or_special_networks_are_refused(address: str) -> None:
    assert is_refused(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_refused(ipaddress.ip_address(address))


def scripted(*answers: list[str]) -> Any:
    """A resolver giving each answer in turn (the last one from then on)."""
    remaining = list(answers)

    async def resolve(host: str, port: int) -> list[str]:
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return resolve


async def test_a_name_with_any_private_address_among_its_answers_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        await resolve_destination(
            "https://hooks.partner.example/in",
            allow_insecure=False,
            resolve=scripted(["8.8.8.8", "10.0.0.7"]),
        )


async def test_unresolvable_and_private_names_get_the_same_refusal() -> None:
    async def nothing(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    refusals = []
    for resolve in (nothing, scripted(["10.0.0.7"])):
        with pytest.raises(InvalidArgument) as refused:
            await resolve_destination(
                "https://redis.internal/x", allow_insecure=False, resolve=resolve
            )
        refusals.append(str(refused.value))
    assert refusals[0] == refusals[1]


async def test_the_request_is_addressed_to_the_checked_address_with_the_name_as_host() -> None:
    destination = await resolve_destination(
        "https://Hooks.Partner.example:8443/in?x=1",
        allow_insecure=False,
        resolve=scripted(["2606:4700:4700::1111"]),
    )
    assert destination.addresses == ("2606:4700:4700::1111",)
    assert (
        str(pinned_url(destination, "2606:4700:4700::1111"))
        == "https://[2606:4700:4700::1111]:8443/in?x=1"
    )
    assert host_header(destination) == "hooks.partner.example:8443"
    plain = Destination("https://a.example/", "https", "a.example", 443, ("8.8.8.8",))
    assert host_header(plain) == "a.example"


def self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A certificate for ``name`` (and its key), as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_tls_is_checked_against_the_subscribed_name_not_the_pinned_address(
    tmp_path: Path,
) -> None:
    name = "hooks.partner.example"
    cert_file, key_file = self_signed(tmp_path, name)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_tls)
    port = server.sockets[0].getsockname()[1]
    trusting = ssl.create_default_context(cafile=str(cert_file))
    async with server, pinned_client(verify=trusting) as client:
        response = await post(
            client,
            Destination(f"https://{name}:{port}/in", "https", name, port, ("127.0.0.1",)),
            content=b"{}",
            headers={},
            timeout=5,
        )
        assert response.status_code == 204
        assert f"host: {name}:{port}".encode() in seen[0].lower()
        with pytest.raises(httpx.ConnectError):  # the certificate does not name this host
            await post(
                client,
                Destination(
                    f"https://other.example:{port}/in",
                    "https",
                    "other.example",
                    port,
                    ("127.0.0.1",),
                ),
                content=b"{}",
                headers={},
                timeout=5,
            )


# --- the delivery itself, over real sockets ---------------------------------------------

REBINDING_NAME = "rebinding.partner.example"
#: Global, so the check passes; nothing of ours listens there.
PUBLIC_ADDRESS = "192.31.196.1"


@dataclass
class LocalServer:
    """A TCP server on 127.0.0.1 that records every connection made to it."""

    port: int = 0
    connections: list[str] = field(default_factory=list)


@pytest.fixture
async def local_server() -> AsyncIterator[LocalServer]:
    server_state = LocalServer()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_state.connections.append(str(writer.get_extra_info("peername")))
        with contextlib.suppress(Exception):  # a TLS hello or nothing at all: answer anyway
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    server_state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield server_state


@pytest.fixture
def rebinding_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The rebinding name answers a public address once, then 127.0.0.1; lookups are logged."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):  # how anyio (under httpx) asks
            host = host.decode("ascii")
        if host != REBINDING_NAME:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        answer = PUBLIC_ADDRESS if len(lookups) == 1 else "127.0.0.1"
        return real(answer, port, socket.AF_INET, socket.SOCK_STREAM)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield lookups


@pytest.fixture
async def webhook_database(database_url: str) -> AsyncIterator[Database]:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


def sender_settings(*, max_attempts: int) -> Settings:
    """Production rules for receiver URLs (https, public addresses only)."""
    return Settings(  # type: ignore[call-arg]
        environment="test",
        database_url="sqlite+aiosqlite://",  # unused: the sender gets its Database
        service_account_secret=secrets.token_urlsafe(32),
        webhook_secret_key=secrets.token_urlsafe(32),
        webhook_allow_insecure_urls=False,
        webhook_timeout_seconds=1.0,
        webhook_max_attempts=max_attempts,
    )


async def queue_delivery(database: Database, box: SecretBox, url: str) -> str:
    now = datetime.now(UTC)
    webhook_id, delivery_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with database.unit_of_work() as session:
        session.add(
            Webhook(
                id=webhook_id,
                tenant_id=str(uuid.uuid4()),
                url=url,
                events=["*"],
                secret_ct=box.seal(webhook_id, "whsec_test"),
                owner="client:partner",
                status="active",
                consecutive_failures=0,
                created_at=now,
            )
        )
        session.add(
            WebhookDelivery(
                id=delivery_id,
                tenant_id=str(uuid.uuid4()),
                webhook_id=webhook_id,
                event_id=uuid.uuid4().hex,
                event_type="work_order.created",
                body=b'{"id":"e1"}',
                status="pending",
                attempts=0,
                last_response_code=0,
                next_attempt_at=now - timedelta(seconds=1),
                traceparent="",
                created_at=now,
            )
        )
    return delivery_id


async def test_when_a_checked_address_refuses_the_connection_the_next_checked_one_is_tried(
    local_server: LocalServer,
) -> None:
    port = local_server.port
    destination = Destination(
        f"http://hooks.partner.example:{port}/in",
        "http",
        "hooks.partner.example",
        port,
        ("127.0.0.2", "127.0.0.1"),  # the server listens on the second only
    )
    async with pinned_client() as client:
        response = await post(client, destination, content=b"{}", headers={}, timeout=5)
    assert response.status_code == 200
    assert len(local_server.connections) == 1


async def test_a_name_rebound_to_loopback_after_the_check_cannot_reach_a_local_server(
    webhook_database: Database, local_server: LocalServer, rebinding_dns: list[str]
) -> None:
    settings = sender_settings(max_attempts=5)
    box = SecretBox(secrets.token_urlsafe(32))
    delivery_id = await queue_delivery(
        webhook_database, box, f"https://{REBINDING_NAME}:{local_server.port}/hook"
    )
    client = pinned_client()
    try:
        sender = WebhookSender(webhook_database, settings, box, client)
        assert await sender.deliver_due() == 1
    finally:
        await client.aclose()

    await asyncio.sleep(0.2)  # a connection in flight would have been accepted by now
    assert local_server.connections == []
    assert rebinding_dns == [REBINDING_NAME]  # resolved once, for the check
    async with webhook_database.unit_of_work() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        # Not delivered, and no status code from anywhere but the checked address.
        assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
            "pending",
            1,
            0,
        )


async def test_a_refused_destination_is_logged_like_an_unreachable_receiver(
    webhook_database: Database, local_server: LocalServer
) -> None:
    settings = sender_settings(max_attempts=1)
    box = SecretBox(secrets.token_urlsafe(32))
    refused = await queue_delivery(
        webhook_database, box, f"https://127.0.0.1:{local_server.port}/hook"
    )
    client = pinned_client()
    try:
        assert await WebhookSender(webhook_database, settings, box, client).deliver_due() == 1
    finally:
        await client.aclose()
    assert local_server.connections == []
    async with webhook_database.unit_of_work() as session:
        delivery = await session.get(WebhookDelivery, refused)
        assert delivery is not None
        assert (delivery.status, delivery.last_response_code) == ("failed", 0)
