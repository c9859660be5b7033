"""Headless Chromium (Debian's ``chromium`` package, launched by its path) for the page tests.

There is no browser download on these machines: Playwright drives the system's
Chromium. Where there is none, the browser tests are skipped with a loud reason
(a warning as well as the skip), never silently — and where
``FIELDVAULT_REQUIRE_BROWSER=1`` (CI), they fail instead.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest

CHROMIUM_ENV = "FIELDVAULT_CHROMIUM"
#: CI sets this: there, a missing browser fails the run instead of skipping.
REQUIRE_ENV = "FIELDVAULT_REQUIRE_BROWSER"
#: Without the background-networking flags a closed network refuses Chromium's own
#: connections (component updates, sync, field trials) and start-up stalls.
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
#: The phone the app is designed for first.
PHONE = {"width": 390, "height": 844}
#: The office console is designed for the desktop first.
DESKTOP = {"width": 1280, "height": 800}
SCREENSHOTS = Path(__file__).resolve().parents[3] / ".artifacts" / "screenshots"


def chromium_path() -> str:
    """The Chromium executable, or a loud skip saying how to get one."""
    configured = os.environ.get(CHROMIUM_ENV, "")
    found = configured or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not Path(found).exists():
        reason = (
            "BROWSER TESTS SKIPPED: no Chromium found (install Debian's 'chromium' package, "
            f"or set {CHROMIUM_ENV} to its executable); the field app was NOT tested in a browser"
        )
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
        warnings.warn(reason, stacklevel=2)
        pytest.skip(reason)
    return found
