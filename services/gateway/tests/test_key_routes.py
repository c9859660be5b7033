"""The physical key routes' REST contract, against the stand-in customer_vault: the tag code
is answered once and never cached, what is malformed is refused before the service is
called, and a tag that finds nothing is a plain 404 that repeats neither tag nor site."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .fake_customer_vault import VaultGateway, fake_vault_gateway
from .test_customer_vault_routes import create_customer, create_site


@pytest.fixture
async def fake(start_peer: Any) -> AsyncIterator[VaultGateway]:
    async with fake_vault_gateway(start_peer) as gateway:
        yield gateway


async def test_registering_a_key_answers_its_tag_code_once_and_uncached(
    fake: VaultGateway,
) -> None:
    site_id = (await create_site(fake, (await create_customer(fake))["id"]))["id"]
    answer = await fake.client.post(
        f"/v1/sites/{site_id}/keys",
        json={"kind": "fob", "label": "Bin store"},
        headers=fake.bearer(),
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["tag_code"] == "7K3M-QX9P-2D4F-HR8T"
    assert (body["key"]["kind"], body["key"]["label"], body["key"]["status"]) == (
        "fob",
        "Bin store",
        "in_office",
    )
    [sent] = fake.vault.requests("RegisterKey")
    assert (sent.site_id, sent.kind, sent.label) == (site_id, "fob", "Bin store")


@pytest.mark.parametrize(
    ("method", "path", "body", "params"),
    [
        ("POST", "/v1/sites/site-1/keys", {"kind": "padlock"}, None),
        ("POST", "/v1/sites/site-1/keys", {"kind": "key", "label": "x" * 201}, None),
        ("POST", "/v1/sites/site-1/keys", {"kind": "key", "tag_code": "AAAA"}, None),
        ("POST", "/v1/keys/key-1/check-out", {}, None),
        ("POST", "/v1/keys/key-1/check-out", {"user_id": "u" * 37}, None),
        ("GET", "/v1/keys", None, {"tag": "7" * 41}),
        ("GET", "/v1/keys", None, None),
    ],
)
async def test_malformed_key_requests_are_refused_before_the_vault_is_called(
    fake: VaultGateway,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    params: dict[str, str] | None,
) -> None:
    answer = await fake.client.request(
        method, path, json=body, params=params, headers=fake.bearer()
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    for method_name in ("RegisterKey", "CheckOutKey", "FindKeyByTag"):
        assert fake.vault.requests(method_name) == []


async def test_a_tag_that_finds_nothing_is_a_404_repeating_neither_tag_nor_anything_else(
    fake: VaultGateway,
) -> None:
    tag = "9ZZZ-QX9P-2D4F-HR8T"
    answer = await fake.client.get("/v1/keys", params={"tag": tag}, headers=fake.bearer())
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    assert tag not in answer.text and tag.replace("-", "") not in answer.text
    [sent] = fake.vault.requests("FindKeyByTag")
    assert sent.tag_code == tag
