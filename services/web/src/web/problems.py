"""What the API's refusals mean, in words a technician uses.

The API decides; the page explains. Each stable problem ``code`` maps to a
message id of the gettext catalogue; a time the API names (when a grant opens)
is shown in the reader's language and the app's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from web.gateway import GatewayRefused

_ISO_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)


def opens_at(refusal: GatewayRefused) -> datetime | None:
    """When a refused grant opens, from the problem's members or its detail."""
    extra = refusal.extra or {}
    for name in ("opens_at", "valid_from", "not_before", "starts_at"):
        value = extra.get(name)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                pass
    match = _ISO_MOMENT.search(refusal.detail or "")
    if match:
        try:
            return datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def explain(
    refusal: GatewayRefused,
    _: Callable[[str], str],
    format_time: Callable[[datetime], str],
) -> str:
    """One sentence saying why, never the API's raw detail."""
    code = refusal.code
    if code == "no_active_grant":
        moment = opens_at(refusal)
        if moment is not None:
            return _("No access to this code yet. It opens at %(time)s.") % {
                "time": format_time(moment)
            }
        return _(
            "You have no access to this code right now: the job is not yours, "
            "not started yet, or already finished."
        )
    if code == "invalid_transition":
        return _("That cannot be done in the job's current state (it may be completed already).")
    if code == "dpa_inactive":
        return _(
            "Your organisation's data processing agreement has lapsed, so codes "
            "cannot be shown. Ask your manager."
        )
    if code == "rate_limited" or refusal.status == 429:
        wait = refusal.retry_after or 60
        return _("Too many attempts. Try again in %(seconds)d seconds.") % {"seconds": wait}
    if code in ("unavailable",) or refusal.status == 503:
        return _("The service is not reachable right now. Try again in a moment.")
    if code == "invalid_credentials":
        return _("The organisation, e-mail or password is not right.")
    if code == "mfa_required":
        return _("Enter the six-digit code from your authenticator app.")
    if code in ("invalid_otp", "otp_invalid", "invalid_code"):
        return _("That code is not right or has expired. Try the newest code.")
    if code in ("account_locked", "locked", "user_locked"):
        return _(
            "Your account is locked for a while after too many wrong attempts. "
            "Wait, or ask your administrator."
        )
    if code in ("password_rejected", "weak_password", "password_policy", "validation_error"):
        return _("The password does not meet the policy.")
    if code == "not_found" or refusal.status == 404:
        return _("Not found, or no longer yours to see.")
    if refusal.status == 403:
        return _("You are not allowed to do that.")
    if refusal.status == 409:
        return _("Someone changed this at the same time. Reload and try again.")
    return _("That did not work. Try again.")
