"""Composition root of the customer-vault service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from customer_vault.access.exposure import exposure_consumer
from customer_vault.access.secret_age import OverdueRotationJob
from customer_vault.audit import AuditTrail, ChainAnchor
from customer_vault.blind_index import BlindIndex
from customer_vault.components import Components
from customer_vault.crypto import DataKeyCache
from customer_vault.dpa import DpaStatus
from customer_vault.grpc_api import SERVICE_NAME, CustomerVaultServicer
from customer_vault.identity_events import grant_revocation_consumer
from customer_vault.keys import TenantKeys
from customer_vault.records.instructions import (
    IdentityAcknowledgements,
    InstructionsGate,
    instructions_consumer,
)
from customer_vault.records.key_overdue import alert_overdue_keys
from customer_vault.settings import Settings
from fieldvault.customer_vault.v1 import customer_vault_pb2_grpc
from fieldvault_platform.auth.callers import Callers
from fieldvault_platform.auth.wiring import ServiceTokens, token_verification
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.polling import Poller
from fieldvault_platform.retention_events import retention_policy_consumer
from fieldvault_platform.runtime import ServiceRuntime
from fieldvault_platform.service import open_plumbing, run_service
from fieldvault_platform.vault import VaultClient

SERVICE = "customer_vault"


async def build_runtime(settings: Settings) -> ServiceRuntime:
    plumbing = await open_plumbing(SERVICE, settings)
    # identity is reached lazily too: its JWKS on the first token (then cached),
    # so customer-vault starts, and reports its health, whether identity is up or not.
    identity_channel = open_channel(settings.identity_addr)
    verification = token_verification(
        audience=SERVICE,
        issuer=settings.token_issuer,
        identity_channel=identity_channel,
        jetstream=plumbing.backbone.jetstream,
    )
    callers = Callers(
        verifier=verification.verifier,
        revocations_current=verification.listener.caught_up,
        catch_up_timeout=settings.revocations_catch_up_seconds,
    )
    # Vault is reached lazily per call: a sealed or stopped Vault makes the
    # calls that need it answer UNAVAILABLE, not the whole service fail to start.
    vault = VaultClient(settings)
    cache = DataKeyCache(
        max_entries=settings.data_key_cache_size, ttl_seconds=settings.data_key_cache_seconds
    )
    service_tokens = ServiceTokens(
        service=SERVICE,
        secret=settings.service_account_secret_value,
        channel=identity_channel,
    )
    dpa = DpaStatus(
        service_tokens,
        identity_channel,
        cache_seconds=settings.dpa_cache_seconds,
    )
    trail = AuditTrail(ChainAnchor(vault))
    components = Components(
        settings=settings,
        database=plumbing.database,
        vault=vault,
        keys=TenantKeys(vault, cache),
        blind_index=BlindIndex(vault),
        callers=callers,
        dpa=dpa,
        audit=trail,
        instructions=InstructionsGate(
            plumbing.database, IdentityAcknowledgements(service_tokens, identity_channel)
        ),
        wake_relay=plumbing.backbone.relay.wake,
    )
    servicer = CustomerVaultServicer(components)
    runtime = plumbing.runtime(
        settings,
        registrars=[
            partial(customer_vault_pb2_grpc.add_CustomerVaultServiceServicer_to_server, servicer)
        ],
        service_names=[SERVICE_NAME],
    )
    revocations = grant_revocation_consumer(
        plumbing.database, plumbing.backbone.jetstream, dpa, trail
    )
    exposures = exposure_consumer(
        plumbing.database,
        plumbing.backbone.jetstream,
        lookback_days=settings.exposure_lookback_days,
    )
    overdue = OverdueRotationJob(
        plumbing.database,
        interval=settings.overdue_check_interval_seconds,
        wake_relay=plumbing.backbone.relay.wake,
    )
    policies = retention_policy_consumer(
        plumbing.database, plumbing.backbone.jetstream, service=SERVICE
    )
    instruction_copy = instructions_consumer(plumbing.database, plumbing.backbone.jetstream)
    runtime.background_jobs.extend(
        [
            verification.listener.run,
            revocations.run,
            exposures.run,
            overdue.run,
            policies.run,
            instruction_copy.run,
        ]
    )
    if settings.key_overdue_check_seconds > 0:
        runtime.background_jobs.append(overdue_key_sweep(components).run)
    # Cleanups run in reverse: this channel closes first, the backbone and database after.
    runtime.cleanups.append(identity_channel.close)
    return runtime


def overdue_key_sweep(components: Components) -> Poller:
    """Every replica sweeps; a check-out's alert is claimed by one (see key_overdue)."""
    grace = timedelta(minutes=components.settings.key_return_grace_minutes)

    async def one_pass() -> int:
        alerted = await alert_overdue_keys(
            components.database, components.audit, grace=grace, now=datetime.now(UTC)
        )
        if alerted:
            components.wake_relay()
        return alerted

    return Poller("overdue keys", one_pass, components.settings.key_overdue_check_seconds)


async def run(settings: Settings) -> None:
    await run_service(SERVICE, settings, lambda: build_runtime(settings))
