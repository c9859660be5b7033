"""Who may call what: every operation of ``/openapi.json`` by every kind of caller.

One table, :data:`MATRIX`, says for each operation what each caller gets: every role
(docs/security-model.md#roles-and-scopes), partner clients with different scopes, a user
of another tenant (whose calls name this tenant's objects), and callers without a valid
token (none, expired — really signed, only too old — and logged out). An operation in the
OpenAPI document without a row fails the test, and so does a row for an operation that is
gone.

Expectations: ``ALLOW`` is any answer that is not an authorisation refusal (not 401,
403 or 404, and no 5xx; many calls send bodies that only a real caller's state makes
valid, so a 409 or 422 still shows the caller got past the access check); ``DENY`` is
403; ``HIDE`` is 404 (another tenant's object, or someone else's); ``UNAUTH`` is 401.

The whole stack runs as processes (real nats-server, OpenBao, SQLite); the objects the
paths name are made once by :func:`fieldvault_devstack.population.populate`. Calls that
change state run the refused callers first and the allowed ones last, on objects of their
own (an erasable customer, a cancellable work order, ...); logout runs last of all, then
logout-everywhere with the sessions it ended.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from fieldvault_devstack.population import Population, bearer, populate
from fieldvault_devstack.shared_stack import SharedStack
from fieldvault_devstack.stack import LocalStack

pytestmark = pytest.mark.stack

ALLOW = "allow"
DENY = "deny"
HIDE = "hide"
UNAUTH = "unauth"

ROLES = ("admin", "dispatcher", "technician", "subcontractor_manager", "auditor", "dpo")
PARTNERS = ("partner_read", "partner_write", "partner_hooks")
TOKENLESS = ("anonymous", "expired", "revoked")
CALLERS = (*ROLES, *PARTNERS, "other_tenant", *TOKENLESS)

Body = Callable[[Mapping[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    """One operation: how to call it and what each caller gets."""

    expect: Mapping[str, str | int]
    #: Path parameter → key of ``Population.ids`` (default: the parameter's own name).
    ids: Mapping[str, str] = field(default_factory=dict)
    json: Body | None = None
    form: Body | None = None
    upload: bool = False
    #: Query parameters, made from ``Population.ids``.
    params: Body | None = None


def who(default: str | int = DENY, **special: str | int) -> dict[str, str | int]:
    """Expectations for every caller: ``default`` for roles and partners, 404 for another
    tenant's user unless said otherwise, 401 without a valid token; then ``special``."""
    table: dict[str, str | int] = dict.fromkeys((*ROLES, *PARTNERS), default)
    table["other_tenant"] = HIDE
    table.update(dict.fromkeys(TOKENLESS, UNAUTH))
    table.update(special)
    return table


def public(status: int) -> dict[str, str | int]:
    """The same answer for everyone: the operation does not look at the caller."""
    return dict.fromkeys(CALLERS, status)


def allow(*callers: str, default: str | int = DENY, **special: str | int) -> dict[str, str | int]:
    return who(default, **dict.fromkeys(callers, ALLOW), **special)


USERS = ROLES  # every person of the tenant, whatever their role
WORK_ORDER_READERS = ("dispatcher", "technician", "partner_read", "partner_write", "partner_hooks")
# A user of another tenant listing: their own tenant's items, never ours.
OWN_TENANT_LIST = {"other_tenant": ALLOW}


def _unique_email(_: Mapping[str, str]) -> dict[str, Any]:
    return {"email": f"m-{uuid.uuid4().hex[:8]}@example.org", "name": "M", "roles": ["auditor"]}


MATRIX: dict[tuple[str, str], Row] = {
    # --- public --------------------------------------------------------------------
    ("GET", "/healthz"): Row(public(200)),
    ("GET", "/readyz"): Row(public(200)),
    ("GET", "/.well-known/jwks.json"): Row(public(200)),
    ("POST", "/v1/auth/login"): Row(public(422), json=lambda _: {}),
    ("POST", "/v1/auth/refresh"): Row(public(422), json=lambda _: {}),
    ("POST", "/v1/oauth/token"): Row(public(400), form=lambda _: {"scope": "x"}),
    ("POST", "/v1/invitations/accept"): Row(
        public(409), json=lambda _: {"token": "no-such-invitation-token", "password": "pw"}
    ),
    # --- platform operator only (a user's or partner's token is not the operator's) ---
    ("POST", "/v1/tenants"): Row(
        public(UNAUTH),
        json=lambda _: {
            "slug": f"m-{uuid.uuid4().hex[:8]}",
            "name": "Matrix",
            "admin_email": "a@matrix.example",
            "admin_name": "A",
        },
    ),
    ("GET", "/v1/operator/parked-events"): Row(public(UNAUTH)),
    # --- the caller ----------------------------------------------------------------
    ("GET", "/v1/me"): Row(allow(*USERS, other_tenant=ALLOW)),
    ("POST", "/v1/me/password"): Row(
        allow(*USERS, other_tenant=ALLOW),
        json=lambda _: {"current_password": "not my password", "new_password": "x" * 20},
    ),
    ("POST", "/v1/me/mfa/totp"): Row(allow(*USERS, other_tenant=ALLOW)),
    ("POST", "/v1/me/mfa/totp/confirm"): Row(
        allow(*USERS, other_tenant=ALLOW), json=lambda _: {"code": "000000"}
    ),
    # Whoever may read work orders lists their own assignments (none for most).
    ("GET", "/v1/me/work-orders"): Row(
        allow(
            "dispatcher",
            "technician",
            "subcontractor_manager",
            "partner_read",
            "partner_write",
            "partner_hooks",
            other_tenant=ALLOW,
        )
    ),
    ("GET", "/v1/me/notifications"): Row(allow(*USERS, other_tenant=ALLOW)),
    # Someone else's notification is not found; a partner has no inbox at all.
    ("POST", "/v1/me/notifications/{notification_id}/read"): Row(
        allow("technician", default=HIDE, **dict.fromkeys(PARTNERS, DENY))
    ),
    ("GET", "/v1/me/notification-preferences"): Row(allow(*USERS, other_tenant=ALLOW)),
    ("PATCH", "/v1/me/notification-preferences"): Row(
        allow(*USERS, other_tenant=ALLOW), json=lambda _: {"email": True}
    ),
    # --- tenant administration -----------------------------------------------------
    # The tenant's second-factor policy: its admins (the same values written back).
    ("GET", "/v1/tenant/policy"): Row(allow("admin", other_tenant=ALLOW)),
    ("PUT", "/v1/tenant/policy"): Row(
        allow("admin", other_tenant=ALLOW),
        json=lambda _: {
            "mfa_required_roles": ["admin", "auditor", "dpo"],
            "break_glass_step_up_required": True,
        },
    ),
    # Retention periods: admins set them; auditors and DPOs read them and the report.
    ("GET", "/v1/tenant/retention"): Row(allow("admin", "auditor", "dpo", other_tenant=ALLOW)),
    ("PUT", "/v1/tenant/retention"): Row(
        allow("admin", other_tenant=ALLOW), json=lambda _: {"audit_records": 2190}
    ),
    ("GET", "/v1/retention/report"): Row(allow("admin", "auditor", "dpo", other_tenant=ALLOW)),
    # Data-handling instructions: published by admins (with a grace period long enough
    # that the rest of this table is not asked to acknowledge them), read and acknowledged
    # by every person, reported to admins, auditors and DPOs.
    ("POST", "/v1/tenant/instructions"): Row(
        allow("admin", other_tenant=ALLOW),
        json=lambda _: {"markdown": "# Matrix rules", "grace_days": 90},
    ),
    ("GET", "/v1/tenant/instructions"): Row(allow(*USERS, other_tenant=ALLOW)),
    ("PUT", "/v1/tenant/instructions/{version}/acknowledgement"): Row(
        allow(*USERS, other_tenant=ALLOW)
    ),
    ("GET", "/v1/tenant/instructions/report"): Row(
        allow("admin", "auditor", "dpo", other_tenant=ALLOW)
    ),
    ("GET", "/v1/areas"): Row(allow(*USERS, **OWN_TENANT_LIST)),
    ("POST", "/v1/areas"): Row(allow("admin", other_tenant=ALLOW), json=lambda _: {"name": "M"}),
    # Dispatchers read people and organisations to assign work to them.
    ("GET", "/v1/organizations"): Row(allow("admin", "dispatcher", **OWN_TENANT_LIST)),
    ("POST", "/v1/organizations"): Row(
        allow("admin", other_tenant=ALLOW), json=lambda _: {"name": "Matrix Sub"}
    ),
    ("GET", "/v1/organizations/{organization_id}"): Row(allow("admin", "dispatcher")),
    ("PATCH", "/v1/organizations/{organization_id}"): Row(
        allow("admin"), json=lambda _: {"name": "Renamed Sub"}
    ),
    ("GET", "/v1/organizations/{organization_id}/dpa-documents"): Row(allow("admin")),
    ("POST", "/v1/organizations/{organization_id}/dpa-documents"): Row(allow("admin"), upload=True),
    ("GET", "/v1/dpa-documents/{document_id}/content"): Row(
        allow("admin"), ids={"document_id": "dpa_document_id"}
    ),
    # A subcontractor manager finds the people of their own organisation.
    ("GET", "/v1/users"): Row(
        allow("admin", "dispatcher", "subcontractor_manager", **OWN_TENANT_LIST)
    ),
    ("POST", "/v1/users"): Row(allow("admin", other_tenant=ALLOW), json=_unique_email),
    # The victim belongs to the tenant's own organisation, not the subcontractor's.
    ("GET", "/v1/users/{user_id}"): Row(
        allow("admin", "dispatcher", subcontractor_manager=HIDE), ids={"user_id": "victim_user_id"}
    ),
    ("PATCH", "/v1/users/{user_id}"): Row(
        allow("admin"), ids={"user_id": "victim_user_id"}, json=lambda _: {"name": "Renamed"}
    ),
    ("GET", "/v1/api-clients"): Row(allow("admin", **OWN_TENANT_LIST)),
    ("POST", "/v1/api-clients"): Row(
        allow("admin", other_tenant=ALLOW),
        json=lambda _: {"name": "M", "scopes": ["work_orders:read"]},
    ),
    # --- customers, sites, secrets, documents --------------------------------------
    # The DPO reads customers to answer data-subject requests.
    ("GET", "/v1/customers"): Row(
        allow("admin", "dispatcher", "dpo", "partner_write", **OWN_TENANT_LIST)
    ),
    ("POST", "/v1/customers"): Row(
        allow("admin", "dispatcher", "partner_write", other_tenant=ALLOW),
        json=lambda ids: {"name": "Matrix customer", "area_id": ids["area_id"]},
    ),
    ("GET", "/v1/customers/{customer_id}"): Row(
        allow("admin", "dispatcher", "dpo", "partner_write")
    ),
    ("PATCH", "/v1/customers/{customer_id}"): Row(
        allow("admin", "dispatcher", "partner_write"), json=lambda _: {"notes": "matrix"}
    ),
    ("GET", "/v1/customers/{customer_id}/export"): Row(allow("dpo")),
    # A technician does not see the customer at all (not just its contracts).
    ("GET", "/v1/customers/{customer_id}/contracts"): Row(
        allow("admin", "dispatcher", technician=HIDE)
    ),
    ("POST", "/v1/customers/{customer_id}/contracts"): Row(
        allow("admin", "dispatcher"), upload=True
    ),
    ("GET", "/v1/contracts/{contract_id}/content"): Row(
        allow("admin", "dispatcher", technician=HIDE)
    ),
    # Sites are customer data: the DPO reads them, a partner with customers:write keeps them.
    ("GET", "/v1/sites"): Row(
        allow("admin", "dispatcher", "technician", "dpo", "partner_write", **OWN_TENANT_LIST)
    ),
    ("POST", "/v1/sites"): Row(
        allow("admin", "dispatcher", "partner_write", other_tenant=HIDE),
        json=lambda ids: {
            "customer_id": ids["customer_id"],
            "area_id": ids["area_id"],
            "name": "Matrix site",
            "address": "1 Matrix Road",
        },
    ),
    ("GET", "/v1/sites/{site_id}"): Row(
        allow("admin", "dispatcher", "technician", "dpo", "partner_write")
    ),
    ("PATCH", "/v1/sites/{site_id}"): Row(
        allow("admin", "dispatcher", "partner_write"),
        json=lambda _: {"access_instructions": "ring twice"},
    ),
    ("GET", "/v1/sites/{site_id}/secrets"): Row(
        allow("admin", "dispatcher", "technician", "dpo", "partner_write")
    ),
    ("PUT", "/v1/sites/{site_id}/secrets/{kind}"): Row(
        allow("dispatcher", "technician"),
        ids={"kind": "kind"},
        json=lambda _: {"value": "MATRIX-CODE-1"},
    ),
    ("POST", "/v1/sites/{site_id}/secrets/{kind}/reveal"): Row(
        allow("technician"), ids={"kind": "kind"}, json=lambda _: {}
    ),
    ("GET", "/v1/grants"): Row(allow("dispatcher", "auditor", **OWN_TENANT_LIST)),
    ("GET", "/v1/audit-events"): Row(allow("auditor", "dpo", **OWN_TENANT_LIST)),
    ("GET", "/v1/audit-events/verify"): Row(allow("auditor", **OWN_TENANT_LIST)),
    # --- GDPR reports ------------------------------------------------------------------
    # Another tenant's admin or DPO reads their own tenant's record.
    ("GET", "/v1/records-of-processing"): Row(allow("admin", "dpo", **OWN_TENANT_LIST)),
    ("GET", "/v1/customers/{customer_id}/access-report"): Row(allow("dpo")),
    ("GET", "/v1/access-query"): Row(
        allow("auditor", "dpo"),
        params=lambda ids: {
            "site_id": ids["site_id"],
            "from": "2026-01-01T00:00:00Z",
            "to": "2030-01-01T00:00:00Z",
        },
    ),
    # --- after someone leaves: exposure, rotation tasks, secret age ------------------
    # No report exists for a person never deactivated (nor an organisation whose DPA is
    # in force): the admins and auditors who may read one are told so (404).
    ("GET", "/v1/users/{user_id}/exposure"): Row(
        who(admin=404, auditor=404), ids={"user_id": "technician_id"}
    ),
    ("GET", "/v1/organizations/{organization_id}/exposure"): Row(who(admin=404, auditor=404)),
    ("GET", "/v1/rotation-tasks"): Row(allow("dispatcher", "admin", "auditor", **OWN_TENANT_LIST)),
    # A task id that names nothing: those who may close tasks are told it is not found.
    ("POST", "/v1/rotation-tasks/{task_id}/close"): Row(
        who(dispatcher=404, admin=404),
        ids={"task_id": "site_id"},
        json=lambda _: {"reason": "code is per visit"},
    ),
    ("GET", "/v1/secrets/overdue"): Row(allow("dispatcher", "admin", "auditor", **OWN_TENANT_LIST)),
    ("GET", "/v1/tenant/secret-age-policy"): Row(
        allow("dispatcher", "admin", "auditor", **OWN_TENANT_LIST)
    ),
    ("PUT", "/v1/tenant/secret-age-policy"): Row(
        allow("admin", other_tenant=ALLOW), json=lambda _: {"max_age_days": {}}
    ),
    # --- the physical key register -----------------------------------------------------
    # The office of the site's area registers, lists and hands out keys; people only.
    ("POST", "/v1/sites/{site_id}/keys"): Row(
        allow("admin", "dispatcher"), json=lambda _: {"kind": "key", "label": "Matrix"}
    ),
    ("GET", "/v1/sites/{site_id}/keys"): Row(allow("admin", "dispatcher")),
    # A key id that names no key: those who may move keys are told it is not found.
    ("POST", "/v1/keys/{key_id}/check-out"): Row(
        who(admin=404, dispatcher=404),
        ids={"key_id": "site_id"},
        json=lambda ids: {"user_id": ids["technician_id"]},
    ),
    ("POST", "/v1/keys/{key_id}/check-in"): Row(
        who(admin=404, dispatcher=404, technician=404), ids={"key_id": "site_id"}
    ),
    ("POST", "/v1/keys/{key_id}/lost"): Row(
        who(admin=404, dispatcher=404, technician=404), ids={"key_id": "site_id"}
    ),
    # A tag that opens nothing looks the same to everyone, partners included: not found
    # (a tag scanned outside the area's office is not found either).
    ("GET", "/v1/keys"): Row(who(404), params=lambda _: {"tag": "7K3M-QX9P-2D4F-HR8T"}),
    ("GET", "/v1/me/keys"): Row(allow(*USERS, other_tenant=ALLOW)),
    # --- two-channel secure shares -----------------------------------------------------
    # Only admins share a one-off credential; admins and DPOs list and revoke their own.
    ("POST", "/v1/shares"): Row(
        allow("admin", other_tenant=ALLOW),
        json=lambda _: {
            "kind": "credential",
            "credential": "matrix one-off",
            "recipient_email": "board@matrix.example",
            "recipient_phone": "+358401234567",
        },
    ),
    ("GET", "/v1/shares"): Row(allow("admin", "dpo", other_tenant=ALLOW)),
    ("POST", "/v1/shares/{share_id}/revoke"): Row(
        who(admin=404, dpo=404), ids={"share_id": "site_id"}
    ),
    # The link token and the PIN are the credential; a made-up pair opens nothing.
    ("POST", "/v1/shares/open"): Row(
        public(410), json=lambda _: {"token": "no-such-share.token", "pin": "12345678"}
    ),
    # --- work orders ---------------------------------------------------------------
    ("POST", "/v1/work-orders"): Row(
        allow("dispatcher", "partner_write", other_tenant=HIDE),
        json=lambda ids: {"site_id": ids["site_id"], "title": "Matrix job"},
    ),
    ("GET", "/v1/work-orders"): Row(
        allow(
            "dispatcher",
            "technician",
            "subcontractor_manager",
            "partner_read",
            "partner_write",
            "partner_hooks",
            **OWN_TENANT_LIST,
        )
    ),
    # The technician's job; a subcontractor manager sees only their organisation's.
    ("GET", "/v1/work-orders/{work_order_id}"): Row(
        allow(*WORK_ORDER_READERS, subcontractor_manager=HIDE)
    ),
    ("GET", "/v1/work-orders/{work_order_id}/history"): Row(
        allow(*WORK_ORDER_READERS, subcontractor_manager=HIDE)
    ),
    ("PATCH", "/v1/work-orders/{work_order_id}"): Row(
        allow("dispatcher", "partner_write"), json=lambda _: {"description": "matrix"}
    ),
    ("POST", "/v1/work-orders/{work_order_id}/assign"): Row(
        allow("dispatcher", "subcontractor_manager"),
        ids={"work_order_id": "subcontracted_work_order_id"},
        json=lambda ids: {"assignee_user_id": ids["subcontractor_technician_id"]},
    ),
    # --- notifications and webhooks ------------------------------------------------
    ("GET", "/v1/webhooks"): Row(allow("admin", "partner_hooks", **OWN_TENANT_LIST)),
    ("POST", "/v1/webhooks"): Row(
        allow("admin", "partner_hooks", other_tenant=ALLOW),
        json=lambda _: {"url": "https://partner.example/m", "events": ["work_order.created"]},
    ),
    # A partner manages only its own subscriptions; the admin's are not found.
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): Row(allow("admin", partner_hooks=HIDE)),
    # Enabling an active webhook changes nothing, so the shared one serves.
    ("POST", "/v1/webhooks/{webhook_id}/enable"): Row(allow("admin", partner_hooks=HIDE)),
    # --- destructive: each on objects of its own, refused callers first ------------
    ("POST", "/v1/work-orders/{work_order_id}/start"): Row(
        allow("technician", other_tenant=DENY), ids={"work_order_id": "startable_work_order_id"}
    ),
    ("POST", "/v1/work-orders/{work_order_id}/complete"): Row(
        allow("technician", other_tenant=DENY),
        ids={"work_order_id": "completable_work_order_id"},
        json=lambda _: {"notes": "done"},
    ),
    ("POST", "/v1/work-orders/{work_order_id}/unable"): Row(
        allow("technician", other_tenant=DENY),
        ids={"work_order_id": "unable_work_order_id"},
        json=lambda _: {"reason": "customer_absent", "notes": "matrix"},
    ),
    ("POST", "/v1/work-orders/{work_order_id}/cancel"): Row(
        allow("dispatcher", "partner_write"),
        ids={"work_order_id": "cancellable_work_order_id"},
        json=lambda _: {"reason": "matrix"},
    ),
    ("POST", "/v1/customers/{customer_id}/erase"): Row(
        allow("dpo"), ids={"customer_id": "erasable_customer_id"}, json=lambda _: {"reason": "m"}
    ),
    ("DELETE", "/v1/webhooks/{webhook_id}"): Row(
        allow("admin", partner_hooks=HIDE), ids={"webhook_id": "deletable_webhook_id"}
    ),
    ("DELETE", "/v1/api-clients/{client_id}"): Row(
        allow("admin"), ids={"client_id": "api_client_id"}
    ),
    ("POST", "/v1/users/{user_id}/deactivate"): Row(
        allow("admin"), ids={"user_id": "victim_user_id"}
    ),
    ("POST", "/v1/auth/logout"): Row(allow(*USERS, other_tenant=ALLOW)),
    # After the row above every person's session has ended, so here they are 401 too;
    # what this row shows is that a partner's token cannot end anyone's sessions. The
    # allowed call is in identity's and the web app's tests (a lost phone).
    ("POST", "/v1/auth/logout-everywhere"): Row(
        who(DENY, other_tenant=UNAUTH, **dict.fromkeys(USERS, UNAUTH))
    ),
}


#: Where a service answers differently from the contract: (method, path, caller) → the
#: status it gives today. Each is a reported bug; the test fails when one stops happening,
#: so that a fix removes its line here.
KNOWN_DEVIATIONS: dict[tuple[str, str, str], int] = {}


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> LocalStack:
    return shared_stack.stack


@pytest.fixture(scope="module")
async def population(platform: LocalStack) -> Population:
    return await populate(platform)


def openapi_operations(document: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def path_for(path: str, row: Row, ids: Mapping[str, str]) -> str:
    values = {**ids, "kind": "door_code", "version": "1"}
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return path.format(**{name: values[row.ids.get(name, name)] for name in names})


def token_of(caller: str, population: Population) -> str | None:
    return None if caller == "anonymous" else population.tokens[caller]


async def send(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    row: Row,
    ids: Mapping[str, str],
    token: str | None,
) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": bearer(token) if token else {}}
    if row.json is not None:
        kwargs["json"] = row.json(ids)
    if row.form is not None:
        kwargs["data"] = row.form(ids)
    if row.params is not None:
        kwargs["params"] = row.params(ids)
    if row.upload:
        kwargs["files"] = {"file": ("matrix.pdf", b"%PDF-1.4 matrix", "application/pdf")}
    return await http.request(method, path_for(path, row, ids), **kwargs)


def verdict(expected: str | int, response: httpx.Response) -> bool:
    status = response.status_code
    if status >= 500:
        return False
    if expected == ALLOW:
        return status not in (401, 403, 404)
    wanted = {DENY: 403, HIDE: 404, UNAUTH: 401}.get(str(expected), expected)
    return status == wanted


def order_of_callers(row: Row) -> list[str]:
    """Refused callers first, so a state change by an allowed one cannot hide a refusal."""
    return sorted(CALLERS, key=lambda caller: row.expect[caller] == ALLOW)


async def test_the_table_covers_exactly_the_operations_of_the_openapi_document(
    platform: LocalStack,
) -> None:
    assert platform.endpoints is not None
    async with httpx.AsyncClient(base_url=platform.endpoints.gateway_url, timeout=20) as http:
        document = (await http.get("/openapi.json")).json()
    operations = openapi_operations(document)
    assert set(MATRIX) - operations == set(), "rows for operations that are gone"
    assert operations - set(MATRIX) == set(), "operations without a row in MATRIX"
    for key, row in MATRIX.items():
        assert set(row.expect) == set(CALLERS), key


async def test_every_caller_gets_what_the_matrix_says_from_every_operation(
    population: Population,
) -> None:
    surprises: list[str] = []
    async with httpx.AsyncClient(base_url=population.gateway_url, timeout=20) as http:
        for (method, path), row in MATRIX.items():
            for caller in order_of_callers(row):
                response = await send(
                    http, method, path, row, population.ids, token_of(caller, population)
                )
                known = KNOWN_DEVIATIONS.get((method, path, caller))
                if known is not None:
                    if response.status_code != known:
                        surprises.append(
                            f"{method} {path} as {caller}: known deviation {known} is gone "
                            f"(got {response.status_code}); remove it from KNOWN_DEVIATIONS"
                        )
                elif not verdict(row.expect[caller], response):
                    code = response.headers.get("content-type", "").startswith(
                        "application/problem+json"
                    ) and response.json().get("code")
                    surprises.append(
                        f"{method} {path} as {caller}: expected {row.expect[caller]}, "
                        f"got {response.status_code} {code or ''}"
                    )
    assert surprises == [], "\n".join(surprises)
