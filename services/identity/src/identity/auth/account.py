"""The signed-in user's own account: profile, password, second factor, logout."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select, update

from fieldvault.identity.v1 import identity_events_pb2 as events_pb
from fieldvault_platform.auth import Principal
from fieldvault_platform.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from identity import audit
from identity.auth import mfa
from identity.auth.tokens import user_area_ids
from identity.callers import live_user
from identity.components import Components
from identity.models import LoginSession, Tenant, User
from identity.passwords import check_password, hash_password, verify_password
from identity.revocation import revoke_session, revoke_user_sessions
from identity.scopes import MFA_ENROLL
from identity.throttling import account_key, record_result, reserve_attempt, source_key

PROFILE = "profile"


def _require_profile(principal: Principal, *, enrolment: bool = False) -> None:
    # A token minted only for enrolment may enrol and confirm, nothing else.
    if principal.has_scope(PROFILE) or (enrolment and principal.has_scope(MFA_ENROLL)):
        return
    raise PermissionDenied(f"token lacks the required scope: {PROFILE}")


async def me(components: Components, principal: Principal) -> tuple[User, list[str]]:
    _require_profile(principal, enrolment=True)
    async with components.database.unit_of_work() as session:
        user = await live_user(session, principal)
        return user, await user_area_ids(session, user.id)


async def logout(components: Components, principal: Principal, *, everywhere: bool = False) -> None:
    """End the caller's session, or with ``everywhere`` every session of the account
    (a lost phone: whoever holds it is signed out within a second)."""
    now = datetime.now(UTC)
    async with components.database.unit_of_work() as session:
        user = await live_user(session, principal)
        assert principal.session_id is not None  # live_user checked it
        if everywhere:
            await revoke_user_sessions(
                session,
                tenant_id=user.tenant_id,
                user_id=user.id,
                reason=events_pb.SESSION_REVOKED_REASON_LOGOUT,
                now=now,
            )
        else:
            await revoke_session(
                session,
                session_id=principal.session_id,
                reason=events_pb.SESSION_REVOKED_REASON_LOGOUT,
                now=now,
            )
        audit.record(
            session,
            audit.AuditEntry(
                tenant_id=user.tenant_id,
                actor=user.id,
                action="logout.everywhere" if everywhere else "logout",
                target_id=user.id if everywhere else principal.session_id,
            ),
            at=now,
        )
    components.wake_relay()


async def change_password(
    components: Components, principal: Principal, *, current: str, new: str
) -> None:
    """Check the current password (throttled like a login), set the new one, end other sessions."""
    _require_profile(principal)
    database = components.database
    now = datetime.now(UTC)
    async with database.unit_of_work() as session:
        user = await live_user(session, principal)
        tenant = await session.get(Tenant, user.tenant_id)
        assert tenant is not None
        decision = await reserve_attempt(
            session,
            account_key=account_key(tenant_id=tenant.slug, email=user.email),
            source_key=source_key(f"user:{user.id}"),
            now=now,
        )
    decision.raise_if_denied()
    matches = user.password_hash is not None and await asyncio.to_thread(
        verify_password, password=current, password_hash=user.password_hash
    )
    if not matches:
        await audit.record_failure(
            database,
            audit.AuditEntry(
                tenant_id=user.tenant_id,
                actor=user.id,
                action="password.change",
                outcome=audit.FAILURE,
                detail="invalid_credentials",
            ),
        )
        raise InvalidArgument("the current password is not correct", code="invalid_credentials")
    check_password(
        new,
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
        email=user.email,
        has_second_factor=user.totp_confirmed,
    )
    new_hash = await asyncio.to_thread(hash_password, new)
    async with database.unit_of_work() as session:
        await record_result(session, decision=decision, success=True)
        await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(password_hash=new_hash, updated_at=now, version=User.version + 1)
        )
        # Whoever else holds a session of this account (the reason to change a
        # password, often) is signed out; this session stays.
        others = await session.scalars(
            select(LoginSession.id).where(
                LoginSession.user_id == user.id,
                LoginSession.id != principal.session_id,
                LoginSession.revoked_at.is_(None),
            )
        )
        for session_id in others.all():
            await revoke_session(
                session,
                session_id=session_id,
                reason=events_pb.SESSION_REVOKED_REASON_PASSWORD_CHANGED,
                now=now,
            )
        audit.record(
            session,
            audit.AuditEntry(tenant_id=user.tenant_id, actor=user.id, action="password.change"),
            at=now,
        )
    components.wake_relay()


async def enrol_totp(components: Components, principal: Principal) -> tuple[str, str]:
    """A new (unconfirmed) seed: ``(secret, otpauth_uri)``; replaces an unconfirmed one."""
    _require_profile(principal, enrolment=True)
    async with components.database.unit_of_work() as session:
        user = await live_user(session, principal)
        if user.totp_confirmed:
            raise FailedPrecondition(
                "a second factor is already enabled", code="mfa_already_enabled"
            )
        tenant = await session.get(Tenant, user.tenant_id)
        assert tenant is not None
    seed, ciphertext = await mfa.new_seed(components.vault)
    async with components.database.unit_of_work() as session:
        await session.execute(
            update(User)
            .where(User.id == user.id, User.totp_confirmed.is_(False))
            .values(
                totp_secret_ciphertext=ciphertext, totp_last_step=None, updated_at=datetime.now(UTC)
            )
        )
        audit.record(
            session,
            audit.AuditEntry(tenant_id=user.tenant_id, actor=user.id, action="mfa.enrol"),
        )
    return seed, mfa.provisioning_uri(seed, account=f"{tenant.slug}:{user.email}")


async def confirm_totp(
    components: Components, principal: Principal, *, code: str
) -> tuple[User, list[str]]:
    _require_profile(principal, enrolment=True)
    async with components.database.unit_of_work() as session:
        user = await live_user(session, principal)
        if user.totp_confirmed:
            raise FailedPrecondition(
                "a second factor is already enabled", code="mfa_already_enabled"
            )
        if user.totp_secret_ciphertext is None:
            raise FailedPrecondition("enrol a second factor first", code="mfa_not_enrolled")
        if not await mfa.verify_code(
            session, components.vault, user=user, code=code, confirmed_only=False
        ):
            raise InvalidArgument("the code is not valid; try the current one", code="invalid_otp")
        user.totp_confirmed = True
        user.updated_at = datetime.now(UTC)
        user.version += 1
        audit.record(
            session,
            audit.AuditEntry(tenant_id=user.tenant_id, actor=user.id, action="mfa.confirm"),
        )
        return user, await user_area_ids(session, user.id)
