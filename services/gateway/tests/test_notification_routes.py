"""The notification routes' REST contract (docs/api.md#webhooks), against a
stand-in notification (``fake_notification.py``) that records what the gateway sent: the
inbox and its paging, preferences with their update mask and If-Match, webhooks (the
secret shown once, deletion, deliveries) for admins and partner clients, the platform
operator's parked events, refusals as problems, and what is refused before the service
is called."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from fieldvault.notification.v1 import notification_pb2 as pb

from .fake_identity import OPERATOR_TOKEN, USER
from .fake_notification import (
    PARTNER,
    WEBHOOK_SECRET,
    NotificationGateway,
    fake_notification_gateway,
)


@pytest.fixture
async def fake(start_peer: Any) -> AsyncIterator[NotificationGateway]:
    async with fake_notification_gateway(start_peer) as gateway:
        yield gateway


def stamp(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(datetime(year, month, day, hour, minute, second, tzinfo=UTC))
    return value


def assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.json()["status"] == status
    assert response.json()["type"].endswith(f"/{code}")


# --- calling notification as the caller ----------------------------------------------


async def test_calls_carry_the_callers_token_exchanged_for_notification_and_the_request_id(
    fake: NotificationGateway,
) -> None:
    response = await fake.client.get(
        "/v1/me/notifications", headers=fake.bearer() | {"X-Request-Id": "req-n-1"}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next_page_token": ""}
    (exchange,) = fake.identity.requests("ExchangeToken")
    assert exchange.audience == "notification"
    (metadata,) = fake.notifications.metadata("ListMyNotifications")
    assert metadata["authorization"].startswith("Bearer ")
    assert exchange.subject_token not in metadata["authorization"], "never the gateway token"
    assert metadata["x-request-id"] == "req-n-1"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/me/notifications", None),
        ("POST", "/v1/me/notifications/n-1/read", None),
        ("GET", "/v1/me/notification-preferences", None),
        ("PATCH", "/v1/me/notification-preferences", {"email": False}),
        ("GET", "/v1/webhooks", None),
        ("POST", "/v1/webhooks", {"url": "https://partner.example/h", "events": ["*"]}),
        ("DELETE", "/v1/webhooks/wh-1", None),
        ("GET", "/v1/webhooks/wh-1/deliveries", None),
    ],
)
async def test_without_a_bearer_token_notification_is_not_called(
    fake: NotificationGateway, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await fake.client.request(method, path, json=body)

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert fake.notifications.calls == {}


async def test_notification_down_is_503_naming_it(fake: NotificationGateway) -> None:
    await fake.notification_server.server.stop(0)

    response = await fake.client.get("/v1/me/notifications", headers=fake.bearer())

    assert_problem(response, 503, "unavailable")
    assert response.json()["detail"] == "notification is temporarily unavailable"
    assert response.headers["retry-after"].isdigit()


# --- the inbox -------------------------------------------------------------------------


async def test_the_inbox_maps_every_field_newest_first_and_passes_the_paging(
    fake: NotificationGateway,
) -> None:
    fake.notifications.notify(
        create_time=stamp(2026, 3, 2, 7, 0), read_time=stamp(2026, 3, 2, 8, 15, 30)
    )
    fake.notifications.notify(
        type="security.break_glass_reveal",
        subject="A door code was revealed with break-glass",
        body="A dispatcher revealed a secret of a site in your area.",
        link="",
        work_order_id="",
        create_time=stamp(2026, 3, 3, 12, 0),
    )
    fake.notifications.notify(recipient="user-2", subject="someone else's")
    fake.notifications.next_page_token = "page-2"

    response = await fake.client.get(
        "/v1/me/notifications",
        params={"page_size": 7, "page_token": "p1"},
        headers=fake.bearer(),
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "id": "n-2",
                "type": "security.break_glass_reveal",
                "subject": "A door code was revealed with break-glass",
                "body": "A dispatcher revealed a secret of a site in your area.",
                "link": None,
                "work_order_id": None,
                "created_at": "2026-03-03T12:00:00Z",
                "read_at": None,
            },
            {
                "id": "n-1",
                "type": "work_order.assigned",
                "subject": "Work order WO-1 assigned to you",
                "body": "Work order WO-1 (priority high) is assigned to you.",
                "link": "/work-orders/wo-1",
                "work_order_id": "wo-1",
                "created_at": "2026-03-02T07:00:00Z",
                "read_at": "2026-03-02T08:15:30Z",
            },
        ],
        "next_page_token": "page-2",
    }
    (request,) = fake.notifications.requests("ListMyNotifications")
    assert (request.page_size, request.page_token, request.unread_only) == (7, "p1", False)


async def test_unread_only_is_passed_on(fake: NotificationGateway) -> None:
    fake.notifications.notify(read_time=stamp(2026, 3, 2, 8, 0))
    fake.notifications.notify()

    response = await fake.client.get(
        "/v1/me/notifications", params={"unread_only": "true"}, headers=fake.bearer()
    )

    assert response.status_code == 200, response.text
    assert [n["id"] for n in response.json()["items"]] == ["n-2"]
    (request,) = fake.notifications.requests("ListMyNotifications")
    assert request.unread_only is True
    assert (request.page_size, request.page_token) == (50, ""), "the defaults"


@pytest.mark.parametrize(
    "params", [{"page_size": 0}, {"page_size": 201}, {"unread_only": "perhaps"}]
)
async def test_a_bad_inbox_query_is_refused_before_notification(
    fake: NotificationGateway, params: dict[str, Any]
) -> None:
    response = await fake.client.get("/v1/me/notifications", params=params, headers=fake.bearer())

    assert_problem(response, 422, "validation_error")
    assert fake.notifications.requests("ListMyNotifications") == []


async def test_marking_read_answers_the_notification_with_its_read_time(
    fake: NotificationGateway,
) -> None:
    fake.notifications.notify()
    fake.notifications.notify(create_time=stamp(2026, 3, 2, 7, 0))

    response = await fake.client.post("/v1/me/notifications/n-2/read", headers=fake.bearer())

    assert response.status_code == 200, response.text
    (request,) = fake.notifications.requests("MarkNotificationRead")
    assert request.id == "n-2"
    body = response.json()
    assert (body["id"], body["created_at"], body["work_order_id"]) == (
        "n-2",
        "2026-03-02T07:00:00Z",
        "wo-1",
    )
    read_at = datetime.fromisoformat(body["read_at"])
    assert read_at.tzinfo is not None
    assert abs((datetime.now(UTC) - read_at).total_seconds()) < 60
    assert body["read_at"].endswith("Z")


@pytest.mark.parametrize("notification_id", ["n-404", "n-2"])
async def test_an_unknown_or_someone_elses_notification_is_404(
    fake: NotificationGateway, notification_id: str
) -> None:
    fake.notifications.notify()
    fake.notifications.notify(recipient="user-2")

    response = await fake.client.post(
        f"/v1/me/notifications/{notification_id}/read", headers=fake.bearer()
    )

    assert_problem(response, 404, "not_found")
    assert response.json()["detail"] == "no such notification"
    assert not fake.notifications.notifications["n-2"][1].HasField("read_time")


# --- preferences ---------------------------------------------------------------------


async def test_preferences_answer_every_field_and_the_etag_header(
    fake: NotificationGateway,
) -> None:
    fake.notifications.preferences = pb.Preferences(
        email=False,
        sms=True,
        sms_number="+358401234567",
        muted_types=["work_order.cancelled"],
        etag='"7"',
    )

    response = await fake.client.get("/v1/me/notification-preferences", headers=fake.bearer())

    assert response.status_code == 200, response.text
    assert response.json() == {
        "email": False,
        "sms": True,
        "sms_number": "+358401234567",
        "muted_types": ["work_order.cancelled"],
        "language": "en",
        "etag": '"7"',
    }
    assert response.headers["etag"] == '"7"'
    assert len(fake.notifications.requests("GetMyPreferences")) == 1


async def test_default_preferences_have_no_sms_number(fake: NotificationGateway) -> None:
    response = await fake.client.get("/v1/me/notification-preferences", headers=fake.bearer())

    assert response.json() == {
        "email": True,
        "sms": False,
        "sms_number": None,
        "muted_types": [],
        "language": "en",
        "etag": '"1"',
    }


async def test_patch_sends_the_members_present_as_the_update_mask_and_if_match_as_etag(
    fake: NotificationGateway,
) -> None:
    response = await fake.client.patch(
        "/v1/me/notification-preferences",
        json={"sms": True, "sms_number": "+358401234567"},
        headers=fake.bearer() | {"If-Match": '"1"'},
    )

    assert response.status_code == 200, response.text
    (update,) = fake.notifications.requests("UpdateMyPreferences")
    assert list(update.update_mask) == ["sms", "sms_number"]
    assert (update.preferences.sms, update.preferences.sms_number) == (True, "+358401234567")
    assert update.etag == '"1"'
    assert response.json() == {
        "email": True,
        "sms": True,
        "sms_number": "+358401234567",
        "muted_types": [],
        "language": "en",
        "etag": '"2"',
    }
    assert response.headers["etag"] == '"2"'


async def test_patch_of_every_member_without_if_match_has_no_precondition(
    fake: NotificationGateway,
) -> None:
    response = await fake.client.patch(
        "/v1/me/notification-preferences",
        json={
            "muted_types": ["work_order.scheduled", "work_order.assigned"],
            "email": False,
            "sms_number": "+358409999999",
            "sms": False,
        },
        headers=fake.bearer(),
    )

    assert response.status_code == 200, response.text
    (update,) = fake.notifications.requests("UpdateMyPreferences")
    assert list(update.update_mask) == ["email", "sms", "sms_number", "muted_types"]
    assert list(update.preferences.muted_types) == ["work_order.scheduled", "work_order.assigned"]
    assert (update.preferences.email, update.preferences.sms) == (False, False)
    assert update.etag == ""
    body = response.json()
    assert body["muted_types"] == ["work_order.assigned", "work_order.scheduled"]
    assert (body["email"], body["sms_number"]) == (False, "+358409999999")


async def test_patch_with_null_clears_the_sms_number_and_the_muted_types(
    fake: NotificationGateway,
) -> None:
    fake.notifications.preferences = pb.Preferences(
        email=True, sms_number="+358401234567", muted_types=["work_order.started"], etag='"3"'
    )

    response = await fake.client.patch(
        "/v1/me/notification-preferences",
        json={"sms_number": None, "muted_types": None},
        headers=fake.bearer() | {"If-Match": 'W/"3"'},
    )

    assert response.status_code == 200, response.text
    (update,) = fake.notifications.requests("UpdateMyPreferences")
    assert list(update.update_mask) == ["sms_number", "muted_types"]
    assert (update.preferences.sms_number, list(update.preferences.muted_types)) == ("", [])
    assert update.etag == 'W/"3"'
    assert (response.json()["sms_number"], response.json()["muted_types"]) == (None, [])


async def test_the_etag_of_a_copy_in_the_body_is_not_a_change_nor_the_precondition(
    fake: NotificationGateway,
) -> None:
    response = await fake.client.patch(
        "/v1/me/notification-preferences",
        json={"email": False, "etag": '"99"'},
        headers=fake.bearer(),
    )

    assert response.status_code == 200, response.text
    (update,) = fake.notifications.requests("UpdateMyPreferences")
    assert list(update.update_mask) == ["email"]
    assert update.etag == "", "If-Match alone is the precondition"


async def test_a_stale_if_match_is_412_and_nothing_changes(fake: NotificationGateway) -> None:
    response = await fake.client.patch(
        "/v1/me/notification-preferences",
        json={"email": False},
        headers=fake.bearer() | {"If-Match": '"0"'},
    )

    assert_problem(response, 412, "precondition_failed")
    (update,) = fake.notifications.requests("UpdateMyPreferences")
    assert update.etag == '"0"'
    assert fake.notifications.preferences.email is True


async def test_if_match_star_is_no_precondition(fake: NotificationGateway) -> None:
    response = await fake.client.patch(
        "/v1/me/notification-preferences",
        json={"email": False},
        headers=fake.bearer() | {"If-Match": "*"},
    )

    assert response.status_code == 200, response.text
    (update,) = fake.notifications.requests("UpdateMyPreferences")
    assert update.etag == ""


async def test_a_refusal_of_notification_is_400_with_its_reason(
    fake: NotificationGateway,
) -> None:
    response = await fake.client.patch(
        "/v1/me/notification-preferences", json={"sms": True}, headers=fake.bearer()
    )

    assert_problem(response, 400, "invalid_argument")
    assert response.json()["detail"] == "sms needs an sms_number"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"etag": '"1"'},
        {"push": True},
        {"email": False, "push": True},
        {"email": None},
        {"sms": None},
        {"email": "sometimes"},
        {"muted_types": "work_order.assigned"},
        {"muted_types": [""]},
        {"sms_number": "+" + "1" * 40},
    ],
)
async def test_a_bad_preferences_patch_is_refused_before_notification(
    fake: NotificationGateway, body: dict[str, Any]
) -> None:
    response = await fake.client.patch(
        "/v1/me/notification-preferences", json=body, headers=fake.bearer()
    )

    assert_problem(response, 422, "validation_error")
    assert fake.notifications.requests("UpdateMyPreferences") == []


async def test_an_unknown_preferences_member_is_named_in_the_problem(
    fake: NotificationGateway,
) -> None:
    response = await fake.client.patch(
        "/v1/me/notification-preferences", json={"emial": False}, headers=fake.bearer()
    )

    assert_problem(response, 422, "validation_error")
    assert "body.emial" in [error["field"] for error in response.json()["errors"]]


# --- webhooks --------------------------------------------------------------------------


async def test_create_answers_201_with_the_webhook_and_its_secret_shown_once(
    fake: NotificationGateway,
) -> None:
    response = await fake.client.post(
        "/v1/webhooks",
        json={
            "url": "https://partner.example/hooks/fieldvault",
            "events": ["work_order.created", "work_order.assigned"],
        },
        headers=fake.bearer(),
    )

    assert response.status_code == 201, response.text
    (request,) = fake.notifications.requests("CreateWebhook")
    assert request.url == "https://partner.example/hooks/fieldvault"
    assert list(request.events) == ["work_order.created", "work_order.assigned"]
    body = response.json()
    created_at = body.pop("created_at")
    assert body == {
        "id": "wh-1",
        "url": "https://partner.example/hooks/fieldvault",
        "events": ["work_order.assigned", "work_order.created"],
        "status": "active",
        "owner": USER,
        "disabled_at": None,
        "secret": WEBHOOK_SECRET,
    }
    assert created_at.endswith("Z")
    assert response.headers["cache-control"] == "no-store"

    listed = await fake.client.get("/v1/webhooks", headers=fake.bearer())
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert item["id"] == "wh-1"
    assert "secret" not in item, "the secret is shown once"
    assert WEBHOOK_SECRET not in listed.text


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://partner.example/h"},
        {"events": ["*"]},
        {"url": "https://partner.example/h", "events": []},
        {"url": "", "events": ["*"]},
        {"url": "https://partner.example/h", "events": [""]},
        {"url": "https://partner.example/h", "events": "*"},
        {"url": "https://partner.example/h", "events": ["*"], "secret": "mine"},
        {"url": "https://partner.example/h", "events": ["*"], "active": True},
    ],
)
async def test_a_bad_webhook_body_is_refused_before_notification(
    fake: NotificationGateway, body: dict[str, Any]
) -> None:
    response = await fake.client.post("/v1/webhooks", json=body, headers=fake.bearer())

    assert_problem(response, 422, "validation_error")
    assert fake.notifications.requests("CreateWebhook") == []


async def test_a_url_notification_refuses_is_400(fake: NotificationGateway) -> None:
    response = await fake.client.post(
        "/v1/webhooks",
        json={"url": "http://partner.example/h", "events": ["*"]},
        headers=fake.bearer(),
    )

    assert_problem(response, 400, "invalid_argument")
    assert response.json()["detail"] == "url must be https"
    assert fake.notifications.webhooks == {}


async def test_list_maps_every_field_and_passes_the_paging(fake: NotificationGateway) -> None:
    fake.notifications.add_webhook(create_time=stamp(2026, 3, 1, 9, 0))
    fake.notifications.add_webhook(
        url="https://other.example/in",
        events=["work_order.completed"],
        status=pb.WEBHOOK_STATUS_DISABLED,
        owner=PARTNER,
        create_time=stamp(2026, 3, 1, 10, 0),
        disable_time=stamp(2026, 3, 4, 23, 59, 59),
    )
    fake.notifications.next_page_token = "page-2"

    response = await fake.client.get(
        "/v1/webhooks", params={"page_size": 2, "page_token": "p1"}, headers=fake.bearer()
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "id": "wh-1",
                "url": "https://partner.example/hooks",
                "events": ["*"],
                "status": "active",
                "owner": USER,
                "created_at": "2026-03-01T09:00:00Z",
                "disabled_at": None,
            },
            {
                "id": "wh-2",
                "url": "https://other.example/in",
                "events": ["work_order.completed"],
                "status": "disabled",
                "owner": PARTNER,
                "created_at": "2026-03-01T10:00:00Z",
                "disabled_at": "2026-03-04T23:59:59Z",
            },
        ],
        "next_page_token": "page-2",
    }
    (request,) = fake.notifications.requests("ListWebhooks")
    assert (request.page_size, request.page_token) == (2, "p1")


async def test_a_webhook_status_the_gateway_does_not_know_fails_loudly(
    fake: NotificationGateway,
) -> None:
    fake.notifications.add_webhook(status=pb.WEBHOOK_STATUS_UNSPECIFIED)

    response = await fake.client.get("/v1/webhooks", headers=fake.bearer())

    assert_problem(response, 500, "internal")


async def test_delete_answers_204_and_the_webhook_is_gone(fake: NotificationGateway) -> None:
    fake.notifications.add_webhook()
    fake.notifications.add_webhook()

    response = await fake.client.delete("/v1/webhooks/wh-2", headers=fake.bearer())

    assert response.status_code == 204, response.text
    assert response.content == b""
    (request,) = fake.notifications.requests("DeleteWebhook")
    assert request.id == "wh-2"
    assert list(fake.notifications.webhooks) == ["wh-1"]


async def test_deleting_an_unknown_webhook_is_404(fake: NotificationGateway) -> None:
    response = await fake.client.delete("/v1/webhooks/wh-404", headers=fake.bearer())

    assert_problem(response, 404, "not_found")
    assert response.json()["detail"] == "no such webhook"


async def test_enable_answers_200_with_the_webhook_back_on_and_no_secret(
    fake: NotificationGateway,
) -> None:
    fake.notifications.add_webhook(status=pb.WEBHOOK_STATUS_DISABLED, disable_time=Timestamp())

    response = await fake.client.post("/v1/webhooks/wh-1/enable", headers=fake.bearer())

    assert response.status_code == 200, response.text
    (request,) = fake.notifications.requests("EnableWebhook")
    assert request.id == "wh-1"
    body = response.json()
    assert (body["id"], body["status"], body["disabled_at"]) == ("wh-1", "active", None)
    assert "secret" not in body
    assert WEBHOOK_SECRET not in response.text


async def test_enabling_an_unknown_webhook_is_404(fake: NotificationGateway) -> None:
    response = await fake.client.post("/v1/webhooks/wh-404/enable", headers=fake.bearer())

    assert_problem(response, 404, "not_found")
    assert response.json()["detail"] == "no such webhook"


async def test_enabling_a_revoked_clients_webhook_is_409_with_a_stable_code(
    fake: NotificationGateway,
) -> None:
    webhook = fake.notifications.add_webhook(status=pb.WEBHOOK_STATUS_DISABLED)
    fake.notifications.client_revoked.add(webhook.id)

    response = await fake.client.post(f"/v1/webhooks/{webhook.id}/enable", headers=fake.bearer())

    assert_problem(response, 409, "webhook_client_revoked")
    assert fake.notifications.webhooks[webhook.id].status == pb.WEBHOOK_STATUS_DISABLED


async def test_deliveries_map_every_field_and_pass_the_paging(
    fake: NotificationGateway,
) -> None:
    fake.notifications.add_webhook()
    fake.notifications.add_webhook()
    fake.notifications.add_delivery(
        webhook_id="wh-2",
        event_id="ev-a",
        event_type="work_order.assigned",
        status=pb.DELIVERY_STATUS_DELIVERED,
        attempts=2,
        last_response_code=204,
        last_attempt_time=stamp(2026, 3, 2, 7, 1),
        create_time=stamp(2026, 3, 2, 7, 0),
    )
    fake.notifications.add_delivery(
        webhook_id="wh-2",
        event_id="ev-b",
        status=pb.DELIVERY_STATUS_PENDING,
        attempts=1,
        last_response_code=0,
        last_attempt_time=stamp(2026, 3, 2, 8, 0),
        next_attempt_time=stamp(2026, 3, 2, 8, 5),
        create_time=stamp(2026, 3, 2, 8, 0),
    )
    fake.notifications.add_delivery(
        webhook_id="wh-2", status=pb.DELIVERY_STATUS_FAILED, attempts=12, last_response_code=500
    )
    fake.notifications.add_delivery(webhook_id="wh-1")
    fake.notifications.next_page_token = "page-2"

    response = await fake.client.get(
        "/v1/webhooks/wh-2/deliveries",
        params={"page_size": 3, "page_token": "p1"},
        headers=fake.bearer(),
    )

    assert response.status_code == 200, response.text
    (request,) = fake.notifications.requests("ListWebhookDeliveries")
    assert (request.webhook_id, request.page_size, request.page_token) == ("wh-2", 3, "p1")
    body = response.json()
    assert body["next_page_token"] == "page-2"
    delivered, pending, failed = body["items"]
    assert delivered == {
        "id": "d-1",
        "webhook_id": "wh-2",
        "event_id": "ev-a",
        "event_type": "work_order.assigned",
        "status": "delivered",
        "attempts": 2,
        "last_response_code": 204,
        "last_attempt_at": "2026-03-02T07:01:00Z",
        "next_attempt_at": None,
        "created_at": "2026-03-02T07:00:00Z",
    }
    assert pending == {
        "id": "d-2",
        "webhook_id": "wh-2",
        "event_id": "ev-b",
        "event_type": "work_order.created",
        "status": "pending",
        "attempts": 1,
        "last_response_code": None,
        "last_attempt_at": "2026-03-02T08:00:00Z",
        "next_attempt_at": "2026-03-02T08:05:00Z",
        "created_at": "2026-03-02T08:00:00Z",
    }
    assert (failed["status"], failed["attempts"], failed["last_response_code"]) == (
        "failed",
        12,
        500,
    )


async def test_deliveries_of_an_unknown_webhook_are_404(fake: NotificationGateway) -> None:
    response = await fake.client.get("/v1/webhooks/wh-404/deliveries", headers=fake.bearer())

    assert_problem(response, 404, "not_found")
    (request,) = fake.notifications.requests("ListWebhookDeliveries")
    assert request.webhook_id == "wh-404"


async def test_a_user_who_may_not_manage_webhooks_is_403(fake: NotificationGateway) -> None:
    response = await fake.client.get("/v1/webhooks", headers=fake.bearer(roles=["technician"]))

    assert_problem(response, 403, "permission_denied")
    assert len(fake.notifications.requests("ListWebhooks")) == 1


# --- partner clients -------------------------------------------------------------------


async def test_a_partner_manages_its_own_webhooks_with_its_token_exchanged(
    fake: NotificationGateway,
) -> None:
    admins = fake.notifications.add_webhook()
    partner = fake.partner_bearer()

    created = await fake.client.post(
        "/v1/webhooks",
        json={"url": "https://partner.example/in", "events": ["*"]},
        headers=partner,
    )
    listed = await fake.client.get("/v1/webhooks", headers=partner)
    others = await fake.client.get(f"/v1/webhooks/{admins.id}/deliveries", headers=partner)
    deleted = await fake.client.delete(f"/v1/webhooks/{admins.id}", headers=partner)

    assert created.status_code == 201, created.text
    assert (created.json()["owner"], created.json()["secret"]) == (PARTNER, WEBHOOK_SECRET)
    assert [w["id"] for w in listed.json()["items"]] == [created.json()["id"]]
    assert_problem(others, 404, "not_found")
    assert_problem(deleted, 404, "not_found")
    assert admins.id in fake.notifications.webhooks
    partner_token = partner["Authorization"].removeprefix("Bearer ")
    (exchange,) = fake.identity.requests("ExchangeToken")
    assert (exchange.subject_token, exchange.audience) == (partner_token, "notification")
    for metadata in fake.notifications.metadata("CreateWebhook"):
        assert partner_token not in metadata["authorization"], "only the exchanged token"


async def test_a_partner_without_webhooks_manage_is_403(fake: NotificationGateway) -> None:
    response = await fake.client.post(
        "/v1/webhooks",
        json={"url": "https://partner.example/in", "events": ["*"]},
        headers=fake.partner_bearer(scope="work_orders:read"),
    )

    assert_problem(response, 403, "permission_denied")
    assert fake.notifications.webhooks == {}


# --- the platform operator -------------------------------------------------------------


async def test_parked_events_forward_the_operator_token_as_is_and_map_every_field(
    fake: NotificationGateway, caplog: pytest.LogCaptureFixture
) -> None:
    fake.notifications.park(
        consumer="notification-webhooks",
        event_id="ev-9",
        subject="fieldvault.work_order.completed",
        delivery_count=5,
        error_type="TimeoutError",
        park_time=stamp(2026, 3, 5, 6, 30),
    )
    fake.notifications.next_page_token = "page-2"

    response = await fake.client.get(
        "/v1/operator/parked-events",
        params={"page_size": 10, "page_token": "p1"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "consumer": "notification-webhooks",
                "event_id": "ev-9",
                "subject": "fieldvault.work_order.completed",
                "delivery_count": 5,
                "error_type": "TimeoutError",
                "parked_at": "2026-03-05T06:30:00Z",
            }
        ],
        "next_page_token": "page-2",
    }
    (request,) = fake.notifications.requests("ListParkedEvents")
    assert (request.page_size, request.page_token) == (10, "p1")
    (metadata,) = fake.notifications.metadata("ListParkedEvents")
    assert metadata["authorization"] == f"Bearer {OPERATOR_TOKEN}"
    assert fake.identity.calls["ExchangeToken"] == [], "not a JWT: never verified or exchanged"
    assert OPERATOR_TOKEN not in caplog.text


async def test_parked_events_without_the_operator_token_are_401(
    fake: NotificationGateway,
) -> None:
    missing = await fake.client.get("/v1/operator/parked-events")
    assert_problem(missing, 401, "unauthenticated")
    assert fake.notifications.requests("ListParkedEvents") == []

    wrong = await fake.client.get(
        "/v1/operator/parked-events", headers={"Authorization": "Bearer not-the-operator"}
    )
    assert_problem(wrong, 401, "unauthenticated")

    # A signed-in admin is no operator.
    admin = await fake.client.get("/v1/operator/parked-events", headers=fake.bearer())
    assert_problem(admin, 401, "unauthenticated")
    assert len(fake.notifications.requests("ListParkedEvents")) == 2
