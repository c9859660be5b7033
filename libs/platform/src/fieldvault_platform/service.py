"""What every database- and event-owning gRPC service opens in its composition root.

A service's ``main.py`` only builds its servicers; the database (traced),
the NATS backbone with its outbox relay, and the lifecycle come from here, so
every service starts, relays and stops the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from fieldvault_platform import telemetry
from fieldvault_platform.backlog import BacklogSampler, outbox_probe, parked_probe
from fieldvault_platform.db import Database
from fieldvault_platform.events.backbone import EventBackbone, open_event_backbone
from fieldvault_platform.grpc_server import Registrar
from fieldvault_platform.logging import configure_logging
from fieldvault_platform.runtime import ServiceRuntime, serve
from fieldvault_platform.settings import GrpcServerSettings


class EventServiceSettings(Protocol):
    """The settings a service with a database and events has (any ``ServiceSettings`` mix)."""

    database_url: str
    nats_url: str
    nats_replicas: int


@dataclass
class ServicePlumbing:
    """The service's database and event backbone, opened in dependency order."""

    service: str
    database: Database
    backbone: EventBackbone
    #: Samples the outbox and parked events for the operator's gauges; a
    #: service adds probes of its own tables with ``backlog.add``.
    backlog: BacklogSampler = field(init=False)

    def __post_init__(self) -> None:
        self.backlog = BacklogSampler(self.database)
        self.backlog.add(outbox_probe(self.service))
        self.backlog.add(parked_probe())

    async def close(self) -> None:
        """For a composition root that fails after opening: release both, backbone first."""
        await self.backbone.close()
        await self.database.dispose()

    def runtime(
        self,
        settings: GrpcServerSettings,
        *,
        registrars: Sequence[Registrar],
        service_names: Sequence[str],
    ) -> ServiceRuntime:
        """The runtime serving these servicers, relaying the outbox, closing both at the end."""
        return ServiceRuntime(
            settings=settings,
            registrars=registrars,
            service_names=service_names,
            background_jobs=[self.backbone.relay.run, self.backlog.run],
            # Closed in reverse: the backbone drains before the database goes.
            cleanups=[self.database.dispose, self.backbone.close],
        )


async def open_plumbing(service: str, settings: EventServiceSettings) -> ServicePlumbing:
    database = Database(settings.database_url)
    telemetry.instrument_engine(database.engine)
    try:
        backbone = await open_event_backbone(
            service=service,
            nats_url=settings.nats_url,
            database=database,
            replicas=settings.nats_replicas,
        )
    except BaseException:
        await database.dispose()
        raise
    return ServicePlumbing(service, database, backbone)


async def run_service(
    service: str,
    settings: GrpcServerSettings,
    build_runtime: Callable[[], Awaitable[ServiceRuntime]],
) -> None:
    """The process: JSON logs and tracing first, then build the runtime and serve."""
    configure_logging(service, settings.log_level)
    telemetry.setup(service)
    await serve(await build_runtime())
