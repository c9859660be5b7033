"""Customers, sites and door codes over the public REST API: the gateway in-process in
front of a real customer-vault and a real identity process, with people who signed in.

Work-order does not exist yet, so the test grants the job the way it will: with
work-order's own service token from identity, on behalf of the dispatcher.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from customer_vault.main import build_runtime
from customer_vault.settings import Settings
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault.customer_vault.v1 import customer_vault_pb2_grpc
from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver
from fieldvault_devstack.identity_service import IdentityProcess
from fieldvault_devstack.in_process import serving
from fieldvault_devstack.openbao import OpenBaoServer
from fieldvault_devstack.ports import free_port
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.migrations import upgrade
from fieldvault_platform.settings import Environment
from gateway.main import create_app
from gateway.settings import GatewaySettings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
DOOR_CODE = "CANARY-7731-door"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


@pytest.fixture
async def stack(
    identity_service: IdentityProcess,
    openbao: OpenBaoServer,
    openbao_credentials: Mapping[str, tuple[str, str]],
    database_url: str,
) -> AsyncIterator[tuple[httpx.AsyncClient, IdentityDriver, str]]:
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
                driver = IdentityDriver(
                    identity_service, identity_pb2_grpc.IdentityServiceStub(identity_channel)
                )
                yield client, driver, vault_target


async def test_a_dispatcher_records_a_door_code_and_only_the_granted_technician_reveals_it(
    stack: tuple[httpx.AsyncClient, IdentityDriver, str],
) -> None:
    client, identity, vault_target = stack
    tenant = await identity.new_tenant()
    area = await identity.new_area(tenant, f"North {uuid.uuid4().hex[:4]}")
    dispatcher = await identity.new_person(tenant, roles=["dispatcher"], area_ids=[area])
    technician = await identity.new_person(tenant, roles=["technician"], area_ids=[area])
    stranger = await identity.new_person(tenant, roles=["technician"], area_ids=[area])
    office = bearer(dispatcher.gateway_token)

    customer = await client.post(
        "/v1/customers",
        json={"name": "Mrs Hudson", "email": "hudson@example.com", "area_id": area},
        headers=office,
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
    site_id = site.json()["id"]
    written = await client.put(
        f"/v1/sites/{site_id}/secrets/door_code", json={"value": DOOR_CODE}, headers=office
    )
    assert written.status_code == 204, written.text
    listed = await client.get(f"/v1/sites/{site_id}/secrets", headers=office)
    assert [s["kind"] for s in listed.json()["items"]] == ["door_code"]
    assert DOOR_CODE not in listed.text
    found = await client.get(
        "/v1/customers", params={"email": "HUDSON@example.com"}, headers=office
    )
    assert [c["id"] for c in found.json()["items"]] == [customer.json()["id"]]

    # Work-order's grant for the technician's job, on behalf of the dispatcher.
    work_order_token = await identity.service_token(
        "work_order",
        audience="customer_vault",
        scope="grants:write",
        tenant_id=tenant.id,
    )
    organization_id = str((await me(client, technician.gateway_token))["organization_id"])
    now = datetime.now(UTC)
    async with open_channel(vault_target) as channel:
        await customer_vault_pb2_grpc.CustomerVaultServiceStub(channel).CreateGrant(
            pb.CreateGrantRequest(
                site_id=site_id,
                user_id=technician.id,
                organization_id=organization_id,
                fields=["door_code"],
                work_order_id="wo-rest-1",
                valid_from=stamp(now - timedelta(minutes=1)),
                valid_until=stamp(now + timedelta(hours=2)),
                acting_user_id=dispatcher.id,
            ),
            metadata=bearer_metadata(work_order_token),
            timeout=10,
        )

    revealed = await client.post(
        f"/v1/sites/{site_id}/secrets/door_code/reveal",
        json={},
        headers=bearer(technician.gateway_token),
    )
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["value"] == DOOR_CODE
    assert "no-store" in revealed.headers["cache-control"]
    refused = await client.post(
        f"/v1/sites/{site_id}/secrets/door_code/reveal",
        json={},
        headers=bearer(stranger.gateway_token),
    )
    assert refused.status_code == 403 and refused.json()["code"] == "no_active_grant"
    assert DOOR_CODE not in refused.text
    other_tenant = await identity.new_tenant()
    outsider = await identity.new_person(other_tenant, roles=["dispatcher"])
    hidden = await client.get(f"/v1/sites/{site_id}", headers=bearer(outsider.gateway_token))
    assert hidden.status_code == 404


async def me(client: httpx.AsyncClient, token: str) -> dict[str, object]:
    response = await client.get("/v1/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_an_admin_files_a_subcontractors_signed_dpa_and_the_organisation_refers_to_it(
    stack: tuple[httpx.AsyncClient, IdentityDriver, str],
) -> None:
    client, identity, _ = stack
    tenant = await identity.new_tenant()
    admin = await identity.new_person(tenant, roles=["admin"])
    dispatcher = await identity.new_person(tenant, roles=["dispatcher"])
    subcontractor = await identity.new_subcontractor(
        tenant, dpa_signed_on="2026-01-01", dpa_expires_on="2030-12-31"
    )
    signed = b"%PDF-1.7\nDPA signed by Sub Oy, canary DPA-5521\n%%EOF\n"
    office = bearer(admin.gateway_token)

    uploaded = await client.post(
        f"/v1/organizations/{subcontractor}/dpa-documents",
        files={"file": ("DPA 2026.pdf", signed, "application/pdf")},
        headers=office,
    )
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()
    assert document["organization_id"] == subcontractor
    assert document["size"] == len(signed) and document["filename"] == "DPA 2026.pdf"

    linked = await client.patch(
        f"/v1/organizations/{subcontractor}",
        json={"dpa_document_id": document["id"]},
        headers=office,
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["dpa_document_id"] == document["id"]

    listed = await client.get(f"/v1/organizations/{subcontractor}/dpa-documents", headers=office)
    assert [d["id"] for d in listed.json()["items"]] == [document["id"]]
    content = await client.get(f"/v1/dpa-documents/{document['id']}/content", headers=office)
    assert content.status_code == 200 and content.content == signed

    # Not for the office at large, and not for the own organisation, which has no DPA.
    refused = await client.get(
        f"/v1/dpa-documents/{document['id']}/content", headers=bearer(dispatcher.gateway_token)
    )
    assert refused.status_code == 403, refused.text
    own = (await client.get("/v1/organizations", headers=office)).json()["items"]
    own_id = next(o["id"] for o in own if o["kind"] == "own")
    not_a_subcontractor = await client.post(
        f"/v1/organizations/{own_id}/dpa-documents",
        files={"file": ("DPA.pdf", signed, "application/pdf")},
        headers=office,
    )
    assert not_a_subcontractor.status_code == 404, not_a_subcontractor.text


async def test_a_dpo_exports_codes_by_kind_and_their_values_only_with_a_reason(
    stack: tuple[httpx.AsyncClient, IdentityDriver, str],
) -> None:
    client, identity, _ = stack
    tenant = await identity.new_tenant()
    area = await identity.new_area(tenant, f"South {uuid.uuid4().hex[:4]}")
    dispatcher = await identity.new_person(tenant, roles=["dispatcher"], area_ids=[area])
    dpo = await identity.new_person(tenant, roles=["dpo"])
    auditor = await identity.new_person(tenant, roles=["auditor"])
    office = bearer(dispatcher.gateway_token)
    customer = await client.post(
        "/v1/customers", json={"name": "Mr Holmes", "area_id": area}, headers=office
    )
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
    site_id = site.json()["id"]
    written = await client.put(
        f"/v1/sites/{site_id}/secrets/door_code", json={"value": DOOR_CODE}, headers=office
    )
    assert written.status_code == 204, written.text
    url = f"/v1/customers/{customer.json()['id']}/export"
    privacy = bearer(dpo.gateway_token)

    plain = await client.get(url, headers=privacy)
    assert plain.status_code == 200, plain.text
    assert DOOR_CODE not in plain.text
    [code] = plain.json()["sites"][0]["secrets"]
    assert (code["kind"], code["version"]) == ("door_code", 1) and "value" not in code

    no_reason = await client.get(url, params={"include_secret_values": "true"}, headers=privacy)
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "validation_error"
    reason = "Data subject request DSR-2026-118"
    with_values = await client.get(
        url, params={"include_secret_values": "true", "reason": reason}, headers=privacy
    )
    assert with_values.status_code == 200, with_values.text
    assert with_values.json()["sites"][0]["secrets"][0]["value"] == DOOR_CODE

    trail = await client.get(
        "/v1/audit-events",
        params={"action": "customer.export"},
        headers=bearer(auditor.gateway_token),
    )
    assert trail.status_code == 200, trail.text
    exports = {(tuple(e["fields"]), e["reason"]) for e in trail.json()["items"]}
    assert exports == {((), None), (("door_code",), reason)}
    assert DOOR_CODE not in trail.text


async def test_a_reveal_before_the_jobs_grant_opens_is_a_403_that_says_when_it_opens(
    stack: tuple[httpx.AsyncClient, IdentityDriver, str],
) -> None:
    client, identity, vault_target = stack
    tenant = await identity.new_tenant()
    area = await identity.new_area(tenant, f"South {uuid.uuid4().hex[:4]}")
    dispatcher = await identity.new_person(tenant, roles=["dispatcher"], area_ids=[area])
    technician = await identity.new_person(tenant, roles=["technician"], area_ids=[area])
    office = bearer(dispatcher.gateway_token)
    customer = await client.post(
        "/v1/customers", json={"name": "Mr Holmes", "area_id": area}, headers=office
    )
    site = await client.post(
        "/v1/sites",
        json={
            "customer_id": customer.json()["id"],
            "area_id": area,
            "name": "221B",
            "address": "x",
        },
        headers=office,
    )
    site_id = site.json()["id"]
    await client.put(
        f"/v1/sites/{site_id}/secrets/door_code", json={"value": DOOR_CODE}, headers=office
    )
    # work-order grants the job a margin before it starts: the grant opens later.
    opens = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    work_order_token = await identity.service_token(
        "work_order", audience="customer_vault", scope="grants:write", tenant_id=tenant.id
    )
    async with open_channel(vault_target) as channel:
        await customer_vault_pb2_grpc.CustomerVaultServiceStub(channel).CreateGrant(
            pb.CreateGrantRequest(
                site_id=site_id,
                user_id=technician.id,
                organization_id=str(
                    (await me(client, technician.gateway_token))["organization_id"]
                ),
                fields=["door_code"],
                work_order_id="wo-later",
                valid_from=stamp(opens),
                valid_until=stamp(opens + timedelta(hours=2)),
                acting_user_id=dispatcher.id,
            ),
            metadata=bearer_metadata(work_order_token),
            timeout=10,
        )
    refused = await client.post(
        f"/v1/sites/{site_id}/secrets/door_code/reveal",
        json={},
        headers=bearer(technician.gateway_token),
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["code"] == "no_active_grant"
    assert opens.isoformat().replace("+00:00", "Z") in problem["detail"]
    assert DOOR_CODE not in refused.text


async def test_customers_and_sites_both_default_to_the_creators_only_area(
    stack: tuple[httpx.AsyncClient, IdentityDriver, str],
) -> None:
    client, identity, _ = stack
    tenant = await identity.new_tenant()
    north = await identity.new_area(tenant, f"North {uuid.uuid4().hex[:4]}")
    south = await identity.new_area(tenant, f"South {uuid.uuid4().hex[:4]}")
    local = bearer(
        (await identity.new_person(tenant, roles=["dispatcher"], area_ids=[north])).gateway_token
    )
    regional = bearer(
        (
            await identity.new_person(tenant, roles=["dispatcher"], area_ids=[north, south])
        ).gateway_token
    )

    customer = await client.post("/v1/customers", json={"name": "Harbour Bakery"}, headers=local)
    assert customer.status_code == 201, customer.text
    site = await client.post(
        "/v1/sites",
        json={"customer_id": customer.json()["id"], "name": "Bakery", "address": "1 Quay"},
        headers=local,
    )
    assert site.status_code == 201, site.text
    assert customer.json()["area_id"] == site.json()["area_id"] == north

    # Whoever reaches several areas names one, for a customer and a site alike.
    unnamed_customer = await client.post(
        "/v1/customers", json={"name": "Dock Office"}, headers=regional
    )
    unnamed_site = await client.post(
        "/v1/sites",
        json={"customer_id": customer.json()["id"], "name": "Dock", "address": "2 Quay"},
        headers=regional,
    )
    assert unnamed_customer.status_code == unnamed_site.status_code == 400
    assert unnamed_customer.json()["code"] == unnamed_site.json()["code"] == "area_required"
