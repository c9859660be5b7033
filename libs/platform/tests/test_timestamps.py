"""The one datetime <-> protobuf Timestamp pair: round trip, unset, naive, out of range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import assume, given
from hypothesis import strategies as st

from fieldvault.identity.v1.identity_events_pb2 import UserDeactivated
from fieldvault_platform.timestamps import (
    TimestampMissing,
    TimestampOutOfRange,
    from_timestamp,
    to_timestamp,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Fixed offsets as RFC 3339 allows them (to the minute, under a day either way).
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


def _carried(moment: datetime | None) -> UserDeactivated:
    return UserDeactivated(user_id="u-1", occurred_at=to_timestamp(moment))


def _in_utc(moment: datetime) -> datetime | None:
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


@given(naive=st.datetimes(), offset=offsets)
def test_an_aware_moment_comes_back_the_same_instant_in_utc(
    naive: datetime, offset: timezone
) -> None:
    moment = naive.replace(tzinfo=offset)
    assume(_in_utc(moment) is not None and moment != EPOCH)

    back = from_timestamp(_carried(moment), "occurred_at")

    assert back == moment
    assert back is not None and back.tzinfo is UTC
    assert back.microsecond == moment.microsecond


@given(naive=st.datetimes(), offset=offsets)
def test_any_aware_moment_converts_or_is_out_of_range_never_an_overflow(
    naive: datetime, offset: timezone
) -> None:
    moment = naive.replace(tzinfo=offset)
    if _in_utc(moment) is None:
        with pytest.raises(TimestampOutOfRange):
            to_timestamp(moment)
    else:
        assert isinstance(to_timestamp(moment), Timestamp)


@given(naive=st.datetimes())
def test_a_naive_moment_is_read_as_utc(naive: datetime) -> None:
    assert to_timestamp(naive) == to_timestamp(naive.replace(tzinfo=UTC))


def test_none_leaves_the_field_unset_and_unset_reads_as_none() -> None:
    assert to_timestamp(None) is None
    message = _carried(None)
    assert not message.HasField("occurred_at")
    assert from_timestamp(message, "occurred_at") is None


def test_the_zero_timestamp_reads_as_unset_as_the_services_always_read_it() -> None:
    message = UserDeactivated(occurred_at=Timestamp())
    assert message.HasField("occurred_at")
    assert from_timestamp(message, "occurred_at") is None


def test_a_required_time_that_is_unset_is_named() -> None:
    with pytest.raises(TimestampMissing, match="occurred_at"):
        from_timestamp(UserDeactivated(), "occurred_at", required=True)
    moment = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert from_timestamp(_carried(moment), "occurred_at", required=True) == moment


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime.fromisoformat("0001-01-01T00:00:00-05:00"),  # 05:00 UTC: still year 1
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime.fromisoformat("9999-12-31T23:59:59+05:00"),
    ],
)
def test_the_first_and_last_moments_of_the_range_fit(moment: datetime) -> None:
    assert from_timestamp(_carried(moment), "occurred_at") == moment


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+05:00",  # 0000-12-31T19:00Z
        "0001-01-01T04:59:59.999999+05:00",
        "9999-12-31T23:59:59-05:00",  # 10000-01-01T04:59:59Z
        "9999-12-31T19:00:00-05:00",
    ],
)
def test_a_moment_outside_the_years_1_to_9999_in_utc_is_named(text: str) -> None:
    moment = datetime.fromisoformat(text)
    with pytest.raises(TimestampOutOfRange) as caught:
        to_timestamp(moment)
    assert isinstance(caught.value, ValueError)
    assert moment.isoformat() in str(caught.value)


@pytest.mark.parametrize(
    "stamp",
    [Timestamp(seconds=253_402_300_800), Timestamp(seconds=-62_135_596_801), Timestamp(nanos=-1)],
)
def test_a_timestamp_a_sender_put_out_of_range_is_named(stamp: Timestamp) -> None:
    message = UserDeactivated(occurred_at=stamp)
    with pytest.raises(TimestampOutOfRange, match="occurred_at"):
        from_timestamp(message, "occurred_at")
