"""The one retry backoff: doubling from the base, capped, jitter within its bounds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fieldvault_platform.backoff import backoff_seconds, jittered_backoff_seconds


def test_the_delay_doubles_from_the_base_up_to_the_cap() -> None:
    delays = [backoff_seconds(n, base=0.5, cap=30.0) for n in range(9)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_a_huge_failure_count_neither_overflows_nor_passes_the_cap() -> None:
    assert backoff_seconds(10**9, base=1.0, cap=3600.0) == 3600.0
    assert backoff_seconds(-3, base=1.0, cap=3600.0) == 1.0


@given(
    attempt=st.integers(min_value=0, max_value=10_000),
    base=st.floats(min_value=0.01, max_value=60),
    cap=st.floats(min_value=60, max_value=86_400),
)
def test_jitter_stays_between_half_the_base_and_the_plain_delay(
    attempt: int, base: float, cap: float
) -> None:
    delay = jittered_backoff_seconds(attempt, base=base, cap=cap)
    assert base / 2 <= delay <= backoff_seconds(attempt, base=base, cap=cap)
