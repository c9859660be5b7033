"""The field app's Today page vs the ``GET /v1/me/work-orders`` call it wraps, same run.

Starts the whole local stack (every service its own process, real NATS and
OpenBao, SQLite) on free ports in a temporary folder, makes a tenant with a
dispatcher and a technician with ``--jobs`` jobs, signs the technician in to the
web app, then times, in alternating rounds, the gateway call with the
technician's bearer token and the web page (session cookie; the page also asks for
the unread count in parallel, and renders). Reports each p50/p95 and the ratio of
the p50s; the target is at most 1.5x.

Usage: python bench/web_today.py [--n 200] [--rounds 5] [--jobs 8]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import PASSWORD, IdentityDriver
from fieldvault_devstack.population import identity_process
from fieldvault_devstack.ports import free_port
from fieldvault_devstack.settings import DevStackSettings
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.grpc_client import open_channel

TARGET_RATIO = 1.5


async def prepare(stack: LocalStack, jobs: int) -> tuple[str, str, str]:
    """(tenant slug, technician e-mail, technician's gateway token) with ``jobs`` jobs."""
    process = identity_process(stack)
    async with open_channel(process.addr) as channel:
        driver = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))  # type: ignore[no-untyped-call]
        tenant = await driver.new_tenant()
        area = await driver.new_area(tenant, "Bench")
        dispatcher = await driver.new_person(tenant, roles=["dispatcher"], area_ids=[area])
        technician = await driver.new_person(tenant, roles=["technician"], area_ids=[area])
    assert stack.endpoints is not None
    auth = {"Authorization": f"Bearer {dispatcher.gateway_token}"}
    async with httpx.AsyncClient(base_url=stack.endpoints.gateway_url, timeout=30) as http:
        customer = await http.post(
            "/v1/customers", json={"name": "Bench Customer", "area_id": area}, headers=auth
        )
        for number in range(jobs):
            site = await http.post(
                "/v1/sites",
                json={
                    "customer_id": customer.json()["id"],
                    "area_id": area,
                    "name": f"Site {number}",
                    "address": f"{number} Bench Street",
                },
                headers=auth,
            )
            order = await http.post(
                "/v1/work-orders",
                json={"site_id": site.json()["id"], "title": f"Job {number}"},
                headers=auth,
            )
            await http.post(
                f"/v1/work-orders/{order.json()['id']}/assign",
                json={"assignee_user_id": technician.id},
                headers=auth,
            )
    return tenant.slug, technician.email, technician.gateway_token


async def web_session(web_url: str, tenant: str, email: str) -> str:
    """The technician's session cookie header, signed in through the sign-in form.

    The cookies are ``Secure``; httpx keeps those from plain http, so they are
    carried by hand (a browser treats 127.0.0.1 as a secure context).
    """
    async with httpx.AsyncClient(base_url=web_url, timeout=30) as http:
        form = await http.get("/signin")
        csrf_cookie = form.cookies["__Host-fv-csrf"]
        match = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
        assert match, "no CSRF token on the sign-in form"
        signed_in = await http.post(
            "/signin",
            data={"csrf": match.group(1), "tenant": tenant, "email": email, "password": PASSWORD},
            headers={"Cookie": f"__Host-fv-csrf={csrf_cookie}"},
        )
        assert signed_in.status_code == 303, signed_in.text
        return f"__Host-fv-session={signed_in.cookies['__Host-fv-session']}"


async def timed(http: httpx.AsyncClient, path: str, headers: dict[str, str], n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = await http.get(path, headers=headers)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    return times


async def measure(stack: LocalStack, n: int, rounds: int, jobs: int) -> None:
    assert stack.endpoints is not None
    tenant, email, token = await prepare(stack, jobs)
    web_url = f"http://{stack.settings.host}:{stack.settings.web_port}"
    cookie = await web_session(web_url, tenant, email)
    api_times: list[float] = []
    web_times: list[float] = []
    async with (
        httpx.AsyncClient(base_url=stack.endpoints.gateway_url, timeout=30) as api,
        httpx.AsyncClient(base_url=web_url, timeout=30) as web,
    ):
        # Warm both paths (connections, caches, the first token refresh).
        await timed(api, "/v1/me/work-orders", {"Authorization": f"Bearer {token}"}, 10)
        await timed(web, "/", {"Cookie": cookie}, 10)
        per_round = max(1, n // rounds)
        for _ in range(rounds):
            api_times += await timed(
                api, "/v1/me/work-orders", {"Authorization": f"Bearer {token}"}, per_round
            )
            web_times += await timed(web, "/", {"Cookie": cookie}, per_round)

    def row(name: str, times: list[float]) -> float:
        p50 = statistics.median(times) * 1000
        p95 = statistics.quantiles(times, n=20)[18] * 1000
        print(f"{name:<38} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   n={len(times)}")
        return p50

    print(f"technician with {jobs} jobs")
    base = row("GET /v1/me/work-orders (gateway)", api_times)
    page = row("GET / Today page (web)", web_times)
    ratio = page / base
    verdict = "within" if ratio <= TARGET_RATIO else "ABOVE"
    print(f"ratio of p50s: {ratio:.2f}x ({verdict} the {TARGET_RATIO}x target)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="requests per path")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fieldvault-bench-web-") as folder:
        ports = {k: free_port() for k in DevStackSettings.model_fields if k.endswith("_port")}
        settings = DevStackSettings(data_dir=Path(folder) / "dev", **ports)  # type: ignore[arg-type]
        stack = LocalStack(settings)
        stack.start()
        try:
            asyncio.run(measure(stack, args.n, args.rounds, args.jobs))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
