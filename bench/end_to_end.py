"""End to end: the real local stack under load, against baselines measured in the same run.

Starts the devstack (every service its own process, real NATS and OpenBao; SQLite, or
PostgreSQL with ``--database-url``), a tenant with ``--technicians`` technicians who
each hold a grant on one site, and measures with a closed-loop asyncio/httpx load
generator (``bench/e2e/load.py`` says why that one):

- baselines: the skeleton (HTTP → FastAPI → grpc.aio → one row read and one written in
  a transaction, AES-GCM with a cached key; ``bench/e2e/skeleton.py``), a raw OpenBao
  Transit decrypt over HTTP, the gateway's ``/healthz``;
- the audited reveal of a door code at 1, 4 and 16 concurrent clients (64 with
  ``--full``), spread over the technicians;
- ``GET /v1/me``, ``/v1/me/work-orders``, ``/v1/work-orders/{id}`` and the dispatcher's
  ``/v1/work-orders`` list;
- assign → the technician's inbox shows it, assign → the reveal is allowed,
  deactivate → the token is refused at the gateway (latency distributions);
- ``--table-sizes``: reveal and lists again with 1k and 100k audit rows and 10k more
  work orders in the databases;
- ``--profile``: py-spy flame graphs of the gateway and customer_vault under the reveal
  load and of identity under ``/v1/me`` (``.artifacts/profiles/``).

Prints a table (p50, p99, throughput, each with its ratio to the row's baseline) and
writes a JSON result file. Nothing here asserts a duration.

Usage: .venv/bin/python bench/end_to_end.py [--duration 4] [--full] [--table-sizes]
       [--profile] [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from e2e import baselines, fill, scenarios  # noqa: E402
from e2e.load import Result, closed_loop  # noqa: E402
from e2e.profiles import Profiler  # noqa: E402
from e2e.report import Row, table, write_json  # noqa: E402
from e2e.stack import Tenancy, bench_stack, service_database_url, set_up_tenancy  # noqa: E402

from fieldvault_devstack.stack import LocalStack  # noqa: E402

log = logging.getLogger("bench.e2e")


async def measure(args: argparse.Namespace, stack: LocalStack, scratch: Path) -> list[Row]:
    rows: list[Row] = []
    levels = [1, 4, 16, 64] if args.full else [1, 4, 16]
    duration = args.duration
    log.info("setting up the tenant (%d technicians)", args.technicians)
    tenancy = await set_up_tenancy(stack, args.technicians)
    base = tenancy.gateway_url

    # Event paths first: they use the admin's and dispatcher's tokens, which are not
    # renewed during the run (10 minutes at most).
    log.info("event latencies (%d trials each)", args.trials)
    events = [
        await scenarios.assign_to_inbox(tenancy, args.trials),
        await scenarios.assign_to_reveal(tenancy, args.trials),
        await scenarios.deactivate_to_refusal(stack, tenancy, max(3, args.trials // 2)),
    ]

    log.info("baselines")
    with baselines.skeleton(args.database_url, scratch) as skeleton_url:
        skeleton = {
            clients: await closed_loop(
                "skeleton reveal",
                skeleton_url,
                [lambda http, i=i: http.post(f"/reveal/{i % 1000}") for i in range(clients)],
                duration=duration,
            )
            for clients in levels
        }
    for clients in levels:
        rows.append(Row(skeleton[clients], group="baselines"))
    ciphertext = baselines.transit_ciphertext(stack)
    token = stack.openbao.root_token
    transit = [
        lambda http: http.post(
            f"/v1/transit/decrypt/{baselines.TRANSIT_KEY}",
            json={"ciphertext": ciphertext},
            headers={"X-Vault-Token": token},
        )
    ]
    for clients in (1, 16):
        rows.append(
            Row(
                await scenarios.load(
                    "raw Transit decrypt", stack.openbao.addr, transit, clients, duration
                ),
                group="baselines",
            )
        )
    health = [lambda http: http.get("/healthz")]
    for clients in (1, 16):
        rows.append(
            Row(
                await scenarios.load("GET /healthz", base, health, clients, duration),
                group="baselines",
            )
        )

    log.info("reveal")
    reveals = scenarios.reveal_requests(tenancy)
    for clients in levels:
        result = await scenarios.load("reveal door code", base, reveals, clients, duration)
        rows.append(Row(result, skeleton[clients], group="reveal (audited)"))

    log.info("reads")
    rows.extend(await reads(tenancy, skeleton[16], duration, group="reads"))

    for result in events:
        rows.append(Row(result, skeleton[1], group="event paths (latency from the action)"))

    if args.profile:
        rows.extend(await profile(args, stack, tenancy, skeleton[16]))
    if args.table_sizes:
        rows.extend(await table_sizes(args, stack, tenancy, skeleton[16]))
    return rows


async def reads(tenancy: Tenancy, baseline: Result, duration: float, group: str) -> list[Row]:
    me = scenarios.get_requests(tenancy, "/v1/me")
    jobs = scenarios.get_requests(tenancy, "/v1/me/work-orders")
    one = scenarios.get_requests(
        tenancy, {pid: f"/v1/work-orders/{wo}" for pid, wo in tenancy.work_orders.items()}
    )
    listing = scenarios.dispatcher_list(tenancy)
    out = []
    for name, requests in (
        ("GET /v1/me", me),
        ("GET /v1/me/work-orders", jobs),
        ("GET /v1/work-orders/{id}", one),
        ("GET /v1/work-orders (list)", listing),
    ):
        result = await scenarios.load(name, tenancy.gateway_url, requests, 16, duration)
        out.append(Row(result, baseline, group=group))
    return out


async def profile(
    args: argparse.Namespace, stack: LocalStack, tenancy: Tenancy, baseline: Result
) -> list[Row]:
    out_dir = ROOT / ".artifacts" / "profiles"
    seconds = 15
    profiler = Profiler(out_dir, seconds)
    pids = {name: process.pid for name, process in stack.processes.items()}
    log.info("profiling the reveal (%ds) into %s", seconds, out_dir)
    reveals = scenarios.reveal_requests(tenancy)
    profiler.start("reveal", {k: pids[k] for k in ("gateway", "customer_vault", "work_order")})
    reveal = await scenarios.load("reveal (profiled)", tenancy.gateway_url, reveals, 16, seconds)
    profiler.wait()
    log.info("profiling GET /v1/me (%ds)", seconds)
    me = scenarios.get_requests(tenancy, "/v1/me")
    profiler.start("me", {k: pids[k] for k in ("gateway", "identity")})
    me_result = await scenarios.load("GET /v1/me (profiled)", tenancy.gateway_url, me, 16, seconds)
    profiler.wait()
    return [Row(reveal, baseline, group="profiled"), Row(me_result, baseline, group="profiled")]


async def table_sizes(
    args: argparse.Namespace, stack: LocalStack, tenancy: Tenancy, baseline: Result
) -> list[Row]:
    rows: list[Row] = []
    vault_db = service_database_url(stack, "customer_vault")
    orders_db = service_database_url(stack, "work_order")
    reveals = scenarios.reveal_requests(tenancy)
    for audit_rows, orders in ((1_000, 0), (100_000, 10_000)):
        total = await fill.add_audit_records(vault_db, tenancy.tenant.id, 0)
        if audit_rows > total:
            total = await fill.add_audit_records(vault_db, tenancy.tenant.id, audit_rows - total)
        order_total = await fill.add_work_orders(orders_db, tenancy.tenant.id, orders)
        group = f"{total:,} audit rows, {order_total:,} work orders"
        log.info("table sizes: %s", group)
        result = await scenarios.load(
            "reveal door code", tenancy.gateway_url, reveals, 16, args.duration
        )
        rows.append(Row(result, baseline, group=group))
        rows.extend(await reads(tenancy, baseline, args.duration, group=group))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server URL (default: SQLite)"
    )
    parser.add_argument(
        "--duration", type=float, default=4.0, help="seconds measured per load point"
    )
    parser.add_argument("--technicians", type=int, default=4)
    parser.add_argument("--trials", type=int, default=20, help="trials per event path")
    parser.add_argument("--full", action="store_true", help="also 64 concurrent clients")
    parser.add_argument(
        "--table-sizes", action="store_true", help="1k/100k audit rows, 10k work orders"
    )
    parser.add_argument("--profile", action="store_true", help="py-spy flame graphs (needs root)")
    parser.add_argument("--output", type=Path, default=None, help="JSON result file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    database = "postgresql" if args.database_url else "sqlite"
    output = (
        args.output or ROOT / ".artifacts" / "bench" / f"e2e-{database}-{int(time.time())}.json"
    )
    with (
        tempfile.TemporaryDirectory(prefix="fv-bench-skeleton-") as scratch,
        bench_stack(args.database_url) as stack,
    ):
        rows = asyncio.run(measure(args, stack, Path(scratch)))
    print(f"end to end on {database} — ratios: this row ÷ its baseline (xreq/s: higher is better)")
    print(table(rows))
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    settings["database"] = database
    write_json(output, settings, rows)
    print(f"results: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
