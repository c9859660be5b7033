"""The office console at desktop size, through the real stack, in headless Chromium: a
dispatcher's morning, an admin onboarding a subcontractor, an expired agreement, an
auditor's view of a break-glass, and a DPO's export and erasure. Every page is captured
and checked with axe-core."""

from __future__ import annotations

import asyncio
import email
import json
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import World, bearer, unique
from playwright.async_api import BrowserContext, Page, expect
from test_pages import serious_violations
from test_technician_day import sign_in

from fieldvault_devstack.identity_driver import PASSWORD, totp

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]

OFFICE_DOOR_CODE = "OFFICECANARY-DOOR-48213"
BREAK_GLASS_CODE = "OFFICECANARY-ALARM-90317"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


class Pages:
    """Every page a test visits: a desktop screenshot, axe's verdict, and its HTML."""

    def __init__(self, screenshots: Path, prefix: str) -> None:
        self.screenshots = screenshots
        self.prefix = prefix
        self.violations: dict[str, Any] = {}
        self.html: list[str] = []

    async def check(self, page: Page, name: str) -> None:
        await page.screenshot(path=self.screenshots / f"{self.prefix}-{name}.png", full_page=True)
        self.violations[name] = await serious_violations(page)
        self.html.append(await page.content())

    def assert_accessible(self) -> None:
        assert self.violations == {n: [] for n in self.violations}, self.violations


async def enrol_second_factor(page: Page) -> str:
    """From the enrolment page (first sign-in of a role that must have one, or from Me):
    the key as text, confirmed with a code. Returns the key."""
    await expect(page).to_have_url(re.compile(r"/mfa/enrol$"))
    secret = (await page.get_by_test_id("totp-secret").text_content() or "").strip()
    await page.get_by_label("Six-digit code from the app", exact=True).fill(totp(secret))
    await page.get_by_role("button", name="Confirm").click()
    return secret


async def sign_in_enrolling(page: Page, world: World, email_address: str) -> str:
    """A first sign-in where the role must have a second factor: enrol, then sign in with
    the next code. Returns the key."""
    await sign_in(page, world, email_address)
    secret = await enrol_second_factor(page)
    await expect(page.get_by_role("status")).to_contain_text("Second factor set up")
    await page.get_by_label("E-mail", exact=True).fill(email_address)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_label("Six-digit code", exact=True).fill(totp(secret, at=time.time() + 30))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).not_to_have_url(re.compile(r"/signin"))
    return secret


async def customer_with_site(world: World, name: str) -> tuple[str, str, str]:
    """Over the API: a customer (unique e-mail) with a site in the world's area."""
    mail = f"{name.replace(' ', '.').lower()}@example.net"
    dispatcher = bearer(world.dispatcher.gateway_token)
    async with world.http as http:
        customer = await http.post(
            "/v1/customers",
            json={"name": name, "email": mail, "area_id": world.area_id},
            headers=dispatcher,
        )
        assert customer.status_code == 201, customer.text
        site = await http.post(
            "/v1/sites",
            json={
                "customer_id": customer.json()["id"],
                "area_id": world.area_id,
                "name": f"{name} House",
                "address": "Rantatie 3, Espoo",
            },
            headers=dispatcher,
        )
        assert site.status_code == 201, site.text
    return customer.json()["id"], site.json()["id"], mail


async def work_order_at(world: World, site_id: str, title: str) -> str:
    async with world.http as http:
        order = await http.post(
            "/v1/work-orders",
            json={"site_id": site_id, "title": title},
            headers=bearer(world.dispatcher.gateway_token),
        )
        assert order.status_code == 201, order.text
    order_id: str = order.json()["id"]
    return order_id


async def test_a_dispatchers_morning_from_a_new_customer_to_a_completed_job(
    world: World, desktop: BrowserContext, phone: BrowserContext, screenshots: Path
) -> None:
    technician = await world.person()
    dispatcher = await world.person(("dispatcher",))
    seen = Pages(screenshots, "office-dispatcher")
    page = await desktop.new_page()
    await sign_in(page, world, dispatcher.email)
    # A dispatcher starts on the board; the field pages are not in their navigation.
    await expect(page).to_have_url(re.compile(r"/office/work-orders$"))
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Work orders")).to_be_visible()
    await expect(nav.get_by_role("link", name="Customers")).to_be_visible()
    for hidden in ("Today", "People", "Audit trail", "Data requests"):
        await expect(nav.get_by_role("link", name=hidden, exact=True)).to_have_count(0)
    await seen.check(page, "01-board")

    # A customer, a site and its door code (write-only).
    name = unique("Mia Morning")
    mail = f"mia.{name.split()[-1]}@example.net"
    await nav.get_by_role("link", name="Customers").click()
    await seen.check(page, "02-customers")
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_label("E-mail", exact=True).fill(mail)
    await page.get_by_label("Phone", exact=True).fill("+358 40 123 4567")
    await page.get_by_role("button", name="Add the customer").click()
    await expect(page.get_by_role("status")).to_have_text("Customer added.")
    await seen.check(page, "03-customer")
    # A contract: uploaded, then downloaded as it was.
    await page.get_by_label("Contract document", exact=True).set_input_files(
        {"name": "service-contract.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await page.get_by_role("button", name="Upload").click()
    await expect(page.get_by_role("status")).to_have_text("Contract uploaded.")
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="service-contract.pdf").click()
    contract = Path(await (await downloading.value).path())
    assert await asyncio.to_thread(contract.read_bytes) == PDF
    await page.get_by_label("Name", exact=True).fill("Morning Mill")
    await page.get_by_label("Address", exact=True).fill("Myllykatu 1, Helsinki")
    await page.get_by_label("Access instructions", exact=True).fill(
        "Back door, by the loading bay."
    )
    await page.get_by_role("button", name="Add the site").click()
    await expect(page.get_by_role("status")).to_have_text("Site added.")
    site_url = page.url
    await page.get_by_label("Kind of code", exact=True).select_option("door_code")
    await page.get_by_label("Code", exact=True).fill(OFFICE_DOOR_CODE)
    await page.get_by_role("button", name="Save code").click()
    await expect(page.get_by_role("status")).to_have_text("Code saved.")
    await expect(page.locator("[data-code=door_code]")).to_contain_text("Door code")
    await seen.check(page, "04-site-with-code")

    # File a work order: the picker finds the customer by e-mail through the API.
    await page.goto("/office/work-orders/new")
    await seen.check(page, "05-file-order")
    await page.get_by_label("Name, e-mail or phone number", exact=True).fill(mail)
    await page.get_by_role("button", name="Find").click()
    await page.get_by_role("link", name=name).click()
    await page.get_by_label("Site", exact=True).select_option(
        label="Morning Mill — Myllykatu 1, Helsinki"
    )
    title = unique("Door closer squeaks")
    await page.get_by_label("Title", exact=True).fill(title)
    await page.get_by_label("Priority", exact=True).select_option("high")
    start = datetime.now(ZoneInfo("Europe/Helsinki")).replace(second=0, microsecond=0)
    await page.get_by_label("Starts", exact=True).fill(start.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_role("button", name="File the work order").click()
    await expect(page.get_by_role("alert")).to_contain_text("Check the fields")
    await page.get_by_label("Ends", exact=True).fill(
        (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    )
    await seen.check(page, "06-file-order-filled")
    await page.get_by_role("button", name="File the work order").click()
    await expect(page.get_by_role("status")).to_have_text("Work order filed.")
    order_url = page.url.split("?")[0]
    order_id = order_url.rsplit("/", 1)[1]

    # Edit: someone else's change first (412) is said, and nothing is overwritten.
    async with world.http as http:
        current = (
            await http.get(
                f"/v1/work-orders/{order_id}", headers=bearer(world.dispatcher.gateway_token)
            )
        ).json()
        elsewhere = await http.patch(
            f"/v1/work-orders/{order_id}",
            json={"description": "Changed by a colleague"},
            headers=bearer(world.dispatcher.gateway_token) | {"If-Match": current["etag"]},
        )
        assert elsewhere.status_code == 200, elsewhere.text
    await page.get_by_label("Description", exact=True).fill("My own description")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("alert")).to_contain_text("Someone else changed this work order")
    await seen.check(page, "07-order-stale")
    await page.get_by_role("link", name="Reload the work order").click()
    await expect(page.get_by_label("Description", exact=True)).to_have_value(
        "Changed by a colleague"
    )

    # Assign from the picker: the technicians of the site's area.
    await page.get_by_label(re.compile(re.escape(technician.email))).check()
    await page.get_by_role("button", name="Assign", exact=True).click()
    await expect(page.get_by_role("status")).to_have_text("Assigned.")
    await seen.check(page, "08-order-assigned")

    # The technician, in a second browser, completes it.
    field = await phone.new_page()
    await sign_in(field, world, technician.email)
    await field.get_by_role("link", name=re.compile(re.escape(title))).click()
    await field.get_by_role("button", name="Start job").click()
    await expect(field.get_by_role("status")).to_have_text("Job started.")
    await field.get_by_label("Notes (what was done)", exact=True).fill("Oiled the closer.")
    await field.get_by_role("button", name="Complete job").click()
    await expect(field.get_by_role("status")).to_have_text("Job completed.")
    # Hidden links are a courtesy: the API refuses pages outside one's roles, in words.
    for url in ("/office/people", "/office/customers", "/office/audit"):
        answer = await field.goto(url)
        assert answer is not None and answer.status == 403, url
        await expect(field.get_by_role("alert")).to_have_text("You are not allowed to do that.")

    # The board shows it completed on the next refresh (filtered by status).
    await page.goto("/office/work-orders?status=completed")
    row = page.get_by_test_id("order-row").filter(has_text=title)
    await expect(row).to_contain_text("Completed")
    await seen.check(page, "09-board-completed")
    # Search by reference finds it.
    reference = (await row.locator(".ref").text_content() or "").strip()
    await page.goto(f"/office/work-orders?reference={reference}")
    await expect(page.get_by_test_id("order-row")).to_have_count(1)

    # The code never appears on any page afterwards, nor in its source.
    for url in (site_url, order_url, "/office/work-orders", "/office/customers"):
        await page.goto(url)
        seen.html.append(await page.content())
        seen.html.append(await (await page.request.get(url)).text())
    for html in seen.html:
        assert OFFICE_DOOR_CODE not in html
    seen.assert_accessible()


async def test_an_admin_onboards_a_subcontractor_whose_manager_assigns_their_own_technician(
    world: World,
    desktop: BrowserContext,
    second_desktop: BrowserContext,
    screenshots: Path,
) -> None:
    admin = await world.newcomer(("admin",))
    seen = Pages(screenshots, "office-admin")
    page = await desktop.new_page()
    await sign_in_enrolling(page, world, admin.email)
    await expect(page).to_have_url(re.compile(r"/office/people$"))
    await seen.check(page, "01-people")

    # The subcontractor, its DPA dates and the signed PDF.
    company = unique("Nordic Locks")
    await page.goto("/office/organisations")
    await seen.check(page, "02-organisations")
    await page.get_by_label("Name", exact=True).fill(company)
    today = date.today()
    await page.get_by_label("Agreement signed on", exact=True).fill(
        (today - timedelta(days=30)).isoformat()
    )
    await page.get_by_label("Agreement ends on", exact=True).fill(
        (today + timedelta(days=365)).isoformat()
    )
    await page.get_by_label("Signed agreement (PDF)", exact=True).set_input_files(
        {"name": "dpa-signed.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await page.get_by_role("button", name="Add the subcontractor").click()
    await expect(page.get_by_role("status")).to_have_text("Organisation added with its agreement.")
    row = page.get_by_test_id("organisation").filter(has_text=company)
    await expect(row).to_contain_text("In force")
    async with page.expect_download() as downloading:
        await row.get_by_role("link", name="Download").click()
    saved = Path(await (await downloading.value).path())
    assert await asyncio.to_thread(saved.read_bytes) == PDF
    await seen.check(page, "03-organisation-added")

    # Invite its manager.
    manager_mail = f"manager-{unique('m').split()[-1]}@{world.tenant.slug}.example"
    await page.goto("/office/people")
    await page.get_by_label("Name", exact=True).fill("Maja Manager")
    await page.get_by_label("E-mail", exact=True).fill(manager_mail)
    await page.get_by_label("Subcontractor manager", exact=True).check()
    await page.get_by_label("Organisation", exact=True).select_option(label=company)
    await page.get_by_role("button", name="Send the invitation").click()
    await expect(page.get_by_role("status")).to_have_text("Invitation sent.")
    await expect(page.get_by_test_id("person").filter(has_text=manager_mail)).to_contain_text(
        company
    )
    await seen.check(page, "04-invited")

    # The rest of the admin's pages: areas, API clients (secret once), the MFA policy.
    await page.goto("/office/areas")
    await seen.check(page, "05-areas")
    await page.goto("/office/integrations")
    await page.get_by_label("Name", exact=True).fill("Partner ERP")
    await page.get_by_label("work_orders:read", exact=True).check()
    await page.get_by_role("button", name="Create the API client").click()
    secret = (await page.get_by_test_id("secret-once").text_content() or "").strip()
    assert len(secret) >= 16
    await expect(page.get_by_role("button", name="Copy")).to_be_visible()
    await seen.check(page, "06-api-client-secret-once")
    await page.goto("/office/integrations")
    assert secret not in await page.content(), "the secret is shown once"
    await page.goto("/office/security")
    await expect(page.get_by_label(re.compile("emergency"))).to_be_checked()
    await seen.check(page, "07-security")

    organisation_id = await _organisation_id(world, world.dispatcher.gateway_token, company)
    own_technician = await world.person(organization_id=organisation_id)
    _, site_id, _ = await customer_with_site(world, unique("Sub Customer"))
    title = unique("Lock cylinder swap")
    order_id = await work_order_at(world, site_id, title)
    async with world.http as http:
        assigned = await http.post(
            f"/v1/work-orders/{order_id}/assign",
            json={"organization_id": organisation_id},
            headers=bearer(world.dispatcher.gateway_token),
        )
        assert assigned.status_code == 200, assigned.text

    # The manager accepts the invitation in a third browser and assigns the job.
    link = await _invitation_link(world, manager_mail)
    manager = await second_desktop.new_page()
    await manager.goto(link)
    await manager.get_by_label("New password", exact=True).fill(PASSWORD)
    await manager.get_by_label("The same password again", exact=True).fill(PASSWORD)
    await manager.get_by_role("button", name="Set password").click()
    await expect(manager.get_by_role("status")).to_have_text("Your password is set. Sign in.")
    await sign_in(manager, world, manager_mail)
    await expect(manager).to_have_url(re.compile(r"/office/work-orders$"))
    await seen.check(manager, "08-manager-board")
    await manager.get_by_role("link", name=title).click()
    await manager.get_by_label(re.compile(re.escape(own_technician.email))).check()
    await seen.check(manager, "09-manager-assigns")
    await manager.get_by_role("button", name="Assign", exact=True).click()
    await expect(manager.get_by_role("status")).to_have_text("Assigned.")
    await expect(manager.get_by_test_id("assignee")).to_have_text("Tess")
    async with world.http as http:
        order = await http.get(
            f"/v1/work-orders/{order_id}", headers=bearer(world.dispatcher.gateway_token)
        )
    assert order.json()["assignee_user_id"] == own_technician.id
    seen.assert_accessible()


async def _organisation_id(world: World, token: str, name: str) -> str:
    async with world.http as http:
        listing = await http.get(
            "/v1/organizations", params={"page_size": 200}, headers=bearer(token)
        )
    found = [o["id"] for o in listing.json()["items"] if o["name"] == name]
    assert found, listing.text
    return str(found[0])


async def _invitation_link(world: World, address: str) -> str:
    """The invitation e-mail's link, from the local stack's mail folder."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for path in sorted(world.stack.mail_dir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes())
            if message["To"] != address:
                continue
            body = ""
            for part in message.walk():
                payload = part.get_payload(decode=True)
                if part.get_content_type() == "text/plain" and isinstance(payload, bytes):
                    body += payload.decode(errors="replace")
            found = re.search(r"https?://\S+/invitations/accept#token=[\w.~-]+", body)
            if found:
                return found.group(0).replace(world.web_url, "")
        await asyncio.sleep(0.2)
    raise AssertionError(f"no invitation mail to {address}")


async def test_an_organisation_whose_agreement_has_expired_cannot_be_picked(
    world: World, desktop: BrowserContext, screenshots: Path
) -> None:
    today = date.today()
    lapsed = await world.subcontractor(
        dpa_signed_on=(today - timedelta(days=400)).isoformat(),
        dpa_expires_on=(today - timedelta(days=1)).isoformat(),
    )
    _, site_id, _ = await customer_with_site(world, unique("Lapsed Customer"))
    order_id = await work_order_at(world, site_id, unique("Gate motor"))
    dispatcher = await world.person(("dispatcher",))
    page = await desktop.new_page()
    await sign_in(page, world, dispatcher.email)
    await page.goto(f"/office/work-orders/{order_id}")
    choice = page.locator(f"input[value='org:{lapsed}']")
    await expect(choice).to_be_disabled()
    reason = page.locator(f"#dpa-{lapsed}")
    await expect(reason).to_contain_text("data processing agreement has lapsed")
    await page.screenshot(path=screenshots / "office-expired-agreement.png", full_page=True)
    assert await serious_violations(page) == []


async def test_the_auditor_sees_a_dispatchers_break_glass_with_its_reason_and_the_chain_status(
    world: World, desktop: BrowserContext, second_desktop: BrowserContext, screenshots: Path
) -> None:
    _, site_id, _ = await customer_with_site(world, unique("Glass Customer"))
    async with world.http as http:
        written = await http.put(
            f"/v1/sites/{site_id}/secrets/alarm_code",
            json={"value": BREAK_GLASS_CODE},
            headers=bearer(world.dispatcher.gateway_token),
        )
        assert written.status_code == 204, written.text
    seen = Pages(screenshots, "office-audit")
    # The auditor exists before the reveal, so they are told of it.
    auditor = await world.newcomer(("auditor",))
    dispatcher = await world.person(("dispatcher",))
    page = await desktop.new_page()
    await sign_in(page, world, dispatcher.email)
    # The policy asks for the second factor: set one up from Me first.
    await page.goto("/mfa/enrol")
    secret = await enrol_second_factor(page)
    await page.goto(f"/office/sites/{site_id}")
    await expect(page.get_by_text("the auditors are told at once")).to_be_visible()
    reason = "Customer locked out at night, alarm sounding"
    await page.get_by_label(re.compile("Why you need it")).fill(reason)
    await page.get_by_role("button", name="Reveal in an emergency").click()
    await expect(page.get_by_role("alert")).to_contain_text("authenticator app")
    assert BREAK_GLASS_CODE not in await page.content()
    await seen.check(page, "01-break-glass-asks-code")
    await page.get_by_label(re.compile("Why you need it")).fill(reason)
    await page.get_by_label("Code from your authenticator app", exact=True).fill(
        totp(secret, at=time.time() + 30)
    )
    await page.get_by_role("button", name="Reveal in an emergency").click()
    await expect(page.get_by_test_id("revealed-value")).to_have_text(BREAK_GLASS_CODE)
    await page.goto(f"/office/sites/{site_id}")
    assert BREAK_GLASS_CODE not in await page.content()

    audit = await second_desktop.new_page()
    await sign_in_enrolling(audit, world, auditor.email)
    await expect(audit).to_have_url(re.compile(r"/office/audit$"))
    await expect(audit.get_by_test_id("chain")).to_contain_text("The chain is intact")
    # The alert arrives through notification, asynchronously; its link opens this page.
    alert = audit.get_by_test_id("alert").filter(has_text="Break-glass reveal: alarm code")
    for _ in range(50):
        if await alert.count():
            break
        await asyncio.sleep(0.2)
        await audit.goto("/audit")
    await expect(alert.first).to_be_visible()
    await seen.check(audit, "02-alerts")
    await audit.goto(f"/office/audit?break_glass=yes&person={dispatcher.id}")
    event = audit.get_by_test_id("audit-event").filter(has_text=reason)
    await expect(event.first).to_contain_text("Break-glass")
    await seen.check(audit, "03-audit-trail")
    for html in seen.html:
        assert BREAK_GLASS_CODE not in html
    seen.assert_accessible()


async def test_the_dpo_downloads_an_export_and_erases_the_customer(
    world: World, desktop: BrowserContext, screenshots: Path
) -> None:
    name = unique("Erin Erasable")
    customer_id, _, mail = await customer_with_site(world, name)
    seen = Pages(screenshots, "office-dpo")
    dpo = await world.newcomer(("dpo",))
    page = await desktop.new_page()
    await sign_in_enrolling(page, world, dpo.email)
    await expect(page).to_have_url(re.compile(r"/office/privacy$"))
    await seen.check(page, "01-find")
    await page.get_by_label("Name, e-mail or phone number", exact=True).fill(mail)
    await page.get_by_role("button", name="Find").click()
    await page.get_by_role("link", name=name).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    await seen.check(page, "02-data-request")

    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="Download the export").click()
    download = await downloading.value
    assert download.suggested_filename.endswith(".json")
    exported = json.loads(await asyncio.to_thread(Path(await download.path()).read_text))
    assert name in json.dumps(exported)

    await page.get_by_label(re.compile("Why")).fill("The customer asked to be forgotten.")
    await page.get_by_label(re.compile("Type the customer's name")).fill("not the name")
    await page.get_by_role("button", name="Erase for good").click()
    await expect(page.get_by_role("alert")).to_contain_text("Type the customer's name exactly")
    await page.get_by_label(re.compile("Why")).fill("The customer asked to be forgotten.")
    await page.get_by_label(re.compile("Type the customer's name")).fill(name)
    await page.get_by_role("button", name="Erase for good").click()
    await expect(page.get_by_test_id("erased")).to_be_visible()
    await seen.check(page, "03-erased")
    await page.goto(f"/office/privacy/customers/{customer_id}")
    await expect(page.get_by_test_id("erased")).to_be_visible()
    assert name not in await page.content()
    seen.assert_accessible()
