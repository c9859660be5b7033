"""A real nats-server with JetStream, managed as a subprocess."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import IO

from fieldvault_devstack._process import find_binary, log_tail, terminate
from fieldvault_devstack.ports import accepts_connections

HOST = "127.0.0.1"


class NatsServer:
    """``nats-server -js`` on 127.0.0.1:port; restart keeps the port and the JetStream store."""

    def __init__(self, port: int, store_dir: Path, log_file: Path) -> None:
        self.port = port
        self.store_dir = Path(store_dir)
        self.log_file = Path(log_file)
        self.process: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 15.0) -> None:
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
        # Own session: a Ctrl-C in the launcher's terminal must not kill the
        # server before the services that use it have stopped.
        self.process = subprocess.Popen(
            command,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
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
