"""Composition root of the work-order service."""

from __future__ import annotations

from functools import partial

from fieldvault.work_order.v1 import work_order_pb2_grpc
from fieldvault_platform.auth.callers import Callers
from fieldvault_platform.auth.wiring import ServiceTokens, token_verification
from fieldvault_platform.events import ensure_stream
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.retention_events import retention_policy_consumer
from fieldvault_platform.runtime import ServiceRuntime
from fieldvault_platform.service import open_plumbing, run_service
from work_order.backlog import grant_task_probe
from work_order.components import Components
from work_order.consumers import SOURCES, Handlers, consumers
from work_order.grant_sync import GrantSync
from work_order.grpc_api import SERVICE_NAME, WorkOrderServicer
from work_order.peer_clients import Directory
from work_order.settings import Settings

SERVICE = "work_order"


async def build_runtime(settings: Settings) -> ServiceRuntime:
    plumbing = await open_plumbing(SERVICE, settings)
    for source in SOURCES:
        # The streams it consumes, whether or not their producers started yet.
        await ensure_stream(
            plumbing.backbone.jetstream, source, replicas=plumbing.backbone.replicas
        )
    # Both peers are reached lazily: work-order starts (and reports health)
    # whether they are up or not, and grant changes wait for customer-vault.
    identity_channel = open_channel(settings.identity_addr)
    vault_channel = open_channel(settings.customer_vault_addr)
    verification = token_verification(
        audience=SERVICE,
        issuer=settings.token_issuer,
        identity_channel=identity_channel,
        jetstream=plumbing.backbone.jetstream,
    )
    tokens = ServiceTokens(
        service=SERVICE, secret=settings.service_account_secret_value, channel=identity_channel
    )
    grant_sync = GrantSync(plumbing.database, tokens, vault_channel, settings)
    directory = Directory(tokens, identity_channel, vault_channel)
    components = Components(
        settings=settings,
        database=plumbing.database,
        callers=Callers(
            verifier=verification.verifier,
            revocations_current=verification.listener.caught_up,
            catch_up_timeout=settings.revocations_catch_up_seconds,
        ),
        directory=directory,
        grant_sync=grant_sync,
        wake_relay=plumbing.backbone.relay.wake,
    )
    runtime = plumbing.runtime(
        settings,
        registrars=[
            partial(
                work_order_pb2_grpc.add_WorkOrderServiceServicer_to_server,
                WorkOrderServicer(components),
            )
        ],
        service_names=[SERVICE_NAME],
    )
    handlers = Handlers(directory, settings)
    listeners = consumers(plumbing.database, plumbing.backbone.jetstream, handlers)
    listeners.append(
        retention_policy_consumer(plumbing.database, plumbing.backbone.jetstream, service=SERVICE)
    )
    runtime.background_jobs.extend(
        [verification.listener.run, grant_sync.run, *(listener.run for listener in listeners)]
    )
    plumbing.backlog.add(grant_task_probe())
    runtime.cleanups.extend([identity_channel.close, vault_channel.close])
    return runtime


async def run(settings: Settings) -> None:
    await run_service(SERVICE, settings, lambda: build_runtime(settings))
