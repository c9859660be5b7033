"""The backlog gauges read the service's own tables: pending outbox rows and their age,
parked events by consumer, back to zero once drained (real database: SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY
from sqlalchemy import update

from fieldvault_platform.backlog import BacklogSampler, outbox_probe, parked_probe
from fieldvault_platform.db import Database
from fieldvault_platform.events.consumer import ParkedEvent
from fieldvault_platform.events.outbox import OutboxEvent


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_outbox_and_parked_gauges_follow_the_tables(database: Database) -> None:
    service = "backlog_test_service"
    sampler = BacklogSampler(database)
    sampler.add(outbox_probe(service))
    sampler.add(parked_probe())
    now = datetime.now(UTC)
    async with database.unit_of_work() as session:
        for index, age in enumerate((600, 30)):
            session.add(
                OutboxEvent(
                    id=f"backlog-{index}",
                    subject="fieldvault.test",
                    event_type="test",
                    payload=b"",
                    headers={},
                    created_at=now - timedelta(seconds=age),
                )
            )
        for index in range(3):
            session.add(
                ParkedEvent(
                    consumer="backlog-consumer",
                    event_id=f"parked-{index}",
                    subject="fieldvault.test",
                    payload=b"",
                    delivery_count=5,
                    error_type="KeyError",
                    parked_at=now,
                )
            )

    await sampler.sample()
    assert gauge("fieldvault_outbox_pending", service=service) == 2
    oldest = gauge("fieldvault_outbox_oldest_age_seconds", service=service)
    assert oldest is not None and 600 <= oldest < 660
    assert gauge("fieldvault_events_parked", consumer="backlog-consumer") == 3

    async with database.unit_of_work() as session:
        await session.execute(update(OutboxEvent).values(published_at=now))
        await session.execute(ParkedEvent.__table__.delete())
    await sampler.sample()
    assert gauge("fieldvault_outbox_pending", service=service) == 0
    assert gauge("fieldvault_outbox_oldest_age_seconds", service=service) == 0
    assert gauge("fieldvault_events_parked", consumer="backlog-consumer") == 0


async def test_a_failing_probe_does_not_stop_the_others(database: Database) -> None:
    service = "backlog_probe_failure"
    sampler = BacklogSampler(database)

    async def broken(session: object) -> None:
        raise RuntimeError("boom")

    sampler.add(broken)  # type: ignore[arg-type]
    sampler.add(outbox_probe(service))
    await sampler.sample()
    assert gauge("fieldvault_outbox_pending", service=service) == 0
