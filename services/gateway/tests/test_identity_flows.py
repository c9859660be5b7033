"""People and sign-in end to end over REST: the gateway app in-process in front of a real
identity (real OpenBao, NATS and database), exactly as a browser or partner would use it."""

from __future__ import annotations

import asyncio
import base64
import logging
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pyotp
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.in_process import serving
from fieldvault_devstack.nats import NatsServer
from fieldvault_devstack.openbao import OpenBaoServer
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.errors import Unauthenticated
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.migrations import upgrade
from gateway.auth import EdgeAuth
from gateway.main import create_app

from .conftest import serve, settings_for

IDENTITY_TESTS = Path(__file__).resolve().parents[2] / "identity" / "tests"
sys.path.insert(0, str(IDENTITY_TESTS))

from identity_testkit import identity_settings  # noqa: E402

from identity.main import build_runtime  # noqa: E402

pytestmark = pytest.mark.integration

PASSWORD = "CANARY-pw quiet harbour lanterns"
OPERATOR_TOKEN = "CANARY-operator-token-2b7f1c9d0e"


@dataclass
class Platform:
    client: httpx.AsyncClient
    app: FastAPI
    identity: identity_pb2_grpc.IdentityServiceStub
    service_secrets: dict[str, str]

    @property
    def edge_auth(self) -> EdgeAuth:
        auth: EdgeAuth = self.app.state.edge_auth
        return auth


@pytest.fixture
async def platform(
    database_url: str,
    nats_server: NatsServer,
    openbao: OpenBaoServer,
    openbao_credentials: Mapping[str, tuple[str, str]],
) -> AsyncIterator[Platform]:
    await asyncio.to_thread(upgrade, IDENTITY_TESTS.parent / "migrations", database_url)
    secrets = {"notification": "notification-secret-for-tests-0123456789"}
    settings = identity_settings(
        database_url=database_url,
        nats_url=nats_server.url,
        openbao=openbao,
        credentials=openbao_credentials,
        operator_token=OPERATOR_TOKEN,
        service_secrets=secrets,
    )
    async with serving(await build_runtime(settings)) as target, open_channel(target) as channel:
        app = create_app(
            settings_for(
                {
                    "identity": target,
                    "customer_vault": target,
                    "work_order": target,
                    "notification": target,
                },
                nats_url=nats_server.url,
            )
        )
        async with serve(app) as client:
            auth: EdgeAuth = app.state.edge_auth
            await asyncio.wait_for(auth.revocations_current.wait(), timeout=10)
            yield Platform(client, app, identity_pb2_grpc.IdentityServiceStub(channel), secrets)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _tenant_with_admin(platform: Platform, slug: str) -> dict[str, str]:
    """Creates a tenant, lets its admin set a password, enrol TOTP and sign in: their tokens."""
    client = platform.client
    created = await client.post(
        "/v1/tenants",
        json={
            "slug": slug,
            "name": f"{slug} Oy",
            "admin_email": f"admin@{slug}.example",
            "admin_name": "Admin",
        },
        headers=bearer(OPERATOR_TOKEN),
    )
    assert created.status_code == 201, created.text
    token = created.json()["admin_invitation_url"].split("#token=", 1)[1]
    accepted = await client.post(
        "/v1/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text

    credentials = {"tenant": slug, "email": f"admin@{slug}.example", "password": PASSWORD}
    first = (await client.post("/v1/auth/login", json=credentials)).json()
    assert first["mfa_enrollment_required"] is True and first["refresh_token"] is None
    enrolled = (await client.post("/v1/me/mfa/totp", headers=bearer(first["access_token"]))).json()
    totp = pyotp.TOTP(enrolled["secret"])
    confirmed = await client.post(
        "/v1/me/mfa/totp/confirm", json={"code": totp.now()}, headers=bearer(first["access_token"])
    )
    assert confirmed.status_code == 200 and confirmed.json()["mfa_enabled"] is True

    missing_otp = await client.post("/v1/auth/login", json=credentials)
    assert missing_otp.status_code == 401 and missing_otp.json()["code"] == "mfa_required"
    signed_in = await client.post(
        "/v1/auth/login", json=credentials | {"otp": totp.at(time.time() + 30)}
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.headers["cache-control"] == "no-store"
    return signed_in.json() | {"totp_secret": enrolled["secret"]}


async def _invite_and_sign_in(
    platform: Platform, admin_token: str, tenant_id: str, slug: str, body: dict[str, object]
) -> tuple[str, dict[str, str]]:
    """Admin creates a user; notification's way of fetching the link; the user signs in."""
    client = platform.client
    created = await client.post("/v1/users", json=body, headers=bearer(admin_token))
    assert created.status_code == 201, created.text
    user = created.json()
    # The link never came back to the admin: fetch it the way notification will.
    service = await platform.identity.IssueServiceToken(
        pb.IssueServiceTokenRequest(
            service="notification",
            secret=platform.service_secrets["notification"],
            audience="identity",
            tenant_id=tenant_id,
        )
    )
    invitations = await _pending_invitation(platform, service.access_token, tenant_id, user["id"])
    accepted = await client.post(
        "/v1/invitations/accept",
        json={"token": invitations.split("#token=", 1)[1], "password": PASSWORD},
    )
    assert accepted.status_code == 200, accepted.text
    login = await client.post(
        "/v1/auth/login", json={"tenant": slug, "email": body["email"], "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    return user["id"], login.json()


async def _pending_invitation(
    platform: Platform, service_token: str, tenant_id: str, user_id: str
) -> str:
    # The user_invited event carries the invitation id; read it from identity's stream.
    import nats

    from fieldvault.identity.v1 import identity_events_pb2 as events_pb

    connection = await nats.connect(platform.app.state.settings.nats_url)
    try:
        js = connection.jetstream()
        subscription = await js.subscribe(
            f"fieldvault.{tenant_id}.identity.v1.user_invited", ordered_consumer=True
        )
        while True:
            message = await subscription.next_msg(timeout=5)
            event = events_pb.UserInvited.FromString(message.data)
            if event.user_id == user_id:
                break
    finally:
        await connection.close()
    link = await platform.identity.GetInvitationLink(
        pb.GetInvitationLinkRequest(tenant_id=tenant_id, invitation_id=event.invitation_id),
        metadata=bearer_metadata(service_token),
    )
    return link.url


async def test_onboarding_sign_in_and_leaving_through_the_rest_api(
    platform: Platform, caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter
) -> None:
    caplog.set_level(logging.DEBUG)
    client = platform.client
    admin = await _tenant_with_admin(platform, "lifts")
    admin_token = admin["access_token"]
    me = (await client.get("/v1/me", headers=bearer(admin_token))).json()
    tenant_id = me["tenant_id"]
    assert me["roles"] == ["admin"] and me["mfa_enabled"] is True

    area = await client.post("/v1/areas", json={"name": "North"}, headers=bearer(admin_token))
    assert area.status_code == 201
    sub = await client.post(
        "/v1/organizations",
        json={
            "name": "Sub Oy",
            "kind": "subcontractor",
            "dpa_signed_on": "2026-01-01",
            "dpa_expires_on": "2030-12-31",
        },
        headers=bearer(admin_token),
    )
    assert sub.status_code == 201 and sub.json()["dpa_active"] is True
    etag = sub.headers["etag"]
    stale = await client.patch(
        f"/v1/organizations/{sub.json()['id']}",
        json={"name": "Renamed"},
        headers=bearer(admin_token) | {"If-Match": '"999"'},
    )
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    renamed = await client.patch(
        f"/v1/organizations/{sub.json()['id']}",
        json={"name": "Renamed"},
        headers=bearer(admin_token) | {"If-Match": etag},
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"

    tech_id, tech = await _invite_and_sign_in(
        platform,
        admin_token,
        tenant_id,
        "lifts",
        {
            "email": "tech@lifts.example",
            "name": "Tech",
            "roles": ["technician"],
            "area_ids": [area.json()["id"]],
        },
    )
    tech_me = (await client.get("/v1/me", headers=bearer(tech["access_token"]))).json()
    assert tech_me["area_ids"] == [area.json()["id"]]

    # Refresh rotates; presenting the spent token again kills the session.
    rotated = await client.post("/v1/auth/refresh", json={"refresh_token": tech["refresh_token"]})
    assert rotated.status_code == 200
    reused = await client.post("/v1/auth/refresh", json={"refresh_token": tech["refresh_token"]})
    assert reused.status_code == 401 and reused.json()["code"] == "refresh_token_reused"

    # A fresh session, then deactivation: the gateway refuses within a second, by itself.
    fresh = (
        await client.post(
            "/v1/auth/login",
            json={"tenant": "lifts", "email": "tech@lifts.example", "password": PASSWORD},
        )
    ).json()["access_token"]
    assert (await client.get("/v1/me", headers=bearer(fresh))).status_code == 200
    deactivated = await client.post(f"/v1/users/{tech_id}/deactivate", headers=bearer(admin_token))
    assert deactivated.status_code == 200 and deactivated.json()["status"] == "deactivated"
    started = time.monotonic()
    while True:
        try:
            await platform.edge_auth.verifier.verify(fresh)  # local: no call to identity
        except Unauthenticated:
            break
        assert time.monotonic() - started < 1.0, "deactivation did not reach the gateway in 1 s"
        await asyncio.sleep(0.02)
    refused = await client.get("/v1/me", headers=bearer(fresh))
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"

    # Canary: nothing secret was logged or traced on the way.
    secrets_seen = {
        "password": PASSWORD,
        "operator token": OPERATOR_TOKEN,
        "totp secret": admin["totp_secret"],
        "refresh token": tech["refresh_token"],
        "access token signature": fresh.rsplit(".", 1)[1],
    }
    span_text = " ".join(str(dict(s.attributes or {})) for s in spans.get_finished_spans())
    for name, value in secrets_seen.items():
        assert value not in caplog.text, f"{name} logged"
        assert value not in span_text, f"{name} in a span"


async def test_partner_clients_get_tokens_by_form_and_by_basic_auth(platform: Platform) -> None:
    client = platform.client
    admin = await _tenant_with_admin(platform, "partners")
    created = await client.post(
        "/v1/api-clients",
        json={"name": "ERP", "scopes": ["work_orders:read"]},
        headers=bearer(admin["access_token"]),
    )
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    client_id, secret = created.json()["client_id"], created.json()["client_secret"]

    by_form = await client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert by_form.status_code == 200, by_form.text
    assert by_form.json()["scope"] == "work_orders:read"
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    by_basic = await client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert by_basic.status_code == 200
    wrong = await client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x"},
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_client"
    grant = await client.post("/v1/oauth/token", data={"grant_type": "password"})
    assert grant.status_code == 400 and grant.json()["code"] == "unsupported_grant_type"

    listed = await client.get("/v1/api-clients", headers=bearer(admin["access_token"]))
    assert secret not in listed.text
    # A partner token works at the gateway but has no admin powers.
    partner = by_form.json()["access_token"]
    assert (await client.get("/v1/users", headers=bearer(partner))).status_code == 403


async def test_forged_and_misaddressed_tokens_are_refused_at_the_edge(platform: Platform) -> None:
    client = platform.client
    admin = await _tenant_with_admin(platform, "forgery")
    token = admin["access_token"]
    header, payload, signature = token.split(".")

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = jwt.decode(token, options={"verify_signature": False})
    tampered_claims = b64(jwt.api_jws.json.dumps(claims | {"roles": ["dpo"]}).encode())
    none_header = b64(b'{"alg":"none","typ":"at+jwt","kid":"x"}')
    exchanged = await platform.identity.ExchangeToken(
        pb.ExchangeTokenRequest(subject_token=token, audience="customer_vault")
    )
    forged = {
        "tampered payload": f"{header}.{tampered_claims}.{signature}",
        "bad signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "alg none": f"{none_header}.{payload}.",
        "wrong audience": exchanged.access_token,
        "garbage": "not-a-token",
    }
    for name, value in forged.items():
        response = await client.get("/v1/me", headers=bearer(value))
        assert response.status_code == 401, name
        assert value not in response.text


async def test_another_tenants_user_is_not_found(platform: Platform) -> None:
    client = platform.client
    first = await _tenant_with_admin(platform, "first")
    second = await _tenant_with_admin(platform, "second")
    second_me = (await client.get("/v1/me", headers=bearer(second["access_token"]))).json()
    response = await client.get(
        f"/v1/users/{second_me['id']}", headers=bearer(first["access_token"])
    )
    assert response.status_code == 404


async def test_a_rejected_login_body_does_not_echo_the_password(platform: Platform) -> None:
    response = await platform.client.post(
        "/v1/auth/login", json={"tenant": "", "email": "a@b.example", "password": PASSWORD}
    )
    assert response.status_code == 422
    assert PASSWORD not in response.text
