"""Ending sessions: the one place that revokes them and announces it.

Revoking a session marks it (so its refresh tokens stop working — refresh
checks the session) and adds a ``session_revoked`` event, which every
service's deny list applies to the session's access tokens within a second.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault.identity.v1 import identity_events_pb2 as pb
from identity import events
from identity.models import LoginSession

#: Stored in ``sessions.revoked_reason`` (short, for operators reading the table).
REASON_NAMES: dict[pb.SessionRevokedReason, str] = {
    pb.SESSION_REVOKED_REASON_LOGOUT: "logout",
    pb.SESSION_REVOKED_REASON_REFRESH_TOKEN_REUSE: "refresh_token_reuse",
    pb.SESSION_REVOKED_REASON_ROLES_CHANGED: "roles_changed",
    pb.SESSION_REVOKED_REASON_ADMIN: "admin",
    pb.SESSION_REVOKED_REASON_PASSWORD_CHANGED: "password_changed",
}


async def revoke_session(
    session: AsyncSession,
    *,
    session_id: str,
    reason: pb.SessionRevokedReason,
    now: datetime,
) -> bool:
    """Revoke one session; False when it was already revoked (nothing announced twice).

    The conditional UPDATE makes concurrent revocations of one session (two
    racing refreshes that both detect reuse) announce it once.
    """
    result = await session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=REASON_NAMES[reason])
        .returning(LoginSession.tenant_id, LoginSession.user_id)
    )
    row = result.one_or_none()
    if row is None:
        return False
    events.session_revoked(
        session,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        session_id=session_id,
        reason=reason,
        at=now,
    )
    return True


async def revoke_user_sessions(
    session: AsyncSession,
    *,
    tenant_id: str,
    user_id: str,
    reason: pb.SessionRevokedReason,
    now: datetime,
) -> list[str]:
    """Revoke every live session of the user; returns the ids revoked."""
    live = await session.scalars(
        select(LoginSession.id).where(
            LoginSession.tenant_id == tenant_id,
            LoginSession.user_id == user_id,
            LoginSession.revoked_at.is_(None),
        )
    )
    revoked = []
    for session_id in live.all():
        if await revoke_session(session, session_id=session_id, reason=reason, now=now):
            revoked.append(session_id)
    return revoked
