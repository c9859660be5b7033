"""Revoked sessions, users and tokens, remembered until their tokens would expire.

An access token cannot be recalled once issued, so every service keeps this
list, fed by identity's revocation events, and refuses what it covers:

* a **session** (``tid`` + ``sid``): every token of that session — identity
  never mints another token for a revoked session, and a new login gets a
  new ``sid``;
* a **user** (``tid`` + ``sub``) at a time T: every token issued at or before
  T (``iat <= T``), so a deactivated user is locked out but a user who is
  reactivated and logs in again afterwards is not. ``iat`` has one-second
  resolution, so a token issued in the same second as T is refused too —
  failing closed for at most a second. On-behalf-of tokens are checked
  against their actor as well;
* a partner's **API client** (``tid`` + ``client:<client_id>``) at a time T:
  every token issued to it at or before T, the same rule as a user's (a
  revoked client gets no new tokens, so in effect all of them);
* a single **token** (``jti``).

Nothing needs remembering longer than the longest a token can be accepted:
the verifier refuses any token issued more than ``max_token_lifetime`` +
``leeway`` ago, so an entry is dropped that long after its revocation. That
keeps the list small without a background task: expired entries are pruned
as the list is used.

The list is bounded. When it is full, the entries closest to expiry are
evicted and the list *fails closed* for them: it raises a floor and refuses
every token issued at or before the latest evicted revocation. Under a
revocation flood users must log in again sooner; nobody revoked gets back in.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from fieldvault_platform.auth.contract import (
    CLIENT_SUBJECT_PREFIX,
    DEFAULT_LEEWAY,
    DEFAULT_MAX_TOKEN_LIFETIME,
)
from fieldvault_platform.auth.principal import Principal

logger = logging.getLogger(__name__)

_Kind = Literal["user", "session", "token"]


@dataclass(frozen=True, slots=True)
class _Entry:
    revoked_at: float
    expires_at: float


class DenyList:
    """In-memory, bounded deny list with O(1) checks; one per process."""

    def __init__(
        self,
        *,
        max_token_lifetime: float = DEFAULT_MAX_TOKEN_LIFETIME,
        leeway: float = DEFAULT_LEEWAY,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        #: How long after its revocation an entry can still matter, in seconds.
        self.retention = max_token_lifetime + leeway
        self._leeway = leeway
        self._max_entries = max_entries
        # Wall-clock: revocation times and ``iat`` are both Unix time.
        self._clock = clock
        self._entries: dict[_Kind, dict[tuple[str, ...], _Entry]] = {
            "user": {},
            "session": {},
            "token": {},
        }
        # (expires_at, kind, key) for pruning and eviction in expiry order.
        # Superseded items stay until popped and are skipped (lazy deletion).
        self._expiry_heap: list[tuple[float, _Kind, tuple[str, ...]]] = []
        #: Tokens issued at or before this are refused (raised only by eviction).
        self._floor = float("-inf")

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._entries.values())

    def revoke_user(
        self, tenant_id: str | None, user_id: str, *, revoked_at: float | None = None
    ) -> None:
        """Refuse tokens of (or acting for) this user issued at or before ``revoked_at``."""
        self._add("user", (tenant_id or "", user_id), revoked_at)

    def revoke_client(
        self, tenant_id: str | None, client_id: str, *, revoked_at: float | None = None
    ) -> None:
        """Refuse tokens of this partner client (``sub`` = ``client:<client_id>``) issued
        at or before ``revoked_at``; kept beside users, whose ids never hold a ``:``."""
        self._add("user", (tenant_id or "", CLIENT_SUBJECT_PREFIX + client_id), revoked_at)

    def revoke_session(
        self, tenant_id: str | None, session_id: str, *, revoked_at: float | None = None
    ) -> None:
        """Refuse every token carrying this session id."""
        self._add("session", (tenant_id or "", session_id), revoked_at)

    def revoke_token(self, token_id: str, *, expires_at: float | None = None) -> None:
        """Refuse the token with this ``jti``; ``expires_at`` (its ``exp``) lets it go sooner."""
        now = self._clock()
        # A token is accepted up to ``leeway`` past its exp, so it is remembered as long.
        until = None if expires_at is None else min(expires_at + self._leeway, now + self.retention)
        self._add("token", (token_id,), now, expires_at=until)

    def is_revoked(self, principal: Principal) -> bool:
        now = self._clock()
        if self._expiry_heap and self._expiry_heap[0][0] <= now:
            self.prune()
        issued_at = principal.issued_at.timestamp()
        if issued_at <= self._floor:
            return True
        if (principal.token_id,) in self._entries["token"]:
            return True
        sessions = self._entries["session"]
        tenant = principal.tenant_id or ""
        if principal.session_id is not None and (tenant, principal.session_id) in sessions:
            return True
        if self._user_revoked(tenant, principal.subject, issued_at):
            return True
        actor = principal.actor
        if actor is not None:
            if actor.session_id is not None and (actor.tenant_id, actor.session_id) in sessions:
                return True
            if self._user_revoked(actor.tenant_id, actor.user_id, issued_at):
                return True
        return False

    def prune(self) -> int:
        """Drop expired entries; returns how many were dropped."""
        now = self._clock()
        dropped = 0
        while self._expiry_heap and self._expiry_heap[0][0] <= now:
            expires_at, kind, key = heapq.heappop(self._expiry_heap)
            entry = self._entries[kind].get(key)
            if entry is not None and entry.expires_at == expires_at:
                del self._entries[kind][key]
                dropped += 1
        return dropped

    def _user_revoked(self, tenant: str, user_id: str, issued_at: float) -> bool:
        entry = self._entries["user"].get((tenant, user_id))
        return entry is not None and issued_at <= entry.revoked_at

    def _add(
        self,
        kind: _Kind,
        key: tuple[str, ...],
        revoked_at: float | None,
        *,
        expires_at: float | None = None,
    ) -> None:
        now = self._clock()
        at = now if revoked_at is None else revoked_at
        until = at + self.retention if expires_at is None else expires_at
        if until <= now:
            return  # every token it could cover is already too old to be accepted
        entries = self._entries[kind]
        current = entries.get(key)
        if current is not None and current.revoked_at >= at and current.expires_at >= until:
            return  # a replayed or older event: the newer revocation already covers it
        if current is not None:
            # Keep the widest cover of both: a later revocation time refuses more tokens.
            at = max(at, current.revoked_at)
            until = max(until, current.expires_at)
        entries[key] = _Entry(revoked_at=at, expires_at=until)
        heapq.heappush(self._expiry_heap, (until, kind, key))
        self.prune()
        if len(self) > self._max_entries:
            self._evict(len(self) - self._max_entries)
        if len(self._expiry_heap) > 2 * self._max_entries + 64:
            self._compact_heap()

    def _evict(self, count: int) -> None:
        evicted = 0
        while evicted < count and self._expiry_heap:
            expires_at, kind, key = heapq.heappop(self._expiry_heap)
            entry = self._entries[kind].get(key)
            if entry is None or entry.expires_at != expires_at:
                continue
            del self._entries[kind][key]
            self._floor = max(self._floor, entry.revoked_at)
            evicted += 1
        logger.warning(
            "token deny list full; refusing all tokens issued before the evicted revocations",
            extra={"evicted": evicted, "max_entries": self._max_entries},
        )

    def _compact_heap(self) -> None:
        self._expiry_heap = [
            (entry.expires_at, kind, key)
            for kind, entries in self._entries.items()
            for key, entry in entries.items()
        ]
        heapq.heapify(self._expiry_heap)
