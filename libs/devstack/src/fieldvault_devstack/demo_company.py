"""``make demo``: a demo company with people, customers, sites, codes and today's jobs.

Everything goes through the public REST API as a real company would do it: the
platform operator creates the tenant, its admin accepts the invitation and
enrols TOTP, creates areas, a subcontractor with a DPA and people, who accept
their e-mailed invitations (locally ``.eml`` files in the mail folder); the
dispatcher records customers, sites and their codes and files today's jobs.

The demo people's sign-in details go to a 0600 file in the data folder
(:data:`SIGN_IN_FILE`); nothing of them is logged. Populating again (the next
``make demo``) finds that file, leaves the company as it is and only files
today's jobs again if the demo technician has none for today.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from fieldvault_devstack._process import write_secret_file
from fieldvault_devstack.identity_driver import totp
from fieldvault_devstack.service_process import StackError

DEMO_COMPANY_SLUG = "demo-company"
DEMO_COMPANY_NAME = "Harbour Lifts & Doors (demo)"
#: In the data folder: the demo people's sign-in details (0600, JSON).
SIGN_IN_FILE = "demo-sign-in.json"
#: The zone the field app shows times in by default (``FIELDVAULT_WEB_TIMEZONE``).
APP_TIMEZONE = "Europe/Helsinki"
MAIL_WAIT_SECONDS = 60.0
TIMEOUT_SECONDS = 30.0

#: key → (e-mail local part, name, roles, areas by name, in the subcontractor?)
PEOPLE: dict[str, tuple[str, str, list[str], list[str], bool]] = {
    "dispatcher": ("dispatcher", "Dana Dispatcher", ["dispatcher"], ["North", "South"], False),
    "technician": ("technician", "Tom Technician", ["technician"], ["North", "South"], False),
    "technician_south": ("south", "Sami South", ["technician"], ["South"], False),
    "subcontractor_manager": (
        "sub-manager",
        "Sue Subcontractor",
        ["subcontractor_manager"],
        [],
        True,
    ),
    "subcontractor_technician": ("sub-tech", "Sid Subtech", ["technician"], [], True),
}
#: (customer, area, [(site name, address, {secret kind: value})])
CUSTOMERS: list[tuple[str, str, list[tuple[str, str, dict[str, str]]]]] = [
    (
        "Quayside Apartments",
        "North",
        [
            ("Quayside block A", "1 Harbour Road", {"door_code": "4711#", "alarm_code": "2580"}),
            ("Quayside block B", "3 Harbour Road", {"door_code": "1357#"}),
        ],
    ),
    (
        "South Mall",
        "South",
        [("South Mall loading bay", "12 Market Street", {"key_safe_code": "0912"})],
    ),
]
#: Today's jobs: (title, site index in order of CUSTOMERS, assignee key or "subcontractor")
TODAYS_JOBS: list[tuple[str, int, str]] = [
    ("Lift inspection", 0, "technician"),
    ("Door closer adjustment", 1, "technician"),
    ("Loading bay door service", 2, "technician"),
    ("Escalator check", 2, "technician_south"),
    ("Annual lift certification", 0, "subcontractor"),
]


@dataclass(frozen=True)
class DemoCompany:
    sign_in_file: Path
    tenant: str
    #: Ids of today's jobs filed by this run (empty when the technician had some).
    filed_job_ids: list[str]


def populate_demo_company(
    *, gateway_url: str, app_url: str, data_dir: Path, zone: str = APP_TIMEZONE
) -> DemoCompany:
    """The demo company on a running stack (see the module doc); idempotent per data folder."""
    sign_in_file = data_dir / SIGN_IN_FILE
    with httpx.Client(base_url=gateway_url, timeout=TIMEOUT_SECONDS) as http:
        if sign_in_file.exists():
            details = json.loads(sign_in_file.read_text())
            ids: dict[str, Any] = details["ids"]
        else:
            details, ids = _create_company(http, data_dir, app_url)
            write_secret_file(sign_in_file, json.dumps(details, indent=2) + "\n")
        dispatcher = _sign_in(http, details, "dispatcher")
        filed = _file_todays_jobs(http, dispatcher, ids, ZoneInfo(zone))
    return DemoCompany(sign_in_file, details["tenant"], filed)


def _create_company(
    http: httpx.Client, data_dir: Path, app_url: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    operator = (data_dir / "operator-token").read_text().strip()
    domain = f"{DEMO_COMPANY_SLUG}.example"
    admin_email = f"admin@{domain}"
    created = http.post(
        "/v1/tenants",
        json={
            "slug": DEMO_COMPANY_SLUG,
            "name": DEMO_COMPANY_NAME,
            "admin_email": admin_email,
            "admin_name": "Ada Admin",
        },
        headers=_bearer(operator),
    )
    if created.status_code == 409:
        raise StackError(
            f"the demo company exists but {data_dir / SIGN_IN_FILE} is gone; "
            "delete the data folder to populate it anew"
        )
    _ok(created)
    # Random, long and one for everyone: it is a demo, and no rule refuses it.
    password = secrets.token_urlsafe(15)
    mail_dir = data_dir / "mail"
    _accept(http, _invitation_token(mail_dir, admin_email), password)
    admin_login = {"tenant": DEMO_COMPANY_SLUG, "email": admin_email, "password": password}
    enrol = _ok(http.post("/v1/auth/login", json=admin_login))["access_token"]
    totp_secret = _ok(http.post("/v1/me/mfa/totp", json={}, headers=_bearer(enrol)))["secret"]
    _ok(
        http.post(
            "/v1/me/mfa/totp/confirm", json={"code": totp(totp_secret)}, headers=_bearer(enrol)
        )
    )
    # The code just confirmed is spent; the next time step's is accepted (clock drift).
    admin_login["otp"] = totp(totp_secret, at=time.time() + 30)
    admin = _ok(http.post("/v1/auth/login", json=admin_login))["access_token"]

    areas = {
        name: _created(http, "/v1/areas", admin, {"name": name})["id"]
        for name in ("North", "South")
    }
    today = date.today()
    subcontractor = _created(
        http,
        "/v1/organizations",
        admin,
        {
            "name": "Fjord Lift Services (subcontractor)",
            "kind": "subcontractor",
            "dpa_signed_on": (today - timedelta(days=30)).isoformat(),
            "dpa_expires_on": (today + timedelta(days=365)).isoformat(),
        },
    )["id"]
    dpa = http.post(
        f"/v1/organizations/{subcontractor}/dpa-documents",
        files={"file": ("dpa.pdf", b"%PDF-1.4 demo data processing agreement", "application/pdf")},
        headers=_bearer(admin),
    )
    _ok(dpa)
    people: dict[str, dict[str, str]] = {
        "admin": {"email": admin_email, "name": "Ada Admin", "roles": "admin"}
    }
    user_ids: dict[str, str] = {}
    for key, (local, name, roles, area_names, subcontracted) in PEOPLE.items():
        person_email = f"{local}@{domain}"
        body: dict[str, Any] = {
            "email": person_email,
            "name": name,
            "roles": roles,
            "area_ids": [areas[area] for area in area_names],
        }
        if subcontracted:
            body["organization_id"] = subcontractor
        user_ids[key] = _created(http, "/v1/users", admin, body)["id"]
        people[key] = {"email": person_email, "name": name, "roles": ",".join(roles)}
    for key, person in people.items():
        if key != "admin":
            _accept(http, _invitation_token(mail_dir, person["email"]), password)

    details: dict[str, Any] = {
        "app": app_url,
        "tenant": DEMO_COMPANY_SLUG,
        "password": password,
        "admin_totp_secret": totp_secret,
        "people": people,
        "ids": {},
    }
    dispatcher = _sign_in(http, details, "dispatcher")
    site_ids: list[str] = []
    for customer_name, area, sites in CUSTOMERS:
        customer = _created(
            http, "/v1/customers", dispatcher, {"name": customer_name, "area_id": areas[area]}
        )["id"]
        for site_name, address, codes in sites:
            site = _created(
                http,
                "/v1/sites",
                dispatcher,
                {
                    "customer_id": customer,
                    "area_id": areas[area],
                    "name": site_name,
                    "address": address,
                },
            )["id"]
            for kind, value in codes.items():
                written = http.put(
                    f"/v1/sites/{site}/secrets/{kind}",
                    json={"value": value},
                    headers=_bearer(dispatcher),
                )
                _ok(written)
            site_ids.append(site)
    details["ids"] = {
        "sites": site_ids,
        "users": user_ids,
        "subcontractor": subcontractor,
    }
    return details, details["ids"]


def _file_todays_jobs(
    http: httpx.Client, dispatcher: str, ids: dict[str, Any], zone: ZoneInfo
) -> list[str]:
    """Today's jobs, unless the demo technician already has one scheduled today."""
    technician = ids["users"]["technician"]
    now = datetime.now(UTC)
    listed = http.get(
        "/v1/work-orders",
        params={"assignee_id": technician, "status": "assigned"},
        headers=_bearer(dispatcher),
    )
    for order in _ok(listed)["items"]:
        start = order.get("scheduled_start")
        if (
            start
            and datetime.fromisoformat(start).astimezone(zone).date() == now.astimezone(zone).date()
        ):
            return []
    filed: list[str] = []
    for index, (title, site_index, assignee) in enumerate(TODAYS_JOBS):
        start = _later_today(now, timedelta(minutes=45 * index), zone)
        order = _created(
            http,
            "/v1/work-orders",
            dispatcher,
            {
                "site_id": ids["sites"][site_index],
                "title": title,
                "priority": "high" if index == 0 else "normal",
                "scheduled_start": start.isoformat(),
                "scheduled_end": (start + timedelta(minutes=40)).isoformat(),
            },
        )["id"]
        assignment = (
            {"organization_id": ids["subcontractor"]}
            if assignee == "subcontractor"
            else {"assignee_user_id": ids["users"][assignee]}
        )
        _created(http, f"/v1/work-orders/{order}/assign", dispatcher, assignment)
        filed.append(order)
    return filed


def _later_today(now: datetime, offset: timedelta, zone: ZoneInfo) -> datetime:
    """``now + offset``, but never past today's end, in UTC nor in the app's zone."""
    local = now.astimezone(zone)
    ends = [
        datetime.combine(now.date(), datetime.max.time(), UTC),
        datetime.combine(local.date(), datetime.max.time(), zone).astimezone(UTC),
    ]
    latest = min(ends) - timedelta(minutes=50)
    return max(now, min(now + offset, latest)).replace(microsecond=0)


def _sign_in(http: httpx.Client, details: dict[str, Any], who: str) -> str:
    login = {
        "tenant": details["tenant"],
        "email": details["people"][who]["email"],
        "password": details["password"],
    }
    token: str = _ok(http.post("/v1/auth/login", json=login))["access_token"]
    return token


def _accept(http: httpx.Client, token: str, password: str) -> None:
    _ok(http.post("/v1/invitations/accept", json={"token": token, "password": password}))


def _invitation_token(mail_dir: Path, to: str) -> str:
    """The token of the invitation link mailed to ``to`` (waits for notification to send it)."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] != to:
                continue
            body = message.get_body(("plain",))
            found = re.search(r"#token=([\w.-]+)", body.get_content() if body else "")
            if found:
                return found[1]
        time.sleep(0.3)
    raise StackError(f"no invitation e-mail to {to} arrived in {mail_dir}")


def _created(http: httpx.Client, path: str, token: str, body: dict[str, Any]) -> Any:
    return _ok(http.post(path, json=body, headers=_bearer(token)))


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        # The problem document names what was refused; it never carries a secret.
        raise StackError(
            f"populating the demo company: {response.request.method} {response.request.url.path}"
            f" answered {response.status_code}: {response.text[:500]}"
        )
    return response.json() if response.content else None


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
