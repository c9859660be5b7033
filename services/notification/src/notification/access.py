"""Who calls about their own notifications.

The inbox and the preferences are a person's own: a user's token with
``notifications:read``. Webhooks have their own caller, the subscription
manager (``notification.webhooks.subscriptions.Manager``).
"""

from __future__ import annotations

from dataclasses import dataclass

from fieldvault_platform.auth.principal import Principal, PrincipalKind
from fieldvault_platform.errors import PermissionDenied


@dataclass(frozen=True, slots=True)
class Caller:
    """The person calling about their own notifications, checked."""

    tenant_id: str
    user_id: str


def caller_of(principal: Principal) -> Caller:
    if principal.kind is not PrincipalKind.USER or principal.tenant_id is None:
        raise PermissionDenied("this call needs a person's token")
    if not principal.has_scope("notifications:read"):
        raise PermissionDenied("this call needs the notifications:read scope")
    return Caller(principal.tenant_id, principal.subject)
