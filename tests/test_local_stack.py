"""The whole local stack (``make run``) as a developer meets it.

Real nats-server, OpenBao and all five services as separate processes, on free
ports, in a temporary data folder, with the demo tenant ``make run`` seeds.
Most tests share ONE stack started for the module (a start takes ~15 s); a
test that breaks it (stops OpenBao, kills a service) leaves it to the
``stack`` fixture, which restarts the stack when it finds a dead process, so
the tests stay independent of their order. The last
test runs the real launcher, ``python -m fieldvault_devstack run``, on its own.

What ``libs/devstack/tests/test_stack.py`` already proves with the infrastructure
alone (operator token, AppRole credentials and a Transit key reused by a second
start; per-service environments) is not repeated here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
import httpx
import nats
import pytest
from alembic.script import ScriptDirectory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nats.js.api import StorageType

from fieldvault.customer_vault.v1 import customer_vault_pb2, customer_vault_pb2_grpc
from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_devstack.demo import (
    DEMO_ADMIN_EMAIL,
    DEMO_TENANT_NAME,
    DEMO_TENANT_SLUG,
    INVITATION_URL_FILE,
    DemoTenant,
)
from fieldvault_devstack.ports import accepts_connections, ensure_port_free, free_port
from fieldvault_devstack.settings import (
    ENV_PREFIX,
    GRPC_SERVICES,
    SERVICE_ACCOUNTS,
    DevStackSettings,
)
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.events import (
    DEFAULT_DUPLICATE_WINDOW,
    DEFAULT_MAX_AGE,
    event_subject,
    service_subjects,
    stream_name,
)

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[1]
#: Linux only: which processes the launcher started (elsewhere only its ports are checked).
PROC = Path("/proc/self/stat")

#: The full gRPC service name each process registers with grpc.health.v1.
HEALTH_NAMES = {
    "identity": "fieldvault.identity.v1.IdentityService",
    "customer_vault": "fieldvault.customer_vault.v1.CustomerVaultService",
    "work_order": "fieldvault.work_order.v1.WorkOrderService",
    "notification": "fieldvault.notification.v1.NotificationService",
}
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
#: ``shutdown_grace_seconds`` of every service (the launcher leaves the default).
GRACE_SECONDS = 10.0
LAUNCHER_STOP_SECONDS = 20.0
LAUNCHER_START_SECONDS = 90.0
#: The demo admin's password in these tests (NIST rules: long, nothing else).
DEMO_PASSWORD = "correct horse battery staple 42"
#: Every access token a test obtained: none may appear in any log.
ISSUED_TOKENS: list[str] = []


def _settings_on_free_ports(data_dir: Path) -> DevStackSettings:
    ports = {name: free_port() for name in DevStackSettings.model_fields if name.endswith("_port")}
    return DevStackSettings(data_dir=data_dir, **ports)  # type: ignore[arg-type]


class RunningStack:
    """The module's one stack; restarted as a whole (same folder, same ports) on demand."""

    def __init__(self, settings: DevStackSettings) -> None:
        self.settings = settings
        self.stack = LocalStack(settings)

    def start(self) -> None:
        self.stack.start()

    def stop(self) -> None:
        self.stack.stop()

    def restart(self) -> LocalStack:
        """Stop everything, then start a new LocalStack on the same data folder and ports."""
        self.stack.stop()
        self.stack = LocalStack(self.settings)
        self.stack.start()
        return self.stack

    def healthy(self) -> LocalStack:
        """The stack, restarted first if an earlier test left a process dead or stopped."""
        stack = self.stack
        broken = (
            not stack.processes
            or bool(stack.dead_services())
            or not stack.openbao.running
            or not stack.nats.running
        )
        return self.restart() if broken else stack


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = RunningStack(_settings_on_free_ports(tmp_path_factory.mktemp("stack") / "dev"))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def stack(running: RunningStack) -> LocalStack:
    return running.healthy()


# --- talking to the stack ------------------------------------------------------------------


def _grpc_address(stack: LocalStack, service: str) -> str:
    return f"{stack.settings.host}:{stack.settings.grpc_port(service)}"


def _gateway_url(stack: LocalStack, path: str) -> str:
    return f"http://{stack.settings.host}:{stack.settings.gateway_port}{path}"


def _health(stack: LocalStack, service: str, name: str) -> int:
    with grpc.insecure_channel(_grpc_address(stack, service)) as channel:
        response = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=name), timeout=5
        )
    status: int = response.status
    return status


def _service_account_secret(stack: LocalStack, service: str) -> str:
    return (stack.service_accounts_dir / service).read_text().strip()


def _provisioning_token(stack: LocalStack) -> str:
    """identity's own token for customer-vault, obtained as identity's service account."""
    with grpc.insecure_channel(_grpc_address(stack, "identity")) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        response = stub.IssueServiceToken(
            identity_pb2.IssueServiceTokenRequest(
                service="identity",
                secret=_service_account_secret(stack, "identity"),
                audience="customer_vault",
                scope="tenant_keys:ensure",
            ),
            timeout=15,
        )
    token: str = response.access_token
    ISSUED_TOKENS.append(token)
    return token


def _ensure_tenant_key(stack: LocalStack, tenant_id: str, token: str | None = None) -> Any:
    token = token or _provisioning_token(stack)
    with grpc.insecure_channel(_grpc_address(stack, "customer_vault")) as channel:
        stub = customer_vault_pb2_grpc.CustomerVaultServiceStub(channel)
        return stub.EnsureTenantKey(
            customer_vault_pb2.EnsureTenantKeyRequest(tenant_id=tenant_id),
            metadata=bearer_metadata(token),
            timeout=15,
        )


def _readyz(stack: LocalStack) -> httpx.Response:
    return httpx.get(_gateway_url(stack, "/readyz"), timeout=10)


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass(frozen=True)
class Seed:
    """Data put into the module's stack once: a tenant key, a ciphertext, a KV secret."""

    tenant_id: str
    key_name: str
    created: bool
    plaintext: bytes
    ciphertext: str
    kv_path: str
    kv_canary: str


@pytest.fixture(scope="module")
def seed(running: RunningStack) -> Seed:
    stack = running.healthy()
    tenant_id = f"tenant-{uuid.uuid4().hex[:12]}"
    answer = _ensure_tenant_key(stack, tenant_id)
    root = stack.openbao.client()
    plaintext = f"door code {uuid.uuid4().hex}".encode()
    encrypted = root.secrets.transit.encrypt_data(
        name=answer.key_name, plaintext=base64.b64encode(plaintext).decode()
    )
    kv_path = f"stack-test/{tenant_id}/alarm-code"
    kv_canary = f"kv-canary-{uuid.uuid4().hex}"
    root.secrets.kv.v2.create_or_update_secret(
        path=kv_path, secret={"value": kv_canary}, mount_point="kv"
    )
    return Seed(
        tenant_id=tenant_id,
        key_name=answer.key_name,
        created=answer.created,
        plaintext=plaintext,
        ciphertext=str(encrypted["data"]["ciphertext"]),
        kv_path=kv_path,
        kv_canary=kv_canary,
    )


# --- tests on the module's stack ---------------------------------------------------------------


def test_every_service_started_by_the_stack_reports_serving(stack: LocalStack) -> None:
    for service in GRPC_SERVICES:
        for name in ("", HEALTH_NAMES[service]):
            assert _health(stack, service, name) == SERVING, f"{service} health {name!r}"

    assert httpx.get(_gateway_url(stack, "/healthz"), timeout=10).status_code == 200
    readyz = _readyz(stack)
    assert readyz.status_code == 200, readyz.text
    assert readyz.json() == {
        "status": "ready",
        # "revocations": identity's revocation events reach the gateway's deny list.
        "dependencies": dict.fromkeys(GRPC_SERVICES, "serving") | {"revocations": "serving"},
    }


#: How long the idle stack is watched. Each of the four services with a revocation
#: listener pulls about once a second, and every pull is one chance for the spurious
#: timeout the listener used to warn about (seen every 5-20 s per service on an idle
#: `make run`). 20 s of four pullers (~80 pulls) are as many chances as a 60-s watch
#: of a stack with one slow-pulling service, at a third of the cost; without the fix
#: this failed here within the window.
IDLE_WATCH_SECONDS = 20.0


def test_an_idle_stack_logs_no_warning(stack: LocalStack) -> None:
    assert _readyz(stack).status_code == 200
    logs = {service: stack.service_log(service) for service in (*GRPC_SERVICES, "gateway")}
    offsets = {service: log.stat().st_size for service, log in logs.items()}

    time.sleep(IDLE_WATCH_SECONDS)

    loud = []
    for service, log in logs.items():
        with log.open("rb") as file:
            file.seek(offsets[service])
            for line in file.read().decode().splitlines():
                with contextlib.suppress(json.JSONDecodeError):
                    record = json.loads(line)
                    if record.get("level") in {"WARNING", "ERROR", "CRITICAL"}:
                        loud.append((service, record.get("message")))
    assert loud == []


def test_openbao_restart_in_the_stack_keeps_transit_keys_and_kv_data(
    stack: LocalStack, seed: Seed
) -> None:
    assert seed.key_name == f"fv-tenant-{seed.tenant_id}"
    assert seed.created is True

    stack.openbao.stop()
    stack.openbao.start()  # unseals itself from the key file in the data folder

    root = stack.openbao.client()
    decrypted = root.secrets.transit.decrypt_data(name=seed.key_name, ciphertext=seed.ciphertext)
    assert base64.b64decode(decrypted["data"]["plaintext"]) == seed.plaintext
    kv = root.secrets.kv.v2.read_secret_version(
        path=seed.kv_path, mount_point="kv", raise_on_deleted_version=True
    )
    assert kv["data"]["data"] == {"value": seed.kv_canary}
    # The service's own Vault session survives the restart too.
    again = _ensure_tenant_key(stack, seed.tenant_id)
    assert (again.key_name, again.created) == (seed.key_name, False)


def test_customer_vault_answers_unavailable_while_the_stacks_openbao_is_stopped_and_recovers(
    stack: LocalStack, seed: Seed
) -> None:
    # Obtained first: identity signs with a key in OpenBao.
    token = _provisioning_token(stack)
    stack.openbao.stop()
    try:
        with pytest.raises(grpc.RpcError) as raised:
            _ensure_tenant_key(stack, seed.tenant_id, token)
        assert stack.processes["customer_vault"].poll() is None, "customer_vault died"
    finally:
        stack.openbao.start()

    error: Any = raised.value
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "Vault is unavailable" in error.details()
    # The caller learns what is down, not where it runs.
    assert str(stack.settings.openbao_port) not in error.details()

    recovered = _ensure_tenant_key(stack, seed.tenant_id)
    assert (recovered.key_name, recovered.created) == (seed.key_name, False)
    fresh_tenant = f"tenant-{uuid.uuid4().hex[:12]}"
    assert _ensure_tenant_key(stack, fresh_tenant).created is True


def _alembic_head(service: str) -> str | None:
    return ScriptDirectory(str(ROOT / "services" / service / "migrations")).get_current_head()


def _database(stack: LocalStack, service: str) -> sqlite3.Connection:
    path = stack.data_dir / f"{service}.db"
    assert path.exists(), f"no SQLite database for {service} at {path}"
    return sqlite3.connect(path, timeout=10)


async def test_a_second_start_reuses_all_data(running: RunningStack, seed: Seed) -> None:
    stack = await asyncio.to_thread(running.healthy)
    stream = stream_name("work_order")
    marker = uuid.uuid4().hex
    client = await nats.connect(stack.nats.url)
    try:
        js = client.jetstream()
        published = await js.publish(
            event_subject(seed.tenant_id, "work_order", "stack_restart_marker"), marker.encode()
        )
        before = await js.stream_info(stream)
    finally:
        await client.close()
    # A row of our own in every service database: a recreated file would not have it.
    for service in GRPC_SERVICES:
        with _database(stack, service) as db:
            db.execute("CREATE TABLE stack_test_marker (value TEXT)")
            db.execute("INSERT INTO stack_test_marker VALUES (?)", (marker,))
        db.close()

    stack = await asyncio.to_thread(running.restart)

    again = _ensure_tenant_key(stack, seed.tenant_id)
    assert (again.key_name, again.created) == (seed.key_name, False)
    # The demo tenant is found, not created twice.
    assert stack.demo is not None and stack.demo.outcome is DemoTenant.EXISTED

    client = await nats.connect(stack.nats.url)
    try:
        js = client.jetstream()
        after = await js.stream_info(stream)
        kept = await js.get_msg(stream, published.seq)
    finally:
        await client.close()
    assert after.created == before.created, "the stream was recreated, not reused"
    assert after.config.subjects == [service_subjects("work_order")]
    assert after.config.storage == StorageType.FILE
    assert after.config.duplicate_window == DEFAULT_DUPLICATE_WINDOW
    assert after.config.max_age == DEFAULT_MAX_AGE
    assert kept.data == marker.encode()

    for service in GRPC_SERVICES:
        with _database(stack, service) as db:
            versions = db.execute("SELECT version_num FROM alembic_version").fetchall()
            markers = db.execute("SELECT value FROM stack_test_marker").fetchall()
        db.close()
        assert versions == [(_alembic_head(service),)], service
        assert markers == [(marker,)], f"{service}.db was not reused"


def test_no_log_of_the_stack_reveals_a_token_a_secret_id_or_an_audited_plaintext(
    stack: LocalStack, seed: Seed
) -> None:
    secrets = {
        "the operator token": stack.operator_token_file.read_text().strip(),
        "the OpenBao root token": stack.openbao.root_token,
    }
    for path in sorted(stack.credentials_dir.glob("*.secret_id")):
        secrets[f"the AppRole secret_id of {path.stem}"] = path.read_text().strip()
    assert len(secrets) == 4, secrets.keys()  # identity and customer_vault hold AppRoles
    for service in SERVICE_ACCOUNTS:
        secrets[f"the service-account secret of {service}"] = _service_account_secret(
            stack, service
        )
    invitation = (stack.data_dir / INVITATION_URL_FILE).read_text().strip()
    secrets["the demo admin's invitation token"] = _invitation_token(invitation)
    _provisioning_token(stack)  # at least one bearer token went through the services
    for number, token in enumerate(ISSUED_TOKENS):
        secrets[f"issued access token #{number}"] = token

    logs = {path.name: path.read_text(errors="replace") for path in stack.logs_dir.glob("*.log")}
    logs[stack.openbao.log_file.name] = stack.openbao.log_file.read_text(errors="replace")
    for service in (*GRPC_SERVICES, "gateway"):
        assert f"{service}.log" in logs, f"{service} wrote no log"
    assert "gRPC server listening" in logs["customer_vault.log"]
    for name, text in logs.items():
        for label, secret in secrets.items():
            assert secret not in text, f"{name} contains {label}"

    audit = stack.openbao.audit_log.read_text(errors="replace")
    assert seed.kv_path in audit, "the KV write was not audited at all"
    assert seed.kv_canary not in audit
    assert seed.plaintext.decode() not in audit
    assert base64.b64encode(seed.plaintext).decode() not in audit
    for label, secret in secrets.items():
        assert secret not in audit, f"the audit log contains {label}"


def _invitation_token(url: str) -> str:
    """The token of an invitation link: ``<base>/invitations/accept#token=<token>``."""
    fragment = urlsplit(url).fragment
    assert fragment.startswith("token="), "the token must travel in the fragment"
    return fragment.removeprefix("token=")


def test_the_demo_tenants_admin_accepts_the_invitation_and_signs_in_through_the_gateway(
    stack: LocalStack,
) -> None:
    invitation_file = stack.data_dir / INVITATION_URL_FILE
    assert stat.S_IMODE(invitation_file.stat().st_mode) == 0o600
    url = invitation_file.read_text().strip()
    web = f"http://{stack.settings.host}:{stack.settings.web_port}"
    assert url.startswith(f"{web}/invitations/accept#token="), "the link must open the field app"

    accept = {"token": _invitation_token(url), "password": DEMO_PASSWORD}
    accepted = httpx.post(_gateway_url(stack, "/v1/invitations/accept"), json=accept, timeout=15)
    assert accepted.status_code == 200, accepted.text
    admin = accepted.json()["user"]
    assert admin["email"] == DEMO_ADMIN_EMAIL
    assert "admin" in admin["roles"]
    # The link works once.
    again = httpx.post(_gateway_url(stack, "/v1/invitations/accept"), json=accept, timeout=15)
    assert again.status_code in (400, 401, 404, 409, 410), again.text

    login = {"tenant": DEMO_TENANT_SLUG, "email": DEMO_ADMIN_EMAIL, "password": DEMO_PASSWORD}
    signed_in = httpx.post(_gateway_url(stack, "/v1/auth/login"), json=login, timeout=15)
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert body["token_type"] == "Bearer"
    ISSUED_TOKENS.append(body["access_token"])
    # Admins must enrol a second factor first (the default tenant policy).
    assert body["mfa_enrollment_required"] is True
    assert not body.get("refresh_token")

    wrong = httpx.post(
        _gateway_url(stack, "/v1/auth/login"),
        json={**login, "password": DEMO_PASSWORD + "!"},
        timeout=15,
    )
    assert wrong.status_code == 401, wrong.text
    assert wrong.json()["code"] == "invalid_credentials"

    # Seeding again (a restart) finds the tenant and keeps the link file as it was.
    assert stack.seed_demo().outcome is DemoTenant.EXISTED
    assert invitation_file.read_text().strip() == url


def test_the_demo_tenant_is_the_one_make_run_promises(stack: LocalStack) -> None:
    operator = bearer_metadata(stack.operator_token())
    with grpc.insecure_channel(_grpc_address(stack, "identity")) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.CreateTenant(
                identity_pb2.CreateTenantRequest(
                    slug=DEMO_TENANT_SLUG,
                    name=DEMO_TENANT_NAME,
                    admin_email=DEMO_ADMIN_EMAIL,
                    admin_name="Someone Else",
                ),
                metadata=operator,
                timeout=15,
            )
    error: Any = raised.value
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS


def _statuses_until_not_serving(watch: Any) -> list[int]:
    """Read a health Watch stream until NOT_SERVING; fail if it ends or breaks first."""
    seen: list[int] = []
    try:
        for update in watch:
            seen.append(update.status)
            if update.status == NOT_SERVING:
                return seen
    except grpc.RpcError as exc:
        pytest.fail(f"the Watch stream failed with {exc.code()}: {exc.details()!r}; saw {seen}")
    pytest.fail(f"the Watch stream ended after {seen} without NOT_SERVING")


def _assert_not_ready_naming(readyz: httpx.Response, service: str, statuses: set[str]) -> None:
    assert readyz.status_code == 503, readyz.text
    body = readyz.json()
    assert body["status"] == "not_ready"
    assert body["dependencies"][service] in statuses
    others = {name: status for name, status in body["dependencies"].items() if name != service}
    assert others == dict.fromkeys(set(GRPC_SERVICES) - {service}, "serving") | {
        "revocations": "serving"
    }


def test_a_service_reports_not_serving_during_shutdown(stack: LocalStack) -> None:
    """Last on the module's stack: it stops a service (the fixture restarts the stack if needed)."""
    service = "notification"
    process = stack.processes[service]
    with grpc.insecure_channel(_grpc_address(stack, service)) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=HEALTH_NAMES[service]),
            timeout=GRACE_SECONDS + 20,
        )
        try:
            assert next(watch).status == SERVING
        except grpc.RpcError as exc:
            pytest.fail(f"the Watch stream failed with {exc.code()}: {exc.details()!r}")

        process.send_signal(signal.SIGTERM)
        terminated_at = time.monotonic()
        assert _statuses_until_not_serving(watch)[-1] == NOT_SERVING
        # While the service drains, the gateway already reports it as not ready.
        during_shutdown = _readyz(stack)
        watch.cancel()  # as a load balancer would, having seen NOT_SERVING

    assert process.wait(timeout=GRACE_SECONDS) == 0
    assert time.monotonic() - terminated_at < GRACE_SECONDS
    _assert_not_ready_naming(during_shutdown, service, {"not_serving", "unreachable"})
    _assert_not_ready_naming(_readyz(stack), service, {"unreachable"})


# --- the launcher -----------------------------------------------------------------------------


def _proc_stat(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (state, ppid, ...), or None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def _descendants(pid: int) -> dict[tuple[int, str], str]:
    """``{(pid, start time): command line}`` of every live process below ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(int(entry.name))) is not None:
            children.setdefault(int(stat[1]), []).append(int(entry.name))
    found: dict[tuple[int, str], str] = {}
    pending = list(children.get(pid, []))
    while pending:
        child = pending.pop()
        stat = _proc_stat(child)
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if stat is not None:
            found[(child, stat[19])] = cmdline.strip()
        pending.extend(children.get(child, []))
    return found


def _alive(pid: int, start_time: str) -> bool:
    """The same process (pid reuse excluded by its start time) exists and is not a zombie."""
    stat = _proc_stat(pid)
    return stat is not None and stat[19] == start_time and stat[0] != "Z"


def _wait_until(condition: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    pytest.fail(f"{what} within {timeout:.0f}s; launcher output:\n{log.read_text()[-4000:]}")


def test_the_launcher_stops_everything_on_sigterm(tmp_path: Path) -> None:
    settings = _settings_on_free_ports(tmp_path / "dev")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env.update({name: str(port) for name, port in settings.ports().items()})
    env[f"{ENV_PREFIX}DATA_DIR"] = str(settings.data_dir)
    output = tmp_path / "launcher.log"
    with output.open("wb") as sink:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "fieldvault_devstack", "run"],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    readyz = f"http://{settings.host}:{settings.gateway_port}/readyz"
    children: dict[tuple[int, str], str] = {}
    try:

        def launched() -> bool:
            if launcher.poll() is not None:
                pytest.fail(
                    f"the launcher exited with {launcher.returncode}:\n{output.read_text()}"
                )
            # readyz answers a moment before the launcher has finished starting;
            # a SIGTERM in that moment is "interrupted while starting" (exit 130).
            return "fieldvault is running" in output.read_text() and _ok(readyz)

        _wait_until(launched, LAUNCHER_START_SECONDS, "the stack was not ready", output)
        children = _descendants(launcher.pid) if PROC.exists() else {}
        # The services export their spans to the launcher's OTLP receiver: the
        # start-up's own RPCs (service tokens, the demo seed) are traces already.
        traces_log = settings.data_dir / "logs" / "traces.log"
        _wait_until(
            lambda: traces_log.exists() and " spans [" in traces_log.read_text(),
            30,
            "no trace line in logs/traces.log",
            output,
        )

        launcher.send_signal(signal.SIGTERM)
        exit_code = launcher.wait(timeout=LAUNCHER_STOP_SECONDS)
    finally:
        if launcher.poll() is None:
            children = children or (_descendants(launcher.pid) if PROC.exists() else {})
            launcher.kill()
            launcher.wait()
        # Whatever outlived the launcher is reported below, but never left running.
        left = [(pid, cmd) for (pid, started), cmd in children.items() if _alive(pid, started)]
        for pid, _ in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    assert exit_code == 0, output.read_text()[-4000:]
    if PROC.exists():
        commands = " | ".join(children.values())
        for expected in (
            "nats-server",
            "bao server",
            *(f"-m {s}" for s in (*HEALTH_NAMES, "gateway")),
        ):
            assert expected in commands, f"{expected!r} was not a child of the launcher"
        assert not left, f"still running after the launcher exited: {[cmd for _, cmd in left]}"
    for name, port in settings.ports().items():
        assert not accepts_connections(settings.host, port), f"{name} ({port}) still listens"
        ensure_port_free(port, name, settings.host)
    printed = output.read_text()
    token = (settings.data_dir / "operator-token").read_text().strip()
    assert token not in printed, "the launcher printed the operator token"
    assert str(traces_log) in printed or "traces.log" in printed, "where the trace lines are"
    assert all("trace=" in line and " ms " in line for line in traces_log.read_text().splitlines())
    assert token not in traces_log.read_text()
    invitation_file = settings.data_dir / INVITATION_URL_FILE
    assert str(invitation_file.resolve()) in printed, "where the demo admin's link is"
    assert invitation_file.read_text().strip() not in printed, "the launcher printed the link"
