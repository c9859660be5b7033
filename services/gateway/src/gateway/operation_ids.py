"""Each operation's ``operationId``: its route function's name in camelCase, verb first.

``create_work_order`` becomes ``createWorkOrder``, which generated clients turn
into method names; FastAPI's default (``login_v1_auth_login_post``) repeats the
path and method. The few route functions not named with a verb are named here.
"""

from __future__ import annotations

from fastapi.routing import APIRoute

#: Route functions whose names are not a verb phrase.
RENAMED = {
    "healthz": "checkHealth",
    "readyz": "checkReadiness",
    "login": "logIn",
    "refresh": "refreshTokens",
    "logout": "logOut",
    "oauth_token": "issueClientToken",
    "jwks": "getJwks",
    "me": "getMe",
    "work_order_history": "getWorkOrderHistory",
    "my_work_orders": "listMyWorkOrders",
    "my_notifications": "listMyNotifications",
    "my_notification_preferences": "getMyNotificationPreferences",
    "parked_events": "listParkedEvents",
}


def operation_id(route: APIRoute) -> str:
    if route.name in RENAMED:
        return RENAMED[route.name]
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)
