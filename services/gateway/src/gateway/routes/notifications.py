"""The caller's in-app inbox and channel preferences; the platform operator's parked events."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from fieldvault.notification.v1 import notification_pb2 as pb
from fieldvault_platform.auth import bearer_metadata
from gateway.auth import bearer_from
from gateway.dependencies import IfMatch, NotificationPeer
from gateway.etags import with_etag
from gateway.for_caller import NOTIFICATION, NotificationForCaller
from gateway.notification_models import (
    Notification,
    NotificationList,
    ParkedEvent,
    ParkedEventList,
    Preferences,
    PreferencesPatch,
)
from gateway.rest import STALE, PageSize

router = APIRouter(tags=["notifications"])


@router.get("/v1/me/notifications", tags=["me"], summary="My in-app inbox, newest first")
async def my_notifications(
    notifications: NotificationForCaller,
    page_size: PageSize = 50,
    page_token: str = "",
    unread_only: bool = False,
) -> NotificationList:
    result = await notifications.call(
        notifications.stub.ListMyNotifications,
        pb.ListMyNotificationsRequest(
            page_size=page_size, page_token=page_token, unread_only=unread_only
        ),
    )
    return NotificationList(
        items=[Notification.of(n) for n in result.notifications],
        next_page_token=result.next_page_token,
    )


@router.post(
    "/v1/me/notifications/{notification_id}/read",
    tags=["me"],
    summary="Mark one of my notifications read",
)
async def mark_notification_read(
    notification_id: str, notifications: NotificationForCaller
) -> Notification:
    result = await notifications.call(
        notifications.stub.MarkNotificationRead,
        pb.MarkNotificationReadRequest(id=notification_id),
    )
    return Notification.of(result.notification)


@router.get(
    "/v1/me/notification-preferences",
    tags=["me"],
    summary="My email and SMS preferences (defaults until changed)",
)
async def my_notification_preferences(
    notifications: NotificationForCaller, response: Response
) -> Preferences:
    result = await notifications.call(
        notifications.stub.GetMyPreferences, pb.GetMyPreferencesRequest()
    )
    return with_etag(response, Preferences.of(result.preferences))


@router.patch(
    "/v1/me/notification-preferences",
    tags=["me"],
    summary="Change my email and SMS preferences",
    responses=STALE,
)
async def update_my_notification_preferences(
    body: PreferencesPatch,
    notifications: NotificationForCaller,
    response: Response,
    etag: IfMatch,
) -> Preferences:
    result = await notifications.call(
        notifications.stub.UpdateMyPreferences, body.request(etag=etag)
    )
    return with_etag(response, Preferences.of(result.preferences))


@router.get(
    "/v1/operator/parked-events",
    tags=["operator"],
    summary="Events a consumer gave up on after its redeliveries (platform operator token)",
)
async def parked_events(
    request: Request, peer: NotificationPeer, page_size: PageSize = 50, page_token: str = ""
) -> ParkedEventList:
    # The operator token is not a JWT: it is forwarded as it came, never verified
    # here, and notification compares it with the hash it is configured with.
    operator_token = bearer_from(request)
    stub = NOTIFICATION.stub(peer)
    result = await peer.call(
        stub.ListParkedEvents,
        pb.ListParkedEventsRequest(page_size=page_size, page_token=page_token),
        metadata=bearer_metadata(operator_token),
    )
    return ParkedEventList(
        items=[ParkedEvent.of(event) for event in result.events],
        next_page_token=result.next_page_token,
    )
