"""The work order state machine, as pure logic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from work_order.lifecycle import (
    ACTIVE,
    FINAL,
    TRANSITIONS,
    Event,
    InvalidTransition,
    Status,
    allowed_events,
    next_status,
)


def test_the_golden_path_in_both_orders_of_scheduling_and_assignment() -> None:
    for path in (
        [Event.SCHEDULE, Event.ASSIGN, Event.START, Event.COMPLETE],
        [Event.ASSIGN, Event.SCHEDULE, Event.START, Event.COMPLETE],
    ):
        status = Status.NEW
        for event in path:
            status = next_status(status, event)
        assert status is Status.COMPLETED


@pytest.mark.parametrize("final", sorted(FINAL))
def test_final_statuses_accept_nothing(final: Status) -> None:
    assert allowed_events(final) == frozenset()
    for event in Event:
        with pytest.raises(InvalidTransition, match=f"a {final.value} work order cannot"):
            next_status(final, event)


@given(events=st.lists(st.sampled_from(list(Event)), max_size=12))
def test_any_sequence_of_events_keeps_the_rules(events: list[Event]) -> None:
    status = Status.NEW
    for event in events:
        try:
            following = next_status(status, event)
        except InvalidTransition as refused:
            assert (status, event) not in TRANSITIONS
            assert refused.code == "invalid_transition"
            continue
        # Work is started only when assigned, completed only when started.
        if event is Event.START:
            assert status is Status.ASSIGNED
        if event is Event.COMPLETE:
            assert status is Status.IN_PROGRESS
        if event is Event.ASSIGN:
            assert following is Status.ASSIGNED
        if event is Event.CANCEL:
            assert status not in FINAL and following is Status.CANCELLED
        assert status not in FINAL
        status = following


def test_only_assigned_and_started_work_orders_hold_a_grant() -> None:
    assert {Status.ASSIGNED, Status.IN_PROGRESS} == ACTIVE
    assert not ACTIVE & FINAL
