"""A person's channels and language: email on, SMS off, English until they say otherwise."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.errors import InvalidArgument
from fieldvault_platform.etags import check_etag
from notification.access import Caller
from notification.content import TEMPLATES
from notification.inbox import preferences_of
from notification.models import Preference
from notification.wording import LANGUAGES

FIELDS = frozenset({"email", "sms", "sms_number", "muted_types", "language"})
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass(frozen=True)
class Change:
    email: bool
    sms: bool
    sms_number: str
    muted_types: Sequence[str]
    language: str = ""


async def get(session: AsyncSession, caller: Caller) -> Preference:
    """The caller's own preferences (the defaults when they never set any)."""
    return await preferences_of(session, caller.tenant_id, caller.user_id)


async def update(
    session: AsyncSession,
    caller: Caller,
    *,
    mask: Sequence[str],
    change: Change,
    etag: str,
    sms_available: bool,
    now: datetime,
) -> Preference:
    unknown = sorted(set(mask) - FIELDS)
    if unknown or not mask:
        raise InvalidArgument(f"update_mask may name only: {', '.join(sorted(FIELDS))}")
    current = await get(session, caller)
    check_etag(etag, current.version)
    if "email" in mask:
        current.email = change.email
    if "sms" in mask:
        current.sms = change.sms
    if "sms_number" in mask:
        number = change.sms_number.replace(" ", "")
        if number and not _E164.match(number):
            raise InvalidArgument("sms_number must be in international form, e.g. +358401234567")
        current.sms_number = number
    if "muted_types" in mask:
        unknown_types = sorted(set(change.muted_types) - set(TEMPLATES))
        if unknown_types:
            raise InvalidArgument("muted_types may name only: " + ", ".join(sorted(TEMPLATES)))
        current.muted_types = sorted(set(change.muted_types))
    if "language" in mask:
        if change.language not in LANGUAGES:
            raise InvalidArgument(f"language must be one of: {', '.join(LANGUAGES)}")
        current.language = change.language
    if current.sms and not current.sms_number:
        raise InvalidArgument("sms needs an sms_number")
    if current.sms and not sms_available:
        raise InvalidArgument("SMS is not available: no SMS gateway is configured")
    if current not in session:
        session.add(current)
    current.version += 1
    current.updated_at = now
    return current
