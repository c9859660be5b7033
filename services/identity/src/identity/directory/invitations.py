"""Invitations: how a person sets their own password, with nobody else ever knowing it.

The token is never stored. It is ``<invitation id>.<mac>``, where ``mac`` is a
keyed hash of the id made inside Vault Transit (the key never leaves Vault):
unguessable, yet re-derivable when the invitation has to be delivered
(:func:`invitation_link`, for the notification service only). Acceptance
marks the invitation with a conditional UPDATE, so of two racing accepts
exactly one wins; every failure — unknown, tampered, expired, used, revoked —
gives the same ``invitation_invalid``.
"""

from __future__ import annotations

import asyncio
import hmac
import uuid
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.db import Database, as_utc
from fieldvault_platform.errors import FailedPrecondition
from identity import audit, events
from identity.auth.tokens import user_area_ids
from identity.components import Components
from identity.keyed_hash import keyed_hash
from identity.models import Invitation, Tenant, User
from identity.passwords import check_password, hash_password
from identity.throttling import account_key, reset_account

INVITATION_INVALID = "invitation_invalid"
_ID_LENGTH = 36


async def _mac(components: Components, invitation_id: str) -> str:
    digest = await keyed_hash(components.vault, "invitation", invitation_id)
    # "vault:v1:<base64>" → URL-safe, unpadded; the key version stays implied by
    # the stored hash's format, so rotation of the HMAC key invalidates links.
    return digest.rsplit(":", 1)[-1].replace("+", "-").replace("/", "_").rstrip("=")


async def invitation_token(components: Components, invitation_id: str) -> str:
    return f"{invitation_id}.{await _mac(components, invitation_id)}"


def invitation_url(components: Components, token: str) -> str:
    # A fragment: browsers never send it to a server, so it stays out of access logs.
    base = str(components.settings.public_base_url).rstrip("/")
    return f"{base}/invitations/accept#token={token}"


async def create_invitation(
    session: AsyncSession, components: Components, *, user: User, now: datetime
) -> Invitation:
    """A pending invitation for ``user`` (earlier pending ones are superseded)."""
    await session.execute(
        update(Invitation)
        .where(
            Invitation.user_id == user.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    invitation = Invitation(
        id=str(uuid.uuid4()),
        tenant_id=user.tenant_id,
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(seconds=components.settings.invitation_ttl_seconds),
    )
    session.add(invitation)
    events.user_invited(
        session,
        tenant_id=user.tenant_id,
        user_id=user.id,
        invitation_id=invitation.id,
        expires_at=invitation.expires_at,
        at=now,
    )
    return invitation


def _invalid() -> FailedPrecondition:
    return FailedPrecondition(
        "this invitation link is not valid (it may have expired or been used); "
        "ask your administrator for a new one",
        code=INVITATION_INVALID,
    )


async def _pending(
    session: AsyncSession, invitation_id: str, now: datetime
) -> tuple[Invitation, User, Tenant] | None:
    invitation = await session.get(Invitation, invitation_id)
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or as_utc(invitation.expires_at) <= now
    ):
        return None
    user = await session.get(User, invitation.user_id)
    tenant = await session.get(Tenant, invitation.tenant_id)
    if user is None or tenant is None or user.status == "deactivated":
        return None
    return invitation, user, tenant


async def accept(
    components: Components, *, token: str, password: str, now: datetime
) -> tuple[User, list[str]]:
    """Set the invitee's password and activate them; returns the user and area ids."""
    invitation_id, _, mac = token.partition(".")
    if len(invitation_id) != _ID_LENGTH or not mac:
        await _record_failure(components.database, None)
        raise _invalid()
    expected = await _mac(components, invitation_id)
    if not hmac.compare_digest(expected.encode(), mac.encode()):
        await _record_failure(components.database, None)
        raise _invalid()
    async with components.database.unit_of_work() as session:
        found = await _pending(session, invitation_id, now)
    if found is None:
        await _record_failure(components.database, None)
        raise _invalid()
    invitation, user, tenant = found
    check_password(
        password,
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
        email=user.email,
        has_second_factor=user.totp_confirmed,
    )
    password_hash = await asyncio.to_thread(hash_password, password)
    async with components.database.unit_of_work() as session:
        won = await session.execute(
            update(Invitation)
            .where(
                Invitation.id == invitation.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,  # it may have run out while hashing
            )
            .values(accepted_at=now)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            raise _invalid()
        await session.execute(
            update(User)
            .where(User.id == user.id, User.status != "deactivated")
            .values(
                password_hash=password_hash,
                status="active",
                updated_at=now,
                version=User.version + 1,
            )
        )
        # Whoever holds the invitation link proved control of the account, so failed
        # sign-ins counted against it before (guesses at a not-yet-set password) no
        # longer delay the invitee's first sign-in.
        await reset_account(
            session, account_key=account_key(tenant_id=tenant.slug, email=user.email)
        )
        audit.record(
            session,
            audit.AuditEntry(
                tenant_id=user.tenant_id,
                actor=user.id,
                action="invitation.accept",
                target_id=invitation.id,
            ),
            at=now,
        )
        refreshed = await session.get(User, user.id, populate_existing=True)
        assert refreshed is not None
        return refreshed, await user_area_ids(session, user.id)


async def _record_failure(database: Database, tenant_id: str | None) -> None:
    await audit.record_failure(
        database,
        audit.AuditEntry(
            tenant_id=tenant_id,
            actor="",
            action="invitation.accept",
            outcome=audit.FAILURE,
            detail=INVITATION_INVALID,
        ),
    )


async def invitation_link(
    components: Components, *, tenant_id: str, invitation_id: str, now: datetime
) -> tuple[str, Invitation]:
    """The link of a pending invitation of ``tenant_id`` (for whoever delivers it)."""
    async with components.database.unit_of_work() as session:
        found = await _pending(session, invitation_id, now)
    if found is None or found[0].tenant_id != tenant_id:
        raise _invalid()
    invitation = found[0]
    return invitation_url(components, await invitation_token(components, invitation.id)), invitation
