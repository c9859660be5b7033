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
