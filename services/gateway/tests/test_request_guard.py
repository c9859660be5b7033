"""What a request body may be: its size (413), its media type (415), strict JSON (422)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from gateway.main import create_app
from gateway.request_guard import takes_json

from .conftest import settings_for
from .fake_customer_vault import VaultGateway, fake_vault_gateway

CANARY = "CANARY-body-9c1e"


@pytest.fixture
async def fake(start_peer: Any) -> AsyncIterator[VaultGateway]:
    async with fake_vault_gateway(start_peer, max_body_bytes=4096) as gateway:
        yield gateway


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def chunks(total: int, size: int = 1024) -> AsyncIterator[bytes]:
    sent = 0
    yield b'{"name": "'
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}'


async def test_a_declared_body_over_the_limit_is_413_before_it_is_read(
    fake: VaultGateway,
) -> None:
    body = json.dumps({"name": "x" * 5000}).encode()
    response = await fake.client.post(
        "/v1/customers",
        content=body,
        headers=fake.bearer() | {"Content-Type": "application/json"},
    )

    problem = assert_problem(response, 413, "payload_too_large")
    assert "4096" in problem["detail"]
    assert fake.vault.requests("CreateCustomer") == []


async def test_a_chunked_body_over_the_limit_is_413_while_it_streams(fake: VaultGateway) -> None:
    response = await fake.client.post(
        "/v1/customers",
        content=chunks(8192),
        headers=fake.bearer() | {"Content-Type": "application/json"},
    )

    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload_too_large")
    assert fake.vault.requests("CreateCustomer") == []


async def test_a_chunked_body_under_the_limit_is_served(fake: VaultGateway) -> None:
    response = await fake.client.post(
        "/v1/customers",
        content=chunks(128, size=32),
        headers=fake.bearer() | {"Content-Type": "application/json"},
    )

    assert response.status_code == 201, response.text


async def test_uploads_keep_their_own_larger_limit(fake: VaultGateway) -> None:
    customer = await fake.client.post(
        "/v1/customers", json={"name": "Virtanen Oy"}, headers=fake.bearer()
    )
    document = b"%PDF-1.7 " + b"x" * 20_000  # well over max_body_bytes

    response = await fake.client.post(
        f"/v1/customers/{customer.json()['id']}/contracts",
        files={"file": ("contract.pdf", document, "application/pdf")},
        headers=fake.bearer(),
    )

    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(document)


async def test_an_unknown_member_of_a_create_body_is_refused(fake: VaultGateway) -> None:
    response = await fake.client.post(
        "/v1/customers", json={"name": "Virtanen Oy", "emial": CANARY}, headers=fake.bearer()
    )

    problem = assert_problem(response, 422, "validation_error")
    assert {"field": "body.emial", "message": "Extra inputs are not permitted"} in problem["errors"]
    assert CANARY not in response.text
    assert fake.vault.requests("CreateCustomer") == []


async def test_an_unknown_member_of_a_patch_body_is_refused(fake: VaultGateway) -> None:
    response = await fake.client.patch(
        "/v1/customers/c-1", json={"name": "New", "etag": "e-1"}, headers=fake.bearer()
    )

    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"][0]["field"] == "body.etag"
    assert fake.vault.requests("UpdateCustomer") == []


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/x-www-form-urlencoded", b"name=Virtanen+Oy"),
        ("text/plain", b'{"name": "Virtanen Oy"}'),
        ("multipart/form-data; boundary=x", b"--x--"),
        (None, b'{"name": "Virtanen Oy"}'),
    ],
)
async def test_a_json_route_refuses_other_media_types(
    fake: VaultGateway, content_type: str | None, content: bytes
) -> None:
    headers = fake.bearer()
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await fake.client.post("/v1/customers", content=content, headers=headers)

    assert_problem(response, 415, "unsupported_media_type")
    assert fake.vault.requests("CreateCustomer") == []


async def test_json_with_a_charset_or_a_json_suffix_is_accepted(fake: VaultGateway) -> None:
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await fake.client.post(
            "/v1/customers",
            content=b'{"name": "Virtanen Oy"}',
            headers=fake.bearer() | {"Content-Type": content_type},
        )
        assert response.status_code == 201, response.text


async def test_an_optional_body_may_be_left_out(fake: VaultGateway) -> None:
    # A reveal without a body (no Content-Type) is a reveal, not a 415.
    response = await fake.client.post(
        "/v1/sites/s-1/secrets/door_code/reveal", headers=fake.bearer()
    )

    assert response.status_code not in (413, 415, 422)


async def test_malformed_json_is_422_saying_so(fake: VaultGateway) -> None:
    response = await fake.client.post(
        "/v1/customers",
        content=b'{"name": "' + CANARY.encode() + b'",',
        headers=fake.bearer() | {"Content-Type": "application/json"},
    )

    problem = assert_problem(response, 422, "validation_error")
    assert problem["detail"] == "the request body is not valid JSON"
    assert problem["errors"][0]["field"] == "body"
    assert "not valid JSON" in problem["errors"][0]["message"]
    assert CANARY not in response.text


def test_every_json_write_body_refuses_unknown_members() -> None:
    app = create_app(
        settings_for(
            dict.fromkeys(
                ("identity", "customer_vault", "work_order", "notification"), "127.0.0.1:1"
            )
        )
    )
    checked = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not takes_json(route):
            continue
        for param in route.dependant.body_params:
            model = param.field_info.annotation
            models = [
                arg
                for arg in getattr(model, "__args__", (model,))
                if isinstance(arg, type) and issubclass(arg, BaseModel)
            ]
            for body_model in models:
                checked.append(body_model.__name__)
                assert body_model.model_config.get("extra") == "forbid", (
                    route.path,
                    body_model.__name__,
                )
    assert {"LoginRequest", "CustomerPatch", "UserPatch", "WorkOrderPatch"} <= set(checked)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/customers/%00",
        "/v1/customers/abc%00def",
        "/v1/customers?email=%00",
        "/v1/customers?name=a%00b",
    ],
)
async def test_a_nul_character_in_the_path_or_query_is_422_and_reaches_no_service(
    fake: VaultGateway, path: str
) -> None:
    # PostgreSQL cannot store a NUL; no identifier or filter of the API holds one.
    response = await fake.client.get(path, headers=fake.bearer())

    problem = assert_problem(response, 422, "validation_error")
    assert "NUL" in problem["detail"]
    assert fake.vault.requests("GetCustomer") == []
    assert fake.vault.requests("ListCustomers") == []


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Ann\u0000e"},
        {"name": "Anne", "email": "anne@example.org\u0000"},
    ],
)
async def test_a_nul_character_anywhere_in_a_json_body_is_422_and_reaches_no_service(
    fake: VaultGateway, body: dict[str, Any]
) -> None:
    response = await fake.client.post("/v1/customers", json=body, headers=fake.bearer())

    problem = assert_problem(response, 422, "validation_error")
    assert [e["message"] for e in problem["errors"]] == [
        "Value error, text must not contain NUL characters"
    ]
    assert "Ann" not in response.text
    assert fake.vault.requests("CreateCustomer") == []
