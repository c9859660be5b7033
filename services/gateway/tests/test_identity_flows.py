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
from fieldvault_platform.vault import VaultClient
from gateway.auth import EdgeAuth
from gateway.main import create_app

from .conftest import serve, settings_for

IDENTITY_TESTS = Path(__file__).resolve().parents[2] / "identity" / "tests"
sys.path.insert(0, str(IDENTITY_TESTS))

from identity_testkit import identity_settings  # noqa: E402

from identity.main import build_runtime  # noqa: E402
from identity.settings import Settings as IdentitySettings  # noqa: E402
from identity.signing import TokenSigner  # noqa: E402

pytestmark = pytest.mark.integration

PASSWORD = "CANARY-pw quiet harbour lanterns"
OPERATOR_TOKEN = "CANARY-operator-token-2b7f1c9d0e"


@dataclass
class Platform:
    client: httpx.AsyncClient
    app: FastAPI
    identity: identity_pb2_grpc.IdentityServiceStub
    service_secrets: dict[str, str]
    identity_settings: IdentitySettings

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
            yield Platform(
                client, app, identity_pb2_grpc.IdentityServiceStub(channel), secrets, settings
            )


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
    assert created.json()["tenant"]["break_glass_step_up_required"] is True  # on by default
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
    return signed_in.json() | {"totp_secret": enrolled["secret"], "invitation_token": token}


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
    link = await _pending_invitation(platform, service.access_token, tenant_id, user["id"])
    invitation_token = link.split("#token=", 1)[1]
    accepted = await client.post(
        "/v1/invitations/accept", json={"token": invitation_token, "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["user"]["status"] == "active"
    again = await client.post(
        "/v1/invitations/accept", json={"token": invitation_token, "password": PASSWORD}
    )
    assert again.status_code in (400, 401, 404, 409), "an invitation works once"
    login = await client.post(
        "/v1/auth/login", json={"tenant": slug, "email": body["email"], "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    return user["id"], login.json() | {"invitation_token": invitation_token}


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


async def _until_refused(platform: Platform, token: str, what: str) -> float:
    """Seconds until the gateway's own verifier refuses ``token`` (no call to identity)."""
    started = time.monotonic()
    while True:
        try:
            await platform.edge_auth.verifier.verify(token)
        except Unauthenticated:
            return time.monotonic() - started
        assert time.monotonic() - started < 1.0, f"{what} did not reach the gateway in 1 s"
        await asyncio.sleep(0.02)


def _assert_nothing_leaked(
    caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter, secrets: Mapping[str, str]
) -> None:
    span_text = " ".join(
        f"{span.name} {dict(span.attributes or {})} "
        + " ".join(str(dict(event.attributes or {})) for event in span.events)
        for span in spans.get_finished_spans()
    )
    assert caplog.records, "the run logged something: the check looked at real output"
    for name, value in secrets.items():
        assert value, name
        assert value not in caplog.text, f"{name} logged"
        assert value not in span_text, f"{name} in a span"


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
    areas = await client.get("/v1/areas", headers=bearer(admin_token))
    assert [a["name"] for a in areas.json()["items"]] == ["North"]
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
    organizations = await client.get("/v1/organizations", headers=bearer(admin_token))
    assert sorted(o["kind"] for o in organizations.json()["items"]) == ["own", "subcontractor"]
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
    lapsed = await client.patch(
        f"/v1/organizations/{sub.json()['id']}",
        json={"dpa_expires_on": "2026-01-02"},
        headers=bearer(admin_token) | {"If-Match": renamed.headers["etag"]},
    )
    assert lapsed.status_code == 200 and lapsed.json()["dpa_active"] is False

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
    assert tech_me["organization_id"] == me["organization_id"]
    # A technician is no admin.
    forbidden = await client.get("/v1/users", headers=bearer(tech["access_token"]))
    assert forbidden.status_code == 403

    # The admin renames the technician, conditionally.
    read = await client.get(f"/v1/users/{tech_id}", headers=bearer(admin_token))
    assert read.headers["etag"] == read.json()["etag"]
    renamed_user = await client.patch(
        f"/v1/users/{tech_id}",
        json={"name": "Tech Nician"},
        headers=bearer(admin_token) | {"If-Match": read.headers["etag"]},
    )
    assert renamed_user.status_code == 200 and renamed_user.json()["name"] == "Tech Nician"
    assert renamed_user.headers["etag"] != read.headers["etag"]
    lost_update = await client.patch(
        f"/v1/users/{tech_id}",
        json={"name": "Someone Else"},
        headers=bearer(admin_token) | {"If-Match": read.headers["etag"]},
    )
    assert lost_update.status_code == 412

    # Refresh rotates; presenting the spent token again kills the whole session.
    rotated = await client.post("/v1/auth/refresh", json={"refresh_token": tech["refresh_token"]})
    assert rotated.status_code == 200
    assert rotated.headers["cache-control"] == "no-store"
    reused = await client.post("/v1/auth/refresh", json={"refresh_token": tech["refresh_token"]})
    assert reused.status_code == 401 and reused.json()["code"] == "refresh_token_reused"
    await _until_refused(platform, rotated.json()["access_token"], "refresh-token reuse")
    assert (
        await client.get("/v1/me", headers=bearer(rotated.json()["access_token"]))
    ).status_code == 401
    dead = await client.post(
        "/v1/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]}
    )
    assert dead.status_code == 401

    # Logout: the session's tokens stop working.
    session = (
        await client.post(
            "/v1/auth/login",
            json={"tenant": "lifts", "email": "tech@lifts.example", "password": PASSWORD},
        )
    ).json()
    assert (await client.get("/v1/me", headers=bearer(session["access_token"]))).status_code == 200
    logout = await client.post("/v1/auth/logout", headers=bearer(session["access_token"]))
    assert logout.status_code == 204
    assert (await client.get("/v1/me", headers=bearer(session["access_token"]))).status_code == 401
    after_logout = await client.post(
        "/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert after_logout.status_code == 401

    # Logout everywhere (a lost phone): every session of the account stops working.
    login = {"tenant": "lifts", "email": "tech@lifts.example", "password": PASSWORD}
    lost_phone = (await client.post("/v1/auth/login", json=login)).json()
    desk = (await client.post("/v1/auth/login", json=login)).json()
    everywhere = await client.post(
        "/v1/auth/logout-everywhere", headers=bearer(desk["access_token"])
    )
    assert everywhere.status_code == 204
    await _until_refused(platform, lost_phone["access_token"], "logout everywhere")
    assert (await client.get("/v1/me", headers=bearer(desk["access_token"]))).status_code == 401
    for ended in (lost_phone, desk):
        refreshed = await client.post(
            "/v1/auth/refresh", json={"refresh_token": ended["refresh_token"]}
        )
        assert refreshed.status_code == 401

    # A fresh session, then deactivation: the gateway refuses within a second, by itself —
    # through the deny list fed from NATS, not by asking identity.
    fresh = (
        await client.post(
            "/v1/auth/login",
            json={"tenant": "lifts", "email": "tech@lifts.example", "password": PASSWORD},
        )
    ).json()
    assert (await client.get("/v1/me", headers=bearer(fresh["access_token"]))).status_code == 200
    deactivated = await client.post(f"/v1/users/{tech_id}/deactivate", headers=bearer(admin_token))
    assert deactivated.status_code == 200 and deactivated.json()["status"] == "deactivated"
    await _until_refused(platform, fresh["access_token"], "deactivation")
    refused = await client.get("/v1/me", headers=bearer(fresh["access_token"]))
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    gone = await client.post("/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    assert gone.status_code == 401
    cannot_login = await client.post(
        "/v1/auth/login",
        json={"tenant": "lifts", "email": "tech@lifts.example", "password": PASSWORD},
    )
    assert cannot_login.status_code == 401

    _assert_nothing_leaked(
        caplog,
        spans,
        {
            "password": PASSWORD,
            "operator token": OPERATOR_TOKEN,
            "admin invitation token": admin["invitation_token"],
            "user invitation token": tech["invitation_token"],
            "totp secret": admin["totp_secret"],
            "refresh token": tech["refresh_token"],
            "rotated refresh token": rotated.json()["refresh_token"],
            "admin access token signature": admin_token.rsplit(".", 1)[1],
            "access token signature": fresh["access_token"].rsplit(".", 1)[1],
        },
    )


async def test_only_the_platform_operator_creates_tenants(platform: Platform) -> None:
    client = platform.client
    body = {"slug": "nope", "name": "Nope Oy", "admin_email": "a@nope.example", "admin_name": "A"}
    admin = await _tenant_with_admin(platform, "someone")

    for headers in (
        {},
        bearer("CANARY-not-the-operator-token"),
        bearer(admin["access_token"]),  # a signed-in admin is no operator
    ):
        response = await client.post("/v1/tenants", json=body, headers=headers)
        assert response.status_code in (401, 403), response.text
        assert "CANARY" not in response.text
    created = await client.post("/v1/tenants", json=body, headers=bearer(OPERATOR_TOKEN))
    assert created.status_code == 201
    taken = await client.post("/v1/tenants", json=body, headers=bearer(OPERATOR_TOKEN))
    assert taken.status_code == 409 and taken.json()["code"] == "tenant_exists"


async def test_partner_clients_get_tokens_by_form_and_by_basic_auth(
    platform: Platform, caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter
) -> None:
    caplog.set_level(logging.DEBUG)
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
    assert by_form.headers["cache-control"] == "no-store"
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
    assert wrong.status_code == 401
    assert wrong.json()["code"] == wrong.json()["error"] == "invalid_client"
    too_much = await client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "scope": "customers:write"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert too_much.status_code == 400 and too_much.json()["error"] == "invalid_scope"
    grant = await client.post("/v1/oauth/token", data={"grant_type": "password"})
    assert grant.status_code == 400 and grant.json()["code"] == "unsupported_grant_type"

    listed = await client.get("/v1/api-clients", headers=bearer(admin["access_token"]))
    assert [c["client_id"] for c in listed.json()["items"]] == [client_id]
    assert secret not in listed.text
    # A partner token works at the gateway but has no admin powers.
    partner = by_form.json()["access_token"]
    assert (await client.get("/v1/users", headers=bearer(partner))).status_code == 403

    # Revoked: the secret no longer gets a token.
    deleted = await client.delete(
        f"/v1/api-clients/{created.json()['id']}", headers=bearer(admin["access_token"])
    )
    assert deleted.status_code == 204
    revoked = await client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert revoked.status_code == 401

    _assert_nothing_leaked(
        caplog,
        spans,
        {
            "client secret": secret,
            "partner token signature": partner.rsplit(".", 1)[1],
            "password": PASSWORD,
        },
    )


async def test_a_revoked_partner_client_is_refused_at_the_edge_within_a_second(
    platform: Platform,
) -> None:
    client = platform.client
    admin = await _tenant_with_admin(platform, "revoked-partner")
    created = await client.post(
        "/v1/api-clients",
        json={"name": "ERP", "scopes": ["work_orders:read"]},
        headers=bearer(admin["access_token"]),
    )
    assert created.status_code == 201, created.text
    client_id = created.json()["client_id"]
    issued = await client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": created.json()["client_secret"],
        },
    )
    partner = issued.json()["access_token"]
    # Its call to identity leaves an exchanged token in the gateway's cache.
    assert (await client.get("/v1/users", headers=bearer(partner))).status_code == 403
    subject = f"client:{client_id}"
    assert [e for e in platform.edge_auth._cache.values() if e.owner[1] == subject]

    deleted = await client.delete(
        f"/v1/api-clients/{created.json()['id']}", headers=bearer(admin["access_token"])
    )
    assert deleted.status_code == 204

    await _until_refused(platform, partner, "the client's revocation")
    assert not [e for e in platform.edge_auth._cache.values() if e.owner[1] == subject]
    refused = await client.get("/v1/users", headers=bearer(partner))
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
    # The admin's own token is untouched.
    assert (await client.get("/v1/users", headers=bearer(admin["access_token"]))).status_code == 200


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
    # Signed with identity's own key, but expired a minute ago (past the 30 s leeway).
    signer = TokenSigner(
        VaultClient(platform.identity_settings), issuer=platform.identity_settings.token_issuer
    )
    now = int(time.time())
    lifetime = claims["exp"] - claims["iat"]
    expired = await signer.sign(
        claims
        | {"iat": now - 60 - lifetime, "nbf": now - 60 - lifetime, "exp": now - 60, "jti": "x1"}
    )
    forged = {
        "tampered payload": (f"{header}.{tampered_claims}.{signature}", "token invalid"),
        "bad signature": (f"{header}.{payload}.{signature[:-4]}AAAA", "token invalid"),
        "alg none": (f"{none_header}.{payload}.", "token invalid"),
        "wrong audience": (exchanged.access_token, "token not valid for this service"),
        "expired": (
            expired,
            "token expired: get a new access token with POST /v1/auth/refresh "
            '{"refresh_token": ...} (or sign in again once the session has ended)',
        ),
        "garbage": ("not-a-token", "token invalid"),
    }
    for name, (value, reason) in forged.items():
        response = await client.get("/v1/me", headers=bearer(value))
        assert response.status_code == 401, name
        assert response.json()["detail"] == reason, name
        assert value not in response.text
    # The same claims, freshly signed, pass: the refusal above was the expiry.
    fresh = await signer.sign(claims | {"jti": "x2"})
    assert (await client.get("/v1/me", headers=bearer(fresh))).status_code == 200


async def test_another_tenants_user_is_not_found(platform: Platform) -> None:
    client = platform.client
    first = await _tenant_with_admin(platform, "first")
    second = await _tenant_with_admin(platform, "second")
    second_me = (await client.get("/v1/me", headers=bearer(second["access_token"]))).json()
    as_first = bearer(first["access_token"])
    url = f"/v1/users/{second_me['id']}"

    assert (await client.get(url, headers=as_first)).status_code == 404
    assert (await client.patch(url, json={"name": "Mine"}, headers=as_first)).status_code == 404
    assert (await client.post(f"{url}/deactivate", headers=as_first)).status_code == 404
    still = await client.get("/v1/me", headers=bearer(second["access_token"]))
    assert still.status_code == 200 and still.json()["name"] == "Admin"


async def test_a_rejected_login_body_does_not_echo_the_password(platform: Platform) -> None:
    response = await platform.client.post(
        "/v1/auth/login", json={"tenant": "", "email": "a@b.example", "password": PASSWORD}
    )
    assert response.status_code == 422
    assert PASSWORD not in response.text


async def test_an_admin_reads_and_sets_the_second_factor_policy_and_a_stale_etag_is_refused(
    platform: Platform,
) -> None:
    client = platform.client
    admin = await _tenant_with_admin(platform, "policy")
    as_admin = bearer(admin["access_token"])

    read = await client.get("/v1/tenant/policy", headers=as_admin)
    assert read.status_code == 200, read.text
    policy = read.json()
    assert policy["break_glass_step_up_required"] is True
    assert set(policy["mfa_required_roles"]) >= {"admin", "auditor", "dpo"}
    assert read.headers["etag"] == policy["etag"]

    changed = await client.put(
        "/v1/tenant/policy",
        json={
            "mfa_required_roles": ["admin", "auditor", "dpo", "dispatcher"],
            "break_glass_step_up_required": False,
        },
        headers=as_admin | {"If-Match": policy["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["break_glass_step_up_required"] is False
    assert "dispatcher" in changed.json()["mfa_required_roles"]

    stale = await client.put(
        "/v1/tenant/policy",
        json={"mfa_required_roles": ["admin"]},
        headers=as_admin | {"If-Match": policy["etag"]},
    )
    assert stale.status_code == 412, stale.text
    assert stale.json()["code"] == "precondition_failed"
    unknown = await client.put(
        "/v1/tenant/policy", json={"mfa_required_roles": ["pilot"]}, headers=as_admin
    )
    assert unknown.status_code == 422
    again = (await client.get("/v1/tenant/policy", headers=as_admin)).json()
    assert again["break_glass_step_up_required"] is False


async def test_a_dispatcher_may_not_read_or_set_the_tenant_policy(platform: Platform) -> None:
    client = platform.client
    admin = await _tenant_with_admin(platform, "policy-deny")
    me = (await client.get("/v1/me", headers=bearer(admin["access_token"]))).json()
    _, dispatcher = await _invite_and_sign_in(
        platform,
        admin["access_token"],
        me["tenant_id"],
        "policy-deny",
        {"email": "d@policy-deny.example", "name": "D", "roles": ["dispatcher"]},
    )
    as_dispatcher = bearer(dispatcher["access_token"])
    assert (await client.get("/v1/tenant/policy", headers=as_dispatcher)).status_code == 403
    put = await client.put(
        "/v1/tenant/policy", json={"mfa_required_roles": []}, headers=as_dispatcher
    )
    assert put.status_code == 403
