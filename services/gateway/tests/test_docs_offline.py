"""``/docs`` renders in a real browser with every other host unreachable (no CDN)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path(os.environ.get("FIELDVAULT_CHROMIUM", "/usr/bin/chromium"))
#: CI sets it: a missing browser must fail the run there, not skip quietly.
REQUIRE_BROWSER = os.environ.get("FIELDVAULT_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"NO BROWSER: {CHROMIUM} is missing, /docs was NOT checked in a browser"
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def test_docs_render_with_every_other_host_blocked(live_gateway: str, chromium: Path) -> None:
    from playwright.sync_api import Route, sync_playwright

    gateway_host = urlsplit(live_gateway).netloc
    blocked: list[str] = []
    page_errors: list[str] = []

    def only_the_gateway(route: Route) -> None:
        if urlsplit(route.request.url).netloc == gateway_host:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    page_errors.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            page.route("**/*", only_the_gateway)
            page.goto(f"{live_gateway}/docs")
            # Swagger UI has fetched /openapi.json and drawn the operations.
            page.wait_for_selector(".opblock", timeout=15_000)
            operations = page.locator(".opblock").count()
            title = page.inner_text(".information-container .title")
        finally:
            browser.close()

    assert "fieldvault API" in title
    assert operations > 50
    assert blocked == []
    assert page_errors == []
