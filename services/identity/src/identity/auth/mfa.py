"""TOTP second factor (RFC 6238): enrolment, confirmation and verification.

The seed is stored only as Vault Transit ciphertext (``fv-identity-totp``),
so a copy of the database does not let anyone generate codes. A code is
accepted for the current 30-second step or one step either side (clock
drift), and each step only once: the last accepted step is recorded with a
conditional update, so a code seen over someone's shoulder cannot be
replayed, not even by two racing logins.
"""

from __future__ import annotations

import hmac
import time

import pyotp
from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.vault import VaultClient
from identity.components import TOTP_KEY
from identity.models import User

ISSUER = "fieldvault"
#: Steps either side of now that are still accepted.
DRIFT_STEPS = 1


async def new_seed(vault: VaultClient) -> tuple[str, str]:
    """A fresh base32 seed and its Transit ciphertext."""
    seed = pyotp.random_base32()
    return seed, await vault.encrypt(TOTP_KEY, seed.encode("ascii"))


def provisioning_uri(seed: str, *, account: str) -> str:
    return pyotp.TOTP(seed).provisioning_uri(name=account, issuer_name=ISSUER)


def matching_step(seed: str, code: str, *, now: float | None = None) -> int | None:
    """The time step whose code is ``code`` (within the drift window), or None."""
    code = code.strip()
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(seed)
    moment = time.time() if now is None else now
    current = totp.timecode(moment)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Compare every candidate (no early exit): timing says nothing about which matched.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


async def verify_code(
    session: AsyncSession, vault: VaultClient, *, user: User, code: str, confirmed_only: bool = True
) -> bool:
    """Whether ``code`` is a fresh valid code of the user's seed; consumes its step."""
    if user.totp_secret_ciphertext is None or (confirmed_only and not user.totp_confirmed):
        return False
    seed = (await vault.decrypt(TOTP_KEY, user.totp_secret_ciphertext)).decode("ascii")
    step = matching_step(seed, code)
    if step is None:
        return False
    consumed = await session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(consumed.rowcount == 1)  # type: ignore[attr-defined]
