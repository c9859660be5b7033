"""One whole stack for a whole test run, shared by every whole-stack module that
does not stop, restart or re-configure it.

Starting a stack (NATS, OpenBao, four databases migrated, six processes) costs
30 to 60 s; the whole-stack modules used to start one each. They now share this one
and keep out of each other's way the way real customers do: each makes tenants,
people and sites of its own, and reads only the e-mails, SMS and webhooks addressed
to them. Its settings are the union of what those modules need (`SHARED_ENV`):
short delivery polls, spans printed to every service's log (so canary scans cover
spans too), an SMS gateway and webhook receiver (`receiver`), per-service metrics
ports, and the tightened limits some tests rely on, each named below.

With ``FIELDVAULT_TEST_DATABASE_URL`` set, every service's database is a fresh
PostgreSQL database (dropped at the end); otherwise SQLite, as ``make run``.
"""

from __future__ import annotations

import contextlib
import email
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from sqlalchemy import Connection, MetaData, select
from sqlalchemy.ext.asyncio import create_async_engine

from fieldvault_devstack.databases import TEST_DATABASE_URL_ENV, isolated_database
from fieldvault_devstack.ports import free_port
from fieldvault_devstack.recorders import Receiver, receiver_in_thread
from fieldvault_devstack.settings import DB_SERVICES, DevStackSettings
from fieldvault_devstack.stack import LocalStack

#: Where the shared stack's notification service posts its SMS (JSON ``to``, ``text``).
SMS_PATH = "/sms"
#: Wrong PINs a secure share takes before it locks (the default is higher).
SHARE_MAX_PIN_ATTEMPTS = 3
#: Seconds a revealed code stays on a technician's screen (the default is longer).
REVEAL_HIDE_AFTER_SECONDS = 3
#: The sub-processors the tenant's GDPR processing report names.
SUB_PROCESSORS = [
    {"name": "UpCloud Oy", "purpose": "hosting", "location": "Finland (EU)"},
    {"name": "Example SMS Oy", "purpose": "SMS delivery", "location": "Finland (EU)"},
    {"name": "Example Mail AB", "purpose": "e-mail delivery", "location": "Sweden (EU)"},
]
#: Services with a separate metrics port (``/metrics`` is never on the public port).
METRICS_SERVICES = ("identity", "customer_vault", "work_order", "notification", "gateway")

SHARED_ENV = {
    # Spans go to each service's log at once, so a canary scan of the logs covers them.
    "OTEL_TRACES_EXPORTER": "console",
    "OTEL_BSP_SCHEDULE_DELAY": "100",
    "FIELDVAULT_NOTIFICATION_DELIVERY_POLL_SECONDS": "0.1",
    "FIELDVAULT_CUSTOMER_VAULT_SHARE_MAX_PIN_ATTEMPTS": str(SHARE_MAX_PIN_ATTEMPTS),
    "FIELDVAULT_CUSTOMER_VAULT_REVEAL_HIDE_AFTER_SECONDS": str(REVEAL_HIDE_AFTER_SECONDS),
    "FIELDVAULT_CUSTOMER_VAULT_SUB_PROCESSORS": json.dumps(SUB_PROCESSORS),
    # Every test's client address is 127.0.0.1, so the per-address limits would count
    # the whole run as one client; the per-account and per-user limits stay as shipped.
    "FIELDVAULT_GATEWAY_RATE_LIMIT_CLIENT_PER_MINUTE": "100000",
    "FIELDVAULT_GATEWAY_RATE_LIMIT_LOGIN_PER_MINUTE": "1000",
    "FIELDVAULT_GATEWAY_RATE_LIMIT_TOKEN_PER_MINUTE": "1000",
    # A key not back when its job ends is overdue at once, and swept for every second.
    "FIELDVAULT_CUSTOMER_VAULT_KEY_RETURN_GRACE_MINUTES": "0",
    "FIELDVAULT_CUSTOMER_VAULT_KEY_OVERDUE_CHECK_SECONDS": "1",
}


@dataclass(frozen=True)
class SharedStack:
    stack: LocalStack
    #: The SMS gateway (at ``SMS_PATH``) and any webhook endpoint a test registers.
    receiver: Receiver
    #: service -> port of its ``/metrics``.
    metrics_ports: dict[str, int]

    def sms_to(self, number: str) -> list[str]:
        """The texts of the SMS sent to ``number``, oldest first."""
        bodies = [json.loads(r.body) for r in self.receiver.at(SMS_PATH)]
        return [body["text"] for body in bodies if body["to"] == number]

    def mails(self) -> list[Message]:
        """Every e-mail the stack wrote (its outbox folder), oldest first."""
        paths = sorted(self.stack.mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        return [email.message_from_bytes(path.read_bytes()) for path in paths]

    def mail_to(self, address: str, *, invitations: bool = False) -> list[Message]:
        """The e-mails to ``address``; without invitations (every test person got one,
        unless they accepted it before notification got round to sending it)."""
        return [
            m
            for m in self.mails()
            if m["To"] == address
            and (invitations or m["Subject"] != "You are invited to fieldvault")
        ]

    def raw_mails(self) -> str:
        """Every e-mail the stack wrote, as one text (for canary scans)."""
        paths = self.stack.mail_dir.glob("*.eml")
        return "".join(path.read_bytes().decode(errors="replace") for path in paths)


@contextlib.contextmanager
def running_shared_stack(data_dir: Path) -> Iterator[SharedStack]:
    """Start the shared stack in ``data_dir``; stop it (and drop its databases) after."""
    server_url = os.environ.get(TEST_DATABASE_URL_ENV)
    with contextlib.ExitStack() as resources:
        database_urls = (
            {s: resources.enter_context(isolated_database(server_url)) for s in DB_SERVICES}
            if server_url
            else {}
        )
        receiver = resources.enter_context(receiver_in_thread(Receiver(port=free_port())))
        metrics_ports = {service: free_port() for service in METRICS_SERVICES}
        ports = {n: free_port() for n in DevStackSettings.model_fields if n.endswith("_port")}
        settings = DevStackSettings(
            data_dir=data_dir,
            database_urls=database_urls,
            **ports,  # type: ignore[arg-type]
        )
        env = {
            **SHARED_ENV,
            "FIELDVAULT_NOTIFICATION_SMS_GATEWAY_URL": receiver.url(SMS_PATH),
            **{f"FIELDVAULT_{s.upper()}_METRICS_PORT": str(p) for s, p in metrics_ports.items()},
        }
        stack = LocalStack(settings, extra_env=env)
        stack.start()
        resources.callback(stack.stop)
        yield SharedStack(stack, receiver, metrics_ports)


async def database_text(stack: LocalStack, service: str) -> str:
    """Every row of every table of ``service``'s database as text, whichever the
    database is, for canary scans of what is stored (bytes show their ASCII runs)."""
    url = stack.env_for(service)[f"FIELDVAULT_{service.upper()}_DATABASE_URL"]
    engine = create_async_engine(url)

    def dump(connection: Connection) -> str:
        tables = MetaData()
        tables.reflect(connection)
        return "\n".join(
            repr(tuple(row))
            for table in tables.sorted_tables
            for row in connection.execute(select(table))
        )

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(dump)
    finally:
        await engine.dispose()
