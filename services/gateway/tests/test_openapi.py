from __future__ import annotations

from typing import Any


async def test_openapi_document_describes_the_health_endpoints(gateway: Any) -> None:
    async with gateway() as client:
        response = await client.get("/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "fieldvault API"
    assert document["info"]["version"] == "1"
    assert "/healthz" in document["paths"]
    assert "/readyz" in document["paths"]
    assert "503" in document["paths"]["/readyz"]["get"]["responses"]


async def test_swagger_ui_is_served(gateway: Any) -> None:
    async with gateway() as client:
        response = await client.get("/docs")

    assert response.status_code == 200
    assert "swagger" in response.text.lower()


#: The public contract (docs/api.md): signing in, the caller, tenants, people and organisations.
IDENTITY_ROUTES = {
    "/v1/auth/login": {"post"},
    "/v1/auth/refresh": {"post"},
    "/v1/auth/logout": {"post"},
    "/v1/auth/logout-everywhere": {"post"},
    "/v1/oauth/token": {"post"},
    "/.well-known/jwks.json": {"get"},
    "/v1/me": {"get"},
    "/v1/me/password": {"post"},
    "/v1/me/mfa/totp": {"post"},
    "/v1/me/mfa/totp/confirm": {"post"},
    "/v1/tenants": {"post"},
    "/v1/tenant/policy": {"get", "put"},
    "/v1/invitations/accept": {"post"},
    "/v1/areas": {"get", "post"},
    "/v1/organizations": {"get", "post"},
    "/v1/organizations/{organization_id}": {"get", "patch"},
    "/v1/users": {"get", "post"},
    "/v1/users/{user_id}": {"get", "patch"},
    "/v1/users/{user_id}/deactivate": {"post"},
    "/v1/api-clients": {"get", "post"},
    "/v1/api-clients/{client_id}": {"delete"},
}


async def test_openapi_document_describes_every_identity_route(gateway: Any) -> None:
    async with gateway() as client:
        paths = (await client.get("/openapi.json")).json()["paths"]

    for path, methods in IDENTITY_ROUTES.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path


async def test_openapi_document_shows_the_contract_fields(gateway: Any) -> None:
    async with gateway() as client:
        document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]

    assert {"tenant", "email", "password", "otp"} <= set(schemas["LoginRequest"]["properties"])
    assert {"access_token", "refresh_token", "token_type", "expires_in"} <= set(
        schemas["TokenPair"]["properties"]
    )
    assert {"id", "tenant_id", "email", "name", "roles", "organization_id", "area_ids"} <= set(
        schemas["User"]["properties"]
    )
    assert {"name", "kind", "dpa_signed_on", "dpa_expires_on", "dpa_active"} <= set(
        schemas["Organization"]["properties"]
    )
    assert "client_secret" in schemas["ApiClientCreated"]["properties"]
    list_params = {p["name"] for p in document["paths"]["/v1/users"]["get"]["parameters"]}
    assert {"page_size", "page_token"} <= list_params
    patch_params = {
        p["name"] for p in document["paths"]["/v1/users/{user_id}"]["patch"]["parameters"]
    }
    assert "if-match" in patch_params
    token_form = document["paths"]["/v1/oauth/token"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in token_form


#: The public contract (docs/api.md): customers, sites, secrets, documents.
CUSTOMER_VAULT_ROUTES = {
    "/v1/customers": {"get", "post"},
    "/v1/customers/{customer_id}": {"get", "patch"},
    "/v1/customers/{customer_id}/export": {"get"},
    "/v1/customers/{customer_id}/erase": {"post"},
    "/v1/customers/{customer_id}/contracts": {"get", "post"},
    "/v1/contracts/{contract_id}/content": {"get"},
    "/v1/sites": {"get", "post"},
    "/v1/sites/{site_id}": {"get", "patch"},
    "/v1/sites/{site_id}/secrets": {"get"},
    "/v1/sites/{site_id}/secrets/{kind}": {"put"},
    "/v1/sites/{site_id}/secrets/{kind}/reveal": {"post"},
    "/v1/grants": {"get"},
    "/v1/audit-events": {"get"},
    "/v1/audit-events/verify": {"get"},
}


async def test_openapi_document_describes_every_customer_vault_route(gateway: Any) -> None:
    async with gateway() as client:
        document = (await client.get("/openapi.json")).json()
    paths = document["paths"]

    for path, methods in CUSTOMER_VAULT_ROUTES.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    schemas = document["components"]["schemas"]
    assert {"name", "email", "phone", "address", "notes", "etag"} <= set(
        schemas["Customer"]["properties"]
    )
    assert set(schemas["SecretMetadata"]["properties"]) == {
        "kind",
        "version",
        "updated_at",
        "updated_by",
    }
    assert {"kind", "value", "audit_event_id", "hide_after_seconds"} <= set(
        schemas["RevealedSecret"]["properties"]
    )
    assert {"id", "filename", "content_type", "size", "sha256"} <= set(
        schemas["Contract"]["properties"]
    )
    assert {"ok", "checked", "first_broken_event_id"} <= set(
        schemas["AuditVerification"]["properties"]
    )
    upload = paths["/v1/customers/{customer_id}/contracts"]["post"]["requestBody"]["content"]
    assert "file" in upload["multipart/form-data"]["schema"]["properties"]
    kind = next(
        p
        for p in paths["/v1/sites/{site_id}/secrets/{kind}"]["put"]["parameters"]
        if p["name"] == "kind"
    )
    assert set(kind["schema"]["enum"]) == {"door_code", "alarm_code", "key_safe_code"}
    audit_params = {p["name"] for p in paths["/v1/audit-events"]["get"]["parameters"]}
    assert {"customer_id", "site_id", "actor_id", "action", "since", "until"} <= audit_params


#: The public contract (docs/api.md): work orders (and the history of a work order).
WORK_ORDER_ROUTES = {
    "/v1/work-orders": {"get", "post"},
    "/v1/work-orders/{work_order_id}": {"get", "patch"},
    "/v1/work-orders/{work_order_id}/assign": {"post"},
    "/v1/work-orders/{work_order_id}/start": {"post"},
    "/v1/work-orders/{work_order_id}/complete": {"post"},
    "/v1/work-orders/{work_order_id}/unable": {"post"},
    "/v1/work-orders/{work_order_id}/cancel": {"post"},
    "/v1/work-orders/{work_order_id}/history": {"get"},
    "/v1/me/work-orders": {"get"},
}


async def test_openapi_document_describes_every_work_order_route(gateway: Any) -> None:
    async with gateway() as client:
        document = (await client.get("/openapi.json")).json()
    paths = document["paths"]

    for path, methods in WORK_ORDER_ROUTES.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    schemas = document["components"]["schemas"]
    work_order = schemas["WorkOrder"]["properties"]
    assert {
        "id",
        "site_id",
        "title",
        "description",
        "priority",
        "status",
        "scheduled_start",
        "scheduled_end",
        "assignee_user_id",
        "etag",
    } <= set(work_order)
    assert set(work_order["status"]["enum"]) == {
        "new",
        "scheduled",
        "assigned",
        "in_progress",
        "completed",
        "cancelled",
    }
    assert set(work_order["priority"]["enum"]) == {"low", "normal", "high", "urgent"}
    assert {"site", *work_order} == set(schemas["MyWorkOrder"]["properties"])
    # Names of code kinds only, never a value: a technician prepares before arriving.
    assert set(schemas["SiteSummary"]["properties"]) == {
        "id",
        "name",
        "address",
        "access_instructions",
        "code_kinds",
    }
    assert {"assignee_user_id", "organization_id"} == set(schemas["Assignment"]["properties"])
    assert schemas["Cancellation"]["required"] == ["reason"]
    list_params = {p["name"] for p in paths["/v1/work-orders"]["get"]["parameters"]}
    assert {
        "status",
        "area_id",
        "assignee_id",
        "site_id",
        "scheduled_from",
        "scheduled_until",
        "reference",
        "page_size",
        "page_token",
    } <= list_params
    assert "reference" in work_order
    unable = schemas["Unable"]
    assert unable["required"] == ["reason"]
    assert set(unable["properties"]["reason"]["enum"]) == {
        "no_access",
        "customer_absent",
        "parts_needed",
        "unsafe",
        "other",
    }
    for path in ("/v1/work-orders/{work_order_id}", "/v1/work-orders/{work_order_id}/start"):
        operation = paths[path]["patch" if path.endswith("}") else "post"]
        assert "if-match" in {p["name"] for p in operation["parameters"]}, path
        assert "412" in operation["responses"], path
    assert "409" in paths["/v1/work-orders/{work_order_id}/assign"]["post"]["responses"]


#: The public contract (docs/api.md): notifications and webhooks, with preferences and the
#: operator's view.
NOTIFICATION_ROUTES = {
    "/v1/me/notifications": {"get"},
    "/v1/me/notifications/{notification_id}/read": {"post"},
    "/v1/me/notification-preferences": {"get", "patch"},
    "/v1/webhooks": {"get", "post"},
    "/v1/webhooks/{webhook_id}": {"delete"},
    "/v1/webhooks/{webhook_id}/deliveries": {"get"},
    "/v1/operator/parked-events": {"get"},
}


async def test_openapi_document_describes_every_notification_route(gateway: Any) -> None:
    async with gateway() as client:
        document = (await client.get("/openapi.json")).json()
    paths = document["paths"]

    for path, methods in NOTIFICATION_ROUTES.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    schemas = document["components"]["schemas"]
    assert set(schemas["Notification"]["properties"]) == {
        "id",
        "type",
        "subject",
        "body",
        "link",
        "work_order_id",
        "created_at",
        "read_at",
    }
    assert set(schemas["Preferences"]["properties"]) == {
        "email",
        "sms",
        "sms_number",
        "muted_types",
        "language",
        "etag",
    }
    webhook = schemas["Webhook"]["properties"]
    assert set(webhook) == {
        "id",
        "url",
        "events",
        "status",
        "owner",
        "created_at",
        "disabled_at",
    }
    assert set(webhook["status"]["enum"]) == {"active", "disabled"}
    assert {"secret", *webhook} == set(schemas["WebhookCreated"]["properties"])
    assert set(schemas["WebhookCreate"]["required"]) == {"url", "events"}
    delivery = schemas["WebhookDelivery"]["properties"]
    assert {"status", "attempts", "last_response_code", "next_attempt_at"} <= set(delivery)
    assert set(delivery["status"]["enum"]) == {"pending", "delivered", "failed"}
    assert set(schemas["ParkedEvent"]["properties"]) == {
        "consumer",
        "event_id",
        "subject",
        "delivery_count",
        "error_type",
        "parked_at",
    }
    inbox_params = {p["name"] for p in paths["/v1/me/notifications"]["get"]["parameters"]}
    assert {"page_size", "page_token", "unread_only"} <= inbox_params
    deliveries = paths["/v1/webhooks/{webhook_id}/deliveries"]["get"]
    assert {"page_size", "page_token"} <= {p["name"] for p in deliveries["parameters"]}
    patch = paths["/v1/me/notification-preferences"]["patch"]
    assert "if-match" in {p["name"] for p in patch["parameters"]}
    assert "412" in patch["responses"]
    assert "201" in paths["/v1/webhooks"]["post"]["responses"]
    assert "204" in paths["/v1/webhooks/{webhook_id}"]["delete"]["responses"]


async def test_openapi_document_describes_the_edges_own_answers(gateway: Any) -> None:
    async with gateway() as client:
        paths = (await client.get("/openapi.json")).json()["paths"]

    creates = [
        (path, operations["post"])
        for path, operations in paths.items()
        if "201" in operations.get("post", {}).get("responses", {})
    ]
    assert {"/v1/customers", "/v1/webhooks", "/v1/tenants", "/v1/api-clients"} <= {
        path for path, _ in creates
    }
    for path, create in creates:
        headers = {p["name"] for p in create["parameters"] if p["in"] == "header"}
        assert "Idempotency-Key" in headers, path
        assert {"409", "422", "503"} <= set(create["responses"]), path
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if path not in ("/healthz", "/readyz"):
                assert "429" in responses, (method, path)
                assert "Retry-After" in responses["429"]["headers"], (method, path)
            body = operation.get("requestBody")
            if body is not None:
                assert "413" in responses, (method, path)
                if "application/json" in body["content"]:
                    assert "415" in responses, (method, path)
    assert "429" not in paths["/healthz"]["get"]["responses"]
    login = paths["/v1/auth/login"]["post"]["responses"]
    assert {"413", "415", "429"} <= set(login)


async def test_every_operation_names_how_it_is_authenticated(gateway: Any) -> None:
    async with gateway() as client:
        document = (await client.get("/openapi.json")).json()

    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    flow = schemes["partnerClientCredentials"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/v1/oauth/token" and "work_orders:write" in flow["scopes"]
    public = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "security" in operation, (method, path)
            if operation["security"] == []:
                public.add((method, path))
    expected_public = {
        ("post", "/v1/auth/login"),
        ("post", "/v1/auth/refresh"),
        ("post", "/v1/oauth/token"),
        ("get", "/.well-known/jwks.json"),
        ("post", "/v1/invitations/accept"),
        # The link token and the PIN are the credential.
        ("post", "/v1/shares/open"),
        ("get", "/healthz"),
        ("get", "/readyz"),
    }
    assert public == {op for op in expected_public if op[1] in document["paths"]}
    assert ("post", "/v1/auth/login") in public
    assert document["paths"]["/v1/work-orders"]["post"]["security"] == [
        {"bearerAuth": []},
        {"partnerClientCredentials": []},
    ]
    assert document["paths"]["/v1/tenants"]["post"]["security"] == [{"operatorToken": []}]
