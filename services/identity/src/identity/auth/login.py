"""Password (+ TOTP) login.

The order is what makes it safe:

1. The attempt is counted against the account and the source *before* any
   password is checked (see :mod:`identity.throttling`), in its own committed
   transaction, so parallel guesses cannot race past the limit.
2. The password is checked with argon2id off the event loop — against a dummy
   hash when the tenant or user does not exist or cannot sign in, so every
   failure costs the same time and gives the same ``invalid_credentials``.
3. Only a full success (password, and the second factor where enrolled)
   clears the account's failures. "Second factor missing" leaves the attempt
   counted, or knowing the password would buy unlimited OTP guesses.
4. A failure that came with a one-time code says the code may not have been
   accepted — for a wrong password just the same, so the answer is decided by
   the request alone and reveals nothing about the password.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import select

from fieldvault_platform.errors import Unauthenticated
from identity import audit
from identity.auth import mfa
from identity.auth.sessions import rotate, start_session
from identity.auth.tokens import EDGE_AUDIENCE, IssuedToken, mint, user_area_ids, user_claims
from identity.components import Components
from identity.models import Tenant, User
from identity.passwords import dummy_verify, hash_password, needs_rehash, verify_password
from identity.scopes import MFA_ENROLL, scopes_for_roles
from identity.throttling import account_key, record_result, reserve_attempt, source_key

INVALID_CREDENTIALS = "invalid_credentials"
MFA_REQUIRED = "mfa_required"
ACTIVE = "active"
#: Throttling key of an attempt that came without a source address.
UNKNOWN_SOURCE = "unknown"


@dataclass(frozen=True, slots=True)
class LoginResult:
    access: IssuedToken
    #: None when the user must enrol a second factor first.
    refresh_token: str | None
    mfa_enrollment_required: bool


#: The answer to a failed login that came with a one-time code. It depends only on
#: what was sent, never on what was checked: a wrong password with a code gets
#: exactly this too, so it tells nobody whether the password was right.
OTP_NOT_ACCEPTED = (
    "sign-in failed: check the tenant, email and password; if they are right, "
    "the one-time code was not accepted (each code works once) - "
    "wait for the next code in your authenticator app and try again"
)


def _invalid(*, otp_given: bool) -> Unauthenticated:
    message = OTP_NOT_ACCEPTED if otp_given else "invalid tenant, email or password"
    return Unauthenticated(message, code=INVALID_CREDENTIALS)


async def login(
    components: Components,
    *,
    tenant_slug: str,
    email: str,
    password: str,
    otp: str,
    source_address: str,
) -> LoginResult:
    database = components.database
    now = datetime.now(UTC)
    source = source_address or UNKNOWN_SOURCE
    # The account key is built from what was typed, so unknown tenants and
    # users are throttled exactly like real ones.
    slug = tenant_slug.strip().lower()
    account = account_key(tenant_id=slug, email=email)
    async with database.unit_of_work() as session:
        decision = await reserve_attempt(
            session, account_key=account, source_key=source_key(source), now=now
        )
    failure = audit.AuditEntry(
        tenant_id=None, actor="", action="login", outcome=audit.FAILURE, source_address=source
    )
    if not decision.allowed:
        await audit.record_failure(database, replace(failure, detail="rate_limited"))
        decision.raise_if_denied()

    async with database.unit_of_work() as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
        user = None
        if tenant is not None:
            user = await session.scalar(
                select(User).where(User.tenant_id == tenant.id, User.email == email.strip().lower())
            )
    can_sign_in = user is not None and user.status == ACTIVE and user.password_hash is not None
    if can_sign_in:
        assert user is not None and user.password_hash is not None
        matches = await asyncio.to_thread(
            verify_password, password=password, password_hash=user.password_hash
        )
    else:
        matches = await asyncio.to_thread(dummy_verify, password)
    if not matches or user is None or tenant is None:
        await audit.record_failure(
            database,
            replace(
                failure,
                tenant_id=tenant.id if tenant else None,
                actor=user.id if user else "",
                detail=INVALID_CREDENTIALS,
            ),
        )
        raise _invalid(otp_given=bool(otp))
    failure = replace(failure, tenant_id=tenant.id, actor=user.id)

    amr = ["pwd"]
    if user.totp_confirmed:
        if not otp:
            await audit.record_failure(database, replace(failure, detail=MFA_REQUIRED))
            raise Unauthenticated("a one-time code is required", code=MFA_REQUIRED)
        async with database.unit_of_work() as session:
            code_ok = await mfa.verify_code(session, components.vault, user=user, code=otp)
        if not code_ok:
            await audit.record_failure(database, replace(failure, detail="invalid_otp"))
            raise _invalid(otp_given=True)
        amr.append("otp")
    must_enrol = not user.totp_confirmed and bool(set(user.roles) & set(tenant.mfa_required_roles))

    async with database.unit_of_work() as session:
        await record_result(session, decision=decision, success=True)
        if needs_rehash(user.password_hash or ""):
            fresh = await asyncio.to_thread(hash_password, password)
            stored = await session.get(User, user.id)
            if stored is not None:
                stored.password_hash = fresh
        login_session, refresh_token = await start_session(
            session,
            user=user,
            amr=amr,
            settings=components.settings,
            now=now,
            with_refresh_token=not must_enrol,
        )
        area_ids = await user_area_ids(session, user.id)
        audit.record(
            session,
            audit.AuditEntry(
                tenant_id=tenant.id,
                actor=user.id,
                action="login",
                target_id=login_session.id,
                source_address=source,
                detail="mfa_enrollment_required" if must_enrol else None,
            ),
            at=now,
        )
    scopes = {MFA_ENROLL} if must_enrol else scopes_for_roles(user.roles)
    access = await mint(
        components.signer,
        user_claims(user, area_ids=area_ids, session_id=login_session.id, amr=amr, scopes=scopes),
        audience=EDGE_AUDIENCE,
        ttl_seconds=components.settings.access_token_ttl_seconds,
        now=now,
    )
    return LoginResult(access, refresh_token, must_enrol)


async def refresh(
    components: Components, *, refresh_token: str, source_address: str
) -> tuple[IssuedToken, str]:
    """A new access token and refresh token for the session ``refresh_token`` belongs to.

    Roles and areas are read afresh, so a change shows on the next refresh.
    """
    now = datetime.now(UTC)
    rotated = await rotate(
        components.database,
        refresh_token=refresh_token,
        settings=components.settings,
        now=now,
        source_address=source_address or UNKNOWN_SOURCE,
    )
    async with components.database.unit_of_work() as session:
        area_ids = await user_area_ids(session, rotated.user.id)
    access = await mint(
        components.signer,
        user_claims(
            rotated.user,
            area_ids=area_ids,
            session_id=rotated.login.id,
            amr=rotated.login.amr,
            scopes=scopes_for_roles(rotated.user.roles),
        ),
        audience=EDGE_AUDIENCE,
        ttl_seconds=components.settings.access_token_ttl_seconds,
        now=now,
    )
    return access, rotated.refresh_token
