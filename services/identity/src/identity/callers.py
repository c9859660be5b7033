"""Who is calling an identity RPC, checked against identity's own records.

Other services trust a token until its deny list hears otherwise; identity
itself is the source of truth, so on top of the signature and claims check it
looks the session and the user up: a token of a revoked session or a
deactivated user is refused here even before the event has travelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.auth import Principal, PrincipalKind, TokenVerifier, bearer_token
from fieldvault_platform.auth.contract import REASON_REVOKED
from fieldvault_platform.auth.operator import require_operator
from fieldvault_platform.errors import PermissionDenied, Unauthenticated
from identity.models import LoginSession, User

ACTIVE = "active"


@dataclass(frozen=True, slots=True)
class Callers:
    """Authenticates the caller of an RPC from its ``authorization`` metadata."""

    #: One verifier per audience, sharing identity's own JWKS: ``identity`` for
    #: calls to this service, the others for tokens handed in to be exchanged
    #: or acted upon (ExchangeToken, IssueServiceToken's subject token).
    verifiers: Mapping[str, TokenVerifier]
    #: SHA-256 (hex) of the platform operator token; None disables operator calls.
    operator_token_sha256: str | None

    async def principal(self, context: object) -> Principal:
        """The verified token (audience ``identity``) of the call."""
        return await self.verify(bearer_token(context), audience="identity")  # type: ignore[arg-type]

    async def verify(self, token: str, *, audience: str) -> Principal:
        """A token handed in by a caller, verified as addressed to ``audience``."""
        return await self.verifiers[audience].verify(token)

    def require_operator(self, context: object) -> None:
        """Refuse unless the bearer is the platform operator token."""
        require_operator(context, self.operator_token_sha256)


async def live_user(session: AsyncSession, principal: Principal) -> User:
    """The user behind a user token, provided the user and the session are still live.

    Raises Unauthenticated ("token revoked") otherwise, and PermissionDenied
    for a token that is not a user's.
    """
    if principal.kind is not PrincipalKind.USER or principal.tenant_id is None:
        raise PermissionDenied("this call needs a user's token")
    user = await session.scalar(
        select(User).where(User.id == principal.subject, User.tenant_id == principal.tenant_id)
    )
    if user is None or user.status != ACTIVE:
        raise Unauthenticated(REASON_REVOKED)
    live_session = await session.scalar(
        select(LoginSession.id).where(
            LoginSession.id == principal.session_id,
            LoginSession.user_id == user.id,
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > datetime.now(UTC),
        )
    )
    if live_session is None:
        raise Unauthenticated(REASON_REVOKED)
    return user
