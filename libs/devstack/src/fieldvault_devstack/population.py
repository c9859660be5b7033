"""A populated tenant for tests that go through the public REST API as every kind of caller.

:func:`populate` builds, against a running :class:`~fieldvault_devstack.stack.LocalStack`,
a tenant with one person per role, partner clients with different scopes, a second
tenant with its own objects, and the objects the API's paths name (customer, site with
a door code, work orders in several states, webhook, API client, subcontractor, DPA
document, contract). Everything goes through real RPCs and the gateway, so what a test
gets back is what production would.

:func:`expired_token` re-signs a real access token with ``exp`` in the past, with
identity's own Transit key (the stack's OpenBao root token can use it), so the only
thing wrong with it is its age.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person, Tenant
from fieldvault_devstack.identity_service import IdentityProcess
from fieldvault_devstack.ports import free_port
from fieldvault_devstack.settings import DevStackSettings
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.grpc_client import open_channel

#: The roles (docs/security-model.md#roles-and-scopes), each given to one person of the
#: populated tenant.
ROLES = ("admin", "dispatcher", "technician", "subcontractor_manager", "auditor", "dpo")
#: Partner clients of the populated tenant, by name → their scopes.
PARTNER_SCOPES: Mapping[str, tuple[str, ...]] = {
    "partner_read": ("work_orders:read",),
    "partner_write": (
        "work_orders:read",
        "work_orders:write",
        "customers:read",
        "customers:write",
    ),
    # Work-order events need work_orders:read to be subscribed to.
    "partner_hooks": ("webhooks:manage", "work_orders:read"),
}
DOOR_CODE = "POP-DOOR-4711"
SIGNING_KEY = "fv-identity-signing"
#: How long the gateway may take to refuse a revoked session (the contract: a second).
REVOCATION_SECONDS = 5.0


@contextmanager
def local_stack(tmp_path_factory: Any, name: str) -> Iterator[LocalStack]:
    """A started LocalStack on free ports (for a module-scoped fixture)."""
    ports = {key: free_port() for key in DevStackSettings.model_fields if key.endswith("_port")}
    settings = DevStackSettings(
        data_dir=tmp_path_factory.mktemp(name) / "dev",
        **ports,  # type: ignore[arg-type]
    )
    stack = LocalStack(settings)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def identity_process(stack: LocalStack) -> IdentityProcess:
    assert stack.endpoints is not None
    return IdentityProcess(
        addr=f"{stack.settings.host}:{stack.settings.grpc_port('identity')}",
        operator_token=stack.operator_token(),
        service_account_secrets=stack.endpoints.service_account_secrets,
        nats_url=stack.nats.url,
        log_file=Path(stack.service_log("identity")),
    )


@dataclass
class Population:
    """Who calls and what they call on, as ids; ``tokens`` maps a caller kind to a token."""

    gateway_url: str
    tenant: Tenant
    other_tenant: Tenant
    people: dict[str, Person] = field(default_factory=dict)
    #: Caller kind → bearer token (roles, partners, ``other_tenant``, ``revoked``).
    tokens: dict[str, str] = field(default_factory=dict)
    #: Named ids of the populated tenant's objects.
    ids: dict[str, str] = field(default_factory=dict)
    #: Named ids of the other tenant's objects.
    other_ids: dict[str, str] = field(default_factory=dict)


async def _created(http: httpx.AsyncClient, path: str, token: str, **kwargs: Any) -> Any:
    response = await http.post(path, headers=bearer(token), **kwargs)
    assert response.status_code in (200, 201), f"{path}: {response.status_code} {response.text}"
    return response.json()


async def _partner_token(
    http: httpx.AsyncClient, admin_token: str, name: str, scopes: tuple[str, ...]
) -> tuple[str, str]:
    """(client id, access token) of a new partner client with these scopes."""
    client = await _created(
        http, "/v1/api-clients", admin_token, json={"name": name, "scopes": list(scopes)}
    )
    issued = await http.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        },
    )
    assert issued.status_code == 200, issued.text
    return client["id"], issued.json()["access_token"]


async def _customer_with_site(
    http: httpx.AsyncClient, token: str, area_id: str, label: str
) -> tuple[str, str]:
    customer = await _created(
        http, "/v1/customers", token, json={"name": f"Customer {label}", "area_id": area_id}
    )
    site = await _created(
        http,
        "/v1/sites",
        token,
        json={
            "customer_id": customer["id"],
            "area_id": area_id,
            "name": f"Site {label}",
            "address": f"{label} Harbour Road",
        },
    )
    written = await http.put(
        f"/v1/sites/{site['id']}/secrets/door_code",
        json={"value": DOOR_CODE},
        headers=bearer(token),
    )
    assert written.status_code == 204, written.text
    return customer["id"], site["id"]


async def _work_order(
    http: httpx.AsyncClient, token: str, site_id: str, *, assignee: str = "", org: str = ""
) -> str:
    order = await _created(
        http, "/v1/work-orders", token, json={"site_id": site_id, "title": "Lift inspection"}
    )
    if assignee or org:
        body = {"assignee_user_id": assignee} if assignee else {"organization_id": org}
        await _created(http, f"/v1/work-orders/{order['id']}/assign", token, json=body)
    order_id: str = order["id"]
    return order_id


async def _until(
    http: httpx.AsyncClient, path: str, token: str, ok: Any, timeout: float = 10.0
) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = await http.get(path, headers=bearer(token))
        if ok(response) or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.1)


async def populate(stack: LocalStack) -> Population:
    """The populated tenant (and a second one) on a running stack; see the module doc."""
    assert stack.endpoints is not None
    process = identity_process(stack)
    async with open_channel(process.addr) as channel:
        driver = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await driver.new_tenant()
        other = await driver.new_tenant()
        north = await driver.new_area(tenant, "North")
        south = await driver.new_area(tenant, "South")
        other_area = await driver.new_area(other, "Elsewhere")
        subcontractor = await driver.new_subcontractor(
            tenant, dpa_signed_on="2020-01-01", dpa_expires_on="2099-12-31"
        )
        area_of = {"dispatcher": [north], "technician": [north]}
        org_of = {"subcontractor_manager": subcontractor}
        # One after another: SQLite serialises writers anyway, and a busy machine
        # turns a pile-up of concurrent sign-ups into "database unavailable".
        people = [
            await driver.new_person(
                tenant,
                roles=[role],
                area_ids=area_of.get(role, []),
                organization_id=org_of.get(role, ""),
            )
            for role in ROLES
        ]
        people.append(
            await driver.new_person(tenant, roles=["technician"], organization_id=subcontractor)
        )
        for _ in ("victim", "revoked"):
            people.append(await driver.new_person(tenant, roles=["technician"], area_ids=[north]))
        # Another tenant's user, with every role that reads or changes this one's objects.
        people.append(
            await driver.new_person(
                other, roles=["admin", "dispatcher", "auditor", "dpo"], area_ids=[other_area]
            )
        )
    population = Population(
        gateway_url=stack.endpoints.gateway_url, tenant=tenant, other_tenant=other
    )
    population.people = dict(
        zip(
            [*ROLES, "subcontractor_technician", "victim", "revoked", "other_tenant"],
            people,
            strict=True,
        )
    )
    population.tokens = {name: person.gateway_token for name, person in population.people.items()}
    del population.tokens["victim"]
    ids = population.ids
    ids.update(
        area_id=north,
        other_area_id=south,
        organization_id=subcontractor,
        victim_user_id=population.people["victim"].id,
        technician_id=population.people["technician"].id,
        subcontractor_technician_id=population.people["subcontractor_technician"].id,
    )
    tokens = population.tokens

    async with httpx.AsyncClient(base_url=population.gateway_url, timeout=30) as http:
        admin, dispatcher = tokens["admin"], tokens["dispatcher"]
        for name, scopes in PARTNER_SCOPES.items():
            ids[f"{name}_client_id"], tokens[name] = await _partner_token(http, admin, name, scopes)
        ids["api_client_id"], _ = await _partner_token(http, admin, "victim", ("work_orders:read",))
        ids["customer_id"], ids["site_id"] = await _customer_with_site(
            http, dispatcher, north, "Main"
        )
        ids["erasable_customer_id"], _ = await _customer_with_site(
            http, dispatcher, north, "Erasable"
        )
        technician = ids["technician_id"]
        ids["work_order_id"] = await _work_order(
            http, dispatcher, ids["site_id"], assignee=technician
        )
        ids["startable_work_order_id"] = await _work_order(
            http, dispatcher, ids["site_id"], assignee=technician
        )
        ids["unable_work_order_id"] = await _work_order(
            http, dispatcher, ids["site_id"], assignee=technician
        )
        ids["completable_work_order_id"] = await _work_order(
            http, dispatcher, ids["site_id"], assignee=technician
        )
        started = await http.post(
            f"/v1/work-orders/{ids['completable_work_order_id']}/start",
            headers=bearer(tokens["technician"]),
        )
        assert started.status_code == 200, started.text
        ids["cancellable_work_order_id"] = await _work_order(http, dispatcher, ids["site_id"])
        ids["subcontracted_work_order_id"] = await _work_order(
            http, dispatcher, ids["site_id"], org=subcontractor
        )
        contract = await _created(
            http,
            f"/v1/customers/{ids['customer_id']}/contracts",
            dispatcher,
            files={"file": ("contract.pdf", b"%PDF-1.4 service contract", "application/pdf")},
        )
        ids["contract_id"] = contract["id"]
        document = await _created(
            http,
            f"/v1/organizations/{subcontractor}/dpa-documents",
            admin,
            files={"file": ("dpa.pdf", b"%PDF-1.4 signed DPA", "application/pdf")},
        )
        ids["dpa_document_id"] = document["id"]
        for name in ("webhook_id", "deletable_webhook_id"):
            hook = await _created(
                http,
                "/v1/webhooks",
                admin,
                json={"url": "https://partner.example/hooks", "events": ["*"]},
            )
            ids[name] = hook["id"]
        inbox = await _until(
            http,
            "/v1/me/notifications",
            tokens["technician"],
            lambda r: r.status_code == 200 and r.json()["items"],
        )
        assert inbox.status_code == 200 and inbox.json()["items"], inbox.text
        ids["notification_id"] = inbox.json()["items"][0]["id"]
        # The grant of the technician's job is made asynchronously.
        reveal_path = f"/v1/sites/{ids['site_id']}/secrets/door_code/reveal"
        deadline = time.monotonic() + 10
        while True:
            revealed = await http.post(reveal_path, json={}, headers=bearer(tokens["technician"]))
            if revealed.status_code == 200 or time.monotonic() > deadline:
                assert revealed.status_code == 200, revealed.text
                break
            await asyncio.sleep(0.1)

        # The other tenant's objects, for "another tenant's object is not found".
        foreign = tokens["other_tenant"]
        other_ids = population.other_ids
        other_ids["customer_id"], other_ids["site_id"] = await _customer_with_site(
            http, foreign, other_area, "Foreign"
        )
        other_ids["work_order_id"] = await _work_order(http, foreign, other_ids["site_id"])

        # A logged-out session: refused by the gateway within a second.
        logged_out = await http.post("/v1/auth/logout", headers=bearer(tokens["revoked"]))
        assert logged_out.status_code == 204, logged_out.text
        refused = await _until(
            http,
            "/v1/me",
            tokens["revoked"],
            lambda r: r.status_code == 401,
            timeout=REVOCATION_SECONDS,
        )
        assert refused.status_code == 401, refused.text
    tokens["expired"] = expired_token(stack, tokens["dispatcher"])
    return population


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _canonical(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=True).encode()


def resign(stack: LocalStack, token: str, **changes: Any) -> str:
    """``token`` with ``changes`` to its claims, signed again with identity's Transit key."""
    encoded_header, encoded_claims, _ = token.split(".")
    header = json.loads(_b64decode(encoded_header))
    claims = {**json.loads(_b64decode(encoded_claims)), **changes}
    key_name, _, version = header["kid"].rpartition(":v")
    signing_input = f"{_b64encode(_canonical(header))}.{_b64encode(_canonical(claims))}"
    signed = stack.openbao.client().secrets.transit.sign_data(
        name=key_name,
        hash_input=base64.b64encode(signing_input.encode("ascii")).decode("ascii"),
        key_version=int(version),
    )
    signature = base64.b64decode(str(signed["data"]["signature"]).split(":")[2])
    return f"{signing_input}.{_b64encode(signature)}"


def expired_token(stack: LocalStack, token: str, *, ago: int = 120) -> str:
    """A correctly signed copy of ``token`` that expired ``ago`` seconds (past any leeway)."""
    now = int(time.time())
    return resign(stack, token, iat=now - ago - 60, exp=now - ago)
