"""Free-port helpers: tests pick any free port, the launcher insists on its own."""

from __future__ import annotations

import random
import socket
import threading

#: Below Linux's default ephemeral range (32768-60999): the kernel hands those to
#: outgoing connections, and a stack binds its ports tens of seconds after picking
#: them (migrations run first), long enough for a busy test run's own connections
#: to take a port picked from that range.
_PICK_FROM = range(20000, 32768)
_handed_out: set[int] = set()
_lock = threading.Lock()


class PortInUse(RuntimeError):
    """A configured port is taken; the message says which setting to change."""

    def __init__(self, port: int, setting_name: str, host: str = "127.0.0.1") -> None:
        self.port = port
        self.setting_name = setting_name
        super().__init__(
            f"port {port} on {host} is already in use; "
            f"stop whatever listens there or set {setting_name} to a free port"
        )


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now, outside the range outgoing connections take, and not
    handed out before by this process (another process may still take it: a small
    race, acceptable for local use and tests)."""
    with _lock:
        for _ in range(200):
            port = random.choice(_PICK_FROM)  # noqa: S311 (not a secret)
            if port in _handed_out:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind((host, port))
                except OSError:
                    continue
            _handed_out.add(port)
            return port
    # Crowded: let the OS choose (from the ephemeral range).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        chosen: int = sock.getsockname()[1]
        return chosen


def ensure_port_free(port: int, setting_name: str, host: str = "127.0.0.1") -> None:
    """Fail fast before starting anything, rather than half a stack and a confusing log."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR like the real servers use: connections of a previous run
        # lingering in TIME_WAIT must not count as "in use", a listener must.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PortInUse(port, setting_name, host) from exc


def accepts_connections(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
