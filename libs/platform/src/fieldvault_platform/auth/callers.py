"""Who is calling a service: identity's access tokens, verified locally.

Every RPC names its caller with ``authorization: Bearer <token>`` (audience:
the service): a user's token exchanged by the gateway, a partner client's, or
a service's own token from identity, possibly on behalf of a user. The signature is
checked against identity's JWKS and revocations come from this process's own
deny list, fed from NATS — identity is not asked per call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fieldvault_platform.auth.bearer import bearer_token
from fieldvault_platform.auth.principal import Principal
from fieldvault_platform.auth.verifier import TokenVerifier
from fieldvault_platform.errors import Unavailable


@dataclass(frozen=True)
class Callers:
    verifier: TokenVerifier
    #: Set once the revocation listener has applied the recent revocations
    #: (``RevocationListener.caught_up``).
    revocations_current: asyncio.Event
    catch_up_timeout: float = 5.0

    async def principal(self, context: object) -> Principal:
        """The verified caller of this RPC; Unauthenticated for a missing or refused token."""
        token = bearer_token(context)  # type: ignore[arg-type]
        if not self.revocations_current.is_set():
            # Just started: a token revoked a minute ago would pass until the
            # listener has replayed the recent revocations, so wait (bounded)
            # and fail closed rather than accept it.
            try:
                await asyncio.wait_for(self.revocations_current.wait(), self.catch_up_timeout)
            except TimeoutError:
                raise Unavailable("token revocations are not loaded yet; retry shortly") from None
        return await self.verifier.verify(token)
