"""A real OpenBao server with persistent storage and a file audit device.

Synchronous on purpose: hvac is synchronous and this runs once at start-up
(launcher) or in session fixtures.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import httpx
import hvac

from fieldvault_devstack._process import find_binary, log_tail, terminate, write_secret_file
from fieldvault_devstack.policies import SERVICE_POLICIES, policy_name
from fieldvault_devstack.ports import accepts_connections

HOST = "127.0.0.1"
UNSEAL_KEY_FILE = "unseal-key"
ROOT_TOKEN_FILE = "root-token"  # noqa: S105 - a file name, not a secret
TOKEN_TTL_SECONDS = 3600
TOKEN_MAX_TTL_SECONDS = 24 * 3600


def _hcl_string(value: str | Path) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class OpenBaoServer:
    """``bao server`` on 127.0.0.1:port, initialised once, auto-unsealed from ``data_dir``.

    The unseal key sitting next to the data is fine for a laptop and for tests;
    it is exactly what production must never do.
    """

    def __init__(
        self,
        port: int,
        data_dir: Path,
        audit_log: Path | None = None,
        cluster_port: int | None = None,
    ) -> None:
        self.port = port
        # Raft binds a second (cluster) port; by convention port + 1. Kept on the
        # instance so a restart reuses it.
        self.cluster_port = cluster_port if cluster_port is not None else port + 1
        self.data_dir = Path(data_dir).resolve()
        self.audit_log = Path(audit_log) if audit_log else self.data_dir / "audit.log"
        self.log_file = self.data_dir / "openbao.log"
        self.config_file = self.data_dir / "config.hcl"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None

    @property
    def addr(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def root_token(self) -> str:
        return (self.data_dir / ROOT_TOKEN_FILE).read_text().strip()

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "raft"

    @property
    def unseal_key_file(self) -> Path:
        return self.data_dir / UNSEAL_KEY_FILE

    @property
    def root_token_file(self) -> Path:
        return self.data_dir / ROOT_TOKEN_FILE

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def client(self, token: str | None = None) -> hvac.Client:
        return hvac.Client(url=self.addr, token=token if token is not None else self.root_token)

    def _write_config(self) -> None:
        # Integrated storage (raft) because OpenBao 2.7 removed the "file"
        # backend; a single node persists across restarts just the same.
        # `disable_mlock` is gone too (OpenBao no longer mlocks), so it is not set.
        # The audit device must be declared here: OpenBao 2.x refuses to enable
        # audit devices through the API. Values are HMAC'd by default, so
        # secrets written to KV never appear in the audit log in plaintext.
        config = f"""
ui = false
api_addr     = "{self.addr}"
cluster_addr = "https://{HOST}:{self.cluster_port}"

storage "raft" {{
  path    = {_hcl_string(self.storage_dir)}
  node_id = "fieldvault-dev"
  # Tight raft timings: a single local node, elections need not be conservative.
  performance_multiplier = 1
}}

listener "tcp" {{
  address         = "{HOST}:{self.port}"
  cluster_address = "{HOST}:{self.cluster_port}"
  tls_disable     = true
}}

audit "file" "file" {{
  description = "fieldvault local audit log"
  options {{
    file_path = {_hcl_string(self.audit_log)}
  }}
}}
"""
        self.config_file.write_text(config)

    def start(self, timeout: float = 30.0) -> None:
        if self.running:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.audit_log.parent.mkdir(parents=True, exist_ok=True)
        self.storage_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._write_config()
        self._log_handle = self.log_file.open("ab")
        self.process = subprocess.Popen(
            [find_binary("bao"), "server", f"-config={self.config_file}"],
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        try:
            self._wait(deadline, lambda: accepts_connections(HOST, self.port), "listen")
            self._init_and_unseal()
            self._wait(deadline, self._is_active, "become active and unsealed")
        except BaseException:
            self.stop()
            raise

    def _init_and_unseal(self) -> None:
        client = hvac.Client(url=self.addr)
        if not client.sys.is_initialized():
            result: dict[str, Any] = client.sys.initialize(secret_shares=1, secret_threshold=1)
            write_secret_file(self.unseal_key_file, result["keys_base64"][0] + "\n")
            write_secret_file(self.root_token_file, result["root_token"] + "\n")
        if not self.unseal_key_file.exists():
            raise RuntimeError(
                f"OpenBao in {self.data_dir} is initialised but {self.unseal_key_file} is missing; "
                "delete the folder to start from scratch"
            )
        if client.sys.is_sealed():
            client.sys.submit_unseal_key(self.unseal_key_file.read_text().strip())

    def _is_active(self) -> bool:
        try:
            # 200 only when initialised, unsealed and active: ready to serve requests.
            return httpx.get(f"{self.addr}/v1/sys/health", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def _wait(self, deadline: float, ready: Any, what: str) -> None:
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"OpenBao exited with {self.process.returncode} (port {self.port}):\n"
                    f"{log_tail(self.log_file)}"
                )
            if ready():
                return
            time.sleep(0.1)
        raise TimeoutError(
            f"OpenBao on port {self.port} did not {what} in time:\n{log_tail(self.log_file)}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is not None:
            terminate(self.process, timeout)
            self.process = None
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def restart(self) -> None:
        self.stop()
        self.start()


# --- bootstrap -------------------------------------------------------------------------


def bootstrap_vault(
    addr: str,
    root_token: str,
    creds_dir: Path,
    services: Iterable[str] = ("identity", "customer_vault"),
) -> dict[str, tuple[str, str]]:
    """Mount engines, write policies and one AppRole per service; idempotent.

    Writes ``<creds_dir>/<service>.role_id`` and ``.secret_id`` (0600) and
    returns ``{service: (role_id, secret_id)}``. An existing, still valid
    secret_id is reused so repeated runs do not pile up secret ids.
    """
    client = hvac.Client(url=addr, token=root_token)
    _ensure_mounts(client)
    creds_dir = Path(creds_dir)
    creds_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    credentials: dict[str, tuple[str, str]] = {}
    for service in services:
        if service not in SERVICE_POLICIES:
            raise ValueError(f"no Vault policy defined for service {service!r}")
        credentials[service] = _ensure_approle(client, service, creds_dir)
    return credentials


def _ensure_mounts(client: hvac.Client) -> None:
    engines: Mapping[str, Any] = client.sys.list_mounted_secrets_engines()["data"]
    if "transit/" not in engines:
        client.sys.enable_secrets_engine("transit", path="transit")
    if "kv/" not in engines:
        client.sys.enable_secrets_engine("kv", path="kv", options={"version": "2"})
    auth_methods: Mapping[str, Any] = client.sys.list_auth_methods()["data"]
    if "approle/" not in auth_methods:
        client.sys.enable_auth_method("approle", path="approle")


def _ensure_approle(client: hvac.Client, service: str, creds_dir: Path) -> tuple[str, str]:
    policy = policy_name(service)
    client.sys.create_or_update_policy(name=policy, policy=SERVICE_POLICIES[service])
    client.auth.approle.create_or_update_approle(
        role_name=service,
        token_policies=[policy],
        token_ttl=TOKEN_TTL_SECONDS,
        token_max_ttl=TOKEN_MAX_TTL_SECONDS,
        # Local dev only: a secret_id that never expires, so a stack restarted
        # next week still starts. Production issues short-lived secret ids.
        secret_id_ttl=0,
        secret_id_num_uses=0,
    )
    role_id = str(client.auth.approle.read_role_id(role_name=service)["data"]["role_id"])
    secret_id_file = creds_dir / f"{service}.secret_id"
    secret_id = _existing_secret_id(client, service, secret_id_file)
    if secret_id is None:
        response = client.auth.approle.generate_secret_id(role_name=service)
        secret_id = str(response["data"]["secret_id"])
    write_secret_file(creds_dir / f"{service}.role_id", role_id + "\n")
    write_secret_file(secret_id_file, secret_id + "\n")
    return role_id, secret_id


def _existing_secret_id(client: hvac.Client, service: str, path: Path) -> str | None:
    if not path.exists():
        return None
    secret_id = path.read_text().strip()
    try:
        found = client.auth.approle.read_secret_id(role_name=service, secret_id=secret_id)
    except hvac.exceptions.InvalidPath:
        return None
    # hvac returns None (HTTP 204) for an unknown secret id on some versions.
    return secret_id if found else None
