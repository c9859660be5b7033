"""A newcomer's first hour: the README walkthrough, ``make demo`` and the start-up's progress.

One stack for the module (real nats-server, OpenBao and every service as its own
process, on free ports). The walkthrough is the very script the README shows,
run with bash and curl as a newcomer would run it; the demo company is made by
the function behind ``make demo``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from fieldvault_devstack import __main__ as launcher
from fieldvault_devstack.demo_company import (
    APP_TIMEZONE,
    DEMO_COMPANY_SLUG,
    SIGN_IN_FILE,
    populate_demo_company,
)
from fieldvault_devstack.population import bearer, local_stack
from fieldvault_devstack.settings import DB_SERVICES, ENV_PREFIX, GRPC_SERVICES
from fieldvault_devstack.stack import LocalStack
from web.i18n import Formatter
from web.views import plan_of_day

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[1]
WALKTHROUGH = ROOT / "docs" / "walkthrough.sh"
WALKTHROUGH_SECONDS = 240


class Progress(logging.Handler):
    """The launcher's log lines while the module's stack starts."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def progress() -> Progress:
    return Progress()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, progress: Progress) -> Iterator[LocalStack]:
    logger = logging.getLogger("fieldvault.dev")
    logger.addHandler(progress)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        with local_stack(tmp_path_factory, "first-hour") as stack:
            yield stack
    finally:
        logger.removeHandler(progress)
        logger.setLevel(level)


def _gateway(stack: LocalStack) -> str:
    return f"http://{stack.settings.host}:{stack.settings.gateway_port}"


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough is curl commands")
def test_the_readme_walkthrough_script_runs_green_against_the_stack(stack: LocalStack) -> None:
    result = subprocess.run(
        ["bash", str(WALKTHROUGH)],
        cwd=ROOT,
        env={
            **os.environ,
            "FIELDVAULT_API": _gateway(stack),
            "FIELDVAULT_DATA": str(stack.data_dir),
            "FIELDVAULT_PYTHON": sys.executable,
        },
        capture_output=True,
        text=True,
        timeout=WALKTHROUGH_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "completed" in result.stdout.splitlines()
    assert result.stdout.rstrip().splitlines()[-1].startswith("Walkthrough complete")


def test_the_readme_shows_the_walkthrough_script_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text()
    script = WALKTHROUGH.read_text()
    body = script[script.index("set -euo pipefail") :]
    assert body in readme, "README.md must show docs/walkthrough.sh verbatim (from set -euo)"


def test_make_demo_leaves_todays_jobs_for_the_demo_technician_and_a_0600_sign_in_file(
    stack: LocalStack,
) -> None:
    company = populate_demo_company(
        gateway_url=_gateway(stack),
        app_url=f"http://{stack.settings.host}:{stack.settings.web_port}",
        data_dir=stack.data_dir,
    )

    assert company.sign_in_file == stack.data_dir / SIGN_IN_FILE
    assert stat.S_IMODE(company.sign_in_file.stat().st_mode) == 0o600
    details = json.loads(company.sign_in_file.read_text())
    technician = details["people"]["technician"]
    signed_in = httpx.post(
        f"{_gateway(stack)}/v1/auth/login",
        json={
            "tenant": DEMO_COMPANY_SLUG,
            "email": technician["email"],
            "password": details["password"],
        },
        timeout=30,
    )
    assert signed_in.status_code == 200, signed_in.text
    jobs = httpx.get(
        f"{_gateway(stack)}/v1/me/work-orders",
        headers=bearer(signed_in.json()["access_token"]),
        timeout=30,
    )
    assert jobs.status_code == 200, jobs.text
    zone = ZoneInfo(APP_TIMEZONE)
    today = datetime.now(zone).date()
    todays = [
        job
        for job in jobs.json()["items"]
        if datetime.fromisoformat(job["scheduled_start"]).astimezone(zone).date() == today
    ]
    assert len(todays) >= 3, jobs.text
    assert {job["status"] for job in todays} == {"assigned"}
    # What the field app's "Today" page lists of them (its own rule, in its own zone).
    day = plan_of_day(jobs.json()["items"], Formatter("en", zone), today)
    assert len(day.today) >= 3, jobs.text


def test_make_demo_on_a_running_stack_keeps_the_company_and_prints_no_password(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Second on purpose: the demo company exists; ``make demo`` beside ``make run``."""
    for name, value in {
        "DATA_DIR": str(stack.data_dir),
        "HOST": stack.settings.host,
        "GATEWAY_PORT": str(stack.settings.gateway_port),
        "WEB_PORT": str(stack.settings.web_port),
    }.items():
        monkeypatch.setenv(f"{ENV_PREFIX}{name}", value)
    sign_in_file = stack.data_dir / SIGN_IN_FILE
    before = sign_in_file.read_text()

    with caplog.at_level(logging.INFO, logger="fieldvault.dev"):
        assert launcher.run(demo=True) == 0

    assert sign_in_file.read_text() == before
    assert "jobs: kept" in caplog.text
    assert str(sign_in_file) in caplog.text
    details = json.loads(before)
    for secret in (details["password"], details["admin_totp_secret"]):
        assert secret not in caplog.text


def test_the_start_prints_a_progress_line_with_its_time_for_every_step(
    stack: LocalStack, progress: Progress
) -> None:
    steps = [
        "NATS is ready",
        "OpenBao initialised",
        "OpenBao engines, policies and AppRoles set up",
        *(f"{service} migrated" for service in DB_SERVICES),
        *(f"{service} is ready" for service in (*GRPC_SERVICES, "gateway", "web")),
    ]
    for step in steps:
        line = next((line for line in progress.lines if f"] {step} (" in line), None)
        assert line is not None, f"no progress line for {step!r} in {progress.lines}"
        assert line.startswith("[") and line.endswith("s)"), line
    assert any(line.endswith("] started") for line in progress.lines)
