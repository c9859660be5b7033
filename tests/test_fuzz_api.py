"""Schema-driven fuzzing of the public REST API: schemathesis generates requests from the
gateway's own ``/openapi.json`` — valid ones and ones that break the schema — and sends
them to a gateway with every service running as its own process, as an admin, as a
dispatcher and without a token.

Whatever arrives, the answer is never a 5xx, an error is RFC 9457 problem+json, and no
body carries internals: a traceback, a source path, a gRPC status name or a backend's
address. Examples per operation are few and derandomised, so the run is bounded (about
two minutes) and a failure reproduces.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode

from fieldvault_devstack.population import Population, bearer, populate
from fieldvault_devstack.shared_stack import SharedStack
from fieldvault_devstack.stack import LocalStack

pytestmark = pytest.mark.stack

#: Examples per operation, caller and generation mode.
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 5}
#: End the caller's session (or all of them): fuzzing them would sign the fuzzer out.
SKIPPED = {("POST", "/v1/auth/logout"), ("POST", "/v1/auth/logout-everywhere")}
PROBLEM = "application/problem+json"
TIMEOUT_SECONDS = 30


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> LocalStack:
    return shared_stack.stack


@pytest.fixture(scope="module")
async def population(platform: LocalStack) -> Population:
    return await populate(platform)


def internals_of(stack: LocalStack) -> list[str]:
    host = stack.settings.host
    backends = [
        f"{host}:{stack.settings.grpc_port(service)}"
        for service in ("identity", "customer_vault", "work_order", "notification")
    ]
    return ["Traceback", "site-packages", '.py"', "StatusCode.", "grpc_status", *backends]


@dataclass
class Findings:
    base_url: str
    internals: list[str]
    problems: list[str] = field(default_factory=list)
    calls: int = 0
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)

    def check(self, case: Case, caller: str, headers: Mapping[str, str]) -> None:
        response = None
        for _attempt in range(2):
            try:
                response = case.call(
                    base_url=self.base_url, headers=dict(headers), timeout=TIMEOUT_SECONDS
                )
                break
            except requests.Timeout:
                # A shared, busy machine can stall one call; a hang happens twice.
                continue
            except requests.RequestException as exc:
                self.problems.append(f"{case.method} {case.path} as {caller}: {exc!r}"[:300])
                return
        if response is None:
            self.problems.append(
                f"{case.method} {case.path} as {caller}: timed out twice "
                f"(query {_short(case.query)}, headers {_short(case.headers)}, "
                f"body {_short(case.body)})"
            )
            return
        self.calls += 1
        self.statuses[caller, response.status_code] += 1
        status = response.status_code
        where = f"{case.method} {case.formatted_path} as {caller} -> {status}"
        text = response.text
        if status >= 500:
            self.problems.append(f"{where}: {text[:300]} (body: {_short(case.body)})")
        elif status >= 400 and not content_type(response).startswith(PROBLEM):
            self.problems.append(f"{where}: not problem+json ({content_type(response)})")
        leaked = [marker for marker in self.internals if marker in text]
        if leaked:
            self.problems.append(f"{where}: leaks {leaked}: {text[:300]}")


def content_type(response: Any) -> str:
    """schemathesis keeps each header as a list of values."""
    for name, values in response.headers.items():
        if name.lower() == "content-type":
            return str(values[0] if isinstance(values, list) else values)
    return ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 200 else text[:200] + "..."


def fuzz_operation(
    operation: Any, findings: Findings, caller: str, headers: Mapping[str, str]
) -> None:
    for mode, examples in EXAMPLES.items():

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Case) -> None:
            findings.check(case, caller, headers)

        try:
            run()
        except Unsatisfiable:
            # Nothing to break in this operation's schema (e.g. no parameters at all).
            assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid request"


async def test_fuzzed_requests_never_get_a_5xx_or_internals_back(
    platform: LocalStack, population: Population
) -> None:
    async with httpx.AsyncClient(base_url=population.gateway_url, timeout=20) as http:
        document = (await http.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    findings = Findings(population.gateway_url, internals_of(platform))
    callers = {
        "anonymous": {},
        "dispatcher": bearer(population.tokens["dispatcher"]),
        "admin": bearer(population.tokens["admin"]),
    }
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50, "the OpenAPI document lost its operations"

    def fuzz_all() -> None:
        for operation in operations:
            if (operation.method.upper(), operation.path) in SKIPPED:
                continue
            for caller, headers in callers.items():
                fuzz_operation(operation, findings, caller, headers)

    await asyncio.to_thread(fuzz_all)
    elapsed = time.monotonic() - started
    assert findings.calls > len(operations) * len(callers), findings.calls
    for caller in ("admin", "dispatcher"):
        # The fuzzer's own token must carry it past authentication most of the time.
        answered = sum(n for (who, _), n in findings.statuses.items() if who == caller)
        assert findings.statuses[caller, 401] < answered / 4, findings.statuses
    if findings.problems:
        pytest.fail(
            f"{len(findings.problems)} problems in {findings.calls} calls ({elapsed:.0f}s):\n"
            + "\n".join(findings.problems[:60]),
            pytrace=False,
        )
