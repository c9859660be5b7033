"""Settings of the local stack launcher (``make run``), env prefix ``FIELDVAULT_DEV_``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "FIELDVAULT_DEV_"

#: Services that own a database and run Alembic migrations as their own step.
DB_SERVICES = ("identity", "customer_vault", "work_order", "notification")
#: Services that serve gRPC (and grpc.health.v1).
GRPC_SERVICES = ("identity", "customer_vault", "work_order", "notification")
#: Services that hold Vault credentials (AppRole); nobody else gets any.
VAULT_SERVICES = ("identity", "customer_vault")
#: Services with an account at identity (a secret for ``IssueServiceToken``); the
#: keys of identity's ``SERVICE_ACCOUNT_SCOPES``. The gateway needs none: it
#: exchanges its callers' tokens instead.
SERVICE_ACCOUNTS = ("identity", "customer_vault", "work_order", "notification")
#: Replica ``r`` (from 0) of a service or NATS node listens on its port + r * this.
REPLICA_PORT_STEP = 10
#: nats-server nodes of the JetStream cluster a multi-replica stack runs.
NATS_CLUSTER_SIZE = 3


class DevStackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    data_dir: Path = Path(".fieldvault")
    host: str = "127.0.0.1"
    nats_port: int = 14222
    #: Route port of the first NATS cluster node (only with ``replicas`` > 1).
    nats_cluster_port: int = 14248
    openbao_port: int = 18200
    #: OpenBao's raft storage needs a cluster port besides the API port.
    openbao_cluster_port: int = 18201
    identity_grpc_port: int = 17001
    customer_vault_grpc_port: int = 17002
    work_order_grpc_port: int = 17003
    notification_grpc_port: int = 17004
    gateway_port: int = 8080
    #: The field app (``services/web``), started after the gateway.
    web_port: int = 8000
    #: Service → database URL (``FIELDVAULT_DEV_DATABASE_URLS`` as JSON), e.g. PostgreSQL
    #: databases; a service not named keeps its SQLite file in ``data_dir``.
    database_urls: dict[str, str] = Field(default_factory=dict)
    #: A PostgreSQL server (``postgresql://user@host:5432/postgres``) on which the
    #: launcher makes (once) and uses a database per service, ``fieldvault_<service>``;
    #: services named in ``database_urls`` keep theirs.
    postgres_url: str | None = None
    #: Processes of every service (``FIELDVAULT_REPLICAS``, mapped by ``make run``).
    #: Above 1: PostgreSQL only, NATS becomes a three-node JetStream cluster with
    #: streams and buckets at replication 3, and the gateways share their rate limits
    #: in NATS. Replica ``r`` listens on each port + r * 10.
    replicas: int = Field(default=1, ge=1, le=4)
    #: How long a service may take to start before the launcher gives up (a loaded
    #: machine starting many processes at once needs more).
    ready_timeout_seconds: float = Field(default=30.0, gt=0)

    @property
    def nats_nodes(self) -> int:
        """One nats-server for a single replica, a three-node cluster for more."""
        return NATS_CLUSTER_SIZE if self.replicas > 1 else 1

    def replica_port(self, port: int, replica: int) -> int:
        return port + replica * REPLICA_PORT_STEP

    def grpc_port(self, service: str) -> int:
        port: int = getattr(self, f"{service}_grpc_port")
        return port

    def ports(self) -> dict[str, int]:
        """Every port the stack binds, keyed by the environment variable that sets it
        (a replica's or cluster node's with ``+r*10`` after it)."""
        names = ["openbao_port", "openbao_cluster_port"]
        replicated = [
            *(f"{service}_grpc_port" for service in GRPC_SERVICES),
            "gateway_port",
            "web_port",
        ]
        nats = ["nats_port", *(["nats_cluster_port"] if self.nats_nodes > 1 else [])]
        ports = {f"{ENV_PREFIX}{name.upper()}": getattr(self, name) for name in names}
        for count, group in ((self.replicas, replicated), (self.nats_nodes, nats)):
            for name in group:
                for r in range(count):
                    suffix = f"+{r * REPLICA_PORT_STEP}" if r else ""
                    key = f"{ENV_PREFIX}{name.upper()}{suffix}"
                    ports[key] = self.replica_port(getattr(self, name), r)
        return ports
