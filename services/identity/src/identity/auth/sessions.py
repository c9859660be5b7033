"""Login sessions and their rotating refresh tokens.

A refresh token is an opaque random value stored only as its SHA-256. Every
use spends it — a conditional ``UPDATE ... WHERE spent_at IS NULL``, so of two
racing uses exactly one wins — and hands out a successor. Presenting a spent
token again means two parties hold the session's tokens, one of them not the
user: the whole session is revoked (RFC 9700 §4.14.2). When two refreshes
race, the loser sees a spent token and revokes the session too, so neither
party keeps it: better to make the user sign in again than to let a thief
keep a session.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault.identity.v1 import identity_events_pb2 as events_pb
from fieldvault_platform.db import Database, as_utc
from fieldvault_platform.errors import Unauthenticated
from identity import audit
from identity.models import LoginSession, RefreshToken, User
from identity.revocation import revoke_session
from identity.settings import Settings

ACTIVE = "active"
INVALID_REFRESH_TOKEN = "invalid_refresh_token"  # noqa: S105 (an error code)
REFRESH_TOKEN_REUSED = "refresh_token_reused"  # noqa: S105 (an error code)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def start_session(
    session: AsyncSession,
    *,
    user: User,
    amr: list[str],
    settings: Settings,
    now: datetime,
    with_refresh_token: bool = True,
) -> tuple[LoginSession, str | None]:
    """A new login session for ``user`` and its first refresh token (if wanted)."""
    login = LoginSession(
        id=str(uuid.uuid4()),
        tenant_id=user.tenant_id,
        user_id=user.id,
        amr=amr,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.session_ttl_seconds),
    )
    session.add(login)
    await session.flush()
    refresh = await issue_refresh_token(session, login=login, settings=settings, now=now)
    return login, refresh if with_refresh_token else None


async def issue_refresh_token(
    session: AsyncSession, *, login: LoginSession, settings: Settings, now: datetime
) -> str:
    token = secrets.token_urlsafe(32)
    expires_at = min(
        now + timedelta(seconds=settings.refresh_token_ttl_seconds), as_utc(login.expires_at)
    )
    session.add(
        RefreshToken(
            id=str(uuid.uuid4()),
            session_id=login.id,
            token_hash=_digest(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token


@dataclass(frozen=True, slots=True)
class Rotated:
    user: User
    login: LoginSession
    refresh_token: str


async def rotate(
    database: Database,
    *,
    refresh_token: str,
    settings: Settings,
    now: datetime,
    source_address: str,
) -> Rotated:
    """Spend ``refresh_token`` and return its successor with the session's current user.

    Raises Unauthenticated ``invalid_refresh_token`` for an unknown or expired
    token, a dead session or user, and ``refresh_token_reused`` after revoking
    the session when the token was spent already.
    """
    digest = _digest(refresh_token)
    async with database.unit_of_work() as session:
        spent = await session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == digest,
                RefreshToken.spent_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(spent_at=now)
            .returning(RefreshToken.session_id)
        )
        session_id = spent.scalar_one_or_none()
        if session_id is not None:
            login = await session.get(LoginSession, session_id)
            user = await session.get(User, login.user_id) if login is not None else None
            if (
                login is not None
                and user is not None
                and login.revoked_at is None
                and as_utc(login.expires_at) > now
                and user.status == ACTIVE
            ):
                successor = await issue_refresh_token(
                    session, login=login, settings=settings, now=now
                )
                audit.record(
                    session,
                    audit.AuditEntry(
                        tenant_id=user.tenant_id,
                        actor=user.id,
                        action="session.refresh",
                        target_id=login.id,
                        source_address=source_address,
                    ),
                    at=now,
                )
                return Rotated(user, login, successor)
    if session_id is None:
        await _revoke_if_reused(database, digest=digest, now=now, source_address=source_address)
    raise Unauthenticated("refresh token invalid", code=INVALID_REFRESH_TOKEN)


async def _revoke_if_reused(
    database: Database, *, digest: str, now: datetime, source_address: str
) -> None:
    async with database.unit_of_work() as session:
        row = (
            await session.execute(
                select(RefreshToken.session_id, LoginSession.tenant_id, LoginSession.user_id)
                .join(LoginSession, LoginSession.id == RefreshToken.session_id)
                .where(RefreshToken.token_hash == digest, RefreshToken.spent_at.is_not(None))
            )
        ).one_or_none()
        if row is None:
            return
        await revoke_session(
            session,
            session_id=row.session_id,
            reason=events_pb.SESSION_REVOKED_REASON_REFRESH_TOKEN_REUSE,
            now=now,
        )
        audit.record(
            session,
            audit.AuditEntry(
                tenant_id=row.tenant_id,
                actor=row.user_id,
                action="session.refresh",
                outcome=audit.FAILURE,
                target_id=row.session_id,
                source_address=source_address,
                detail=REFRESH_TOKEN_REUSED,
            ),
            at=now,
        )
    raise Unauthenticated("refresh token invalid", code=REFRESH_TOKEN_REUSED)
