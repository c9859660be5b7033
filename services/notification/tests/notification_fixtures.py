"""Fixtures: notification served in-process against the session's identity process."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext
from notification_testkit import Mailbox, Receiver, smtp_server, start_receiver

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault.notification.v1 import notification_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver
from fieldvault_devstack.identity_service import IdentityProcess
from fieldvault_devstack.in_process import serving
from fieldvault_devstack.ports import free_port
from fieldvault_devstack.service_env import sha256_hex
from fieldvault_platform.db import Database
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.migrations import upgrade
from notification.main import build_runtime
from notification.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
SMS_PATH = "/sms"


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    controller, mailbox = smtp_server(free_port())
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recording = Receiver(port=free_port())
    server, task = await start_receiver(recording)
    try:
        yield recording
    finally:
        server.should_exit = True
        await task


@dataclass
class Notification:
    settings: Settings
    stub: notification_pb2_grpc.NotificationServiceStub
    database: Database
    people: IdentityDriver
    identity: IdentityProcess
    js: JetStreamContext
    mailbox: Mailbox
    receiver: Receiver


def notification_settings(
    identity: IdentityProcess, database_url: str, mailbox: Mailbox, receiver: Receiver
) -> Settings:
    return Settings(  # type: ignore[call-arg]
        environment="test",
        grpc_port=free_port(),
        database_url=database_url,
        nats_url=identity.nats_url,
        identity_addr=identity.addr,
        service_account_secret=identity.service_account_secrets["notification"],
        operator_token_sha256=sha256_hex(identity.operator_token),
        webhook_secret_key=secrets.token_urlsafe(32),
        webhook_allow_insecure_urls=True,
        email_transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_security="none",
        sms_gateway_url=receiver.url(SMS_PATH),
        sms_gateway_token="sms-gateway-token-for-tests",
        delivery_poll_seconds=0.05,
        delivery_retry_seconds=0.05,
        delivery_max_retry_seconds=0.2,
        webhook_retry_seconds=0.05,
        webhook_max_retry_seconds=0.2,
        webhook_disable_after_failures=2,
        webhook_max_attempts=3,
    )


@pytest.fixture
async def notification(
    identity_service: IdentityProcess, database_url: str, smtp: Mailbox, receiver: Receiver
) -> AsyncIterator[Notification]:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    settings = notification_settings(identity_service, database_url, smtp, receiver)
    database = Database(database_url)
    client = await nats.connect(identity_service.nats_url)
    try:
        async with (
            serving(await build_runtime(settings)) as target,
            open_channel(target) as channel,
            open_channel(identity_service.addr) as identity_channel,
        ):
            yield Notification(
                settings=settings,
                stub=notification_pb2_grpc.NotificationServiceStub(channel),
                database=database,
                people=IdentityDriver(
                    identity_service, identity_pb2_grpc.IdentityServiceStub(identity_channel)
                ),
                identity=identity_service,
                js=client.jetstream(),
                mailbox=smtp,
                receiver=receiver,
            )
    finally:
        with contextlib.suppress(Exception):
            await client.close()
        await database.dispose()
