"""Composition root of the identity service."""

from __future__ import annotations

from functools import partial

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_platform.auth import DenyList, JwksCache, TokenVerifier
from fieldvault_platform.runtime import ServiceRuntime
from fieldvault_platform.service import open_plumbing, run_service
from fieldvault_platform.vault import VaultClient
from identity.callers import Callers
from identity.components import Components
from identity.grpc_api import SERVICE_NAME, IdentityServicer
from identity.settings import Settings
from identity.signing import TokenSigner

SERVICE = "identity"


async def build_runtime(settings: Settings) -> ServiceRuntime:
    plumbing = await open_plumbing(SERVICE, settings)
    vault = VaultClient(settings)
    signer = TokenSigner(vault, issuer=settings.token_issuer)
    # Identity verifies the tokens addressed to itself like any service would
    # (from its own JWKS), then checks the session and user in its database.
    verifier = TokenVerifier(
        JwksCache(signer.jwks),
        issuer=settings.token_issuer,
        audience=SERVICE,
        deny_list=DenyList(),
    )
    components = Components(
        settings=settings,
        database=plumbing.database,
        vault=vault,
        signer=signer,
        callers=Callers(verifier=verifier, operator_token_sha256=settings.operator_token_sha256),
        wake_relay=plumbing.backbone.relay.wake,
    )
    servicer = IdentityServicer(components)
    return plumbing.runtime(
        settings,
        registrars=[partial(identity_pb2_grpc.add_IdentityServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
    )


async def run(settings: Settings) -> None:
    await run_service(SERVICE, settings, lambda: build_runtime(settings))
