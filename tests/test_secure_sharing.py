"""Two-channel secure sharing, end to end, every service its own process.

A DPO shares a customer's contract with the customer's board, an admin a one-off
credential with a subcontractor's contact: the link arrives by e-mail (an ``.eml``) and
the PIN by SMS, never both on one channel. On the web app's public page the link alone
opens nothing, the PIN alone opens nothing, together they serve the document once
(``no-store``); wrong PINs up to the limit kill a share; a revoked, opened, locked or
unknown share all answer alike; the sender hears of the opening in their inbox. Planted
values — the document's content, the credential, every PIN and link token, the
recipient's address and number — appear in no log, span, event, inbox entry or message
other than the one channel meant to carry each, and in no database in clear.

Spans are exported to each service's log (``OTEL_TRACES_EXPORTER=console``), so reading
the logs reads the spans too.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import nats
import pytest
from nats.js.api import DeliverPolicy

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person
from fieldvault_devstack.recorders import eventually, text_of
from fieldvault_devstack.shared_stack import (
    SHARE_MAX_PIN_ATTEMPTS,
    SMS_PATH,
    SharedStack,
    database_text,
)
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.grpc_client import open_channel

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]

CONTRACT = b"%PDF-1.7\nMaintenance contract CANARY-SHARED-CONTRACT-40417\n%%EOF\n"
CREDENTIAL = "CANARY-ONE-OFF-CRED-88213"
#: Planted values that must stay inside the one place each belongs.
PLANTED = {
    "contract": "CANARY-SHARED-CONTRACT-40417",
    "credential": CREDENTIAL,
    "board_email": "board.canary.share@example.org",
    "board_phone": "+358 40 555 0142",
    "contact_email": "contact.canary.share@example.net",
    "contact_phone": "+358 50 555 0177",
}
#: The phone numbers as the SMS gateway gets them (normalised).
NUMBERS = {"board_phone": "+358405550142", "contact_phone": "+358505550177"}
_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
_LINK = re.compile(r"(https?://\S+/shared#token=(\S+))")


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> SharedStack:
    return shared_stack


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.gateway_token}"}


class PublicPage:
    """The web app's public share page, as a browser without JavaScript would use it."""

    def __init__(self, web_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=web_url, timeout=20)

    async def open(self, token: str, pin: str) -> httpx.Response:
        form = await self.http.get("/shared")
        assert form.status_code == 200, form.text
        assert form.headers["cache-control"] == "no-store"
        # The CSRF cookie is __Host- (Secure): a plain-HTTP client sends it by hand.
        cookie = form.headers["set-cookie"].split(";", 1)[0]
        match = _CSRF_FIELD.search(form.text)
        assert match is not None
        return await self.http.post(
            "/shared",
            data={"csrf": match.group(1), "token": token, "pin": pin},
            headers={"Cookie": cookie},
        )

    async def aclose(self) -> None:
        await self.http.aclose()


async def _share(http: httpx.AsyncClient, sender: Person, body: dict[str, object]) -> str:
    created = await http.post("/v1/shares", json=body, headers=bearer(sender))
    assert created.status_code == 201, created.text
    answer = created.json()
    assert set(answer) >= {"id", "expires_at", "status"} and answer["status"] == "active"
    share_id: str = answer["id"]
    return share_id


async def _channels(shared: SharedStack, address: str, number: str) -> tuple[str, str, str, str]:
    """The newest e-mail to ``address`` and SMS to ``number``: (mail, link token, sms, PIN)."""

    async def arrived() -> bool:
        return bool(shared.mail_to(address)) and bool(shared.sms_to(number))

    await eventually(arrived, timeout=30)
    mail = text_of(shared.mail_to(address)[-1])
    sms = shared.sms_to(number)[-1]
    link = _LINK.search(mail)
    assert link is not None, mail
    pin = re.search(r"PIN (\d{8})", sms)
    assert pin is not None, sms
    return mail, link.group(2), sms, pin.group(1)


async def test_a_shared_contract_opens_once_with_link_and_pin_and_nothing_leaks(
    platform: SharedStack,
) -> None:
    stack = platform.stack
    assert stack.endpoints is not None
    process = stack.identity_process()
    async with open_channel(process.addr) as channel:
        people = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await people.new_tenant()
        area = await people.new_area(tenant, "North")
        dispatcher = await people.new_person(tenant, roles=["dispatcher"], area_ids=[area])
        dpo = await people.new_person(tenant, roles=["dpo"])
        admin = await people.new_person(tenant, roles=["admin"])
    web = PublicPage(f"http://{stack.settings.host}:{stack.settings.web_port}")
    told: dict[str, str] = {}
    secrets: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=stack.endpoints.gateway_url, timeout=30) as http:
        customer = await http.post(
            "/v1/customers",
            json={"name": "Shared Oy", "area_id": area},
            headers=bearer(dispatcher),
        )
        assert customer.status_code == 201, customer.text
        uploaded = await http.post(
            f"/v1/customers/{customer.json()['id']}/contracts",
            files={"file": ("Contract 2026.pdf", CONTRACT, "application/pdf")},
            headers=bearer(dispatcher),
        )
        assert uploaded.status_code == 201, uploaded.text

        # --- a contract for the board: the link by e-mail, the PIN by SMS -------------
        contract_share = await _share(
            http,
            dpo,
            {
                "kind": "contract",
                "document_id": uploaded.json()["id"],
                "recipient_email": PLANTED["board_email"],
                "recipient_phone": PLANTED["board_phone"],
                "label": "Board copy",
            },
        )
        mail, token, sms, pin = await _channels(
            platform, PLANTED["board_email"], NUMBERS["board_phone"]
        )
        secrets |= {"board token": token, "board pin": pin}
        assert token.startswith(contract_share + ".")
        # Never both on one channel.
        assert pin not in mail and token not in sms and "http" not in sms
        assert PLANTED["board_phone"] not in mail and NUMBERS["board_phone"] not in mail

        # The link alone (no PIN, a guessed PIN) opens nothing.
        alone = await web.open(token, "")
        assert alone.status_code == 200 and PLANTED["contract"] not in alone.text
        guessed = await web.open(token, f"{(int(pin) + 1) % 10**8:08d}")
        assert guessed.status_code == 403 and PLANTED["contract"] not in guessed.text
        assert "Attempts left: 2" in guessed.text
        # The PIN alone (no link, a made-up link) opens nothing.
        for made_up in ("", f"{contract_share}.{'A' * 43}"):
            nothing = await web.open(made_up, pin)
            assert nothing.status_code == 410 and PLANTED["contract"] not in nothing.text
        # Together: the document, once, not to be stored.
        opened = await web.open(token, pin)
        assert opened.status_code == 200, opened.text
        assert opened.content == CONTRACT
        assert opened.headers["cache-control"] == "no-store"
        assert opened.headers["content-disposition"].startswith("attachment")
        again = await web.open(token, pin)
        assert again.status_code == 410 and PLANTED["contract"] not in again.text

        # The sender hears of it; their list shows the share opened, and no secret.
        async def dpo_told() -> bool:
            inbox = await http.get("/v1/me/notifications", headers=bearer(dpo))
            return any(n["type"] == "share.opened" for n in inbox.json()["items"])

        await eventually(dpo_told, timeout=20)
        told["dpo inbox"] = (await http.get("/v1/me/notifications", headers=bearer(dpo))).text
        listed = await http.get("/v1/shares", headers=bearer(dpo))
        assert [(s["id"], s["status"]) for s in listed.json()["items"]] == [
            (contract_share, "opened")
        ]
        told["share list"] = listed.text

        # --- a credential for a subcontractor's contact: wrong PINs kill it ----------
        await _share(
            http,
            admin,
            {
                "kind": "credential",
                "credential": CREDENTIAL,
                "recipient_email": PLANTED["contact_email"],
                "recipient_phone": PLANTED["contact_phone"],
            },
        )
        _, token2, _, pin2 = await _channels(
            platform, PLANTED["contact_email"], NUMBERS["contact_phone"]
        )
        secrets |= {"contact token": token2, "contact pin": pin2}
        wrong = f"{(int(pin2) + 1) % 10**8:08d}"
        refusals = [
            await http.post("/v1/shares/open", json={"token": token2, "pin": wrong})
            for _ in range(SHARE_MAX_PIN_ATTEMPTS)
        ]
        assert [r.status_code for r in refusals] == [403, 403, 410]
        dead = await http.post("/v1/shares/open", json={"token": token2, "pin": pin2})
        assert dead.status_code == 410 and CREDENTIAL not in dead.text

        # --- revoked, opened, locked and unknown shares all read the same ----------------
        third = await _share(
            http,
            admin,
            {
                "kind": "credential",
                "credential": "not used",
                "recipient_email": PLANTED["contact_email"],
                "recipient_phone": PLANTED["contact_phone"],
            },
        )

        async def third_sent() -> bool:
            return len(platform.sms_to(NUMBERS["contact_phone"])) >= 2

        await eventually(third_sent, timeout=30)
        token3 = _LINK.search(text_of(platform.mail_to(PLANTED["contact_email"])[-1]))
        pin3 = re.search(r"PIN (\d{8})", platform.sms_to(NUMBERS["contact_phone"])[-1])
        assert token3 is not None and pin3 is not None
        secrets |= {"third token": token3.group(2), "third pin": pin3.group(1)}
        not_theirs = await http.post(f"/v1/shares/{third}/revoke", headers=bearer(dpo))
        assert not_theirs.status_code == 404
        revoked = await http.post(f"/v1/shares/{third}/revoke", headers=bearer(admin))
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
        answers = [
            await http.post("/v1/shares/open", json={"token": t, "pin": p})
            for t, p in (
                (token3.group(2), pin3.group(1)),  # revoked
                (token, pin),  # opened
                (token2, pin2),  # locked
                (f"{third[:-4]}beef.{'B' * 43}", pin),  # unknown
            )
        ]
        bodies = {
            (a.status_code, a.json()["code"], a.json()["detail"], a.json().get("title"))
            for a in answers
        }
        assert len(bodies) == 1, bodies
        assert {b[:3] for b in bodies} == {
            (410, "share_unavailable", "this share is no longer available")
        }

        async def admin_told() -> bool:
            inbox = await http.get("/v1/me/notifications", headers=bearer(admin))
            return any(n["type"] == "share.locked" for n in inbox.json()["items"])

        await eventually(admin_told, timeout=20)
        told["admin inbox"] = (await http.get("/v1/me/notifications", headers=bearer(admin))).text
    await web.aclose()

    # --- where each planted value may be, and nowhere else ---------------------------
    everything = {**PLANTED, **NUMBERS, **secrets}
    for name, text in told.items():
        assert [k for k, v in everything.items() if v in text] == [], name
    shared_mails = 0
    ours = {PLANTED["board_email"], PLANTED["contact_email"]}
    for mail in platform.mails():
        text = f"{mail['To']}\n{mail['Subject']}\n{text_of(mail)}"
        found = {k for k, v in everything.items() if v in text}
        if mail["To"] not in ours or "/shared#token=" not in text:
            assert found == set(), found  # invitations, the senders' notices, other tests' mail
            continue
        shared_mails += 1
        # A share's e-mail carries its recipient's address and its link token, nothing else.
        allowed = {"board_email", "contact_email", "board token", "contact token", "third token"}
        assert found <= allowed and found & {"board_email", "contact_email"}, found
    assert shared_mails == 3
    for sms in platform.receiver.at(SMS_PATH):
        text = sms.body.decode()
        found = {k for k, v in everything.items() if v in text}
        if json.loads(sms.body)["to"] not in NUMBERS.values():
            assert found == set(), found  # other tests' SMS
            continue
        # An SMS carries its recipient's number and the PIN, nothing else.
        assert found <= {"board_phone", "contact_phone", "board pin", "contact pin", "third pin"}
        assert found & {"board pin", "contact pin", "third pin"}, found
        assert not {"board token", "contact token", "third token"} & found
    events = await _every_event(stack, tenant.id)
    assert any("share_created" in e for e in events) and any("share_opened" in e for e in events)
    for event in events:
        assert [k for k, v in everything.items() if v in event] == []
    await asyncio.to_thread(_check_logs, stack, everything)
    for database in ("customer_vault", "notification"):
        stored = await database_text(stack, database)
        assert stored, database
        assert [k for k, v in everything.items() if v in stored] == [], database


def _check_logs(stack: LocalStack, everything: dict[str, str]) -> None:
    for service in ("identity", "customer_vault", "work_order", "notification", "gateway", "web"):
        log = Path(stack.service_log(service)).read_text(errors="replace")
        assert [k for k, v in everything.items() if v in log] == [], service
    assert "share" in Path(stack.service_log("customer_vault")).read_text()


async def _every_event(stack: LocalStack, tenant_id: str) -> list[str]:
    assert stack.endpoints is not None
    client = await nats.connect(stack.endpoints.nats_url)
    found: list[str] = []
    try:
        jetstream = client.jetstream()
        for service in ("identity", "customer_vault", "work_order", "notification"):
            subscription = await jetstream.subscribe(
                f"fieldvault.{tenant_id}.{service}.v1.>",
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.ALL,
            )
            try:
                while True:
                    message = await subscription.next_msg(timeout=1.0)
                    found.append(
                        message.subject
                        + message.data.decode(errors="replace")
                        + json.dumps(message.headers or {})
                    )
            except nats.errors.TimeoutError:
                pass
            await subscription.unsubscribe()
    finally:
        await client.close()
    return found
