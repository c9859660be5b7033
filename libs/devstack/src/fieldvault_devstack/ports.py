"""Free-port helpers: tests pick any free port, the launcher insists on its own."""

from __future__ import annotations

import socket


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
    """A port the OS considers free right now (a small race is acceptable for local use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


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
