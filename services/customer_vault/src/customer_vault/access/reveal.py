"""Reveal: the one way a secret value leaves the service.

A user's token + an active grant naming this site and kind (or a
dispatcher's break-glass with a reason, in their own area, with identity's
step-up token for it — :mod:`customer_vault.access.step_up`) + not over the
reveal rate + (subcontractor) an active DPA. The value is decrypted first,
then the audit record is committed, and only then is the value returned: if
the audit write fails nothing is revealed, and if Vault fails nothing is
written. Every attempt is audited — denials with their reason, and attempts
that find no site, no stored code or an erased customer too. Grants not found
and grants for another kind are the same denial, so a refusal says nothing
about what exists; a grant of the caller's that has not opened yet is named
with its opening time.

The rate is counted in the audit append's own transaction, after the chain
head's lock: concurrent reveals of one user count each other, so no more than
the limit succeed per window, and the first refusal at or past the limit in
the window (no earlier ``rate_limited`` record in it) publishes the alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit, events
from customer_vault.access.step_up import (
    STEP_UP_REQUIRED,
    STEP_UP_REQUIRED_MESSAGE,
    break_glass_stepped_up,
)
from customer_vault.components import Components
from customer_vault.keys import Erased
from customer_vault.models import AuditRecord, Customer, Grant, Site, SiteSecret
from customer_vault.records.instructions import NOT_ACKNOWLEDGED, InstructionsNotAcknowledged
from customer_vault.records.site_secrets import check_kind, latest_secret, open_secret
from customer_vault.visibility import Caller, active_grant_clause, caller, grantee_clause
from fieldvault_platform import limits
from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.db import as_utc
from fieldvault_platform.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
)
from fieldvault_platform.metrics import REVEALS

REVEAL_ACTION = "secret.reveal"
REVEAL_SCOPE = "secrets:reveal"
BREAK_GLASS_SCOPE = "secrets:break_glass"
BREAK_GLASS_PURPOSE = "break_glass"
RATE_LIMITED = "rate_limited"
#: Attempts that end without a value for want of data, audited and counted like denials.
NOT_FOUND = "not_found"
ERASED = "erased"
_ID_LIMIT = 36


@dataclass(frozen=True)
class Revealed:
    kind: str
    value: str
    audit_event_id: str
    hide_after_seconds: int


@dataclass
class _Decision:
    #: None when no site of this tenant has the id asked for.
    site: Site | None
    denial: str | None = None
    grant: Grant | None = None
    #: Active grants naming this caller and this kind, oldest first.
    candidates: list[Grant] = field(default_factory=list)
    #: For a refusal: the work order of the caller's latest grant at the site.
    purpose: str | None = None
    #: For ``no_active_grant``: when the caller's next grant for this kind here opens.
    opens_at: datetime | None = None
    #: For ``instructions_not_acknowledged``: the version to read.
    instructions_version: int = 0
    #: For ``not_found``: what was missing (said to the caller).
    missing: str = "site not found"
    customer: Customer | None = None
    secret: SiteSecret | None = None


async def _decide(
    c: Components,
    who: Caller,
    *,
    site_id: str,
    kind: str,
    break_glass: bool,
    stepped_up: bool,
    now: datetime,
) -> _Decision:
    async with c.database.unit_of_work() as session:
        site = await session.scalar(
            select(Site).where(Site.id == site_id, Site.tenant_id == who.tenant_id)
        )
        if site is None:
            return _Decision(None, denial=NOT_FOUND)
        decision = _Decision(site)
        if not who.principal.has_scope(BREAK_GLASS_SCOPE if break_glass else REVEAL_SCOPE):
            # A person whose roles never reveal: refused like anyone else, and audited.
            decision.denial = "not_permitted"
        elif break_glass:
            if site.area_id not in who.area_ids:
                decision.denial = "not_in_your_areas"
            elif not stepped_up:
                decision.denial = STEP_UP_REQUIRED
        else:
            grants = (
                await session.scalars(
                    select(Grant)
                    .where(Grant.site_id == site.id, active_grant_clause(who, now))
                    .order_by(Grant.created_at)
                )
            ).all()
            decision.candidates = [g for g in grants if kind in g.fields]
            if not decision.candidates:
                decision.denial = "no_active_grant"
                await _explain_missing_grant(session, decision, who, kind, now)
        if decision.denial is None:
            decision.customer = await session.get(Customer, site.customer_id)
            decision.secret = await latest_secret(session, site.id, kind)
    return decision


async def _explain_missing_grant(
    session: AsyncSession, decision: _Decision, who: Caller, kind: str, now: datetime
) -> None:
    """The job the refusal most likely belongs to, and when the caller's next grant opens."""
    assert decision.site is not None
    mine_here = (Grant.site_id == decision.site.id, grantee_clause(who))
    # The caller's latest grant here, ended or not yet begun.
    decision.purpose = await session.scalar(
        select(Grant.work_order_id).where(*mine_here).order_by(Grant.created_at.desc()).limit(1)
    )
    upcoming = await session.scalars(
        select(Grant)
        .where(*mine_here, Grant.revoked_at.is_(None), Grant.valid_from > now)
        .order_by(Grant.valid_from)
    )
    decision.opens_at = next((g.valid_from for g in upcoming if kind in g.fields), None)


async def _usable_grant(c: Components, tenant_id: str, candidates: list[Grant]) -> Grant | None:
    """The first grant that holds up: an own-staff grant, else a subcontractor's with a live DPA."""
    for grant in sorted(candidates, key=lambda g: g.subcontractor):
        if not grant.subcontractor or await c.dpa.is_active(tenant_id, grant.organization_id):
            return grant
    return None


async def _open_value(c: Components, decision: _Decision, kind: str) -> str | None:
    """The plaintext, or None with the denial saying why there is none."""
    customer, secret = decision.customer, decision.secret
    if customer is None or customer.erased:
        decision.denial = ERASED
        return None
    if secret is None or secret.value_ct is None:
        decision.denial, decision.missing = NOT_FOUND, f"no {kind} is stored for this site"
        return None
    cipher = await c.keys.cipher(customer)
    return open_secret(cipher, secret)


@dataclass(frozen=True)
class _Window:
    attempts: int
    refused_before: bool


async def _rate_window(
    session: AsyncSession, who: Caller, *, window_seconds: int, now: datetime
) -> _Window:
    """This user's reveal attempts in the window, and whether one was already refused for rate.

    Run under the chain head's lock, so concurrent reveals see each other's records.
    """
    refused = func.count().filter(
        AuditRecord.outcome == audit.DENIED, AuditRecord.reason == RATE_LIMITED
    )
    row = (
        await session.execute(
            select(func.count(), refused).where(
                AuditRecord.tenant_id == who.tenant_id,
                AuditRecord.actor_id == who.principal.subject,
                AuditRecord.action == REVEAL_ACTION,
                AuditRecord.occurred_at > now - timedelta(seconds=window_seconds),
            )
        )
    ).one()
    return _Window(int(row[0] or 0), bool(row[1]))


async def reveal(
    c: Components,
    principal: Principal,
    *,
    site_id: str,
    kind: str,
    break_glass: bool,
    reason: str,
    request_id: str,
    now: datetime,
    step_up_token: str = "",
) -> Revealed:
    check_kind(kind)
    who = caller(principal)
    if principal.kind is not PrincipalKind.USER:
        raise PermissionDenied("only a person can reveal a secret")
    reason = reason.strip()
    if break_glass and len(reason) < c.settings.break_glass_min_reason_length:
        raise InvalidArgument(
            f"a break-glass reveal needs a reason of at least "
            f"{c.settings.break_glass_min_reason_length} characters"
        )
    if len(reason) > limits.AUDIT_REASON:
        raise InvalidArgument(f"reason must be at most {limits.AUDIT_REASON} characters")

    # Before anything else is decided (and no step-up token is spent): a person who has
    # not acknowledged the data-handling instructions in force sees no code.
    unread = await c.instructions.unread_version(principal)
    stepped_up = (
        unread is None
        and break_glass
        and await break_glass_stepped_up(
            c, principal, step_up_token=step_up_token, site_id=site_id, kind=kind
        )
    )
    decision = await _decide(
        c,
        who,
        site_id=site_id,
        kind=kind,
        break_glass=break_glass,
        stepped_up=stepped_up,
        now=now,
    )
    if unread is not None:
        decision.denial, decision.instructions_version = NOT_ACKNOWLEDGED, unread
    if decision.denial is None and not break_glass:
        decision.grant = await _usable_grant(c, who.tenant_id, decision.candidates)
        if decision.grant is None:
            decision.denial = "dpa_inactive"
    value = await _open_value(c, decision, kind) if decision.denial is None else None

    settings = c.settings
    alerting = False
    async with c.database.unit_of_work() as session:
        await audit.lock_chain(session, who.tenant_id)
        window = await _rate_window(
            session, who, window_seconds=settings.reveal_rate_window_seconds, now=now
        )
        if window.attempts >= settings.reveal_rate_limit:
            decision.denial, value = RATE_LIMITED, None
        record = await c.audit.record(
            session,
            tenant_id=who.tenant_id,
            actor=audit.AuditActor.of(principal),
            entry=_entry(decision, kind, value, break_glass, reason, request_id, site_id),
            now=now,
        )
        if decision.denial == RATE_LIMITED and not window.refused_before:
            alerting = True  # the first refusal of this crossing, not every one after it
            events.reveal_rate_exceeded(
                session,
                tenant_id=who.tenant_id,
                user_id=principal.subject,
                limit=settings.reveal_rate_limit,
                window_seconds=settings.reveal_rate_window_seconds,
                at=now,
            )
        if decision.denial is None and break_glass:
            alerting = True
            assert decision.site is not None
            events.break_glass_reveal(
                session,
                tenant_id=who.tenant_id,
                audit_event_id=record.id,
                user_id=principal.subject,
                site_id=decision.site.id,
                kind=kind,
                at=now,
            )
    _count_reveal(decision.denial, break_glass)
    if alerting:
        c.wake_relay()
    hint = None
    if principal.has_scope(BREAK_GLASS_SCOPE):
        hint = _break_glass_hint(settings.break_glass_min_reason_length)
    _raise_for_denial(decision, settings.reveal_rate_window_seconds, not_permitted_hint=hint)
    assert value is not None
    return Revealed(kind, value, record.id, settings.reveal_hide_after_seconds)


def _count_reveal(denial: str | None, break_glass: bool) -> None:
    """One audited reveal on the operator's metrics; the reason is one of the fixed codes."""
    if denial is not None:
        REVEALS.labels("denied", denial).inc()
    else:
        REVEALS.labels("break_glass" if break_glass else "granted", "none").inc()


def _entry(
    decision: _Decision,
    kind: str,
    value: str | None,
    break_glass: bool,
    reason: str,
    request_id: str,
    site_id: str,
) -> audit.Entry:
    grant, secret, site = decision.grant, decision.secret, decision.site
    purpose = (
        BREAK_GLASS_PURPOSE if break_glass else (grant.work_order_id if grant else decision.purpose)
    )
    return audit.Entry(
        action=REVEAL_ACTION,
        resource_type="secret",
        resource_id=secret.id if secret is not None and value is not None else None,
        customer_id=site.customer_id if site is not None else None,
        # An unknown site is recorded by the id asked for (bounded, as stored).
        site_id=site.id if site is not None else site_id[:_ID_LIMIT],
        fields=[kind],
        purpose=purpose,
        outcome=audit.SUCCESS if decision.denial is None else audit.DENIED,
        reason=decision.denial or (reason if break_glass else None) or None,
        denial_code=decision.denial,
        request_id=request_id,
        break_glass=break_glass,
    )


def _raise_for_denial(
    decision: _Decision, window_seconds: int, *, not_permitted_hint: str | None
) -> None:
    denial = decision.denial
    if denial is None:
        return
    if denial == RATE_LIMITED:
        raise ResourceExhausted(
            "too many reveals; try again later", retry_after_seconds=window_seconds
        )
    if denial == NOT_FOUND:
        raise NotFound(decision.missing)
    if denial == ERASED:
        raise Erased()
    if denial == NOT_ACKNOWLEDGED:
        raise InstructionsNotAcknowledged(decision.instructions_version)
    message = _DENIAL_MESSAGES[denial]
    if denial == "no_active_grant" and decision.opens_at is not None:
        message = f"{message} yet; your grant here opens at {rfc3339(decision.opens_at)}"
    if denial == "not_permitted" and not_permitted_hint:
        message = not_permitted_hint
    raise PermissionDenied(message, code=denial)


def rfc3339(moment: datetime) -> str:
    """UTC, to the second, with a ``Z``: 2026-12-04T16:00:00Z."""
    return as_utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def _break_glass_hint(min_reason_length: int) -> str:
    """A dispatcher's plain reveal: the one way they have, and what it costs."""
    return (
        "your role reveals secrets only by break-glass: send break_glass: true with a "
        f"reason of at least {min_reason_length} characters saying why (and, where your "
        "organisation's policy asks for it, the current code of your authenticator app "
        "as otp); the reveal is flagged in the audit trail and the auditors are told"
    )


_DENIAL_MESSAGES = {
    "no_active_grant": "no active grant lets you reveal this secret",
    "not_permitted": "your role does not reveal secrets",
    "not_in_your_areas": "break-glass is limited to sites in your areas",
    "dpa_inactive": "your organisation has no active data-processing agreement",
    STEP_UP_REQUIRED: STEP_UP_REQUIRED_MESSAGE,
}
