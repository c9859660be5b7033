"""Data-handling instructions in the browser, through the real stack: the admin publishes
them (a hostile document among the rules) with a grace period of 0 days; the technician's
job page sends them to the instructions, which render as harmless text; "I have read and
will follow these" takes them back to the job, where Show works. A new version reaches a
job page already open: Show leads to the instructions, then back. A dispatcher's office
page goes the same way. The admin's report lists who has and has not, by organisation.

Everything happens in a tenant of its own: the session's shared tenant never gets
instructions, so the other browser tests are not asked to acknowledge anything.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from pathlib import Path

import httpx
import pytest
from conftest import DOOR_CODE, World, bearer, unique
from playwright.async_api import BrowserContext, Page, expect
from test_office import Pages, sign_in_enrolling
from test_technician_day import sign_in

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver
from fieldvault_devstack.population import identity_process
from fieldvault_platform.grpc_client import open_channel

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]

#: A page answering a form post on a busy 2-core machine (ms): waits, never asserted on.
SLOW = 30_000

RULES = """# Handling customer data

1. Read codes only at the door, never aloud.
2. Close the key safe and scramble its dials.

<script>window.pwned = 1</script> <img src=x onerror="window.pwned = 2">
[Click for a bonus](javascript:window.pwned=3)

Questions: [the DPO](mailto:dpo@example.fi).
"""


async def own_tenant(world: World) -> World:
    """A world of its own: tenant, area and dispatcher, on the session's stack."""
    async with open_channel(world.driver_addr) as channel:
        driver = IdentityDriver(
            identity_process(world.stack),
            identity_pb2_grpc.IdentityServiceStub(channel),
        )
        tenant = await driver.new_tenant()
        area = await driver.new_area(tenant, "Harbour")
        dispatcher = await driver.new_person(tenant, roles=["dispatcher"], area_ids=[area])
    return dataclasses.replace(world, tenant=tenant, area_id=area, dispatcher=dispatcher, people=[])


async def until_reveal_refused(world: World, token: str, site_id: str) -> None:
    """customer_vault has heard of the new version (its copy is fed by identity's event)."""
    deadline = time.monotonic() + 20
    async with world.http as http:
        while True:
            answer = await http.post(
                f"/v1/sites/{site_id}/secrets/door_code/reveal", json={}, headers=bearer(token)
            )
            if answer.status_code == 403:
                assert answer.json()["code"] == "instructions_not_acknowledged", answer.text
                return
            assert time.monotonic() < deadline, "customer_vault never heard of the instructions"
            await asyncio.sleep(0.2)


async def publish(page: Page, pages: Pages, text: str, name: str) -> None:
    await page.goto("/office/instructions")
    await page.get_by_label("Instructions (Markdown)").fill(text)
    await page.get_by_label("Grace period in days").fill("0")
    await pages.check(page, f"{name}-form")
    # Enter in the last field submits the form (a click can land beside the button
    # while the page still scrolls under the sticky bar).
    await page.get_by_label("Grace period in days").press("Enter")
    await expect(page.get_by_role("status")).to_have_text("New version published.", timeout=SLOW)
    await pages.check(page, f"{name}-published")


async def test_a_technician_is_sent_to_the_instructions_and_back_to_the_job(
    world: World,
    phone: BrowserContext,
    desktop: BrowserContext,
    second_desktop: BrowserContext,
    screenshots: Path,
) -> None:
    mine = await own_tenant(world)
    technician = await mine.person()
    job = await mine.job_for(technician, unique("Door closer"))
    admin = await mine.newcomer(("admin",))
    office, field = Pages(screenshots, "instructions-office"), Pages(screenshots, "instructions")

    # The technician is signed in, on their day.
    phone_page = await phone.new_page()
    await sign_in(phone_page, mine, technician.email)
    await expect(phone_page).to_have_url(re.compile(r"/$"), timeout=SLOW)

    # The admin publishes the first version, binding at once.
    console = await desktop.new_page()
    await sign_in_enrolling(console, mine, admin.email)
    await console.goto("/office/instructions")
    await expect(console.get_by_text("Nothing published yet")).to_be_visible()
    await office.check(console, "01-empty")
    await publish(console, office, RULES, "02-v1")
    await until_reveal_refused(mine, technician.gateway_token, job.site_id)

    # Their day and their job now start with the instructions.
    await phone_page.goto("/")
    await expect(phone_page).to_have_url(re.compile(r"/instructions\?next=/$"), timeout=SLOW)
    await phone_page.goto(f"/jobs/{job.id}")
    await expect(phone_page).to_have_url(
        re.compile(rf"/instructions\?next=/jobs/{job.id}$"), timeout=SLOW
    )
    await expect(phone_page.get_by_test_id("instructions-due")).to_contain_text("version 1")
    text = phone_page.get_by_test_id("instructions-text")
    await expect(text.get_by_role("heading", name="Handling customer data")).to_be_visible()
    await expect(text).to_contain_text("<script>window.pwned = 1</script>")
    await expect(text).to_contain_text("[Click for a bonus](javascript:window.pwned=3)")
    await expect(text.get_by_role("link", name="the DPO")).to_have_attribute(
        "href", "mailto:dpo@example.fi"
    )
    assert await phone_page.evaluate("window.pwned") is None
    assert await text.locator("script, img, a[href^='javascript']").count() == 0
    assert DOOR_CODE not in await phone_page.content()
    await field.check(phone_page, "01-due")

    await phone_page.get_by_role("button", name="I have read and will follow these").click()
    await expect(phone_page).to_have_url(re.compile(rf"/jobs/{job.id}$"), timeout=SLOW)
    await phone_page.get_by_role("button", name="Show").click()
    await expect(phone_page.locator(".revealed .secret-value")).to_have_text(
        DOOR_CODE, timeout=SLOW
    )
    await field.check(phone_page, "02-back-on-the-job")

    # A second version while the job page is open: Show leads to it, then back.
    await publish(console, office, RULES + "\n3. Lock the van.\n", "03-v2")
    await until_reveal_refused(mine, technician.gateway_token, job.site_id)
    await phone_page.get_by_role("button", name="Show").click()
    await expect(phone_page).to_have_url(
        re.compile(rf"/instructions\?next=/jobs/{job.id}$"), timeout=SLOW
    )
    await expect(phone_page.get_by_test_id("instructions-text")).to_contain_text("Lock the van.")
    await field.check(phone_page, "03-new-version")
    await phone_page.get_by_role("button", name="I have read and will follow these").click()
    await expect(phone_page).to_have_url(re.compile(rf"/jobs/{job.id}$"), timeout=SLOW)
    await phone_page.get_by_role("button", name="Show").click()
    await expect(phone_page.locator(".revealed .secret-value")).to_have_text(
        DOOR_CODE, timeout=SLOW
    )

    # A third version with two weeks' grace: announced on their day, the codes still open.
    await console.goto("/office/instructions")
    await console.get_by_label("Instructions (Markdown)").fill(RULES + "\n4. Wear the badge.\n")
    await console.get_by_label("Grace period in days").fill("14")
    await console.get_by_label("Grace period in days").press("Enter")
    await expect(console.get_by_role("status")).to_have_text("New version published.", timeout=SLOW)
    await phone_page.goto("/")
    await expect(phone_page.get_by_test_id("instructions-due")).to_be_visible()
    await field.check(phone_page, "04-grace-period")
    await phone_page.goto(f"/jobs/{job.id}")
    await phone_page.get_by_role("button", name="Show").click()
    await expect(phone_page.locator(".revealed .secret-value")).to_have_text(
        DOOR_CODE, timeout=SLOW
    )

    # The office console too: the dispatcher's customer list waits for the instructions.
    dispatch = await second_desktop.new_page()
    await sign_in(dispatch, mine, mine.dispatcher.email)
    await dispatch.goto("/office/customers")
    await expect(dispatch).to_have_url(
        re.compile(r"/instructions\?next=/office/customers$"), timeout=SLOW
    )
    await office.check(dispatch, "04-dispatcher-due")
    await dispatch.get_by_role("button", name="I have read and will follow these").click()
    await expect(dispatch).to_have_url(re.compile(r"/office/customers$"), timeout=SLOW)
    await expect(dispatch.get_by_role("heading", level=1)).to_have_text("Customers")

    # The report of the latest version: who has and who has not, by organisation.
    await console.goto("/office/instructions/report")
    organisation = console.get_by_test_id("organisation")
    await expect(organisation).to_have_count(1)
    await expect(organisation).to_contain_text("1 of 4 have acknowledged.")
    await expect(organisation.get_by_test_id("pending")).to_have_count(3)
    await expect(organisation.get_by_test_id("acknowledged")).to_have_count(1)
    await office.check(console, "05-report")

    office.assert_accessible()
    field.assert_accessible()
    async with httpx.AsyncClient(base_url=mine.gateway_url, timeout=30) as http:
        report = await http.get(
            "/v1/tenant/instructions/report", headers=bearer(technician.gateway_token)
        )
    assert report.status_code == 403
