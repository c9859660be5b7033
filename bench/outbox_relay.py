"""Throughput of the transactional outbox path against raw JetStream publishes.

Starts its own nats-server (free port, temporary store) and, by default, a
temporary SQLite database; ``--database-url postgresql://...`` runs against a
scratch database created on that server and dropped afterwards.

Measured in one run, each on a fresh set of event ids:

* raw sequential: ``await js.publish(...)`` one after the other (the baseline;
  the relay publishes one row at a time too, so this is its ceiling);
* raw concurrent: the same publishes in concurrent batches of ``--concurrency``;
* outbox write: ``add_event`` in units of work (``--per-tx`` events each);
* outbox relay: ``OutboxRelay.relay_once()`` until the outbox is empty;
* end to end: write + relay, from the first write to the last acknowledged publish.

Usage: python bench/outbox_relay.py [--n 2000] [--per-tx 1] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from nats.js import JetStreamContext

from fieldvault_devstack.databases import isolated_database
from fieldvault_devstack.nats import NatsServer
from fieldvault_devstack.ports import free_port
from fieldvault_platform.db import Database
from fieldvault_platform.events import (
    MSG_ID_HEADER,
    OutboxEvent,
    OutboxRelay,
    add_event,
    connect,
    ensure_stream,
    event_subject,
)

SERVICE = "bench"
SUBJECT = event_subject("tenant-1", SERVICE, "work_order_created")
EVENT_TYPE = "fieldvault.bench.v1.WorkOrderCreated"
PAYLOAD = bytes(range(256))  # a small protobuf-sized payload (ids and facts only)
WARMUP = 50


def _ids(count: int) -> list[str]:
    """Fresh ids, so JetStream's duplicate window never drops a measured publish."""
    return [uuid.uuid4().hex for _ in range(count)]


async def _timed(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


async def raw_sequential(js: JetStreamContext, ids: list[str]) -> None:
    for event_id in ids:
        await js.publish(SUBJECT, PAYLOAD, headers={MSG_ID_HEADER: event_id})


async def raw_concurrent(js: JetStreamContext, ids: list[str], concurrency: int) -> None:
    for start in range(0, len(ids), concurrency):
        await asyncio.gather(
            *(
                js.publish(SUBJECT, PAYLOAD, headers={MSG_ID_HEADER: event_id})
                for event_id in ids[start : start + concurrency]
            )
        )


async def outbox_write(database: Database, ids: list[str], per_tx: int) -> None:
    for start in range(0, len(ids), per_tx):
        async with database.unit_of_work() as session:
            for event_id in ids[start : start + per_tx]:
                add_event(
                    session,
                    subject=SUBJECT,
                    event_type=EVENT_TYPE,
                    payload=PAYLOAD,
                    event_id=event_id,
                )


async def outbox_drain(relay: OutboxRelay) -> int:
    total = 0
    while published := await relay.relay_once():
        total += published
    return total


async def run(args: argparse.Namespace, nats_url: str, database_url: str) -> None:
    client = await connect(nats_url, name="fieldvault-bench")
    database = Database(database_url)
    try:
        js = client.jetstream()
        await ensure_stream(js, SERVICE)
        async with database.engine.begin() as connection:
            await connection.run_sync(OutboxEvent.metadata.create_all)
        relay = OutboxRelay(database, js, batch_size=args.batch_size)

        # Warm up connections, the SQLAlchemy compiled-statement cache and JetStream.
        await raw_sequential(js, _ids(WARMUP))
        await outbox_write(database, _ids(WARMUP), args.per_tx)
        await outbox_drain(relay)

        n = args.n
        raw_seq = await _timed(lambda: raw_sequential(js, _ids(n)))
        raw_conc = await _timed(lambda: raw_concurrent(js, _ids(n), args.concurrency))
        write = await _timed(lambda: outbox_write(database, _ids(n), args.per_tx))
        drained: list[int] = []

        async def drain() -> None:
            drained.append(await outbox_drain(relay))

        relay_time = await _timed(drain)
        if drained != [n]:
            raise RuntimeError(f"relay published {drained} events, expected {n}")
    finally:
        await client.drain()
        await database.dispose()

    backend = database.engine.dialect.name
    rows = [
        ("raw publish, sequential", raw_seq),
        (f"raw publish, {args.concurrency} concurrent", raw_conc),
        (f"outbox write ({backend}, {args.per_tx}/tx)", write),
        (f"outbox relay (batch {args.batch_size})", relay_time),
        ("outbox end to end (write + relay)", write + relay_time),
    ]
    print(f"\n{n} events of {len(PAYLOAD)} bytes, nats-server + {backend} on loopback\n")
    print(f"{'path':<40} {'seconds':>8} {'events/s':>10}")
    for name, seconds in rows:
        print(f"{name:<40} {seconds:>8.3f} {n / seconds:>10.0f}")
    print("\nratios (events/s of the outbox path / events/s of raw sequential publish):")
    print(f"  write / raw sequential        {raw_seq / write:6.2f}")
    print(f"  relay / raw sequential        {raw_seq / relay_time:6.2f}")
    print(f"  end to end / raw sequential   {raw_seq / (write + relay_time):6.2f}")
    print(f"  end to end / raw concurrent   {raw_conc / (write + relay_time):6.2f}")


@contextmanager
def database_url(option: str | None, directory: Path) -> Iterator[str]:
    if option is None:
        yield f"sqlite:///{directory / 'outbox.db'}"
    else:
        with isolated_database(option) as url:
            yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="events per measured path")
    parser.add_argument("--per-tx", type=int, default=1, help="events per unit of work")
    parser.add_argument("--batch-size", type=int, default=100, help="relay batch size")
    parser.add_argument("--concurrency", type=int, default=16, help="raw concurrent batch")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server URL (a scratch database is created and dropped); "
        "default: a temporary SQLite file",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fv-bench-outbox-") as tmp:
        directory = Path(tmp)
        nats = NatsServer(free_port(), directory / "jetstream", directory / "nats-server.log")
        nats.start()
        try:
            with database_url(args.database_url, directory) as url:
                asyncio.run(run(args, nats.url, url))
        finally:
            nats.stop()


if __name__ == "__main__":
    main()
