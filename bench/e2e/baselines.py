"""The baselines measured in the same run: the skeleton, raw Transit decrypt, ``/healthz``."""

from __future__ import annotations

import base64
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from fieldvault_devstack.databases import isolated_database
from fieldvault_devstack.ports import free_port
from fieldvault_devstack.stack import LocalStack

BENCH_DIR = Path(__file__).resolve().parent.parent
TRANSIT_KEY = "bench-baseline"
SKELETON_START_SECONDS = 120


@contextlib.contextmanager
def skeleton(database_url: str | None, scratch: Path) -> Iterator[str]:
    """The skeleton's HTTP base URL, its two processes running until the block ends."""
    with contextlib.ExitStack() as cleanup:
        if database_url:
            url = cleanup.enter_context(isolated_database(database_url))
        else:
            url = f"sqlite+aiosqlite:///{scratch / 'skeleton.db'}"
        grpc_port, http_port = free_port(), free_port()
        command = [sys.executable, "-m", "e2e.skeleton"]
        processes = [
            subprocess.Popen(
                [*command, "grpc", "--port", str(grpc_port), "--database-url", url],
                cwd=BENCH_DIR,
            ),
            subprocess.Popen(
                [*command, "http", "--port", str(http_port), "--grpc-port", str(grpc_port)],
                cwd=BENCH_DIR,
            ),
        ]

        def stop() -> None:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=10)

        cleanup.callback(stop)
        base_url = f"http://127.0.0.1:{http_port}"
        # Generous: on a loaded machine importing FastAPI and SQLAlchemy alone takes seconds.
        deadline = time.monotonic() + SKELETON_START_SECONDS
        while True:
            if any(process.poll() is not None for process in processes):
                raise RuntimeError("a skeleton process exited while starting")
            try:
                if httpx.post(f"{base_url}/reveal/1", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the skeleton did not start")
            time.sleep(0.2)
        yield base_url


def transit_ciphertext(stack: LocalStack) -> str:
    """A Transit key of its own and a ciphertext under it, for the raw decrypt baseline."""
    client = stack.openbao.client()
    client.secrets.transit.create_key(name=TRANSIT_KEY)
    encrypted = client.secrets.transit.encrypt_data(
        name=TRANSIT_KEY, plaintext=base64.b64encode(b"DOOR-4711").decode()
    )
    ciphertext: str = encrypted["data"]["ciphertext"]
    return ciphertext
