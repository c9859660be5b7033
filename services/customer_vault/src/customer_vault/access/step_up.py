"""Break-glass step-up: identity's word that the dispatcher may break the glass now.

Identity decides, per the tenant's policy, whether a break-glass reveal needs
a fresh second factor, checks the code, and signs a step-up token bound to the
dispatcher, their login session, this site and this kind
(:mod:`fieldvault_platform.auth.step_up`). Every break-glass reveal needs one:
verified here against identity's keys, so a caller (the gateway included)
cannot skip asking identity. Without a valid one the reveal is refused and
audited as ``step_up_required``.
"""

from __future__ import annotations

from customer_vault.components import Components
from fieldvault_platform.auth import BREAK_GLASS, Principal

STEP_UP_REQUIRED = "step_up_required"
STEP_UP_REQUIRED_MESSAGE = (
    "break-glass needs a fresh step-up from identity: send the current code of your "
    "authenticator app as otp (enrol one first if you have none)"
)


async def break_glass_stepped_up(
    c: Components, principal: Principal, *, step_up_token: str, site_id: str, kind: str
) -> bool:
    """Whether ``step_up_token`` is identity's step-up for this caller's break-glass of
    ``kind`` at ``site_id``."""
    return await c.callers.verifier.verify_step_up(
        step_up_token,
        principal=principal,
        purpose=BREAK_GLASS,
        target={"site_id": site_id, "kind": kind},
    )
