"""Composition root of the identity service."""

from __future__ import annotations

from functools import partial

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_platform.auth import AUDIENCES, DenyList, JwksCache, TokenVerifier
from fieldvault_platform.runtime import ServiceRuntime
from fieldvault_platform.service import open_plumbing, run_service
from fieldvault_platform.vault import VaultClient
from identity.backlog import dpa_expiring_probe
from identity.callers import Callers
from identity.components import HMAC_KEY, TOTP_KEY, Components
from identity.directory.dpa_watch import DpaLapseWatcher
from identity.grpc_api import SERVICE_NAME, IdentityServicer
from identity.settings import Settings
from identity.signing import TokenSigner

SERVICE = "identity"


async def build_runtime(settings: Settings) -> ServiceRuntime:
    plumbing = await open_plumbing(SERVICE, settings)
    vault = VaultClient(settings)
    signer = TokenSigner(vault, issuer=settings.token_issuer)
    try:
        # Nothing can be signed without it; failing here (Vault unreachable or
        # refusing) says so at start-up rather than on the first login.
        await signer.ensure_key()
        for key in (HMAC_KEY, TOTP_KEY):
            await vault.ensure_transit_key(key)
    except BaseException:
        await plumbing.close()
        raise
    # Identity verifies tokens like any service would (from its own JWKS), then
    # checks the session and user in its database; the deny list stays empty.
    jwks = JwksCache(signer.jwks)
    deny_list = DenyList()
    verifiers = {
        audience: TokenVerifier(
            jwks, issuer=settings.token_issuer, audience=audience, deny_list=deny_list
        )
        for audience in AUDIENCES
    }
    components = Components(
        settings=settings,
        database=plumbing.database,
        vault=vault,
        signer=signer,
        callers=Callers(verifiers=verifiers, operator_token_sha256=settings.operator_token_sha256),
        wake_relay=plumbing.backbone.relay.wake,
    )
    servicer = IdentityServicer(components)
    runtime = plumbing.runtime(
        settings,
        registrars=[partial(identity_pb2_grpc.add_IdentityServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
    )
    dpa_watcher = DpaLapseWatcher(
        plumbing.database,
        interval=settings.dpa_check_interval_seconds,
        wake_relay=components.wake_relay,
    )
    runtime.background_jobs.append(dpa_watcher.run)
    plumbing.backlog.add(dpa_expiring_probe)
    return runtime


async def run(settings: Settings) -> None:
    await run_service(SERVICE, settings, lambda: build_runtime(settings))
