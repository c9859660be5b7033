"""The GDPR reports in the office console, through the real stack in headless Chromium: the
DPO's printable record of processing activities with a subcontractor just added, a
customer's access report showing a technician's reveal with its work order, and the
auditor's access query naming who could and who did reveal the code. Every page is
captured (screen and print) and checked with axe-core; no page holds the code."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import DOOR_CODE, World, bearer, unique
from playwright.async_api import BrowserContext, expect
from test_office import Pages, sign_in_enrolling

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]

HELSINKI = ZoneInfo("Europe/Helsinki")


async def test_the_dpo_prints_the_record_of_processing_with_a_subcontractor_just_added(
    world: World, desktop: BrowserContext, screenshots: Path
) -> None:
    dpo = await world.newcomer(("dpo",))
    subcontractor = await world.subcontractor(
        dpa_signed_on="2026-04-01", dpa_expires_on="2099-03-31"
    )
    seen = Pages(screenshots, "office-processing")
    page = await desktop.new_page()
    await sign_in_enrolling(page, world, dpo.email)
    await page.get_by_role("link", name="Record of processing").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Record of processing activities"
    )
    row = page.get_by_test_id("subcontractor").filter(has_text="2026-04-01")
    await expect(row).to_contain_text("2099-03-31")
    await expect(row).to_contain_text("In force")
    async with world.http as http:
        organisation = await http.get(
            f"/v1/organizations/{subcontractor}",
            headers=bearer(world.dispatcher.gateway_token),
        )
    await expect(row).to_contain_text(organisation.json()["name"])
    await expect(page.get_by_role("button", name="Print")).to_be_visible()
    await seen.check(page, "01-record")
    await page.emulate_media(media="print")
    await expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    await expect(page.get_by_role("button", name="Print")).to_be_hidden()
    await page.screenshot(path=screenshots / "office-processing-02-print.png", full_page=True)
    await page.emulate_media(media="screen")
    seen.assert_accessible()


async def test_the_dpo_and_the_auditor_see_a_technicians_reveal_with_its_work_order(
    world: World,
    desktop: BrowserContext,
    second_desktop: BrowserContext,
    screenshots: Path,
) -> None:
    technician = await world.person()
    job = await world.job_for(technician, unique("Boiler service"))
    async with world.http as http:
        revealed = await http.post(
            f"/v1/sites/{job.site_id}/secrets/door_code/reveal",
            json={},
            headers=bearer(technician.gateway_token),
        )
        assert revealed.status_code == 200, revealed.text
        site = await http.get(
            f"/v1/sites/{job.site_id}", headers=bearer(world.dispatcher.gateway_token)
        )
    customer_id = site.json()["customer_id"]
    seen = Pages(screenshots, "office-access")

    dpo = await world.newcomer(("dpo",))
    page = await desktop.new_page()
    await sign_in_enrolling(page, world, dpo.email)
    await page.goto(f"/office/privacy/customers/{customer_id}")
    await page.get_by_role("link", name="Open the access report").click()
    await expect(page).to_have_url(re.compile(r"/access-report$"))
    entry = page.get_by_test_id("access-entry").filter(has_text="Code revealed")
    await expect(entry).to_have_count(1)
    await expect(entry.get_by_test_id("work-order")).to_contain_text(job.id[:8])
    await expect(entry).to_contain_text(technician.id[:8])
    await expect(entry).to_contain_text("Door code")
    await seen.check(page, "01-access-report")
    await page.emulate_media(media="print")
    await page.screenshot(path=screenshots / "office-access-02-report-print.png", full_page=True)
    await page.emulate_media(media="screen")

    auditor = await world.newcomer(("auditor",))
    audit = await second_desktop.new_page()
    await sign_in_enrolling(audit, world, auditor.email)
    await audit.get_by_role("link", name="Access query").click()
    await expect(audit).to_have_url(re.compile(r"/office/access-query$"))
    await seen.check(audit, "03-query-form")
    now = datetime.now(HELSINKI)
    await audit.get_by_label("Site (id)").fill(job.site_id)
    await audit.get_by_label("From").fill((now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    await audit.get_by_label("To").fill((now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    await audit.get_by_role("button", name="Ask").click()
    door = audit.get_by_test_id("code-door_code")
    await expect(door.get_by_test_id("could-grant")).to_contain_text(job.id[:8])
    await expect(door.get_by_test_id("could-break-glass").first).to_contain_text("break-glass")
    did = door.get_by_test_id("did-reveal")
    await expect(did).to_have_count(1)
    await expect(did).to_contain_text(technician.id[:8])
    await expect(did).to_contain_text(job.id[:8])
    await seen.check(audit, "04-query-answer")

    # A period that ends before it starts is named, not answered.
    await audit.get_by_label("From").fill(now.strftime("%Y-%m-%dT%H:%M"))
    await audit.get_by_label("To").fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    await audit.get_by_role("button", name="Ask").click()
    await expect(audit.get_by_role("alert")).to_contain_text("must start before it ends")
    await seen.check(audit, "05-query-refused")

    for html in seen.html:
        assert DOOR_CODE not in html
    seen.assert_accessible()
