"""Rate limits shared by every gateway replica: token buckets in a JetStream key-value bucket.

With ``rate_limit_store = "nats"`` (what the chart sets) a client gets one
budget whichever replica answers it, not one per replica.

The algorithm, per ``(key, budget)``: the entry named after the SHA-256 of the
key holds ``{"tokens": …, "at": …}`` (wall-clock seconds: replicas share no
monotonic clock). A request reads the entry and its revision, refills the tokens
by the time passed (at ``per_minute / 60`` a second, up to ``per_minute``), and
if at least one token is there writes the bucket back with one token less,
*on condition* that the entry is still at the revision it read (compare-and-set:
``kv.update(…, last=revision)``, or ``kv.create`` for a new one). When another
replica wrote in between, the write is refused and the request reads again, at
most :data:`CAS_ATTEMPTS` times; a key that contended beyond that is under a
flood and is answered as limited (``Retry-After: 1``). No token is ever spent
twice, so all replicas together never let more through than the budget allows.

A request charges up to three buckets (address, user, route). All are read
first; if one is empty nothing is spent and the request is refused, as with the
in-memory limiter. The spends themselves are not one transaction: should a
bucket be emptied by another replica between the read and the spend, the
request is refused while what it spent from its other buckets stays spent, which
errs on the side of limiting.

Entries expire with the bucket's age limit, :data:`ENTRY_TTL_SECONDS`: any
budget refills completely within 60 s, so an entry idle that long equals a
fresh one and may go; the bucket only holds keys seen in the last two minutes.
Entries are named by a hash, so no e-mail or address is kept in clear.

When NATS cannot be reached (or answers too slowly) the limits fail in one of
two ways, chosen per budget (:attr:`Budget.fail_closed`):

* sign-in, token and reveal budgets **fail closed**: the request is answered
  503 ``unavailable``. These budgets hold back password guessing and the
  reading of door codes; with N replicas a per-replica fallback would multiply
  them by N exactly when an attacker can take NATS' outage as an opening.
  Sign-ins are not lost: the client retries after ``Retry-After``.
* the per-address and per-user budgets **fail open** to this replica's own
  in-memory limiter: shedding floods per replica (N times the budget) is better than
  turning every request of every user away because of the limiter.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nats.aio.client import Client as NatsClient
from nats.js.errors import (
    BucketNotFoundError,
    KeyDeletedError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
)
from nats.js.kv import KeyValue

from gateway.ratelimit import Budget, RateLimiter, RateLimitUnavailable

log = logging.getLogger(__name__)

#: Compare-and-set attempts per key and request before the key counts as flooded.
CAS_ATTEMPTS = 5
#: Every budget refills within 60 s; twice that leaves room for replicas' clock skew.
ENTRY_TTL_SECONDS = 120
#: A key-value call slower than this counts as NATS being unavailable.
KV_TIMEOUT_SECONDS = 1.0
#: Opening (or, the first time, creating) the bucket: a cluster places its replicas.
OPEN_TIMEOUT_SECONDS = 10.0


@dataclass
class _Read:
    tokens: float
    revision: int | None


@dataclass
class SharedRateLimiter:
    """Token buckets in the ``bucket`` key-value bucket, over the gateway's NATS connection.

    ``nats`` answers the current connection (None while there is none);
    ``fallback`` is the in-memory limiter fail-open budgets use meanwhile.
    """

    bucket: str
    nats: Callable[[], NatsClient | None]
    fallback: RateLimiter
    replicas: int = 1
    clock: Callable[[], float] = time.time
    _kv: KeyValue | None = field(default=None, repr=False)
    _client: NatsClient | None = field(default=None, repr=False)
    _degraded: bool = field(default=False, repr=False)

    async def spend(self, charges: Sequence[tuple[str, Budget]]) -> int:
        """0 when one token was spent from each bucket, else the seconds to wait.

        Raises :class:`RateLimitUnavailable` when NATS is out of reach and one of
        the budgets fails closed.
        """
        if not charges:
            return 0
        try:
            kv = await self._bucket()
            waited = await self._spend_shared(kv, charges)
        except Exception as exc:
            self._note_degraded(exc)
            if any(budget.fail_closed for _, budget in charges):
                raise RateLimitUnavailable from None
            return self.fallback.acquire(charges)
        if self._degraded:
            self._degraded = False
            log.info("shared rate limits reachable again")
        return waited

    async def _spend_shared(self, kv: KeyValue, charges: Sequence[tuple[str, Budget]]) -> int:
        now = self.clock()
        named = [(entry_name(key), budget) for key, budget in charges]
        reads = await asyncio.gather(*(self._read(kv, name, budget, now) for name, budget in named))
        waits = [_wait(read.tokens, budget) for read, (_, budget) in zip(reads, named, strict=True)]
        if max(waits) <= 0:
            waits = await asyncio.gather(
                *(
                    self._spend_one(kv, name, budget, now, read)
                    for (name, budget), read in zip(named, reads, strict=True)
                )
            )
        wait = max(waits)
        return max(1, math.ceil(wait)) if wait > 0 else 0

    async def _read(self, kv: KeyValue, name: str, budget: Budget, now: float) -> _Read:
        try:
            entry = await asyncio.wait_for(kv.get(name), KV_TIMEOUT_SECONDS)
        except (KeyNotFoundError, KeyDeletedError):
            return _Read(float(budget.per_minute), None)
        try:
            state = json.loads(entry.value or b"{}")
            tokens, at = float(state["tokens"]), float(state["at"])
        except (ValueError, KeyError, TypeError):
            # Not ours or damaged: treat as a full bucket and overwrite it.
            return _Read(float(budget.per_minute), entry.revision)
        # A clock that went back refills nothing rather than draining the bucket.
        refilled = tokens + max(0.0, now - at) * budget.rate
        return _Read(min(float(budget.per_minute), refilled), entry.revision)

    async def _spend_one(
        self, kv: KeyValue, name: str, budget: Budget, now: float, read: _Read
    ) -> float:
        """Seconds to wait (0: spent), compare-and-set against the revision read."""
        for _ in range(CAS_ATTEMPTS):
            if read.tokens < 1.0:
                return _wait(read.tokens, budget)
            value = json.dumps({"tokens": read.tokens - 1.0, "at": now}).encode()
            try:
                if read.revision is None:
                    await asyncio.wait_for(kv.create(name, value), KV_TIMEOUT_SECONDS)
                else:
                    await asyncio.wait_for(
                        kv.update(name, value, last=read.revision), KV_TIMEOUT_SECONDS
                    )
                return 0.0
            except KeyWrongLastSequenceError:
                # Another replica spent from this bucket since we read it: read again.
                read = await self._read(kv, name, budget, now)
        return 1.0

    async def _bucket(self) -> KeyValue:
        client = self.nats()
        if client is None or not client.is_connected:
            raise RateLimitUnavailable
        if self._kv is not None and self._client is client:
            return self._kv
        js = client.jetstream()
        try:
            kv = await asyncio.wait_for(js.key_value(self.bucket), OPEN_TIMEOUT_SECONDS)
        except BucketNotFoundError:
            kv = await asyncio.wait_for(
                js.create_key_value(
                    bucket=self.bucket,
                    history=1,
                    ttl=ENTRY_TTL_SECONDS,
                    replicas=self.replicas,
                ),
                OPEN_TIMEOUT_SECONDS,
            )
        self._kv, self._client = kv, client
        return kv

    def _note_degraded(self, exc: Exception) -> None:
        if not self._degraded:
            self._degraded = True
            log.warning(
                "shared rate limits unreachable: sign-in, token and reveal requests are "
                "refused, other limits are kept per replica meanwhile",
                extra={"error_type": type(exc).__name__},
            )


def entry_name(key: str) -> str:
    """The entry of a limit key: a hash, so addresses and e-mails are not kept in clear."""
    return "rl." + hashlib.sha256(key.encode()).hexdigest()


def _wait(tokens: float, budget: Budget) -> float:
    return 0.0 if tokens >= 1.0 else (1.0 - tokens) / budget.rate
