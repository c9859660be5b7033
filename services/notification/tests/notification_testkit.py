"""Helpers for notification's tests: publishing events the way their producers do,
reading everything stored, partner tokens; the recorders come from the devstack."""

from __future__ import annotations

import uuid
from typing import Any

from google.protobuf.message import Message as Proto
from nats.js import JetStreamContext

from fieldvault_devstack.recorders import (  # noqa: F401 - the tests' one import place
    Mailbox,
    Receiver,
    eventually,
    smtp_server,
    start_receiver,
    text_of,
)
from fieldvault_platform.events import EVENT_TYPE_HEADER, MSG_ID_HEADER, event_subject


async def publish(js: JetStreamContext, service: str, event: str, message: Proto) -> str:
    """Publish ``message`` as ``service``'s relay does (subject, id and type headers)."""
    event_id: str = message.event_id or uuid.uuid4().hex
    tenant_id: str = message.tenant_id
    await js.publish(
        event_subject(tenant_id, service, event),
        message.SerializeToString(),
        headers={MSG_ID_HEADER: event_id, EVENT_TYPE_HEADER: message.DESCRIPTOR.full_name},
    )
    return event_id


async def every_row(database: Any) -> bytes:
    """Every value of every table of the database, as bytes (what a stolen dump holds)."""
    from sqlalchemy import MetaData

    metadata = MetaData()
    async with database.engine.connect() as connection:
        await connection.run_sync(metadata.reflect)
        chunks: list[bytes] = []
        for table in metadata.sorted_tables:
            for row in (await connection.execute(table.select())).all():
                for value in row:
                    chunks.append(value if isinstance(value, bytes) else str(value).encode())
    return b"\n".join(chunks)


async def partner(people: Any, tenant: Any, scopes: list[str]) -> str:
    """A partner system's token for notification: client made by the admin, real
    client-credentials token, exchanged as the gateway does."""
    from fieldvault.identity.v1 import identity_pb2
    from fieldvault_platform.auth import bearer_metadata

    created = await people.stub.CreateApiClient(
        identity_pb2.CreateApiClientRequest(name=f"partner-{uuid.uuid4().hex[:6]}", scopes=scopes),
        metadata=bearer_metadata(tenant.admin_identity_token),
    )
    issued = await people.stub.IssueClientToken(
        identity_pb2.IssueClientTokenRequest(
            client_id=created.api_client.client_id, client_secret=created.client_secret
        )
    )
    token: str = await people.exchange(issued.access_token, "notification")
    return token
