"""Partner clients (client credentials) and service accounts (own and on-behalf-of tokens)."""

from __future__ import annotations

import json
import secrets

import grpc
import jwt
import pytest
from identity_testkit import (
    RunningIdentity,
    error_code,
    login,
    seed_api_client,
    seed_user,
)
from sqlalchemy import update

from fieldvault.identity.v1 import identity_pb2 as pb
from identity.models import ApiClient


def _claims(token: str) -> dict[str, object]:
    # Signature checks are covered elsewhere; here only what was put in.
    claims: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return claims


pytestmark = pytest.mark.integration


async def test_a_partner_gets_a_gateway_token_with_its_scopes_and_no_more(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity)
    secret = secrets.token_urlsafe(32)
    client_id = await seed_api_client(
        identity,
        tenant_id=seeded.tenant_id,
        scopes=["work_orders:read", "work_orders:write"],
        secret=secret,
    )

    issued = await identity.stub.IssueClientToken(
        pb.IssueClientTokenRequest(client_id=client_id, client_secret=secret)
    )
    claims = _claims(issued.access_token)
    assert claims["sub"] == f"client:{client_id}"
    assert (claims["aud"], claims["tid"]) == ("gateway", seeded.tenant_id)
    assert issued.scope == "work_orders:read work_orders:write" == claims["scope"]
    assert "sid" not in claims

    narrowed = await identity.stub.IssueClientToken(
        pb.IssueClientTokenRequest(
            client_id=client_id, client_secret=secret, scope="work_orders:read"
        )
    )
    assert narrowed.scope == "work_orders:read"

    with pytest.raises(grpc.aio.AioRpcError) as beyond:
        await identity.stub.IssueClientToken(
            pb.IssueClientTokenRequest(
                client_id=client_id, client_secret=secret, scope="customers:read"
            )
        )
    assert error_code(beyond.value) == "invalid_scope"


async def test_wrong_secrets_unknown_and_revoked_clients_are_all_invalid_client(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity)
    secret = secrets.token_urlsafe(32)
    client_id = await seed_api_client(
        identity, tenant_id=seeded.tenant_id, scopes=["customers:read"], secret=secret
    )
    attempts = [
        (client_id, secret + "x"),
        ("fvc_unknown", secret),
    ]
    for wrong_id, wrong_secret in attempts:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await identity.stub.IssueClientToken(
                pb.IssueClientTokenRequest(client_id=wrong_id, client_secret=wrong_secret)
            )
        assert error_code(refused.value) == "invalid_client"

    from datetime import UTC, datetime

    async with identity.database.unit_of_work() as session:
        await session.execute(
            update(ApiClient)
            .where(ApiClient.client_id == client_id)
            .values(revoked_at=datetime.now(UTC))
        )
    with pytest.raises(grpc.aio.AioRpcError) as revoked:
        await identity.stub.IssueClientToken(
            pb.IssueClientTokenRequest(client_id=client_id, client_secret=secret)
        )
    assert error_code(revoked.value) == "invalid_client"


async def test_work_order_may_only_manage_grants_and_locate_sites_at_customer_vault(
    identity: RunningIdentity,
) -> None:
    secret = identity.service_secrets["work_order"]
    issued = await identity.stub.IssueServiceToken(
        pb.IssueServiceTokenRequest(
            service="work_order", secret=secret, audience="customer_vault", tenant_id="t1"
        )
    )
    claims = _claims(issued.access_token)
    assert (claims["sub"], claims["aud"], claims["scope"], claims["tid"]) == (
        "service:work_order",
        "customer_vault",
        "grants:write sites:locate",
        "t1",
    )
    for audience, scope in (("customer_vault", "tenant_keys:ensure"), ("notification", "")):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await identity.stub.IssueServiceToken(
                pb.IssueServiceTokenRequest(
                    service="work_order", secret=secret, audience=audience, scope=scope
                )
            )
        assert refused.value.code() in (
            grpc.StatusCode.INVALID_ARGUMENT,
            grpc.StatusCode.PERMISSION_DENIED,
        )
    with pytest.raises(grpc.aio.AioRpcError) as wrong:
        await identity.stub.IssueServiceToken(
            pb.IssueServiceTokenRequest(
                service="work_order", secret=secret + "x", audience="customer_vault"
            )
        )
    assert error_code(wrong.value) == "invalid_client"


async def test_an_on_behalf_of_token_names_the_service_and_the_user(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity, roles=["dispatcher"])
    gateway_token = (await login(identity, seeded)).access_token
    # What work_order received from the gateway: the user's token exchanged for it.
    user_token = (
        await identity.stub.ExchangeToken(
            pb.ExchangeTokenRequest(subject_token=gateway_token, audience="work_order")
        )
    ).access_token

    issued = await identity.stub.IssueServiceToken(
        pb.IssueServiceTokenRequest(
            service="work_order",
            secret=identity.service_secrets["work_order"],
            audience="customer_vault",
            subject_token=user_token,
        )
    )
    claims = _claims(issued.access_token)
    assert claims["sub"] == "service:work_order"
    assert claims["tid"] == seeded.tenant_id
    actor = claims["act"]
    assert isinstance(actor, dict)
    assert (actor["sub"], actor["tid"], actor["roles"]) == (
        seeded.user_id,
        seeded.tenant_id,
        ["dispatcher"],
    )
    assert int(str(claims["exp"])) <= int(str(_claims(user_token)["exp"]))

    # A token addressed to another service cannot be used to act as the user.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await identity.stub.IssueServiceToken(
            pb.IssueServiceTokenRequest(
                service="work_order",
                secret=identity.service_secrets["work_order"],
                audience="customer_vault",
                subject_token=gateway_token,
            )
        )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_jwks_publishes_only_public_keys(identity: RunningIdentity) -> None:
    document = json.loads((await identity.stub.GetJwks(pb.GetJwksRequest())).jwks_json)
    assert document["keys"]
    for key in document["keys"]:
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["kid"]
        assert "d" not in key
