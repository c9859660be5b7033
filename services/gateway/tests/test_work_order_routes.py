"""The work-order routes' REST contract (docs/api.md), against a stand-in work_order
(``fake_work_order.py``) that records what the gateway sent: every field of a create,
partial updates and preconditions, list filters, assignments, the lifecycle's refusals
as problems, and what is refused before the service is called."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from fieldvault.work_order.v1 import work_order_pb2 as pb

from .fake_identity import USER
from .fake_work_order import WorkOrderGateway, fake_work_order_gateway

FULL_WORK_ORDER = {
    "site_id": "site-7",
    "title": "Replace the boiler pump",
    "description": "Pump makes a grinding noise",
    "priority": "high",
    "scheduled_start": "2026-03-02T09:00:00+02:00",
    "scheduled_end": "2026-03-02T11:30:00+02:00",
}


@pytest.fixture
async def fake(start_peer: Any) -> AsyncIterator[WorkOrderGateway]:
    async with fake_work_order_gateway(start_peer) as gateway:
        yield gateway


async def create(fake: WorkOrderGateway, **fields: Any) -> dict[str, Any]:
    body = {"site_id": "site-1", "title": "Fix the boiler"} | fields
    response = await fake.client.post("/v1/work-orders", json=body, headers=fake.bearer())
    assert response.status_code == 201, response.text
    return dict(response.json())


def utc(stamp: Any) -> datetime:
    value: datetime = stamp.ToDatetime(tzinfo=UTC)
    return value


# --- calling work_order as the caller ----------------------------------------------


async def test_calls_carry_the_callers_token_exchanged_for_work_order_and_the_request_id(
    fake: WorkOrderGateway,
) -> None:
    response = await fake.client.get(
        "/v1/work-orders", headers=fake.bearer() | {"X-Request-Id": "req-wo-1"}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next_page_token": ""}
    (exchange,) = fake.identity.requests("ExchangeToken")
    assert exchange.audience == "work_order"
    (metadata,) = fake.work_orders.metadata("ListWorkOrders")
    assert metadata["authorization"].startswith("Bearer ")
    assert exchange.subject_token not in metadata["authorization"], "never the gateway token"
    assert metadata["x-request-id"] == "req-wo-1"


async def test_without_a_bearer_token_work_order_is_not_called(fake: WorkOrderGateway) -> None:
    response = await fake.client.get("/v1/work-orders")

    assert response.status_code == 401
    assert fake.work_orders.calls == {}


# --- create, read, update -------------------------------------------------------------


async def test_create_maps_every_field_and_answers_201_with_the_etag(
    fake: WorkOrderGateway,
) -> None:
    response = await fake.client.post(
        "/v1/work-orders", json=FULL_WORK_ORDER, headers=fake.bearer()
    )

    assert response.status_code == 201, response.text
    (request,) = fake.work_orders.requests("CreateWorkOrder")
    assert (request.site_id, request.title, request.description) == (
        "site-7",
        "Replace the boiler pump",
        "Pump makes a grinding noise",
    )
    assert request.priority == pb.PRIORITY_HIGH
    assert utc(request.scheduled_start) == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    assert utc(request.scheduled_end) == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    body = response.json()
    assert response.headers["etag"] == body["etag"] == '"1"'
    assert (body["status"], body["priority"]) == ("scheduled", "high")
    assert body["scheduled_start"] == "2026-03-02T07:00:00Z"
    assert body["scheduled_end"] == "2026-03-02T09:30:00Z"
    assert (body["site_id"], body["description"], body["created_by"]) == (
        "site-7",
        "Pump makes a grinding noise",
        USER,
    )

    read = await fake.client.get(f"/v1/work-orders/{body['id']}", headers=fake.bearer())
    assert read.status_code == 200
    assert read.json() == body
    assert read.headers["etag"] == '"1"'


async def test_a_minimal_create_is_normal_priority_without_a_schedule(
    fake: WorkOrderGateway,
) -> None:
    body = await create(fake)

    (request,) = fake.work_orders.requests("CreateWorkOrder")
    assert request.priority == pb.PRIORITY_NORMAL
    assert not request.HasField("scheduled_start") and not request.HasField("scheduled_end")
    assert request.description == ""
    assert (body["status"], body["priority"]) == ("new", "normal")
    assert body["description"] is body["scheduled_start"] is body["assignee_user_id"] is None


@pytest.mark.parametrize(
    "change",
    [
        {"urgency": "high"},
        {"priority": "critical"},
        {"priority": None},
        {"title": ""},
        {"site_id": ""},
        {"scheduled_start": "2026-03-02T09:00:00"},
        {"scheduled_start": "next tuesday"},
        # Outside the years 1 to 9999 in UTC, which a protobuf Timestamp cannot carry.
        {"scheduled_start": "0001-01-01T00:00:00+05:00", "scheduled_end": "2026-03-02T12:00Z"},
        {"scheduled_start": "2026-03-02T09:00Z", "scheduled_end": "9999-12-31T23:59:59-05:00"},
    ],
)
async def test_a_bad_create_body_is_refused_before_work_order(
    fake: WorkOrderGateway, change: dict[str, Any]
) -> None:
    body = {"site_id": "site-1", "title": "Fix the boiler"} | change
    response = await fake.client.post("/v1/work-orders", json=body, headers=fake.bearer())

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert fake.work_orders.requests("CreateWorkOrder") == []


async def test_an_unknown_work_order_is_404(fake: WorkOrderGateway) -> None:
    response = await fake.client.get("/v1/work-orders/wo-404", headers=fake.bearer())

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_patch_sends_the_if_match_etag_and_only_the_fields_present(
    fake: WorkOrderGateway,
) -> None:
    order = await create(fake, description="keep me", priority="low")

    response = await fake.client.patch(
        f"/v1/work-orders/{order['id']}",
        json={"title": "Pump and valve", "scheduled_end": "2026-03-02T12:00:00Z"},
        headers=fake.bearer() | {"If-Match": order["etag"]},
    )

    assert response.status_code == 200, response.text
    (update,) = fake.work_orders.requests("UpdateWorkOrder")
    assert (update.id, update.etag) == (order["id"], '"1"')
    assert update.HasField("title") and update.title == "Pump and valve"
    assert not update.HasField("description")
    assert update.priority == pb.PRIORITY_UNSPECIFIED, "unspecified: unchanged"
    assert not update.HasField("scheduled_start")
    assert utc(update.scheduled_end) == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    body = response.json()
    assert (body["title"], body["description"], body["priority"]) == (
        "Pump and valve",
        "keep me",
        "low",
    )
    assert response.headers["etag"] == body["etag"] == '"2"'


async def test_patch_maps_priority_and_clears_a_description_given_as_null(
    fake: WorkOrderGateway,
) -> None:
    order = await create(fake, description="old")

    response = await fake.client.patch(
        f"/v1/work-orders/{order['id']}",
        json={"description": None, "priority": "urgent"},
        headers=fake.bearer(),
    )

    assert response.status_code == 200, response.text
    (update,) = fake.work_orders.requests("UpdateWorkOrder")
    assert update.HasField("description") and update.description == ""
    assert not update.HasField("title")
    assert update.priority == pb.PRIORITY_URGENT
    assert update.etag == "", "no If-Match: no precondition"
    assert response.json()["description"] is None
    assert response.json()["priority"] == "urgent"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"id": "only-unknown"},
        {"title": None},
        {"title": ""},
        {"priority": None},
        {"scheduled_start": None},
        {"scheduled_end": "2026-03-02T12:00:00"},
        {"scheduled_end": "9999-12-31T23:59:59-05:00"},
    ],
)
async def test_a_patch_that_changes_nothing_sensible_is_refused_before_work_order(
    fake: WorkOrderGateway, body: dict[str, Any]
) -> None:
    response = await fake.client.patch("/v1/work-orders/wo-1", json=body, headers=fake.bearer())

    assert response.status_code == 422
    assert fake.work_orders.requests("UpdateWorkOrder") == []


async def test_list_maps_every_filter_and_the_paging(fake: WorkOrderGateway) -> None:
    fake.work_orders.add(status=pb.WORK_ORDER_STATUS_IN_PROGRESS, assignee_user_id="tech-1")
    fake.work_orders.add(status=pb.WORK_ORDER_STATUS_NEW)
    fake.work_orders.next_page_token = "page-2"

    response = await fake.client.get(
        "/v1/work-orders",
        params={
            "status": "in_progress",
            "area_id": "area-1",
            "assignee_id": "tech-1",
            "site_id": "site-1",
            "scheduled_from": "2026-03-01T00:00:00+02:00",
            "scheduled_until": "2026-03-08T00:00:00Z",
            "page_size": 7,
            "page_token": "p1",
        },
        headers=fake.bearer(),
    )

    assert response.status_code == 200, response.text
    assert [o["id"] for o in response.json()["items"]] == ["wo-1"]
    assert response.json()["items"][0]["status"] == "in_progress"
    assert response.json()["next_page_token"] == "page-2"
    (request,) = fake.work_orders.requests("ListWorkOrders")
    assert request.status == pb.WORK_ORDER_STATUS_IN_PROGRESS
    assert (request.area_id, request.assignee_id, request.site_id) == ("area-1", "tech-1", "site-1")
    assert utc(request.scheduled_from) == datetime(2026, 2, 28, 22, 0, tzinfo=UTC)
    assert utc(request.scheduled_until) == datetime(2026, 3, 8, 0, 0, tzinfo=UTC)
    assert (request.page_size, request.page_token) == (7, "p1")


async def test_an_unfiltered_list_sends_no_filters(fake: WorkOrderGateway) -> None:
    await fake.client.get("/v1/work-orders", headers=fake.bearer())

    (request,) = fake.work_orders.requests("ListWorkOrders")
    assert request.status == pb.WORK_ORDER_STATUS_UNSPECIFIED
    assert not request.HasField("scheduled_from") and not request.HasField("scheduled_until")
    assert request.page_size == 50


@pytest.mark.parametrize(
    "params",
    [
        {"status": "done"},
        {"scheduled_from": "2026-03-01T00:00:00"},
        {"scheduled_from": "0001-01-01T00:00:00+05:00"},
        {"scheduled_until": "9999-12-31T23:59:59-05:00"},
        {"page_size": 0},
    ],
)
async def test_a_bad_list_filter_is_refused_before_work_order(
    fake: WorkOrderGateway, params: dict[str, Any]
) -> None:
    response = await fake.client.get("/v1/work-orders", params=params, headers=fake.bearer())

    assert response.status_code == 422
    assert fake.work_orders.requests("ListWorkOrders") == []


# --- assignment and the lifecycle ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "user", "organization"),
    [
        ({"assignee_user_id": "tech-1"}, "tech-1", ""),
        ({"organization_id": "org-sub"}, "", "org-sub"),
    ],
)
async def test_assign_passes_the_one_assignee_and_if_match(
    fake: WorkOrderGateway, body: dict[str, str], user: str, organization: str
) -> None:
    order = await create(fake)

    response = await fake.client.post(
        f"/v1/work-orders/{order['id']}/assign",
        json=body,
        headers=fake.bearer() | {"If-Match": order["etag"]},
    )

    assert response.status_code == 200, response.text
    (assign,) = fake.work_orders.requests("AssignWorkOrder")
    assert (assign.id, assign.etag) == (order["id"], '"1"')
    assert (assign.assignee_user_id, assign.organization_id) == (user, organization)
    assert response.json()["status"] == "assigned"
    assert response.headers["etag"] == response.json()["etag"] == '"2"'


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"assignee_user_id": "tech-1", "organization_id": "org-sub"},
        {"assignee_user_id": None, "organization_id": None},
        {"assignee_user_id": ""},
        {"assignee": "tech-1"},
    ],
)
async def test_assign_needs_exactly_one_assignee(
    fake: WorkOrderGateway, body: dict[str, Any]
) -> None:
    response = await fake.client.post(
        "/v1/work-orders/wo-1/assign", json=body, headers=fake.bearer()
    )

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert fake.work_orders.requests("AssignWorkOrder") == []


async def test_assigning_a_subcontractor_without_an_active_dpa_is_409_dpa_inactive(
    fake: WorkOrderGateway,
) -> None:
    order = await create(fake)
    fake.work_orders.lapsed_dpa.add("org-lapsed")

    response = await fake.client.post(
        f"/v1/work-orders/{order['id']}/assign",
        json={"organization_id": "org-lapsed"},
        headers=fake.bearer(),
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "dpa_inactive"
    assert response.json()["type"].endswith("/dpa_inactive")


@pytest.mark.parametrize(
    ("action", "body"),
    [("start", None), ("complete", {"notes": "done"}), ("complete", None)],
)
async def test_an_illegal_transition_is_409_invalid_transition(
    fake: WorkOrderGateway, action: str, body: dict[str, str] | None
) -> None:
    order = await create(fake)

    response = await fake.client.post(
        f"/v1/work-orders/{order['id']}/{action}", json=body, headers=fake.bearer()
    )

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["title"] == "Invalid transition"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "", {"title": "x"}),
        ("POST", "/assign", {"assignee_user_id": "tech-1"}),
        ("POST", "/start", None),
        ("POST", "/complete", None),
        ("POST", "/cancel", {"reason": "customer cancelled"}),
    ],
)
async def test_a_stale_if_match_is_412_precondition_failed(
    fake: WorkOrderGateway, method: str, path: str, body: dict[str, str] | None
) -> None:
    order = await create(fake)

    response = await fake.client.request(
        method,
        f"/v1/work-orders/{order['id']}{path}",
        json=body,
        headers=fake.bearer() | {"If-Match": '"9"'},
    )

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    assert fake.work_orders.work_orders[order["id"]].etag == '"1"', "nothing changed"


async def test_a_job_runs_through_start_and_complete_with_its_notes_and_history(
    fake: WorkOrderGateway,
) -> None:
    order = await create(fake)
    path = f"/v1/work-orders/{order['id']}"
    assigned = await fake.client.post(
        f"{path}/assign", json={"assignee_user_id": USER}, headers=fake.bearer()
    )
    started = await fake.client.post(
        f"{path}/start", headers=fake.bearer() | {"If-Match": assigned.json()["etag"]}
    )
    completed = await fake.client.post(
        f"{path}/complete",
        json={"notes": "Pump replaced"},
        headers=fake.bearer() | {"If-Match": started.json()["etag"]},
    )

    assert started.status_code == 200, started.text
    assert started.json()["status"] == "in_progress"
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "completed"
    assert completed.json()["completion_notes"] == "Pump replaced"
    assert completed.headers["etag"] == completed.json()["etag"] == '"4"'
    (start,) = fake.work_orders.requests("StartWorkOrder")
    assert (start.id, start.etag) == (order["id"], '"2"')
    (complete,) = fake.work_orders.requests("CompleteWorkOrder")
    assert (complete.etag, complete.notes) == ('"3"', "Pump replaced")

    history = await fake.client.get(f"{path}/history", headers=fake.bearer())
    assert history.status_code == 200, history.text
    entries = history.json()["items"]
    assert [(e["action"], e["from_status"], e["to_status"]) for e in entries] == [
        ("created", None, "new"),
        ("assigned", "new", "assigned"),
        ("started", "assigned", "in_progress"),
        ("completed", "in_progress", "completed"),
    ]
    assert entries[0]["actor_id"] == USER and entries[1]["fields"] == ["status"]
    assert [e["reason"] for e in entries] == [None] * 4  # people's changes give none
    assert datetime.fromisoformat(entries[0]["occurred_at"]).tzinfo is not None
    (request,) = fake.work_orders.requests("ListWorkOrderHistory")
    assert request.id == order["id"]


async def test_cancel_passes_the_reason(fake: WorkOrderGateway) -> None:
    order = await create(fake)

    response = await fake.client.post(
        f"/v1/work-orders/{order['id']}/cancel",
        json={"reason": "customer moved out"},
        headers=fake.bearer(),
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "customer moved out"
    (cancel,) = fake.work_orders.requests("CancelWorkOrder")
    assert (cancel.id, cancel.reason, cancel.etag) == (order["id"], "customer moved out", "")


@pytest.mark.parametrize("body", [None, {}, {"reason": ""}, {"reason": None}, {"why": "x"}])
async def test_cancel_without_a_reason_is_422(
    fake: WorkOrderGateway, body: dict[str, Any] | None
) -> None:
    response = await fake.client.post(
        "/v1/work-orders/wo-1/cancel", json=body, headers=fake.bearer()
    )

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert fake.work_orders.requests("CancelWorkOrder") == []


async def test_complete_refuses_an_unknown_member(fake: WorkOrderGateway) -> None:
    response = await fake.client.post(
        "/v1/work-orders/wo-1/complete", json={"note": "typo"}, headers=fake.bearer()
    )

    assert response.status_code == 422
    assert fake.work_orders.requests("CompleteWorkOrder") == []
