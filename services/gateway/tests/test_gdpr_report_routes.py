"""The GDPR report routes' REST contract: what the gateway sends customer_vault, what it refuses
before asking, and that only a well-formed document leaves (the reports themselves are tested
against the real customer_vault in its own tests and in tests/test_gdpr_reports_end_to_end.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from .fake_customer_vault import VaultGateway, fake_vault_gateway

ACCESS_QUERY = {
    "format": "fieldvault.site_access_query.v1",
    "generated_at": "2026-12-04T10:00:00+00:00",
    "tenant_id": "tenant-1",
    "site_id": "site-1",
    "customer_id": "customer-1",
    "area_id": "area-1",
    "from": "2026-12-01T00:00:00+00:00",
    "to": "2026-12-02T00:00:00+00:00",
    "codes": [
        {
            "kind": "door_code",
            "could_reveal": {"grants": [], "break_glass": [], "export_with_values": []},
            "did_reveal": [],
        }
    ],
}


@pytest.fixture
async def fake(start_peer: Any) -> AsyncIterator[VaultGateway]:
    async with fake_vault_gateway(start_peer) as gateway:
        yield gateway


async def a_site(fake: VaultGateway) -> str:
    customer = await fake.client.post(
        "/v1/customers", json={"name": "Virtanen Oy"}, headers=fake.bearer()
    )
    site = await fake.client.post(
        "/v1/sites",
        json={
            "customer_id": customer.json()["id"],
            "area_id": "area-1",
            "name": "HQ",
            "address": "Street 1",
        },
        headers=fake.bearer(),
    )
    return str(site.json()["id"])


async def test_the_access_query_sends_the_range_and_passes_the_answer_on(
    fake: VaultGateway,
) -> None:
    site_id = await a_site(fake)
    fake.vault.report_documents["access_query"] = json.dumps(ACCESS_QUERY).encode()
    response = await fake.client.get(
        "/v1/access-query",
        params={
            "site_id": site_id,
            "from": "2026-12-01T02:00:00+02:00",
            "to": "2026-12-02T00:00:00Z",
        },
        headers=fake.bearer(),
    )
    assert response.status_code == 200, response.text
    assert response.json() == ACCESS_QUERY
    assert response.headers["cache-control"] == "no-store"
    [sent] = fake.vault.requests("QuerySiteAccess")
    assert sent.site_id == site_id
    assert sent.from_time.ToDatetime(tzinfo=UTC) == datetime(2026, 12, 1, tzinfo=UTC)
    assert sent.to_time.ToDatetime(tzinfo=UTC) == datetime(2026, 12, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"site_id": "s", "to": "2026-12-02T00:00:00Z"}, "from"),
        ({"site_id": "s", "from": "2026-12-01T00:00:00Z"}, "to"),
        ({"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z"}, "site_id"),
        ({"site_id": "s", "from": "2026-12-01T00:00:00", "to": "2026-12-02T00:00:00Z"}, "from"),
        ({"site_id": "s", "from": "0001-01-01T00:00:00+01:00", "to": "2026-12-02T00:00Z"}, "from"),
        ({"site_id": "s", "from": "2026-12-01T00:00:00Z", "to": "9999-12-31T23:59:59-05:00"}, "to"),
    ],
)
async def test_the_access_query_names_a_missing_or_naive_bound_before_asking(
    fake: VaultGateway, params: dict[str, str], field: str
) -> None:
    response = await fake.client.get("/v1/access-query", params=params, headers=fake.bearer())
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert field in {error["field"].rsplit(".", 1)[-1] for error in response.json()["errors"]}
    assert fake.vault.calls == {} or "QuerySiteAccess" not in fake.vault.calls


async def test_a_malformed_report_is_a_generic_500_not_a_download(
    fake: VaultGateway, caplog: pytest.LogCaptureFixture
) -> None:
    customer = await fake.client.post(
        "/v1/customers", json={"name": "Virtanen Oy"}, headers=fake.bearer()
    )
    fake.vault.report_documents["access_report"] = b'{"format": "something else", "reason": "Q7"}'
    response = await fake.client.get(
        f"/v1/customers/{customer.json()['id']}/access-report", headers=fake.bearer()
    )
    assert response.status_code == 500
    assert response.json()["code"] == "internal"
    assert "something else" not in response.text
    assert "Q7" not in caplog.text and "something else" not in caplog.text
    assert "malformed CustomerAccessReport" in caplog.text


async def test_the_access_report_sends_its_bounds_and_an_unknown_customer_is_404(
    fake: VaultGateway,
) -> None:
    fake.vault.report_documents["access_report"] = b"{}"
    missing = await fake.client.get(
        "/v1/customers/nobody/access-report",
        params={"since": "2026-12-01T00:00:00Z"},
        headers=fake.bearer(),
    )
    assert missing.status_code == 404
    [sent] = fake.vault.requests("GetCustomerAccessReport")
    assert sent.customer_id == "nobody"
    assert sent.since.ToDatetime(tzinfo=UTC) == datetime(2026, 12, 1, tzinfo=UTC)
    assert not sent.HasField("until")
