"""Secure shares in headless Chromium: an admin shares a one-off credential and a contract
from the office page and revokes a third share; the recipient, on a phone, opens the link
from the e-mail, is refused a wrong PIN, sees the credential once and gets the contract as
a download once — and every later try reads "no longer available". Every page is captured
and checked with axe-core.

The PIN comes from the SMS the stack's notification service sent to its gateway (the
test run's recorder); the link from the ``.eml`` the local stack wrote.
"""

from __future__ import annotations

import asyncio
import email
import re
import secrets
from pathlib import Path

import pytest
from conftest import World, bearer
from playwright.async_api import BrowserContext, Page, expect
from test_office import Pages, sign_in_enrolling

from fieldvault_devstack.shared_stack import SHARE_MAX_PIN_ATTEMPTS

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]

CREDENTIAL = "SHAREPAGE-CANARY-CRED-61733"
CONTRACT = b"%PDF-1.4\n% SHAREPAGE contract\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
_LINK = re.compile(r"(https?://\S+/shared#token=\S+)")


async def _link_for(world: World, address: str, seen_before: int) -> str:
    """The link of the newest share e-mail to ``address`` (waiting for it to be written)."""
    for _ in range(300):
        found = []
        for path in sorted(world.stack.mail_dir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes())
            if message["To"] == address:
                body = message.get_payload(decode=True)
                assert isinstance(body, bytes)
                match = _LINK.search(body.decode())
                if match:
                    found.append(match.group(1))
        if len(found) > seen_before:
            return found[-1]
        await asyncio.sleep(0.1)
    raise AssertionError("no share e-mail arrived")


async def _pin_for(world: World, number: str, seen_before: int) -> str:
    """The PIN of the newest share SMS to ``number`` (waiting for it to be sent)."""
    for _ in range(300):
        texts = world.shared.sms_to(number)
        if len(texts) > seen_before:
            pin = re.search(r"PIN (\d{8})", texts[-1])
            assert pin is not None, texts[-1]
            return pin.group(1)
        await asyncio.sleep(0.1)
    raise AssertionError("no share SMS arrived")


async def _share_from_the_page(page: Page, **fields: str) -> None:
    if "kind" in fields:
        await page.get_by_label("What", exact=True).select_option(fields["kind"])
    if "document_id" in fields:
        await page.get_by_label(re.compile("^Document id")).fill(fields["document_id"])
    if "credential" in fields:
        await page.get_by_label(re.compile("^One-off credential")).fill(fields["credential"])
    await page.get_by_label(re.compile("^Recipient's e-mail")).fill(fields["email"])
    await page.get_by_label(re.compile("^Recipient's mobile")).fill(fields["phone"])
    await page.get_by_label(re.compile("^Your note")).fill(fields["label"])
    await page.get_by_role("button", name="Share", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("The link is on its way")


async def _newest_share_id(page: Page) -> str:
    share_id = await page.locator("#share-list tbody tr").first.get_attribute("data-share-id")
    assert share_id
    return share_id


async def test_an_admin_shares_and_the_recipient_opens_each_share_once_with_the_pin(
    world: World, desktop: BrowserContext, phone: BrowserContext, screenshots: Path
) -> None:
    office_seen = Pages(screenshots, "share-office")
    recipient_seen = Pages(screenshots, "share-recipient")
    admin = await world.newcomer(("admin",))
    page = await desktop.new_page()
    await sign_in_enrolling(page, world, admin.email)
    await page.get_by_role("link", name="Secure shares").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Secure shares")
    await office_seen.check(page, "01-empty")

    recipient = f"board-{world.tenant.slug}@example.org"
    # A number of this test's own, as the SMS gateway receives it (normalised).
    phone_number = f"+35840{secrets.randbelow(10**7):07d}"
    await _share_from_the_page(
        page,
        kind="credential",
        credential=CREDENTIAL,
        email=recipient,
        phone=phone_number,
        label="Gate account for the board",
    )
    credential_share = await _newest_share_id(page)
    await office_seen.check(page, "02-shared")
    assert CREDENTIAL not in await page.content()

    # --- the recipient, on a phone -------------------------------------------------
    link = await _link_for(world, recipient, 0)
    pin = await _pin_for(world, phone_number, 0)
    field = await phone.new_page()
    await field.goto(link)
    # The token went into the form and left the address bar.
    await expect(field).to_have_url(re.compile(r"/shared$"))
    await expect(field.get_by_label(re.compile("^Share code"))).to_be_hidden()
    await recipient_seen.check(field, "01-pin")
    await field.get_by_label(re.compile("^PIN")).fill(f"{(int(pin) + 1) % 10**8:08d}")
    await field.get_by_role("button", name="Open").click()
    await expect(field.get_by_role("alert")).to_contain_text(
        f"Attempts left: {SHARE_MAX_PIN_ATTEMPTS - 1}"
    )
    await recipient_seen.check(field, "02-wrong-pin")
    await field.get_by_label(re.compile("^PIN")).fill(pin)
    await field.get_by_role("button", name="Open").click()
    await expect(field.locator("#shared-credential")).to_have_text(CREDENTIAL)
    await recipient_seen.check(field, "03-credential-once")
    # The link again, the right PIN again: gone. (From a blank page: a link that differs
    # from the address only in its fragment would not load the page again.)
    await field.goto("about:blank")
    await field.goto(link)
    await field.get_by_label(re.compile("^PIN")).fill(pin)
    await field.get_by_role("button", name="Open").click()
    await expect(field.get_by_role("alert")).to_contain_text("no longer available")
    assert CREDENTIAL not in await field.content()
    await recipient_seen.check(field, "04-gone")

    # --- a contract, downloaded once -------------------------------------------------
    async with world.http as http:
        customer = await http.post(
            "/v1/customers",
            json={"name": "Board Oy", "area_id": world.area_id},
            headers=bearer(world.dispatcher.gateway_token),
        )
        assert customer.status_code == 201, customer.text
        uploaded = await http.post(
            f"/v1/customers/{customer.json()['id']}/contracts",
            files={"file": ("Service contract.pdf", CONTRACT, "application/pdf")},
            headers=bearer(world.dispatcher.gateway_token),
        )
        assert uploaded.status_code == 201, uploaded.text
    # From a contract's "Share securely" link: the form comes filled in with it.
    contract_id = uploaded.json()["id"]
    await page.goto(f"/office/shares?kind=contract&document_id={contract_id}")
    await expect(page.get_by_label(re.compile("^Document id"))).to_have_value(contract_id)
    await expect(page.get_by_label("What", exact=True)).to_have_value("contract")
    await _share_from_the_page(
        page,
        email=recipient,
        phone=phone_number,
        label="Contract for the board",
    )
    contract_share = await _newest_share_id(page)
    link = await _link_for(world, recipient, 1)
    pin = await _pin_for(world, phone_number, 1)
    await field.goto("about:blank")
    await field.goto(link)
    await field.get_by_label(re.compile("^PIN")).fill(pin)
    async with field.expect_download() as downloading:
        await field.get_by_role("button", name="Open").click()
    download = await downloading.value
    assert download.suggested_filename == "Service contract.pdf"
    assert await asyncio.to_thread(Path(await download.path()).read_bytes) == CONTRACT

    # --- a third share, revoked before anyone opens it ---------------------------------
    await _share_from_the_page(
        page,
        kind="credential",
        credential="never opened",
        email=recipient,
        phone=phone_number,
        label="Sent by mistake",
    )
    mistaken = await _newest_share_id(page)
    link = await _link_for(world, recipient, 2)
    pin = await _pin_for(world, phone_number, 2)
    row = page.locator(f'tr[data-share-id="{mistaken}"]')
    await row.get_by_role("button", name="Revoke").click()
    await expect(row.locator(".share-status")).to_contain_text("Revoked")
    await expect(
        page.locator(f'tr[data-share-id="{credential_share}"] .share-status')
    ).to_contain_text("Opened")
    await expect(
        page.locator(f'tr[data-share-id="{contract_share}"] .share-status')
    ).to_contain_text("Opened")
    await office_seen.check(page, "03-opened-and-revoked")
    await field.goto("about:blank")
    await field.goto(link)
    await field.get_by_label(re.compile("^PIN")).fill(pin)
    await field.get_by_role("button", name="Open").click()
    await expect(field.get_by_role("alert")).to_contain_text("no longer available")

    # The Finnish page reads in Finnish.
    await field.goto("/shared")
    await field.get_by_role("button", name="Suomi").click()
    await expect(field.get_by_role("heading", level=1)).to_have_text("Suojattu jako")
    await recipient_seen.check(field, "05-finnish")

    office_seen.assert_accessible()
    recipient_seen.assert_accessible()
    assert not [html for html in office_seen.html if CREDENTIAL in html]
