"""Every operation of the OpenAPI document names the errors it can give, as problems."""

from __future__ import annotations

import re
from typing import Any

PROBLEM_REF = "#/components/schemas/Problem"
PROBES = {"/healthz", "/readyz"}
_METHODS = {"get", "post", "put", "patch", "delete"}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in _METHODS
    ]


async def test_every_operation_documents_the_errors_its_traits_can_give(gateway: Any) -> None:
    async with gateway() as client:
        document = (await client.get("/openapi.json")).json()

    missing = []
    for method, path, operation in operations(document):
        expected = set()
        if operation["security"]:
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if path not in PROBES:
            expected |= {"429", "503"}
        if "requestBody" in operation:
            expected |= {"413", "422"}
            if "application/json" in operation["requestBody"]["content"]:
                expected.add("415")
        if any(p["name"].lower() == "if-match" for p in operation.get("parameters", [])):
            expected.add("412")
        if method != "get" and path not in PROBES and "jwks" not in path:
            expected.add("409")
        absent = expected - set(operation["responses"])
        if absent:
            missing.append((method, path, sorted(absent)))
    assert missing == []


async def test_every_error_answer_is_documented_as_a_problem(gateway: Any) -> None:
    async with gateway() as client:
        document = (await client.get("/openapi.json")).json()

    assert {"type", "title", "status", "code"} <= set(
        document["components"]["schemas"]["Problem"]["required"]
    )
    not_problems = []
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")) or (path, status) == ("/readyz", "503"):
                continue
            schema = response.get("content", {}).get("application/problem+json", {})
            if schema.get("schema", {}).get("$ref") != PROBLEM_REF:
                not_problems.append((method, path, status))
    assert not_problems == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


async def test_every_operation_has_a_unique_camel_case_verb_operation_id(gateway: Any) -> None:
    async with gateway() as client:
        document = (await client.get("/openapi.json")).json()

    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", i)] == []
    by_route = {(m, p): o["operationId"] for m, p, o in operations(document)}
    assert by_route["post", "/v1/auth/login"] == "logIn"
    assert by_route["post", "/v1/work-orders"] == "createWorkOrder"
    assert by_route["post", "/v1/sites/{site_id}/secrets/{kind}/reveal"] == "revealSecret"
    assert by_route["get", "/v1/me/work-orders"] == "listMyWorkOrders"
