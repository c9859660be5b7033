"""The customer, site and secret routes' REST contract (docs/api.md), against a stand-in
customer_vault (``fake_customer_vault.py``) that records what the gateway sent: shapes,
exchanged tokens, partial updates and preconditions, reveal headers and audit
correlation, erased data, and what is refused before the service is called."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb

from .fake_customer_vault import VaultGateway, fake_vault_gateway
from .fake_identity import STEP_UP_CODE, USER

CANARY = "CANARY-door-4711"
FULL_CUSTOMER = {
    "name": "Virtanen Oy",
    "email": "office@virtanen.example",
    "phone": "+358 40 123 4567",
    "address": "Mannerheimintie 1, Helsinki",
    "notes": "Ring twice",
    "area_id": "area-1",
}


@pytest.fixture
async def fake(start_peer: Any) -> AsyncIterator[VaultGateway]:
    async with fake_vault_gateway(start_peer) as gateway:
        yield gateway


async def create_customer(fake: VaultGateway, **fields: Any) -> dict[str, Any]:
    response = await fake.client.post(
        "/v1/customers", json={"name": "Virtanen Oy", **fields}, headers=fake.bearer()
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def create_site(fake: VaultGateway, customer_id: str, **fields: Any) -> dict[str, Any]:
    body = {"customer_id": customer_id, "area_id": "area-1", "name": "HQ", "address": "Street 1"}
    response = await fake.client.post("/v1/sites", json=body | fields, headers=fake.bearer())
    assert response.status_code == 201, response.text
    return dict(response.json())


async def site_with_door_code(fake: VaultGateway) -> str:
    site_id = (await create_site(fake, (await create_customer(fake))["id"]))["id"]
    fake.vault.secrets[(site_id, pb.SECRET_KIND_DOOR_CODE)] = (
        CANARY,
        pb.SecretMetadata(kind=pb.SECRET_KIND_DOOR_CODE, version=1, updated_by=USER),
    )
    return str(site_id)


# --- calling customer_vault as the caller -------------------------------------------


async def test_calls_carry_the_callers_token_exchanged_for_customer_vault(
    fake: VaultGateway,
) -> None:
    response = await fake.client.get("/v1/customers", headers=fake.bearer())

    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next_page_token": ""}
    (exchange,) = fake.identity.requests("ExchangeToken")
    assert exchange.audience == "customer_vault"
    (metadata,) = fake.vault.metadata("ListCustomers")
    assert metadata["authorization"].startswith("Bearer ")
    assert exchange.subject_token not in metadata["authorization"], "never the gateway token"


async def test_without_a_bearer_token_customer_vault_is_not_called(fake: VaultGateway) -> None:
    response = await fake.client.get("/v1/customers")

    assert response.status_code == 401
    assert fake.vault.calls == {}


# --- customers ------------------------------------------------------------------------


async def test_a_customer_round_trips_through_create_and_read(fake: VaultGateway) -> None:
    created = await fake.client.post("/v1/customers", json=FULL_CUSTOMER, headers=fake.bearer())

    assert created.status_code == 201, created.text
    body = created.json()
    assert {key: body[key] for key in FULL_CUSTOMER} == FULL_CUSTOMER
    assert created.headers["etag"] == body["etag"] == '"1"'
    assert body["created_at"].endswith("Z") and datetime.fromisoformat(body["created_at"])
    (request,) = fake.vault.requests("CreateCustomer")
    assert {key: getattr(request, key) for key in FULL_CUSTOMER} == FULL_CUSTOMER

    read = await fake.client.get(f"/v1/customers/{body['id']}", headers=fake.bearer())
    assert read.status_code == 200
    assert read.json() == body
    assert read.headers["etag"] == '"1"'


async def test_optional_customer_fields_left_out_are_null(fake: VaultGateway) -> None:
    body = await create_customer(fake)

    assert body["email"] is body["phone"] is body["notes"] is body["area_id"] is None
    (request,) = fake.vault.requests("CreateCustomer")
    assert (request.email, request.phone, request.area_id) == ("", "", "")


async def test_customer_search_passes_its_filters_and_paging(fake: VaultGateway) -> None:
    await create_customer(fake, email="a@example.com")
    await create_customer(fake, email="b@example.com")
    fake.vault.next_page_token = "page-2"

    response = await fake.client.get(
        "/v1/customers",
        params={"email": "a@example.com", "area_id": "area-9", "page_size": 7, "page_token": "p1"},
        headers=fake.bearer(),
    )

    assert response.status_code == 200
    assert [c["email"] for c in response.json()["items"]] == ["a@example.com"]
    assert response.json()["next_page_token"] == "page-2"
    (request,) = fake.vault.requests("ListCustomers")
    assert (request.email, request.phone, request.area_id) == ("a@example.com", "", "area-9")
    assert (request.page_size, request.page_token) == (7, "p1")


async def test_customer_search_by_name_passes_the_name(fake: VaultGateway) -> None:
    await create_customer(fake, name="Ada Lovelace", email="a@example.com")
    await create_customer(fake, name="Grace Hopper", email="b@example.com")

    response = await fake.client.get(
        "/v1/customers", params={"name": "Ada Lovelace"}, headers=fake.bearer()
    )

    assert response.status_code == 200, response.text
    assert [c["name"] for c in response.json()["items"]] == ["Ada Lovelace"]
    (request,) = fake.vault.requests("ListCustomers")
    assert (request.name, request.email, request.phone) == ("Ada Lovelace", "", "")


@pytest.mark.parametrize(
    "params",
    [
        {"name": "Ada Lovelace", "email": "a@example.com"},
        {"name": "A", "phone": "+4420"},
        {"email": "a@example.com", "phone": "+4420"},
    ],
)
async def test_customer_search_by_more_than_one_of_name_email_and_phone_is_422(
    fake: VaultGateway, params: dict[str, str]
) -> None:
    response = await fake.client.get("/v1/customers", params=params, headers=fake.bearer())

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert fake.vault.requests("ListCustomers") == []


async def test_a_name_too_long_to_be_one_is_refused_before_customer_vault(
    fake: VaultGateway,
) -> None:
    response = await fake.client.get(
        "/v1/customers", params={"name": "x" * 201}, headers=fake.bearer()
    )

    assert response.status_code == 422, response.text
    assert fake.vault.requests("ListCustomers") == []


async def test_customer_patch_sends_only_present_fields_and_the_if_match_etag(
    fake: VaultGateway,
) -> None:
    customer = await create_customer(fake, **FULL_CUSTOMER)

    response = await fake.client.patch(
        f"/v1/customers/{customer['id']}",
        json={"email": "new@example.com", "phone": None, "notes": ""},
        headers=fake.bearer() | {"If-Match": customer["etag"]},
    )

    assert response.status_code == 200, response.text
    (update,) = fake.vault.requests("UpdateCustomer")
    assert update.id == customer["id"] and update.etag == '"1"'
    present = {
        f for f in ("name", "email", "phone", "address", "notes", "area_id") if update.HasField(f)
    }
    assert present == {"email", "phone", "notes"}
    assert (update.email, update.phone, update.notes) == ("new@example.com", "", "")
    body = response.json()
    assert (body["email"], body["phone"], body["notes"]) == ("new@example.com", None, None)
    assert body["name"] == FULL_CUSTOMER["name"] and body["address"] == FULL_CUSTOMER["address"]
    assert response.headers["etag"] == body["etag"] == '"2"'


async def test_a_stale_if_match_on_a_customer_is_412(fake: VaultGateway) -> None:
    customer = await create_customer(fake)

    response = await fake.client.patch(
        f"/v1/customers/{customer['id']}",
        json={"notes": "x"},
        headers=fake.bearer() | {"If-Match": '"9"'},
    )

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"


@pytest.mark.parametrize("body", [{}, {"name": None}, {"name": ""}, {"id": "only-unknown"}])
async def test_a_customer_patch_that_changes_nothing_sensible_is_refused_before_the_vault(
    fake: VaultGateway, body: dict[str, Any]
) -> None:
    response = await fake.client.patch("/v1/customers/c-1", json=body, headers=fake.bearer())

    assert response.status_code == 422
    assert fake.vault.requests("UpdateCustomer") == []


# --- sites ----------------------------------------------------------------------------


async def test_a_site_round_trips_and_its_list_passes_the_filters(fake: VaultGateway) -> None:
    customer = await create_customer(fake)
    site = await create_site(fake, customer["id"], access_instructions="Back door")

    assert (site["customer_id"], site["area_id"]) == (customer["id"], "area-1")
    assert (site["name"], site["address"], site["access_instructions"]) == (
        "HQ",
        "Street 1",
        "Back door",
    )
    read = await fake.client.get(f"/v1/sites/{site['id']}", headers=fake.bearer())
    assert read.json() == site and read.headers["etag"] == site["etag"]

    listed = await fake.client.get(
        "/v1/sites", params={"customer_id": customer["id"], "area_id": "a"}, headers=fake.bearer()
    )
    assert [s["id"] for s in listed.json()["items"]] == [site["id"]]
    (request,) = fake.vault.requests("ListSites")
    assert (request.customer_id, request.area_id) == (customer["id"], "a")


async def test_site_patch_clears_access_instructions_given_as_null(fake: VaultGateway) -> None:
    site = await create_site(fake, (await create_customer(fake))["id"], access_instructions="x")

    response = await fake.client.patch(
        f"/v1/sites/{site['id']}",
        json={"access_instructions": None},
        headers=fake.bearer() | {"If-Match": site["etag"]},
    )

    assert response.status_code == 200, response.text
    assert response.json()["access_instructions"] is None
    (update,) = fake.vault.requests("UpdateSite")
    assert update.HasField("access_instructions") and update.access_instructions == ""
    assert not update.HasField("name") and not update.HasField("area_id")
    assert update.etag == site["etag"]


@pytest.mark.parametrize("body", [{"name": None}, {"address": None}, {"area_id": None}, {}])
async def test_a_site_patch_cannot_null_a_required_field(
    fake: VaultGateway, body: dict[str, Any]
) -> None:
    response = await fake.client.patch("/v1/sites/s-1", json=body, headers=fake.bearer())

    assert response.status_code == 422
    assert fake.vault.requests("UpdateSite") == []


# --- create and action bodies are strict ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "rpc"),
    [
        ("POST", "/v1/customers", {"name": "A", "emial": "a@example.com"}, "CreateCustomer"),
        (
            "POST",
            "/v1/sites",
            {"customer_id": "c", "area_id": "a", "name": "n", "address": "x", "gate": "1"},
            "CreateSite",
        ),
        ("PUT", "/v1/sites/s-1/secrets/door_code", {"value": "1234", "to": "x"}, "PutSecret"),
        ("POST", "/v1/sites/s-1/secrets/door_code/reveal", {"break_glas": True}, "RevealSecret"),
        ("POST", "/v1/customers/c-1/erase", {"reason": "asked", "force": True}, "EraseCustomer"),
    ],
)
async def test_unknown_members_of_a_create_or_action_body_are_refused(
    fake: VaultGateway, method: str, path: str, body: dict[str, Any], rpc: str
) -> None:
    response = await fake.client.request(method, path, json=body, headers=fake.bearer())

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert fake.vault.requests(rpc) == []


# --- secrets ----------------------------------------------------------------------------


async def test_writing_a_secret_is_a_204_that_sends_kind_and_value(fake: VaultGateway) -> None:
    site = await create_site(fake, (await create_customer(fake))["id"])

    response = await fake.client.put(
        f"/v1/sites/{site['id']}/secrets/key_safe_code",
        json={"value": CANARY},
        headers=fake.bearer(),
    )

    assert response.status_code == 204
    (put,) = fake.vault.requests("PutSecret")
    assert (put.site_id, put.kind, put.value) == (site["id"], pb.SECRET_KIND_KEY_SAFE_CODE, CANARY)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("front_door", {"value": "1234"}),
        ("door_code", {"value": ""}),
        ("door_code", {"value": CANARY * 20}),
    ],
)
async def test_a_bad_secret_write_is_refused_without_echoing_the_value(
    fake: VaultGateway, caplog: pytest.LogCaptureFixture, kind: str, body: dict[str, Any]
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await fake.client.put(
        f"/v1/sites/s-1/secrets/{kind}", json=body, headers=fake.bearer()
    )

    assert response.status_code == 422
    assert fake.vault.requests("PutSecret") == []
    assert CANARY not in response.text and CANARY not in caplog.text


async def test_the_secret_list_has_metadata_and_never_a_value(fake: VaultGateway) -> None:
    site_id = await site_with_door_code(fake)

    response = await fake.client.get(f"/v1/sites/{site_id}/secrets", headers=fake.bearer())

    assert response.status_code == 200
    (secret,) = response.json()["items"]
    assert set(secret) == {"kind", "version", "updated_at", "updated_by"}
    assert (secret["kind"], secret["version"], secret["updated_by"]) == ("door_code", 1, USER)
    assert secret["updated_at"] is None, "an unset timestamp is null"
    assert CANARY not in response.text


async def test_a_granted_reveal_is_uncacheable_and_correlated_with_the_request(
    fake: VaultGateway,
) -> None:
    site_id = await site_with_door_code(fake)
    fake.vault.grants.append(
        pb.Grant(id="g-1", site_id=site_id, user_id=USER, fields=["door_code"], active=True)
    )

    response = await fake.client.post(
        f"/v1/sites/{site_id}/secrets/door_code/reveal",
        json={"reason": "stuck at the gate"},
        headers=fake.bearer() | {"X-Request-Id": "req-reveal-1"},
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body == {
        "kind": "door_code",
        "value": CANARY,
        "audit_event_id": "event-1",
        "hide_after_seconds": 30,
    }
    (reveal,) = fake.vault.requests("RevealSecret")
    assert (reveal.site_id, reveal.kind) == (site_id, pb.SECRET_KIND_DOOR_CODE)
    assert (reveal.request_id, reveal.reason, reveal.break_glass) == (
        "req-reveal-1",
        "stuck at the gate",
        False,
    )


async def test_break_glass_is_passed_on_with_its_reason_and_identitys_step_up(
    fake: VaultGateway,
) -> None:
    site_id = await site_with_door_code(fake)

    response = await fake.client.post(
        f"/v1/sites/{site_id}/secrets/door_code/reveal",
        json={"break_glass": True, "reason": "fire alarm, no technician", "otp": STEP_UP_CODE},
        headers=fake.bearer(),
    )

    assert response.status_code == 200, response.text
    (step_up,) = fake.identity.requests("IssueStepUpToken")
    assert (step_up.purpose, step_up.otp, step_up.site_id, step_up.secret_kind) == (
        "break_glass",
        STEP_UP_CODE,
        site_id,
        "door_code",
    )
    (reveal,) = fake.vault.requests("RevealSecret")
    assert reveal.break_glass is True and reveal.reason == "fire alarm, no technician"
    assert reveal.step_up_token == f"step-up-for-{site_id}-door_code"
    assert reveal.request_id == response.headers["x-request-id"]


@pytest.mark.parametrize(("otp", "code"), [(None, "step_up_required"), ("135790", "invalid_otp")])
async def test_break_glass_refused_by_identity_never_reaches_the_vault(
    fake: VaultGateway, otp: str | None, code: str
) -> None:
    site_id = await site_with_door_code(fake)

    response = await fake.client.post(
        f"/v1/sites/{site_id}/secrets/door_code/reveal",
        json={"break_glass": True, "reason": "fire alarm, no technician", "otp": otp},
        headers=fake.bearer(),
    )

    assert response.status_code == 403, response.text
    assert response.json()["code"] == code
    assert fake.vault.requests("RevealSecret") == []
    assert "135790" not in response.text


async def test_a_reveal_with_a_grant_does_not_ask_identity_for_a_step_up(
    fake: VaultGateway,
) -> None:
    site_id = await site_with_door_code(fake)
    await fake.client.post(
        f"/v1/sites/{site_id}/secrets/door_code/reveal",
        json={"reason": "stuck at the gate"},
        headers=fake.bearer(),
    )
    assert fake.identity.requests("IssueStepUpToken") == []


async def test_a_reveal_without_a_grant_is_403_no_active_grant(fake: VaultGateway) -> None:
    site_id = await site_with_door_code(fake)

    response = await fake.client.post(
        f"/v1/sites/{site_id}/secrets/door_code/reveal", headers=fake.bearer()
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "no_active_grant"
    assert CANARY not in response.text
    assert fake.vault.events[-1].outcome == "denied"


# --- erasure --------------------------------------------------------------------------


async def test_erasure_answers_when_and_then_the_customer_is_410_erased(
    fake: VaultGateway,
) -> None:
    site_id = await site_with_door_code(fake)
    customer_id = fake.vault.sites[site_id].customer_id

    erased = await fake.client.post(
        f"/v1/customers/{customer_id}/erase",
        json={"reason": "Art. 17 request of 2026-03-01"},
        headers=fake.bearer() | {"X-Request-Id": "req-erase-1"},
    )

    assert erased.status_code == 200, erased.text
    assert erased.json()["customer_id"] == customer_id
    assert datetime.fromisoformat(erased.json()["erased_at"]).tzinfo is not None
    (erase,) = fake.vault.requests("EraseCustomer")
    assert (erase.reason, erase.request_id) == ("Art. 17 request of 2026-03-01", "req-erase-1")
    for method, path in [
        ("GET", f"/v1/customers/{customer_id}"),
        ("GET", f"/v1/sites/{site_id}"),
        ("POST", f"/v1/sites/{site_id}/secrets/door_code/reveal"),
    ]:
        response = await fake.client.request(method, path, headers=fake.bearer())
        assert response.status_code == 410, path
        assert response.json()["code"] == "erased"
        assert response.json()["type"].endswith("/erased")


async def test_erasure_honours_if_match(fake: VaultGateway) -> None:
    customer = await create_customer(fake)

    stale = await fake.client.post(
        f"/v1/customers/{customer['id']}/erase",
        json={"reason": "asked"},
        headers=fake.bearer() | {"If-Match": '"7"'},
    )

    assert stale.status_code == 412
    assert fake.vault.requests("EraseCustomer") == []
