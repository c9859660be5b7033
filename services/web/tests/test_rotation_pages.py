"""The office console after someone leaves, in headless Chromium through the real stack: a
dispatcher finds the code a leaver saw among the codes to change and closes its task with
a reason; the overdue codes page; the auditor reads the leaver's exposure. Every page is
captured and checked with axe-core."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from conftest import World, bearer, unique
from playwright.async_api import BrowserContext, expect
from test_office import Pages, customer_with_site, sign_in_enrolling, work_order_at
from test_technician_day import sign_in

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]

LEAVER_CODE = "ROTATIONCANARY-DOOR-66021"


async def a_leaver_saw_the_code(world: World, site_id: str) -> str:
    """Over the API: a technician reveals the site's door code for a job, then is
    deactivated by an admin. Returns the leaver's id."""
    technician = await world.person(("technician",))
    admin = await world.person(("admin",))
    order_id = await work_order_at(world, site_id, "Hinge repair")
    async with world.http as http:
        written = await http.put(
            f"/v1/sites/{site_id}/secrets/door_code",
            json={"value": LEAVER_CODE},
            headers=bearer(world.dispatcher.gateway_token),
        )
        assert written.status_code == 204, written.text
        assigned = await http.post(
            f"/v1/work-orders/{order_id}/assign",
            json={"assignee_user_id": technician.id},
            headers=bearer(world.dispatcher.gateway_token),
        )
        assert assigned.status_code == 200, assigned.text
        for _ in range(100):
            shown = await http.post(
                f"/v1/sites/{site_id}/secrets/door_code/reveal",
                json={},
                headers=bearer(technician.gateway_token),
            )
            if shown.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert shown.status_code == 200, shown.text
        gone = await http.post(
            f"/v1/users/{technician.id}/deactivate", headers=bearer(admin.gateway_token)
        )
        assert gone.status_code in (200, 204), gone.text
    return technician.id


async def test_a_dispatcher_closes_the_task_of_a_code_a_leaver_saw_and_the_auditor_reads_why(
    world: World, desktop: BrowserContext, second_desktop: BrowserContext, screenshots: Path
) -> None:
    _, site_id, _ = await customer_with_site(world, unique("Rotation Customer"))
    leaver_id = await a_leaver_saw_the_code(world, site_id)
    seen = Pages(screenshots, "office-rotation")

    page = await desktop.new_page()
    await sign_in(page, world, world.dispatcher.email)
    await expect(page).not_to_have_url(re.compile(r"/signin"))
    row = page.locator(f'[data-testid="rotation-task"][data-site="{site_id}"]')
    for _ in range(50):  # the report is made from identity's event, asynchronously
        await page.goto("/office/rotation-tasks")
        if await row.count():
            break
        await asyncio.sleep(0.2)
    await expect(row).to_contain_text("Door code")
    await expect(row).to_contain_text("Seen by someone who left")
    await expect(page.get_by_role("link", name="Codes to change")).to_have_attribute(
        "aria-current", "page"
    )
    await seen.check(page, "01-codes-to-change")
    await row.get_by_label("Why no change is needed").fill("The code is per visit")
    await row.get_by_role("button", name="Close").click()
    await expect(page.get_by_role("status")).to_contain_text("The task is closed.")
    await expect(row).to_have_count(0)  # open ones are shown by default
    await page.goto(f"/office/rotation-tasks?status=closed&site={site_id}")
    await expect(row).to_contain_text("The code is per visit")
    await seen.check(page, "02-closed")

    await page.goto("/office/overdue-codes")
    await expect(page.get_by_test_id("policy")).to_contain_text("no longest age")
    await expect(page.get_by_text("No code is overdue.")).to_be_visible()
    await seen.check(page, "03-overdue")

    auditor = await world.newcomer(("auditor",))
    audit = await second_desktop.new_page()
    await sign_in_enrolling(audit, world, auditor.email)
    await audit.goto(f"/office/exposure?user={leaver_id}")
    await expect(audit.get_by_test_id("exposure")).to_contain_text("Deactivated")
    item = audit.get_by_test_id("exposure-item")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("Door code")
    await expect(item).to_contain_text("Task opened")
    await seen.check(audit, "04-exposure")
    await audit.goto("/office/exposure?user=nobody-at-all")
    await expect(audit.get_by_test_id("no-report")).to_be_visible()

    for html in seen.html:
        assert LEAVER_CODE not in html
    seen.assert_accessible()
