"""Every page: a first admin's invitation and second factor, refusals, CSRF, accessibility,
and a deactivated technician thrown out on the next page load."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from conftest import World, unique
from playwright.async_api import BrowserContext, Page, expect
from test_technician_day import sign_in

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_devstack.identity_driver import PASSWORD, totp
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.grpc_client import open_channel

# The first test also starts the whole stack, which takes minutes on a busy 2-core machine.
pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]

#: The contract: a deactivated person's sessions end within a second.
DEACTIVATION_SECONDS = 1.0
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    results = await Axe().run(page, options=AXE_OPTIONS)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def check_page(page: Page, screenshots: Path, name: str, found: dict[str, Any]) -> None:
    """A screenshot for the reviewer and axe's verdict, kept per page."""
    await page.screenshot(path=screenshots / f"{name}.png", full_page=True)
    found[name] = await serious_violations(page)


async def test_a_first_admin_accepts_the_invitation_enrols_totp_from_the_qr_page_and_signs_in_with_a_code(  # noqa: E501
    world: World, phone: BrowserContext, screenshots: Path
) -> None:
    slug = f"w-{uuid.uuid4().hex[:10]}"
    email = f"admin@{slug}.example"
    async with open_channel(world.driver_addr) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        created = await stub.CreateTenant(
            identity_pb2.CreateTenantRequest(
                slug=slug, name="Web Lifts Ltd", admin_email=email, admin_name="Ada"
            ),
            metadata=bearer_metadata(world.stack.operator_token()),
            timeout=30,
        )
    link = created.admin_invitation_url
    assert link.startswith(f"{world.web_url}/invitations/accept#token="), link
    axe: dict[str, Any] = {}
    page = await phone.new_page()

    # The e-mail's link opens the page; the token leaves the address bar at once.
    await page.goto(link)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to fieldvault")
    assert "token" not in page.url
    await check_page(page, screenshots, "11-accept-invitation", axe)
    # The policy's refusal is shown next to the field.
    await page.get_by_label("New password").fill("password1234567")
    await page.get_by_label("The same password again").fill("password1234567")
    await page.get_by_role("button", name="Set password").click()
    refusal = page.locator("#password-error")
    await expect(refusal).to_contain_text("too easy to guess")
    await expect(page.get_by_label("New password")).to_have_attribute(
        "aria-describedby", "password-error"
    )
    await check_page(page, screenshots, "12-accept-refused", axe)
    # Only the password is typed again.
    await page.get_by_label("New password").fill(PASSWORD)
    await page.get_by_label("The same password again").fill(PASSWORD)
    await page.get_by_role("button", name="Set password").click()
    await expect(page.get_by_role("status")).to_have_text("Your password is set. Sign in.")

    # First sign-in: the second factor must be set up, from a QR code or the key as text.
    await page.get_by_label("Organisation").fill(slug)
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/mfa/enrol$"))
    await expect(page.locator(".qr svg")).to_be_visible()
    secret = (await page.get_by_test_id("totp-secret").text_content() or "").strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    await check_page(page, screenshots, "13-enrol-second-factor", axe)
    await page.get_by_label("Six-digit code from the app").fill(totp(secret))
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("status")).to_contain_text("Second factor set up")

    # Then signing in asks for the code; the tenant is remembered on the device.
    await expect(page.get_by_label("Organisation")).to_have_value(slug)
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/signin/code$"))
    await check_page(page, screenshots, "14-sign-in-code", axe)
    await page.get_by_label("Six-digit code").fill("000000")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    # The next time step: the code used for confirming is spent.
    await page.get_by_label("Six-digit code").fill(totp(secret, at=time.time() + 30))
    await page.get_by_role("button", name="Sign in").click()
    # An admin has no field role: they start on their first office page.
    await expect(page).to_have_url(re.compile(r"/office/people$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("People")
    await page.goto("/me")
    await expect(page.get_by_text("An authenticator app is set up.")).to_be_visible()
    assert axe == {name: [] for name in axe}, axe


async def test_every_page_of_a_technician_has_no_serious_accessibility_violation(
    world: World, phone: BrowserContext, screenshots: Path
) -> None:
    technician = await world.person()
    job = await world.job_for(technician, unique("Alarm panel beeps"))
    page = await phone.new_page()
    axe: dict[str, Any] = {}
    await page.goto("/signin")
    await check_page(page, screenshots, "a11y-sign-in", axe)
    await page.get_by_label("Password").fill("not the password at all")
    await page.get_by_label("Organisation").fill(world.tenant.slug)
    await page.get_by_label("E-mail").fill(technician.email)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "The organisation, e-mail or password is not right."
    )
    await check_page(page, screenshots, "15-sign-in-refused", axe)
    await sign_in(page, world, technician.email)
    await expect(page).to_have_url(re.compile(r"/$"))
    await check_page(page, screenshots, "a11y-today", axe)
    await page.goto(f"/jobs/{job.id}")
    await page.get_by_text("Record a code").click()
    await check_page(page, screenshots, "a11y-job", axe)
    await page.get_by_role("button", name="Show").click()
    await expect(page.locator(".revealed .secret-value")).to_be_visible()
    found = await serious_violations(page)
    axe["a11y-job-code-shown"] = found
    await page.goto("/inbox")
    await check_page(page, screenshots, "a11y-inbox", axe)
    await page.goto("/me")
    await check_page(page, screenshots, "a11y-me", axe)
    # Finnish too.
    await page.get_by_role("button", name="Suomi").click()
    await expect(page.locator("html")).to_have_attribute("lang", "fi")
    await page.goto("/")
    await check_page(page, screenshots, "16-today-finnish", axe)
    await page.get_by_role("button", name="English").click()
    # Narrowest phone still usable: nothing wider than the screen.
    await page.set_viewport_size({"width": 320, "height": 640})
    await page.goto(f"/jobs/{job.id}")
    overflow = await page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, f"the job page is {overflow}px wider than a 320px screen"
    await check_page(page, screenshots, "17-job-320px", axe)
    # Tap targets: every button and link of the navigation and forms at least 44px high.
    small = await page.evaluate(
        """() => [...document.querySelectorAll('button, .tabs a, .button, input, select, summary')]
            .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
            .map(e => e.outerHTML.slice(0, 80))"""
    )
    assert small == [], small
    assert axe == {name: [] for name in axe}, axe


async def test_a_post_without_the_csrf_token_is_refused(
    world: World, phone: BrowserContext
) -> None:
    technician = await world.person()
    job = await world.job_for(technician, unique("Gate motor"))
    page = await phone.new_page()
    await sign_in(page, world, technician.email)
    await expect(page).to_have_url(re.compile(r"/$"))
    for path in (f"/jobs/{job.id}/start", f"/jobs/{job.id}/codes/door_code/reveal", "/signout"):
        missing = await page.request.post(path, form={"notes": "x"})
        assert missing.status == 403, (path, missing.status)
        forged = await page.request.post(path, form={"csrf": "0" * 64})
        assert forged.status == 403, (path, forged.status)
    anonymous = await phone.browser.new_context(base_url=world.web_url)  # type: ignore[union-attr]
    try:
        refused = await anonymous.request.post(
            "/signin",
            form={"tenant": world.tenant.slug, "email": technician.email, "password": PASSWORD},
        )
        assert refused.status == 403
    finally:
        await anonymous.close()
    # Still signed in and the job untouched.
    await page.goto(f"/jobs/{job.id}")
    await expect(page.get_by_role("button", name="Start job")).to_be_visible()


async def test_a_deactivated_technician_is_thrown_out_on_the_next_page_load(
    world: World, phone: BrowserContext
) -> None:
    technician = await world.person()
    page = await phone.new_page()
    await sign_in(page, world, technician.email)
    await expect(page).to_have_url(re.compile(r"/$"))
    async with open_channel(world.driver_addr) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        await stub.DeactivateUser(
            identity_pb2.DeactivateUserRequest(id=technician.id),
            metadata=bearer_metadata(world.tenant.admin_identity_token),
            timeout=10,
        )
    deactivated_at = time.monotonic()
    await asyncio.sleep(DEACTIVATION_SECONDS)
    await page.goto("/")
    assert time.monotonic() - deactivated_at < DEACTIVATION_SECONDS + 5
    await expect(page).to_have_url(re.compile(r"/signin"))
    await expect(page.get_by_role("status")).to_have_text("Your session has ended. Sign in again.")
    assert "__Host-fv-session" not in {c["name"] for c in await phone.cookies()}


async def test_signing_out_everywhere_throws_out_a_lost_phone_on_its_next_page_load(
    world: World, phone: BrowserContext
) -> None:
    technician = await world.person()
    lost = await phone.new_page()
    await sign_in(lost, world, technician.email)
    await expect(lost).to_have_url(re.compile(r"/$"))
    desk_context = await phone.browser.new_context(base_url=world.web_url)  # type: ignore[union-attr]
    try:
        desk = await desk_context.new_page()
        await sign_in(desk, world, technician.email)
        await desk.goto("/me")
        await desk.get_by_role("button", name="Sign out everywhere").click()
        await expect(desk.get_by_role("status")).to_have_text(
            "You have signed out on every device."
        )
    finally:
        await desk_context.close()
    await asyncio.sleep(DEACTIVATION_SECONDS)
    await lost.goto("/")
    await expect(lost).to_have_url(re.compile(r"/signin"))
    await expect(lost.get_by_role("status")).to_have_text("Your session has ended. Sign in again.")


async def test_too_many_wrong_passwords_are_explained_in_plain_words(
    world: World, phone: BrowserContext
) -> None:
    technician = await world.person()
    page = await phone.new_page()
    await page.goto("/signin")
    alert = page.get_by_role("alert")
    for _ in range(20):
        await page.get_by_label("Organisation").fill(world.tenant.slug)
        await page.get_by_label("E-mail").fill(technician.email)
        await page.get_by_label("Password").fill("a wrong password, again and again")
        await page.get_by_role("button", name="Sign in").click()
        await expect(alert).to_be_visible()
        if "Too many attempts" in (await alert.text_content() or ""):
            break
    await expect(alert).to_have_text(
        re.compile(r"^Too many attempts\. Try again in \d+ seconds\.$")
    )


async def test_the_app_installs_and_its_service_worker_caches_only_static_files(
    world: World, phone: BrowserContext
) -> None:
    technician = await world.person()
    job = await world.job_for(technician, unique("Fire door"))
    page = await phone.new_page()
    manifest = await (await page.request.get("/manifest.webmanifest")).json()
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert (await page.request.get(icon["src"])).status == 200
    await sign_in(page, world, technician.email)
    await expect(page).to_have_url(re.compile(r"/$"))
    assert await page.evaluate("navigator.serviceWorker.ready.then(r => r.active.scriptURL)")
    # Keyboard only: from the job page's top, Tab to Show and press Enter.
    await page.goto(f"/jobs/{job.id}")
    show = page.locator("[data-code=door_code] button")
    for _ in range(30):
        await page.keyboard.press("Tab")
        if await show.evaluate("button => button === document.activeElement"):
            break
    await page.keyboard.press("Enter")
    await expect(page.locator(".revealed .secret-value")).to_be_visible()
    await page.goto("/inbox")
    await page.goto("/")
    cached = await page.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                for (const request of await cache.keys()) urls.push(request.url);
            }
            return urls;
        }"""
    )
    assert cached, "the service worker cached nothing"
    assert all(f"{world.web_url}/static/" in url for url in cached), cached
