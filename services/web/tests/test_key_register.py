"""The physical key register through the whole stack (the one whole-stack proof of it; the
rules are tested at service level in customer_vault): the office registers a key and
prints its tag, cannot hand it to a technician without a job at the site, hands it to the
one with the job; the technician sees it under My keys; the job ends and the key is not
back, so the dispatcher of the area is told (inbox, references only); the technician hands
it back from the phone; the office marks it lost and finds it again by its tag, which a
technician of another area cannot look up (404). No canary — the tag code, the key's
label, the site's name or address, the customer's name — appears in a notification, an
event or a log line."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import nats
import pytest
from conftest import CUSTOMER, World, bearer, unique
from nats.aio.client import Client as NatsClient
from nats.js.api import DeliverPolicy
from playwright.async_api import BrowserContext, expect
from test_office import Pages
from test_technician_day import sign_in

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]

LABEL = "Canary label Wrenfield cellar"
SITE = ("Harbour Court", "Satamakatu 7, Helsinki")
#: How long the overdue sweep (every second in this stack), the relay and notification
#: may take to put the alert in the dispatcher's inbox.
ALERT_SECONDS = 30.0


async def _inbox(world: World, token: str) -> list[dict[str, object]]:
    async with world.http as http:
        answer = await http.get("/v1/me/notifications", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        items: list[dict[str, object]] = answer.json()["items"]
        return items


async def _messages(world: World, tenant_id: str) -> list[str]:
    """Every event the services published for the tenant (payload and headers)."""
    client = NatsClient()
    await client.connect(world.stack.nats.url)
    found: list[str] = []
    try:
        for service in ("identity", "customer_vault", "work_order", "notification"):
            subscription = await client.jetstream().subscribe(
                f"fieldvault.{tenant_id}.{service}.v1.>",
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.ALL,
            )
            try:
                while True:
                    message = await subscription.next_msg(timeout=1.0)
                    found.append(message.data.decode(errors="replace") + str(message.headers))
            except nats.errors.TimeoutError:
                pass  # the end of what the stream holds
            await subscription.unsubscribe()
    finally:
        await client.close()
    return found


async def test_a_key_goes_out_only_with_a_job_comes_back_or_alerts_and_its_tag_tells_only_the_office(  # noqa: E501
    world: World,
    desktop: BrowserContext,
    phone: BrowserContext,
    screenshots: Path,
) -> None:
    technician = await world.person()
    idle = await world.person()
    job = await world.job_for(technician, unique("Boiler service"))
    seen = Pages(screenshots, "keys")

    # The office registers a key and is shown its tag code once, with a QR to print.
    office = await desktop.new_page()
    await sign_in(office, world, world.dispatcher.email)
    await expect(office).to_have_url(re.compile(r"/office/"))
    await office.goto(f"/office/sites/{job.site_id}")
    await office.locator("main").get_by_role("link", name="Keys", exact=True).click()
    await expect(office).to_have_url(re.compile(rf"/office/sites/{job.site_id}/keys$"))
    await seen.check(office, "01-site-keys-empty")
    await office.get_by_label("What it is").select_option("key")
    await office.get_by_label("Label (which door)").fill(LABEL)
    await office.get_by_role("button", name="Register and print the tag").click()
    tag_code = (await office.get_by_test_id("tag-code").text_content() or "").strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", tag_code), tag_code
    await expect(office.locator("figure.qr svg")).to_be_visible()
    await seen.check(office, "02-tag-to-print")
    page_text = await office.content()
    assert SITE[1] not in page_text and CUSTOMER["name"] not in page_text

    # Not to a technician without a job at the site; then to the one with the job.
    await office.get_by_role("link", name="Back to the site's keys").click()
    row = office.locator("tr[data-key]")
    await row.get_by_label("Hand out to").select_option(idle.id)
    await row.get_by_role("button", name="Hand out").click()
    await expect(office.get_by_role("alert")).to_contain_text("has no job at this site")
    await seen.check(office, "03-refused-without-a-job")
    await row.get_by_label("Hand out to").select_option(technician.id)
    await row.get_by_role("button", name="Hand out").click()
    await expect(office.get_by_role("status")).to_contain_text("Key handed out.")
    await expect(row).to_contain_text("Out")
    await seen.check(office, "04-handed-out")

    # The technician sees it under My keys, due back after the job.
    field = await phone.new_page()
    await sign_in(field, world, technician.email)
    await field.get_by_role("navigation", name="Main").get_by_role("link", name="My keys").click()
    card = field.locator("li[data-key]")
    await expect(card).to_contain_text(LABEL)
    await expect(card).to_contain_text("Due back by")
    await seen.check(field, "05-my-keys")

    # The job is done but the key is not back: the area's dispatcher is told.
    async with world.http as http:
        for step in ("start", "complete"):
            done = await http.post(
                f"/v1/work-orders/{job.id}/{step}", headers=bearer(technician.gateway_token)
            )
            assert done.status_code == 200, done.text
    deadline = time.monotonic() + ALERT_SECONDS
    alerts: list[dict[str, object]] = []
    while not alerts:
        inbox = await _inbox(world, world.dispatcher.gateway_token)
        alerts = [n for n in inbox if n["type"] == "key.overdue"]
        assert alerts or time.monotonic() < deadline, inbox
        await asyncio.sleep(0.5)
    [alert] = alerts
    assert alert["subject"] == "A key was not returned"
    assert technician.id in str(alert["body"]) and job.site_id in str(alert["body"])
    assert str(alert["link"]).endswith(f"/office/sites/{job.site_id}/keys")
    await asyncio.sleep(2)  # a few more sweeps: still one alert
    inbox = await _inbox(world, world.dispatcher.gateway_token)
    assert len([n for n in inbox if n["type"] == "key.overdue"]) == 1
    await field.reload()
    await expect(card).to_contain_text("Overdue")
    await seen.check(field, "06-my-keys-overdue")
    await field.get_by_role("button", name="I handed it back").click()
    await expect(field.get_by_role("status")).to_contain_text("Key handed back.")
    await expect(field.get_by_text("You hold no keys.")).to_be_visible()
    await seen.check(field, "07-my-keys-empty")

    # Lost: the office marks it; then finds it again by its tag and takes it back.
    await office.reload()
    await row.get_by_role("button", name="Mark lost").click()
    await expect(office.get_by_role("status")).to_contain_text("A task to change the lock")
    await expect(row).to_contain_text("Lost")
    await seen.check(office, "08-lost")
    await office.get_by_role("navigation", name="Main").get_by_role("link", name="Keys").click()
    await office.get_by_label("Code on the tag").fill(tag_code.lower().replace("-", " "))
    await office.get_by_role("button", name="Find").click()
    found = office.get_by_test_id("found-key")
    await expect(found).to_contain_text(f"This key opens {SITE[0]}")
    await seen.check(office, "09-found-by-tag")
    await found.get_by_role("link", name="Open the site's keys").click()
    await row.get_by_role("button", name="Take back").click()
    await expect(row).to_contain_text("In the office")

    # A technician (here: of the area; the rule is "office only") gets 404 for the tag.
    async with world.http as http:
        scanned = await http.get(
            "/v1/keys", params={"tag": tag_code}, headers=bearer(technician.gateway_token)
        )
        assert scanned.status_code == 404, scanned.text
        assert tag_code not in scanned.text and job.site_id not in scanned.text
        mine = await http.get("/v1/me/keys", headers=bearer(technician.gateway_token))
        assert mine.json() == {"items": []}
    seen.assert_accessible()

    # No canary in any notification, event or log line of the stack.
    canaries = [tag_code, tag_code.replace("-", ""), LABEL, SITE[0], SITE[1], CUSTOMER["name"]]

    def leaks(text: str) -> list[str]:
        return [canary for canary in canaries if canary.lower() in text.lower()]

    for person in (world.dispatcher, technician):
        for entry in await _inbox(world, person.gateway_token):
            assert not leaks(f"{entry['subject']} {entry['body']} {entry['link']}"), entry
    messages = await _messages(world, world.tenant.id)
    assert any("KeyOverdue" in m for m in messages), "the overdue event was published"
    assert not [m for m in messages if leaks(m)]
    for log in world.stack.logs_dir.glob("*.log"):
        assert not leaks(log.read_text(errors="replace")), log.name
