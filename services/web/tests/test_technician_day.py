"""A technician's whole day on a phone, through the real stack, in headless Chromium."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from conftest import CUSTOMER, DOOR_CODE, HIDE_AFTER_SECONDS, World, unique
from nats.aio.client import Client as NatsClient
from playwright.async_api import BrowserContext, Page, expect

from fieldvault_devstack.identity_driver import PASSWORD

# The first test also starts the whole stack, which takes minutes on a busy 2-core machine.
pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]

RECORDED_CODE = "WEBCANARY-RECORDED-55241"
SESSION_COOKIE = "__Host-fv-session"


async def sign_in(page: Page, world: World, email: str) -> None:
    await page.goto("/signin")
    await page.get_by_label("Organisation").fill(world.tenant.slug)
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def stored_anywhere(page: Page) -> str:
    """Everything the page's origin keeps in the browser: web storage, IndexedDB, caches."""
    return str(
        await page.evaluate(
            """async () => {
                const out = [JSON.stringify(localStorage), JSON.stringify(sessionStorage)];
                for (const db of (await indexedDB.databases?.()) || []) out.push(db.name);
                for (const name of await caches.keys()) {
                    const cache = await caches.open(name);
                    for (const request of await cache.keys()) {
                        const answer = await cache.match(request);
                        out.push(request.url, await answer.text());
                    }
                }
                return out.join("\\n");
            }"""
        )
    )


async def test_a_technicians_day_on_a_phone(
    world: World, phone: BrowserContext, screenshots: Path
) -> None:
    technician = await world.person()
    job = await world.job_for(technician, unique("Lift door sticks"))
    page = await phone.new_page()
    csp_answers: list[str | None] = []
    page.on(
        "response",
        lambda r: (
            csp_answers.append(r.headers.get("content-security-policy"))
            if r.request.resource_type == "document"
            else None
        ),
    )

    # Sign in.
    await page.goto("/signin")
    await page.screenshot(path=screenshots / "01-sign-in.png", full_page=True)
    await sign_in(page, world, technician.email)
    await expect(page).to_have_url(re.compile(r"/$"))

    # The session cookie: opaque, HttpOnly, Secure, __Host-.
    cookies = {c["name"]: c for c in await phone.cookies()}
    assert SESSION_COOKIE in cookies, cookies.keys()
    session = cookies[SESSION_COOKIE]
    assert session["httpOnly"] and session["secure"] and session["path"] == "/"
    assert session["sameSite"] in ("Lax", "Strict")
    assert "." not in session["value"], "the cookie holds no token"

    # Today lists the job; no code anywhere.
    await expect(page.get_by_role("link", name=re.compile(job.title))).to_be_visible()
    await expect(page.get_by_text("Satamakatu 7, Helsinki")).to_be_visible()
    assert DOOR_CODE not in await page.content()
    await page.screenshot(path=screenshots / "02-today.png", full_page=True)

    # The job: details, access instructions, the code by name only.
    await page.get_by_role("link", name=re.compile(job.title)).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(job.title)
    await expect(page.get_by_text("Staff entrance on the left")).to_be_visible()
    await expect(page.locator(".code-name")).to_have_text(["Door code"])
    initial_html = await page.content()
    assert DOOR_CODE not in initial_html
    source = await (await page.request.get(f"/jobs/{job.id}")).text()
    assert DOOR_CODE not in source
    await page.screenshot(path=screenshots / "03-job.png", full_page=True)

    # Show: the value large, with a countdown; then gone from the DOM.
    await page.get_by_role("button", name="Show").click()
    shown = page.locator(".revealed .secret-value")
    await expect(shown).to_have_text(DOOR_CODE)
    await expect(page.locator(".countdown")).to_contain_text("s")
    await page.screenshot(path=screenshots / "04-code-shown.png", full_page=True)
    assert DOOR_CODE not in page.url
    assert DOOR_CODE not in json.dumps(await phone.cookies())
    assert DOOR_CODE not in await stored_anywhere(page)
    await expect(shown).to_have_count(0, timeout=(HIDE_AFTER_SECONDS + 3) * 1000)
    assert DOOR_CODE not in await page.content()
    await page.screenshot(path=screenshots / "05-code-hidden.png", full_page=True)

    # Back and forward do not bring it back.
    await page.go_back()
    await expect(page).to_have_url(re.compile(r"/$"))
    await page.go_forward()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(job.title)
    assert DOOR_CODE not in await page.content()
    kept = await stored_anywhere(page)
    assert DOOR_CODE not in kept
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}", kept), "a token is kept in the browser"

    # Start; record a code learned on site (write-only: "saved", never the value).
    await page.get_by_role("button", name="Start job").click()
    await expect(page.get_by_role("status")).to_have_text("Job started.")
    await page.get_by_text("Record a code").click()
    await page.get_by_label("Kind of code").select_option("key_safe_code")
    await page.get_by_label("Code", exact=True).fill(RECORDED_CODE)
    await page.get_by_role("button", name="Save code").click()
    await expect(page.get_by_role("status")).to_have_text("Code saved.")
    assert RECORDED_CODE not in await page.content()
    await page.screenshot(path=screenshots / "06-job-started.png", full_page=True)

    # A tab left open on the job: after completion its Show is refused in words.
    stale = await phone.new_page()
    await stale.goto(f"/jobs/{job.id}")
    await page.get_by_label("Notes (what was done)").fill("Adjusted the door closer.")
    await page.get_by_role("button", name="Complete job").click()
    await expect(page.get_by_role("status")).to_have_text("Job completed.")
    await page.screenshot(path=screenshots / "07-job-completed.png", full_page=True)
    await stale.locator("[data-code=door_code]").get_by_role("button", name="Show").click()
    refusal = stale.locator("[data-code=door_code] .reveal-error")
    await expect(refusal).to_have_text("This job is finished, so its codes are closed.")
    assert DOOR_CODE not in await stale.content()
    await stale.screenshot(path=screenshots / "08-show-refused.png", full_page=True)
    await stale.close()

    # The inbox tells of the assignment; the count is in the navigation.
    for _ in range(50):
        await page.goto("/inbox")
        if await page.locator(".message").count():
            break
        await asyncio.sleep(0.2)
    await expect(page.locator(".message").first).to_be_visible()
    await expect(page.get_by_test_id("unread")).to_be_visible()
    assert DOOR_CODE not in await page.content()
    await page.screenshot(path=screenshots / "09-inbox.png", full_page=True)
    await page.get_by_role("button", name="Mark as read").first.click()
    await expect(page).to_have_url(re.compile(r"/inbox$"))

    await page.goto("/me")
    await page.screenshot(path=screenshots / "10-me.png", full_page=True)

    # Every page carried the strict policy.
    assert csp_answers and all(
        csp and "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        for csp in csp_answers
    ), csp_answers

    # Sign out: the session ends; Back shows no data.
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/signin"))
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/signin"))
    assert SESSION_COOKIE not in {c["name"] for c in await phone.cookies()}

    # Canaries: nothing secret or personal in the web app's log or its session bucket.
    await _no_canaries_in_log_and_bucket(world, [DOOR_CODE, RECORDED_CODE, technician.email])


async def _no_canaries_in_log_and_bucket(world: World, canaries: list[str]) -> None:
    stack = world.stack
    log = stack.service_log("web").read_text(errors="replace")
    for canary in [*canaries, CUSTOMER["name"], CUSTOMER["email"], PASSWORD]:
        assert canary not in log, f"the web log contains {canary!r}"
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", log), "the web log contains a token"

    client = NatsClient()
    await client.connect(stack.nats.url)
    try:
        kv = await client.jetstream().key_value("web_sessions")
        stream = await client.jetstream().stream_info("KV_web_sessions")
        assert stream.state.messages >= 0
        raw = []
        sub = await client.jetstream().subscribe("$KV.web_sessions.>", ordered_consumer=True)
        while True:
            try:
                message = await sub.next_msg(timeout=1)
            except TimeoutError:
                break
            raw.append(message.subject + "\n" + message.data.decode(errors="replace"))
        await sub.unsubscribe()
        assert raw, "the bucket was never written"
        dump = "\n".join(raw)
        for canary in [*canaries, PASSWORD, world.tenant.slug, "access_token"]:
            assert canary not in dump, f"the session bucket contains {canary!r}"
        # A bare "eyJ" turns up in random base64 now and then; a token has its dot.
        assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", dump), "the session bucket has a token"
        assert kv is not None
    finally:
        await client.close()
