"""The people of the end-to-end story, signed in the way they would be: every step over
the gateway's public REST API, invitations read from the e-mails notification wrote."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path

import httpx

from fieldvault_devstack.identity_driver import PASSWORD, invitation_token, totp

LINK = re.compile(r"https?://\S+#token=\S+")
MAIL_WAIT_SECONDS = 20


@dataclass
class Someone:
    id: str
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def mails_to(mail_dir: Path, address: str) -> list[str]:
    """The decoded texts of every e-mail to ``address`` written to the mail folder."""
    texts = []
    for path in sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []:
        mail = message_from_bytes(path.read_bytes())
        if mail["To"] == address:
            payload = mail.get_payload(decode=True)
            assert isinstance(payload, bytes)
            texts.append(f"Subject: {mail['Subject']}\n\n{payload.decode()}")
    return texts


async def invitation_link(mail_dir: Path, address: str) -> str:
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while True:
        links = [
            link
            for text in await asyncio.to_thread(mails_to, mail_dir, address)
            for link in LINK.findall(text)
        ]
        if links:
            return links[-1]
        assert time.monotonic() < deadline, f"no invitation e-mail reached {address}"
        await asyncio.sleep(0.1)


async def accept_and_sign_in(http: httpx.AsyncClient, tenant: str, email: str, url: str) -> str:
    """Set the password through the link, then sign in (enrolling TOTP where required)."""
    accepted = await http.post(
        "/v1/invitations/accept", json={"token": invitation_token(url), "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    login = {"tenant": tenant, "email": email, "password": PASSWORD}
    first = await http.post("/v1/auth/login", json=login)
    assert first.status_code == 200, first.text
    if not first.json().get("mfa_enrollment_required"):
        return str(first.json()["access_token"])
    enrolling = {"Authorization": f"Bearer {first.json()['access_token']}"}
    enrolled = await http.post("/v1/me/mfa/totp", headers=enrolling)
    assert enrolled.status_code in (200, 201), enrolled.text
    secret = enrolled.json()["secret"]
    confirmed = await http.post(
        "/v1/me/mfa/totp/confirm", json={"code": totp(secret)}, headers=enrolling
    )
    assert confirmed.status_code in (200, 204), confirmed.text
    # The next time step: the code used for confirming is spent.
    second = await http.post(
        "/v1/auth/login", json={**login, "otp": totp(secret, at=time.time() + 30)}
    )
    assert second.status_code == 200, second.text
    return str(second.json()["access_token"])


async def invite(
    http: httpx.AsyncClient,
    admin: Someone,
    tenant: str,
    mail_dir: Path,
    *,
    name: str,
    roles: list[str],
    area_ids: list[str] | None = None,
    organization_id: str | None = None,
) -> Someone:
    """The admin creates the person; they get the e-mail, set a password, sign in."""
    email = f"{name.lower()}@{tenant}.example"
    body: dict[str, object] = {"email": email, "name": name, "roles": roles}
    if area_ids:
        body["area_ids"] = area_ids
    if organization_id:
        body["organization_id"] = organization_id
    created = await http.post("/v1/users", json=body, headers=admin.auth)
    assert created.status_code == 201, created.text
    url = await invitation_link(mail_dir, email)
    token = await accept_and_sign_in(http, tenant, email, url)
    return Someone(id=created.json()["id"], email=email, token=token)
