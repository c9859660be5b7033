"""What the benchmark measures on the stack: request loads and event latencies."""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx

from e2e.load import Request, Result, closed_loop, until
from e2e.stack import Tenancy, assign, new_site, new_technician, new_work_order
from fieldvault_devstack.population import bearer
from fieldvault_devstack.stack import LocalStack


def spread(requests: Sequence[Request], clients: int) -> list[Request]:
    """``clients`` clients, dealt round-robin over ``requests`` (one per technician)."""
    return [requests[index % len(requests)] for index in range(clients)]


def reveal_requests(tenancy: Tenancy) -> list[Request]:
    def reveal_as(token: str) -> Request:
        path, headers = tenancy.reveal_path(), bearer(token)
        return lambda http: http.post(path, json={}, headers=headers)

    return [reveal_as(person.gateway_token) for person in tenancy.technicians]


def get_requests(tenancy: Tenancy, path_of: dict[str, str] | str) -> list[Request]:
    """GETs by each technician (``path_of``: one path, or technician id → path)."""

    def get_as(person_id: str, token: str) -> Request:
        path = path_of if isinstance(path_of, str) else path_of[person_id]
        headers = bearer(token)
        return lambda http: http.get(path, headers=headers)

    return [get_as(person.id, person.gateway_token) for person in tenancy.technicians]


def dispatcher_list(tenancy: Tenancy) -> list[Request]:
    headers = bearer(tenancy.dispatcher.gateway_token)
    return [lambda http: http.get("/v1/work-orders", headers=headers)]


async def load(
    name: str, base_url: str, requests: Sequence[Request], clients: int, duration: float
) -> Result:
    return await closed_loop(name, base_url, spread(requests, clients), duration=duration)


def _latency(name: str, samples: list[float], failures: int) -> Result:
    result = Result(name, 1, latencies=samples)
    if failures:
        result.failures["timeout"] = failures
    return result


async def assign_to_inbox(tenancy: Tenancy, trials: int) -> Result:
    """Dispatcher assigns a new job → it is in the technician's in-app inbox."""
    samples, failures = [], 0
    technician = tenancy.technicians[0]
    headers = bearer(technician.gateway_token)
    async with httpx.AsyncClient(base_url=tenancy.gateway_url, timeout=30) as http:
        for _ in range(trials):
            order_id = await new_work_order(http, tenancy, tenancy.site_id)
            start = time.perf_counter()
            await assign(http, tenancy, order_id, technician.id)
            try:
                done = await until(
                    http,
                    lambda h: h.get("/v1/me/notifications", headers=headers),
                    lambda r, wanted=order_id: (
                        r.status_code == 200
                        and any(n["work_order_id"] == wanted for n in r.json()["items"])
                    ),
                )
            except TimeoutError:
                failures += 1
                continue
            samples.append(done - start)
    return _latency("assign → inbox", samples, failures)


async def assign_to_reveal(tenancy: Tenancy, trials: int) -> Result:
    """Dispatcher assigns a job at a site new to the technician → the reveal is allowed."""
    samples, failures = [], 0
    technician = tenancy.technicians[0]
    headers = bearer(technician.gateway_token)
    async with httpx.AsyncClient(base_url=tenancy.gateway_url, timeout=30) as http:
        for _ in range(trials):
            site_id = await new_site(http, tenancy)
            order_id = await new_work_order(http, tenancy, site_id)
            path = tenancy.reveal_path(site_id)
            start = time.perf_counter()
            await assign(http, tenancy, order_id, technician.id)
            try:
                done = await until(
                    http,
                    lambda h, p=path: h.post(p, json={}, headers=headers),
                    lambda r: r.status_code == 200,
                )
            except TimeoutError:
                failures += 1
                continue
            samples.append(done - start)
    return _latency("assign → reveal allowed", samples, failures)


async def deactivate_to_refusal(stack: LocalStack, tenancy: Tenancy, trials: int) -> Result:
    """Admin deactivates a technician → the technician's token is refused at the gateway."""
    samples, failures = [], 0
    admin = bearer(tenancy.admin.gateway_token)
    async with httpx.AsyncClient(base_url=tenancy.gateway_url, timeout=30) as http:
        for _ in range(trials):
            person = await new_technician(stack, tenancy)
            headers = bearer(person.gateway_token)
            assert (await http.get("/v1/me", headers=headers)).status_code == 200
            start = time.perf_counter()
            answer = await http.post(f"/v1/users/{person.id}/deactivate", headers=admin)
            assert answer.status_code == 200, answer.text
            try:
                done = await until(
                    http,
                    lambda h, hd=headers: h.get("/v1/me", headers=hd),
                    lambda r: r.status_code == 401,
                )
            except TimeoutError:
                failures += 1
                continue
            samples.append(done - start)
    return _latency("deactivate → refused", samples, failures)
