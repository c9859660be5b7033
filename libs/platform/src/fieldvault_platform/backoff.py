"""One retry backoff for every loop that waits after a failure.

Relays, consumers, listeners and delivery workers all wait ``base * 2**n``
after their n-th consecutive failure, up to a cap; deliveries that many
workers retry at once add full jitter so that they do not arrive together.
"""

from __future__ import annotations

import random

#: 2**16 times any sane base is past any sane cap; an unbounded float power of a
#: failure count would overflow.
MAX_EXPONENT = 16


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """``base * 2**attempt`` seconds, at most ``cap``: attempt 0 waits ``base``."""
    return min(cap, base * 2.0 ** min(max(attempt, 0), MAX_EXPONENT))


def jittered_backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """Anywhere from half the base to :func:`backoff_seconds` (full jitter)."""
    return random.uniform(base / 2, backoff_seconds(attempt, base=base, cap=cap))  # noqa: S311
