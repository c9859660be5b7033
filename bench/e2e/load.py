"""A closed-loop load generator: asyncio + httpx, one keep-alive connection per client.

Why not locust: it runs on gevent, which does not mix with the asyncio code the
rest of the benchmark (and the devstack helpers) use, and its per-request
overhead on a 2-core machine would be part of every figure. Here each virtual
client is one ``httpx.AsyncClient`` holding one keep-alive connection (like a
phone app) and sends its next request as soon as the previous one is answered
(a closed loop: throughput is what the system sustains at that concurrency,
latency is what each client sees). Baselines run through the same generator,
so its own cost is inside both sides of every ratio.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

#: One request of one client: sends it on ``http`` and returns the response.
Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


@dataclass
class Result:
    """Latencies (seconds) of the answered requests, and what went wrong."""

    name: str
    clients: int
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return len(self.latencies)

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def p50_ms(self) -> float:
        return self.percentile(50) * 1000

    @property
    def p99_ms(self) -> float:
        return self.percentile(99) * 1000

    @property
    def throughput(self) -> float:
        """Answered requests per second (0 for latency-only scenarios)."""
        return self.count / self.elapsed if self.elapsed else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "clients": self.clients,
            "count": self.count,
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "mean_ms": round(statistics.fmean(self.latencies) * 1000, 3)
            if self.latencies
            else None,
            "max_ms": round(max(self.latencies) * 1000, 3) if self.latencies else None,
            "throughput_per_s": round(self.throughput, 1),
            "failures": dict(self.failures),
        }


def client(base_url: str, timeout: float = 30.0) -> httpx.AsyncClient:
    """One virtual client: one keep-alive connection, no connection pool to hide behind."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )


async def closed_loop(
    name: str,
    base_url: str,
    requests: Sequence[Request],
    *,
    duration: float,
    warmup: float = 1.0,
    ok: Callable[[httpx.Response], bool] = lambda r: r.status_code == 200,
) -> Result:
    """``len(requests)`` clients, client i sending ``requests[i]`` in a loop for ``duration``.

    Requests answered during the first ``warmup`` seconds are not counted (connections,
    caches and exchanged tokens warm up there). A failure is any answer ``ok`` rejects or
    any transport error; it is counted by status (or exception name) and never retried.
    """
    result = Result(name, len(requests))
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration

    async def run(request: Request) -> None:
        async with client(base_url) as http:
            while (now := time.perf_counter()) < stop_at:
                try:
                    response = await request(http)
                except httpx.HTTPError as exc:
                    result.failures[type(exc).__name__] += 1
                    continue
                done = time.perf_counter()
                if now < measure_from:
                    continue
                if ok(response):
                    result.latencies.append(done - now)
                else:
                    result.failures[str(response.status_code)] += 1

    await asyncio.gather(*(run(request) for request in requests))
    result.elapsed = time.perf_counter() - measure_from
    return result


async def until(
    http: httpx.AsyncClient,
    request: Request,
    done: Callable[[httpx.Response], bool],
    *,
    timeout: float = 10.0,
    interval: float = 0.005,
) -> float:
    """The ``perf_counter`` time at which ``request`` first answered ``done`` (polled every
    ``interval``); raises ``TimeoutError`` after ``timeout``."""
    start = time.perf_counter()
    while True:
        response = await request(http)
        if done(response):
            return time.perf_counter()
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"not done after {timeout}s: {response.status_code}")
        await asyncio.sleep(interval)
