from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldvault_devstack.ports import PortInUse, ensure_port_free, free_port
from fieldvault_devstack.settings import DevStackSettings
from fieldvault_devstack.stack import LocalStack


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _free_port_env() -> dict[str, str]:
    return {name: str(free_port()) for name in DevStackSettings().ports()}


def test_port_in_use_fails_fast_naming_the_port_and_the_setting(taken_port: int) -> None:
    with pytest.raises(PortInUse) as raised:
        ensure_port_free(taken_port, "FIELDVAULT_DEV_NATS_PORT")
    assert str(taken_port) in str(raised.value)
    assert "FIELDVAULT_DEV_NATS_PORT" in str(raised.value)


def test_free_port_is_bindable() -> None:
    port = free_port()
    ensure_port_free(port, "ANY")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))
        assert probe.getsockname()[1] == port


def test_stack_starts_nothing_when_a_port_is_taken(
    taken_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _free_port_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FIELDVAULT_DEV_OPENBAO_PORT", str(taken_port))
    stack = LocalStack(DevStackSettings(data_dir=tmp_path / "dev"))

    with pytest.raises(PortInUse, match="FIELDVAULT_DEV_OPENBAO_PORT"):
        stack.start()
    assert not (tmp_path / "dev").exists()
    assert not stack.nats.running


def test_launcher_command_exits_non_zero_naming_the_taken_port(
    taken_port: int, tmp_path: Path
) -> None:
    env = {**os.environ, **_free_port_env()}
    env["FIELDVAULT_DEV_DATA_DIR"] = str(tmp_path / "dev")
    env["FIELDVAULT_DEV_GATEWAY_PORT"] = str(taken_port)

    result = subprocess.run(
        [sys.executable, "-m", "fieldvault_devstack", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert f"port {taken_port}" in result.stderr
    assert "FIELDVAULT_DEV_GATEWAY_PORT" in result.stderr
