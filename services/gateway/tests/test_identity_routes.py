"""The identity routes' REST contract (docs/api.md), against a stand-in identity
(``fake_identity.py``) that records what the gateway sent: shapes, status codes,
headers, OAuth2 errors, PATCH masks and preconditions, and what never leaks."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest

from .fake_identity import CLIENT_ID, CLIENT_SECRET, FakeGateway, fake_gateway

CANARY = "CANARY-pw-5e1d quiet harbour lanterns"


@pytest.fixture
async def fake(start_peer: Any) -> AsyncIterator[FakeGateway]:
    async with fake_gateway(start_peer) as gateway:
        yield gateway


def login_body(**fields: Any) -> dict[str, Any]:
    return {
        "tenant": "lifts",
        "email": "ada@example.com",
        "password": "right password here",
        **fields,
    }


# --- signing in ------------------------------------------------------------------


async def test_login_answers_a_token_pair_that_no_cache_may_keep(fake: FakeGateway) -> None:
    response = await fake.client.post("/v1/auth/login", json=login_body(otp="123456"))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["refresh_token"] == "CANARY-refresh-token"
    assert body["mfa_enrollment_required"] is False
    (login,) = fake.identity.requests("Login")
    assert (login.tenant, login.email, login.otp) == ("lifts", "ada@example.com", "123456")
    assert login.source_address == "127.0.0.1"


async def test_login_requiring_mfa_enrolment_gives_no_refresh_token(fake: FakeGateway) -> None:
    response = await fake.client.post(
        "/v1/auth/login", json=login_body(email="new-admin@example.com")
    )

    assert response.status_code == 200
    assert response.json()["mfa_enrollment_required"] is True
    assert response.json()["refresh_token"] is None


async def test_wrong_credentials_are_a_401_invalid_credentials(fake: FakeGateway) -> None:
    response = await fake.client.post("/v1/auth/login", json=login_body(password=CANARY))

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert CANARY not in response.text


async def test_a_throttled_login_says_when_to_retry(fake: FakeGateway) -> None:
    response = await fake.client.post(
        "/v1/auth/login", json=login_body(email="throttled@example.com")
    )

    assert response.status_code == 429
    assert response.headers["retry-after"] == "42"
    assert response.json()["code"] == "rate_limited"


async def test_refresh_returns_a_new_pair_uncached(fake: FakeGateway) -> None:
    response = await fake.client.post("/v1/auth/refresh", json={"refresh_token": "r-1"})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["refresh_token"] == "next"
    assert fake.identity.requests("Refresh")[0].refresh_token == "r-1"


# --- OAuth2 client credentials ------------------------------------------------


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{quote(client_id)}:{quote(secret, safe='')}".encode())
    return {"Authorization": f"Basic {encoded.decode()}"}


async def test_client_credentials_in_the_form(fake: FakeGateway) -> None:
    response = await fake.client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["scope"] == "work_orders:read"
    assert response.json()["token_type"] == "Bearer"


async def test_client_credentials_as_http_basic_are_form_decoded(fake: FakeGateway) -> None:
    # The secret holds '+', '/' and '=': RFC 6749 §2.3.1 has them percent-encoded.
    response = await fake.client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "scope": "work_orders:read"},
        headers=basic(CLIENT_ID, CLIENT_SECRET),
    )

    assert response.status_code == 200, response.text
    (issued,) = fake.identity.requests("IssueClientToken")
    assert (issued.client_id, issued.client_secret) == (CLIENT_ID, CLIENT_SECRET)
    assert issued.scope == "work_orders:read"


@pytest.mark.parametrize(
    ("form", "headers", "status", "error"),
    [
        ({}, {}, 400, "invalid_request"),
        ({"grant_type": "password"}, {}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, {}, 401, "invalid_client"),
        (
            {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CANARY},
            {},
            401,
            "invalid_client",
        ),
        ({"grant_type": "client_credentials"}, basic(CLIENT_ID, CANARY), 401, "invalid_client"),
        (
            {"grant_type": "client_credentials"},
            {"Authorization": "Basic %%%"},
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials", "client_secret": CANARY},
            basic(CLIENT_ID, CLIENT_SECRET),
            400,
            "invalid_request",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "x", "client_secret": CANARY * 40},
            {},
            400,
            "invalid_request",
        ),
        (
            {"grant_type": "client_credentials", "scope": "customers:write"},
            basic(CLIENT_ID, CLIENT_SECRET),
            400,
            "invalid_scope",
        ),
    ],
)
async def test_token_endpoint_errors_speak_rfc_6749_inside_problem_json(
    fake: FakeGateway, form: dict[str, str], headers: dict[str, str], status: int, error: str
) -> None:
    response = await fake.client.post("/v1/oauth/token", data=form, headers=headers)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["code"] == error
    assert body["error"] == error
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic")
    assert CANARY not in response.text


async def test_a_throttled_client_is_told_when_to_retry(fake: FakeGateway) -> None:
    response = await fake.client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "throttled", "client_secret": "x"},
    )

    assert response.status_code == 429
    assert response.headers["retry-after"] == "42"


# --- JWKS -----------------------------------------------------------------------


async def test_jwks_is_public_and_briefly_cacheable(fake: FakeGateway) -> None:
    response = await fake.client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk-set+json"
    assert response.headers["cache-control"] == "public, max-age=60"
    (key,) = response.json()["keys"]
    assert key["kid"] == fake.identity.kid and "d" not in key


# --- preconditions and partial updates ------------------------------------------


async def test_users_carry_an_etag_header_and_patch_sends_only_present_fields(
    fake: FakeGateway,
) -> None:
    headers = fake.bearer()
    read = await fake.client.get("/v1/users/user-1", headers=headers)
    assert read.status_code == 200
    assert read.headers["etag"] == read.json()["etag"] == '"1"'

    changed = await fake.client.patch(
        "/v1/users/user-1",
        json={"roles": ["dispatcher"], "area_ids": None},
        headers=headers | {"If-Match": read.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    (update,) = fake.identity.requests("UpdateUser")
    assert list(update.update_mask) == ["area_ids", "roles"]
    assert list(update.roles) == ["dispatcher"] and list(update.area_ids) == []
    assert update.etag == '"1"'


async def test_a_stale_if_match_is_412_precondition_failed(fake: FakeGateway) -> None:
    response = await fake.client.patch(
        "/v1/users/user-1", json={"name": "Ada L."}, headers=fake.bearer() | {"If-Match": '"9"'}
    )

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"


async def test_if_match_star_is_no_precondition(fake: FakeGateway) -> None:
    response = await fake.client.patch(
        "/v1/users/user-1", json={"name": "Ada L."}, headers=fake.bearer() | {"If-Match": "*"}
    )

    assert response.status_code == 200
    assert fake.identity.requests("UpdateUser")[0].etag == ""


@pytest.mark.parametrize(
    "body", [{}, {"name": None}, {"roles": None}, {"roles": []}, {"roles": ["root"]}]
)
async def test_a_patch_that_changes_nothing_sensible_is_refused_before_identity(
    fake: FakeGateway, body: dict[str, Any]
) -> None:
    response = await fake.client.patch("/v1/users/user-1", json=body, headers=fake.bearer())

    assert response.status_code == 422
    assert fake.identity.requests("UpdateUser") == []


async def test_organisation_patch_clears_a_dpa_date_given_as_null(fake: FakeGateway) -> None:
    headers = fake.bearer()
    read = await fake.client.get("/v1/organizations/org-sub", headers=headers)
    assert read.headers["etag"] == '"1"'
    assert read.json()["kind"] == "subcontractor" and read.json()["dpa_active"] is True

    response = await fake.client.patch(
        "/v1/organizations/org-sub",
        json={"dpa_expires_on": None},
        headers=headers | {"If-Match": read.headers["etag"]},
    )
    assert response.status_code == 200
    (update,) = fake.identity.requests("UpdateOrganization")
    assert list(update.update_mask) == ["dpa_expires_on"]
    assert update.dpa_expires_on == "" and update.etag == '"1"'

    stale = await fake.client.patch(
        "/v1/organizations/org-sub",
        json={"name": "Sub 2"},
        headers=headers | {"If-Match": read.headers["etag"]},
    )
    assert stale.status_code == 412


async def test_deactivation_honours_if_match(fake: FakeGateway) -> None:
    headers = fake.bearer()
    stale = await fake.client.post(
        "/v1/users/user-2/deactivate", headers=headers | {"If-Match": '"7"'}
    )
    assert stale.status_code == 412
    assert fake.identity.requests("DeactivateUser") == []

    done = await fake.client.post(
        "/v1/users/user-2/deactivate", headers=headers | {"If-Match": '"1"'}
    )
    assert done.status_code == 200
    assert done.json()["status"] == "deactivated"
    assert done.headers["etag"] == '"2"'


async def test_an_unknown_user_is_404(fake: FakeGateway) -> None:
    response = await fake.client.get("/v1/users/someone-elses", headers=fake.bearer())

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- nothing secret is echoed or logged ------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/auth/login", {"tenant": "", "email": "a@b.example", "password": CANARY}),
        ("/v1/auth/login", {"tenant": "t", "email": "a@b.example", "password": CANARY * 40}),
        ("/v1/auth/login", {"tenant": "t", "email": "a@b.example", "password": [CANARY]}),
        (
            "/v1/auth/login",
            {"tenant": "t", "email": "a@b.example", "password": CANARY, "otp": CANARY},
        ),
        ("/v1/auth/refresh", {"refresh_token": {"value": CANARY}}),
        ("/v1/invitations/accept", {"token": CANARY * 10, "password": CANARY}),
        ("/v1/invitations/accept", {"token": "short", "password": CANARY}),
    ],
)
async def test_a_rejected_body_never_echoes_a_secret(
    fake: FakeGateway, caplog: pytest.LogCaptureFixture, path: str, body: dict[str, Any]
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await fake.client.post(path, json=body)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"], "names the fields"
    assert CANARY not in response.text
    assert "short" not in response.text
    assert CANARY not in caplog.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/me/password", {"current_password": CANARY, "new_password": CANARY * 40}),
        ("/v1/me/mfa/totp/confirm", {"code": CANARY}),
        ("/v1/api-clients", {"name": "ERP", "scopes": [CANARY]}),
    ],
)
async def test_an_authenticated_rejected_body_never_echoes_a_secret(
    fake: FakeGateway, caplog: pytest.LogCaptureFixture, path: str, body: dict[str, Any]
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await fake.client.post(path, json=body, headers=fake.bearer())

    assert response.status_code == 422
    assert CANARY not in response.text
    assert CANARY not in caplog.text


async def test_password_change_is_a_204(fake: FakeGateway) -> None:
    response = await fake.client.post(
        "/v1/me/password",
        json={"current_password": "old one", "new_password": CANARY},
        headers=fake.bearer(),
    )

    assert response.status_code == 204
    (change,) = fake.identity.requests("ChangePassword")
    assert change.new_password == CANARY
