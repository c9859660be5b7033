"""The life of a service process: start, serve until SIGTERM, stop in order.

Every gRPC service runs through :func:`serve`: the gRPC server starts and
reports SERVING, background jobs (outbox relay, consumers) run beside it; on
SIGTERM/SIGINT health turns NOT_SERVING, background jobs are asked to stop,
in-flight RPCs finish within the grace period, then resources close in the
reverse order they were opened. RPCs are counted and timed; with
``METRICS_PORT`` set the counts are served for Prometheus
(:mod:`fieldvault_platform.metrics`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fieldvault_platform import telemetry
from fieldvault_platform.grpc_metrics import MetricsInterceptor
from fieldvault_platform.grpc_server import GrpcServer, Registrar, wait_for_shutdown_signal
from fieldvault_platform.metrics import MetricsServer, serve_metrics
from fieldvault_platform.settings import GrpcServerSettings

log = logging.getLogger(__name__)

BackgroundJob = Callable[[asyncio.Event], Awaitable[None]]
Cleanup = Callable[[], Awaitable[None]]


@dataclass
class ServiceRuntime:
    """What a composition root hands to :func:`serve`."""

    settings: GrpcServerSettings
    registrars: Sequence[Registrar]
    service_names: Sequence[str]
    background_jobs: list[BackgroundJob] = field(default_factory=list)
    cleanups: list[Cleanup] = field(default_factory=list)


async def serve(runtime: ServiceRuntime, *, stop_signal: Awaitable[object] | None = None) -> None:
    """Serve until ``stop_signal`` completes (default: SIGTERM or SIGINT)."""
    settings = runtime.settings
    server = GrpcServer(
        host=settings.grpc_host,
        port=settings.grpc_port,
        registrars=runtime.registrars,
        service_names=runtime.service_names,
        reflection_enabled=settings.is_development,
        grace_seconds=settings.shutdown_grace_seconds,
        interceptors=[MetricsInterceptor()],
    )
    stopping = asyncio.Event()
    jobs: list[asyncio.Task[None]] = []
    metrics_server: MetricsServer | None = None
    try:
        if settings.metrics_port is not None:
            metrics_server = serve_metrics(settings.grpc_host, settings.metrics_port)
        await server.start()
        jobs = [asyncio.create_task(_supervised(job, stopping)) for job in runtime.background_jobs]
        await (stop_signal if stop_signal is not None else wait_for_shutdown_signal())
        log.info("shutting down")
    finally:
        stopping.set()
        await server.stop()
        if jobs:
            _, pending = await asyncio.wait(jobs, timeout=settings.shutdown_grace_seconds)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for cleanup in reversed(runtime.cleanups):
            await cleanup()
        if metrics_server is not None:
            metrics_server.stop()
        telemetry.shutdown()


async def _supervised(job: BackgroundJob, stopping: asyncio.Event) -> None:
    # A background job that crashes is logged; the RPCs keep being served and the
    # health check stays honest about the server itself.
    try:
        await job(stopping)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("background job %s failed", getattr(job, "__qualname__", job))


#: An operator command besides serve/migrate: gets the words after its name.
OperatorCommand = Callable[[list[str]], Coroutine[Any, Any, None]]


#: The operator command every service with a database has: its parked events.
PARKED_EVENTS_COMMAND = "parked-events"


def parked_events_command(service: str, database_url: Callable[[], str]) -> OperatorCommand:
    """``python -m <service> parked-events``: the service's parked events as JSON lines.

    One object per event, oldest first: consumer, event_id, subject,
    delivery_count, error_type, parked_at. Ids and counts only; the payload
    stays in the database.
    """

    async def parked_events(arguments: list[str]) -> None:
        if arguments:
            sys.exit(f"usage: python -m {service} {PARKED_EVENTS_COMMAND}")
        # Imported here: the other commands need neither the database nor NATS.
        from fieldvault_platform.db import Database, as_utc
        from fieldvault_platform.events.consumer import list_parked_events
        from fieldvault_platform.paging import MAX_PAGE_SIZE

        database = Database(database_url())
        try:
            token = ""
            while True:
                rows, token = await list_parked_events(database, limit=MAX_PAGE_SIZE, after=token)
                for row in rows:
                    line = {
                        "consumer": row.consumer,
                        "event_id": row.event_id,
                        "subject": row.subject,
                        "delivery_count": row.delivery_count,
                        "error_type": row.error_type,
                        "parked_at": as_utc(row.parked_at).isoformat(),
                    }
                    print(json.dumps(line), flush=True)  # noqa: T201 (the command's answer)
                if not token:
                    break
        finally:
            await database.dispose()

    return parked_events


def command_line(
    *,
    service: str,
    serve_main: Callable[[], Coroutine[Any, Any, None]],
    migrations_dir: Path | None,
    database_url: Callable[[], str] | None = None,
    operator_commands: Mapping[str, OperatorCommand] | None = None,
    after_migrate: Callable[[], Coroutine[Any, Any, None]] | None = None,
) -> None:
    """``python -m <service> [serve|migrate|parked-events|<operator command> ARGS...]``.

    A service with a database (``database_url``) gets ``parked-events`` without
    asking; a command of its own by that name takes precedence. ``after_migrate``
    runs after every successful ``migrate`` (e.g. granting a runtime role its
    privileges on whatever tables now exist).
    """
    commands: dict[str, OperatorCommand] = {}
    if database_url is not None:
        commands[PARKED_EVENTS_COMMAND] = parked_events_command(service, database_url)
    commands.update(operator_commands or {})
    parser = argparse.ArgumentParser(prog=f"python -m {service}")
    choices = ["serve", "migrate"] if migrations_dir is not None else ["serve"]
    choices += [name for name in commands if name not in choices]
    parser.add_argument("command", nargs="?", default="serve", choices=choices)
    parser.add_argument("arguments", nargs="*", help="arguments of an operator command")
    # An operator command may take options of its own (``purge-retention --now``).
    args, options = parser.parse_known_args()
    if options and args.command not in commands:
        parser.error(f"unrecognized arguments: {' '.join(options)}")
    if args.command == "migrate":
        from fieldvault_platform.migrations import upgrade

        assert migrations_dir is not None and database_url is not None
        # Images install the service as a wheel, away from its source tree, and
        # copy the migrations folder next to it: they name it by environment.
        override = os.environ.get("FIELDVAULT_MIGRATIONS_DIR")
        upgrade(Path(override) if override else migrations_dir, database_url())
        if after_migrate is not None:
            asyncio.run(after_migrate())
        return
    if args.command in commands:
        asyncio.run(commands[args.command](args.arguments + options))
        return
    asyncio.run(serve_main())
