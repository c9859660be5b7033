"""A dispatcher's break-glass needs a fresh one-time code where the tenant's policy says
so (the default): over the public REST API, with the gateway in-process in front of a
real customer-vault and a real identity process on real OpenBao.

The code is checked by identity (one use per 30-second step, like login), identity's
step-up token is checked by the vault, and neither the code nor the token shows up in
a log line, a span, an audit record or an event.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text

from customer_vault.main import build_runtime
from customer_vault.settings import Settings
from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person, Tenant, totp
from fieldvault_devstack.identity_service import IdentityProcess
from fieldvault_devstack.in_process import serving
from fieldvault_devstack.openbao import OpenBaoServer
from fieldvault_devstack.ports import free_port
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.db import Database
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.migrations import upgrade
from fieldvault_platform.settings import Environment
from gateway.main import create_app
from gateway.settings import GatewaySettings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
Stack = tuple[httpx.AsyncClient, IdentityDriver]
DOOR_CODE = "CANARY-5150-door"
REASON = "Water leak reported, technician cannot reach the office"
#: Any compact JWS: no token of any kind belongs in a log, span, audit record or event.
JWS = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def stack(
    identity_service: IdentityProcess,
    openbao: OpenBaoServer,
    openbao_credentials: Mapping[str, tuple[str, str]],
    database_url: str,
) -> AsyncIterator[Stack]:
    """The gateway (in-process, over ASGI) in front of customer-vault and identity."""
    role_id, secret_id = openbao_credentials["customer_vault"]
    await asyncio.to_thread(upgrade, ROOT / "services/customer_vault/migrations", database_url)
    settings = Settings(  # type: ignore[call-arg]
        environment="development",
        grpc_port=free_port(),
        database_url=database_url,
        nats_url=identity_service.nats_url,
        vault_addr=openbao.addr,
        vault_role_id=role_id,
        vault_secret_id=secret_id,
        identity_addr=identity_service.addr,
        service_account_secret=identity_service.service_account_secrets["customer_vault"],
    )
    async with (
        serving(await build_runtime(settings)) as vault_target,
        open_channel(identity_service.addr) as identity_channel,
    ):
        app = create_app(
            GatewaySettings(
                environment=Environment.TEST,
                identity_addr=identity_service.addr,
                customer_vault_addr=vault_target,
                work_order_addr="127.0.0.1:1",
                notification_addr="127.0.0.1:1",
                nats_url=identity_service.nats_url,
            )
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 123))
            async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as client:
                yield (
                    client,
                    IdentityDriver(
                        identity_service, identity_pb2_grpc.IdentityServiceStub(identity_channel)
                    ),
                )


async def site_with_door_code(client: httpx.AsyncClient, office: dict[str, str], area: str) -> str:
    customer = await client.post(
        "/v1/customers", json={"name": "Mrs Hudson", "area_id": area}, headers=office
    )
    assert customer.status_code == 201, customer.text
    site = await client.post(
        "/v1/sites",
        json={
            "customer_id": customer.json()["id"],
            "area_id": area,
            "name": "221B",
            "address": "221B Baker Street",
        },
        headers=office,
    )
    assert site.status_code == 201, site.text
    site_id: str = site.json()["id"]
    written = await client.put(
        f"/v1/sites/{site_id}/secrets/door_code", json={"value": DOOR_CODE}, headers=office
    )
    assert written.status_code == 204, written.text
    return site_id


async def break_glass(
    client: httpx.AsyncClient, person: Person, site_id: str, otp: str | None = None
) -> httpx.Response:
    body: dict[str, object] = {"break_glass": True, "reason": REASON}
    if otp is not None:
        body["otp"] = otp
    return await client.post(
        f"/v1/sites/{site_id}/secrets/door_code/reveal",
        json=body,
        headers=bearer(person.gateway_token),
    )


def problem_code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, str(response.json().get("code"))


async def enrol_totp(client: httpx.AsyncClient, person: Person) -> str:
    """Enrols an authenticator app for the person; its seed (the code just shown is spent)."""
    enrolled = await client.post("/v1/me/mfa/totp", headers=bearer(person.gateway_token))
    assert enrolled.status_code == 200, enrolled.text
    secret: str = enrolled.json()["secret"]
    confirmed = await client.post(
        "/v1/me/mfa/totp/confirm", json={"code": totp(secret)}, headers=bearer(person.gateway_token)
    )
    assert confirmed.status_code == 200, confirmed.text
    return secret


async def set_step_up_policy(identity: IdentityDriver, tenant: Tenant, *, required: bool) -> None:
    admin = bearer_metadata(tenant.admin_identity_token)
    current = (
        await identity.stub.GetTenant(identity_pb2.GetTenantRequest(), metadata=admin)
    ).tenant
    assert current.break_glass_step_up_required  # on by default
    updated = await identity.stub.UpdateTenantPolicy(
        identity_pb2.UpdateTenantPolicyRequest(
            mfa_required_roles=list(current.mfa_required_roles),
            break_glass_step_up_required=required,
        ),
        metadata=admin,
    )
    assert updated.tenant.break_glass_step_up_required is required
    assert list(updated.tenant.mfa_required_roles) == list(current.mfa_required_roles)


async def test_break_glass_needs_a_fresh_one_time_code_that_works_once(
    stack: Stack,
    identity_service: IdentityProcess,
    database_url: str,
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client, identity = stack
    tenant = await identity.new_tenant()
    area = await identity.new_area(tenant, f"North {uuid.uuid4().hex[:4]}")
    dispatcher = await identity.new_person(tenant, roles=["dispatcher"], area_ids=[area])
    site_id = await site_with_door_code(client, bearer(dispatcher.gateway_token), area)

    # Policy on (the default), no second factor yet: told to enrol one.
    not_enrolled = await break_glass(client, dispatcher, site_id)
    assert problem_code(not_enrolled) == (403, "mfa_not_enrolled")
    assert "enrol" in not_enrolled.json()["detail"]

    secret = await enrol_totp(client, dispatcher)
    without_code = await break_glass(client, dispatcher, site_id)
    assert problem_code(without_code) == (403, "step_up_required")
    wrong = totp(secret, at=time.time() - 3600)
    assert problem_code(await break_glass(client, dispatcher, site_id, wrong)) == (
        403,
        "invalid_otp",
    )

    fresh = totp(secret, at=time.time() + 30)  # the confirmation spent the current step
    revealed = await break_glass(client, dispatcher, site_id, fresh)
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["value"] == DOOR_CODE
    replayed = await break_glass(client, dispatcher, site_id, fresh)
    assert problem_code(replayed) == (403, "invalid_otp")
    assert DOOR_CODE not in replayed.text

    # Nothing of the codes or the step-up token anywhere they could be read back.
    places = {
        "logs": "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records),
        "identity log": identity_service.log_file.read_text(),
        "spans": "\n".join(
            f"{span.name} {dict(span.attributes or {})} {[e.attributes for e in span.events]}"
            for span in spans.get_finished_spans()
        ),
        "identity audit": str(
            await identity.stub.ListAuditRecords(
                identity_pb2.ListAuditRecordsRequest(page_size=200),
                metadata=bearer_metadata(tenant.admin_identity_token),
            )
        ),
        "vault audit and events": await vault_rows(database_url),
    }
    assert "RevealSecret" in places["spans"] and "IssueStepUpToken" in places["spans"]
    assert "step-up token" not in places["logs"]  # a valid token was never refused, either
    for place, content in places.items():
        assert content, place
        for code in (fresh, wrong):
            assert not re.search(rf"(?<![0-9A-Za-z]){code}(?![0-9A-Za-z])", content), place
        assert not JWS.search(content), place
        assert DOOR_CODE not in content, place
    assert "step_up" in places["identity audit"]  # the step-ups were audited, without codes


async def vault_rows(database_url: str) -> str:
    """Every audit record and every event customer-vault wrote, as text."""
    database = Database(database_url)
    try:
        async with database.unit_of_work() as session:
            rows = [
                *(await session.execute(text("SELECT * FROM audit_records"))).all(),
                *(await session.execute(text("SELECT * FROM outbox_events"))).all(),
            ]
    finally:
        await database.dispose()
    assert rows
    return "\n".join(str(tuple(row)) for row in rows)


async def test_with_the_policy_off_break_glass_works_without_a_code(stack: Stack) -> None:
    client, identity = stack
    tenant = await identity.new_tenant()
    area = await identity.new_area(tenant, f"South {uuid.uuid4().hex[:4]}")
    dispatcher = await identity.new_person(tenant, roles=["dispatcher"], area_ids=[area])
    site_id = await site_with_door_code(client, bearer(dispatcher.gateway_token), area)
    assert problem_code(await break_glass(client, dispatcher, site_id)) == (
        403,
        "mfa_not_enrolled",
    )

    await set_step_up_policy(identity, tenant, required=False)
    revealed = await break_glass(client, dispatcher, site_id)
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["value"] == DOOR_CODE
    # A technician's break-glass stays refused whatever the policy: the role has no such scope.
    technician = await identity.new_person(tenant, roles=["technician"], area_ids=[area])
    refused = await break_glass(client, technician, site_id)
    assert refused.status_code == 403
