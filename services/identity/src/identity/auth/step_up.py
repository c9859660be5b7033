"""Step-up: a fresh second factor for one sensitive action, attested to the service doing it.

Today the one such action is a dispatcher's break-glass reveal. The tenant's
policy (``Tenant.break_glass_step_up_required``, on by default) says whether
it needs a fresh TOTP code. Identity is asked for every break-glass and
answers with a step-up token (:mod:`fieldvault_platform.auth.step_up`) bound
to the user, the login session, the purpose and the site and kind; the
customer vault refuses a break-glass reveal without one. So the policy is
identity's alone, and the vault still does not take the gateway's word that
identity was asked.

A code is checked exactly like at login: the account's throttle (the same
counter as a login of that person, so step-ups do not add guesses) is counted
before the code is checked, and the code's 30-second step is consumed (the
same ``totp_last_step`` as login, so a code used to sign in, or for an earlier
step-up, does not work again). Neither the code nor the token is logged or
audited.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from fieldvault_platform.auth import BREAK_GLASS, STEP_UP_TOKEN_TYPE, STEP_UP_TTL_SECONDS, Principal
from fieldvault_platform.errors import InvalidArgument, PermissionDenied
from identity import audit
from identity.auth import mfa
from identity.auth.tokens import IssuedToken, mint
from identity.callers import live_user
from identity.components import Components
from identity.models import Tenant
from identity.throttling import account_key, record_result, reserve_attempt, source_key

ACTION = "step_up"
#: What a step-up token may be for, the audience that accepts it, and the scope
#: the caller needs for the action itself.
PURPOSES = {BREAK_GLASS: ("customer_vault", "secrets:break_glass")}
SECRET_KINDS = frozenset({"door_code", "alarm_code", "key_safe_code"})
STEP_UP_REQUIRED = "step_up_required"
INVALID_OTP = "invalid_otp"
MFA_NOT_ENROLLED = "mfa_not_enrolled"


async def issue_step_up_token(
    components: Components,
    principal: Principal,
    *,
    purpose: str,
    otp: str,
    site_id: str,
    secret_kind: str,
    source_address: str,
) -> IssuedToken:
    if purpose not in PURPOSES:
        raise InvalidArgument(f"purpose must be one of: {', '.join(sorted(PURPOSES))}")
    audience, scope = PURPOSES[purpose]
    if not site_id or len(site_id) > 64 or secret_kind not in SECRET_KINDS:
        raise InvalidArgument(
            f"site_id and secret_kind ({', '.join(sorted(SECRET_KINDS))}) name the secret"
        )
    principal.require_scope(scope)
    database = components.database
    now = datetime.now(UTC)
    async with database.unit_of_work() as session:
        user = await live_user(session, principal)
        tenant = await session.get(Tenant, user.tenant_id)
        assert tenant is not None
    source = source_address or f"user:{user.id}"
    entry = audit.AuditEntry(
        tenant_id=user.tenant_id,
        actor=user.id,
        action=ACTION,
        target_id=site_id,
        source_address=source,
        detail=purpose,
    )
    failure = replace(entry, outcome=audit.FAILURE)
    amr: list[str] = []
    if otp or tenant.break_glass_step_up_required:
        if not user.totp_confirmed:
            await audit.record_failure(database, replace(failure, detail=MFA_NOT_ENROLLED))
            raise PermissionDenied(
                "your organisation's policy asks for a one-time code for break-glass; "
                "enrol a second factor first (POST /v1/me/mfa/totp), then send its current "
                "code as otp",
                code=MFA_NOT_ENROLLED,
            )
        if not otp:
            await audit.record_failure(database, replace(failure, detail=STEP_UP_REQUIRED))
            raise PermissionDenied(
                "break-glass needs the current code of your authenticator app as otp",
                code=STEP_UP_REQUIRED,
            )
        async with database.unit_of_work() as session:
            decision = await reserve_attempt(
                session,
                account_key=account_key(tenant_id=tenant.slug, email=user.email),
                source_key=source_key(source),
                now=now,
            )
        if not decision.allowed:
            await audit.record_failure(database, replace(failure, detail="rate_limited"))
            decision.raise_if_denied()
        async with database.unit_of_work() as session:
            code_ok = await mfa.verify_code(session, components.vault, user=user, code=otp)
        if not code_ok:
            await audit.record_failure(database, replace(failure, detail=INVALID_OTP))
            raise PermissionDenied(
                "the code is not valid or was used already; wait for the next one",
                code=INVALID_OTP,
            )
        async with database.unit_of_work() as session:
            await record_result(session, decision=decision, success=True)
        amr = ["otp"]
    async with database.unit_of_work() as session:
        audit.record(session, replace(entry, detail=f"{purpose}:{'+'.join(amr) or 'policy'}"))
    return await mint(
        components.signer,
        {
            "sub": user.id,
            "tid": user.tenant_id,
            "sid": principal.session_id,
            "purpose": purpose,
            "target": {"site_id": site_id, "kind": secret_kind},
            "amr": amr,
        },
        audience=audience,
        ttl_seconds=STEP_UP_TTL_SECONDS,
        now=now,
        not_after=int(principal.expires_at.timestamp()),
        token_type=STEP_UP_TOKEN_TYPE,
    )
