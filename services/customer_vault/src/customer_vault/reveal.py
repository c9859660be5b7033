"""Reveal: the one way a secret value leaves the service.

A user's token + an active grant naming this site and kind (or a
dispatcher's break-glass with a reason, in their own area) + not over the
reveal rate + (subcontractor) an active DPA. The value is decrypted first,
then the audit record is committed, and only then is the value returned: if
the audit write fails nothing is revealed, and if Vault fails nothing is
written. Denials are audited with their reason. Grants not found and grants
for another kind are the same denial, so a refusal says nothing about what
exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from customer_vault import audit, events
from customer_vault.access import Caller, active_grant_clause, caller, grantee_clause
from customer_vault.components import Components
from customer_vault.keys import Erased
from customer_vault.models import AuditRecord, Customer, Grant, Site, SiteSecret
from customer_vault.site_secrets import TABLE, check_kind, latest_secret
from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
)

REVEAL_ACTION = "secret.reveal"
REVEAL_SCOPE = "secrets:reveal"
BREAK_GLASS_SCOPE = "secrets:break_glass"
BREAK_GLASS_PURPOSE = "break_glass"


@dataclass(frozen=True)
class Revealed:
    kind: str
    value: str
    audit_event_id: str
    hide_after_seconds: int


@dataclass
class _Decision:
    site: Site
    denial: str | None = None
    grant: Grant | None = None
    #: Reveal attempts of this user in the rate window before this one.
    attempts: int = 0
    #: Active grants naming this caller and this kind, oldest first.
    candidates: list[Grant] = field(default_factory=list)
    #: For a refusal: the work order of the caller's latest grant at the site.
    purpose: str | None = None
    customer: Customer | None = None
    secret: SiteSecret | None = None


async def _decide(
    c: Components, who: Caller, *, site_id: str, kind: str, break_glass: bool, now: datetime
) -> _Decision:
    settings = c.settings
    window_start = now - timedelta(seconds=settings.reveal_rate_window_seconds)
    async with c.database.unit_of_work() as session:
        site = await session.scalar(
            select(Site).where(Site.id == site_id, Site.tenant_id == who.tenant_id)
        )
        if site is None:
            raise NotFound("site not found")
        decision = _Decision(site)
        decision.attempts = (
            await session.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(
                    AuditRecord.tenant_id == who.tenant_id,
                    AuditRecord.actor_id == who.principal.subject,
                    AuditRecord.action == REVEAL_ACTION,
                    AuditRecord.occurred_at > window_start,
                )
            )
        ) or 0
        if decision.attempts >= settings.reveal_rate_limit:
            decision.denial = "rate_limited"
        elif not who.principal.has_scope(BREAK_GLASS_SCOPE if break_glass else REVEAL_SCOPE):
            # A person whose roles never reveal: refused like anyone else, and audited.
            decision.denial = "not_permitted"
        elif break_glass:
            if site.area_id not in who.area_ids:
                decision.denial = "not_in_your_areas"
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
                # The refusal names the job it most likely belongs to: the
                # caller's latest grant here, ended or not yet begun.
                decision.purpose = await session.scalar(
                    select(Grant.work_order_id)
                    .where(Grant.site_id == site.id, grantee_clause(who))
                    .order_by(Grant.created_at.desc())
                    .limit(1)
                )
        if decision.denial is None:
            decision.customer = await session.get(Customer, site.customer_id)
            decision.secret = await latest_secret(session, site.id, kind)
    return decision


async def _usable_grant(c: Components, tenant_id: str, candidates: list[Grant]) -> Grant | None:
    """The first grant that holds up: an own-staff grant, else a subcontractor's with a live DPA."""
    for grant in sorted(candidates, key=lambda g: g.subcontractor):
        if not grant.subcontractor or await c.dpa.is_active(tenant_id, grant.organization_id):
            return grant
    return None


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
    if len(reason) > 500:
        raise InvalidArgument("reason must be at most 500 characters")

    decision = await _decide(c, who, site_id=site_id, kind=kind, break_glass=break_glass, now=now)
    if decision.denial is None and not break_glass:
        decision.grant = await _usable_grant(c, who.tenant_id, decision.candidates)
        if decision.grant is None:
            decision.denial = "dpa_inactive"
    grant = decision.grant
    value = None
    secret = decision.secret
    if decision.denial is None:
        if decision.customer is None or decision.customer.erased:
            raise Erased()
        if secret is None or secret.value_ct is None:
            raise NotFound(f"no {kind} is stored for this site")
        cipher = await c.keys.cipher(decision.customer)
        value = cipher.open(TABLE, secret.id, kind, secret.value_ct)

    purpose = (
        BREAK_GLASS_PURPOSE if break_glass else (grant.work_order_id if grant else decision.purpose)
    )
    alerting = False
    async with c.database.unit_of_work() as session:
        record = await audit.record(
            session,
            tenant_id=who.tenant_id,
            actor=audit.AuditActor.of(principal),
            entry=audit.Entry(
                action=REVEAL_ACTION,
                resource_type="secret",
                resource_id=secret.id if secret is not None and value is not None else None,
                customer_id=decision.site.customer_id,
                site_id=decision.site.id,
                fields=[kind],
                purpose=purpose,
                outcome=audit.SUCCESS if decision.denial is None else audit.DENIED,
                reason=decision.denial or (reason if break_glass else None) or None,
                denial_code=decision.denial,
                request_id=request_id,
                break_glass=break_glass,
            ),
            now=now,
        )
        if decision.denial == "rate_limited" and decision.attempts == c.settings.reveal_rate_limit:
            alerting = True  # the first refusal of this crossing, not every one after it
            events.reveal_rate_exceeded(
                session,
                tenant_id=who.tenant_id,
                user_id=principal.subject,
                limit=c.settings.reveal_rate_limit,
                window_seconds=c.settings.reveal_rate_window_seconds,
                at=now,
            )
        if decision.denial is None and break_glass:
            alerting = True
            events.break_glass_reveal(
                session,
                tenant_id=who.tenant_id,
                audit_event_id=record.id,
                user_id=principal.subject,
                site_id=decision.site.id,
                kind=kind,
                at=now,
            )
    if alerting:
        c.wake_relay()
    if decision.denial == "rate_limited":
        raise ResourceExhausted(
            "too many reveals; try again later",
            retry_after_seconds=c.settings.reveal_rate_window_seconds,
        )
    if decision.denial is not None:
        message = _DENIAL_MESSAGES[decision.denial]
        if decision.denial == "not_permitted" and principal.has_scope(BREAK_GLASS_SCOPE):
            message = _break_glass_hint(c.settings.break_glass_min_reason_length)
        raise PermissionDenied(message, code=decision.denial)
    assert value is not None
    return Revealed(kind, value, record.id, c.settings.reveal_hide_after_seconds)


def _break_glass_hint(min_reason_length: int) -> str:
    """A dispatcher's plain reveal: the one way they have, and what it costs."""
    return (
        "your role reveals secrets only by break-glass: send break_glass: true with a "
        f"reason of at least {min_reason_length} characters saying why; "
        "the reveal is flagged in the audit trail and the auditors are told"
    )


_DENIAL_MESSAGES = {
    "no_active_grant": "no active grant lets you reveal this secret",
    "not_permitted": "your role does not reveal secrets",
    "not_in_your_areas": "break-glass is limited to sites in your areas",
    "dpa_inactive": "your organisation has no active data-processing agreement",
}
