"""A real nats-server with JetStream, managed as a subprocess; or a cluster of them."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import nats

from fieldvault_devstack._process import find_binary, log_tail, terminate
from fieldvault_devstack.ports import accepts_connections

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ClusterMembership:
    """This node's name, its route port and the route ports of every node (its own too)."""

    server_name: str
    cluster_port: int
    route_ports: Sequence[int]
    cluster_name: str = "fieldvault"


class NatsServer:
    """``nats-server -js`` on 127.0.0.1:port; restart keeps the port and the JetStream store.

    With ``cluster``, one node of a JetStream cluster (routes to the others).
    """

    def __init__(
        self,
        port: int,
        store_dir: Path,
        log_file: Path,
        *,
        cluster: ClusterMembership | None = None,
    ) -> None:
        self.port = port
        self.store_dir = Path(store_dir)
        self.log_file = Path(log_file)
        self.cluster = cluster
        self.process: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 15.0) -> None:
        self.spawn()
        self._wait_ready(timeout)

    def spawn(self) -> None:
        """Start the process without waiting (a cluster starts its nodes side by side)."""
        if self.running:
            return
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log_handle = self.log_file.open("ab")
        command = [
            find_binary("nats-server"),
            "-js",
            "-a",
            HOST,
            "-p",
            str(self.port),
            "-sd",
            str(self.store_dir),
        ]
        if self.cluster is not None:
            routes = ",".join(f"nats://{HOST}:{port}" for port in self.cluster.route_ports)
            command += [
                "--server_name",
                self.cluster.server_name,
                "--cluster_name",
                self.cluster.cluster_name,
                "--cluster",
                f"nats://{HOST}:{self.cluster.cluster_port}",
                "--routes",
                routes,
            ]
        # Own session: a Ctrl-C in the launcher's terminal must not kill the
        # server before the services that use it have stopped.
        self.process = subprocess.Popen(
            command,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 15.0) -> None:
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._close_log()
                raise RuntimeError(
                    f"nats-server exited with {self.process.returncode} on port {self.port}:\n"
                    f"{log_tail(self.log_file)}"
                )
            if accepts_connections(HOST, self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(
            f"nats-server did not accept connections on port {self.port} within {timeout}s:\n"
            f"{log_tail(self.log_file)}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is not None:
            terminate(self.process, timeout)
            self.process = None
        self._close_log()

    def restart(self) -> None:
        self.stop()
        self.start()

    def _close_log(self) -> None:
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None


class NatsCluster:
    """``nats-server`` nodes (three, usually) routed into one JetStream cluster.

    Each node listens for clients on its client port and for routes on its
    route port; :attr:`url` names every node (comma-separated),
    so a client fails over between them. Started, it has a JetStream meta
    leader: streams and buckets with replicas up to ``size`` can be created.
    """

    def __init__(
        self,
        client_ports: Sequence[int],
        route_ports: Sequence[int],
        store_dir: Path,
        logs_dir: Path,
    ) -> None:
        self.nodes = [
            NatsServer(
                client_port,
                Path(store_dir) / f"node-{k + 1}",
                Path(logs_dir) / f"nats-server-{k + 1}.log",
                cluster=ClusterMembership(f"fieldvault-nats-{k + 1}", route_port, route_ports),
            )
            for k, (client_port, route_port) in enumerate(
                zip(client_ports, route_ports, strict=True)
            )
        ]

    @classmethod
    def stepped(
        cls,
        port: int,
        cluster_port: int,
        store_dir: Path,
        logs_dir: Path,
        *,
        size: int = 3,
        step: int = 10,
    ) -> NatsCluster:
        """Node ``k`` on ``port + k * step``, its routes on ``cluster_port + k * step``."""
        return cls(
            [port + k * step for k in range(size)],
            [cluster_port + k * step for k in range(size)],
            store_dir,
            logs_dir,
        )

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    @property
    def running(self) -> bool:
        return all(node.running for node in self.nodes)

    def start(self, timeout: float = 60.0) -> None:
        for node in self.nodes:
            node.spawn()
        try:
            for node in self.nodes:
                node.wait_ready(timeout)
            _wait_for_jetstream(self.url, timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        for node in self.nodes:
            node.stop(timeout)

    def restart(self) -> None:
        self.stop()
        self.start()


def _wait_for_jetstream(url: str, timeout: float) -> None:
    """Until the cluster answers JetStream requests (it has elected a meta leader)."""

    async def ready() -> None:
        deadline = time.monotonic() + timeout
        client = await nats.connect(url.split(","), connect_timeout=2)
        try:
            while True:
                try:
                    await client.jetstream(timeout=2).account_info()
                    return
                except Exception:
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"the NATS cluster at {url} elected no JetStream leader "
                            f"within {timeout:.0f}s"
                        ) from None
                    await asyncio.sleep(0.25)
        finally:
            await client.close()

    # A thread of its own: the caller may be running an event loop (pytest-asyncio).
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, ready()).result()
