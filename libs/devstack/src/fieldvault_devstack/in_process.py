"""Run a service's gRPC runtime inside the test process, on a free port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fieldvault_platform.grpc_client import check_health, open_channel
from fieldvault_platform.runtime import ServiceRuntime, serve


@contextlib.asynccontextmanager
async def serving(runtime: ServiceRuntime, *, start_timeout: float = 10.0) -> AsyncIterator[str]:
    """Serve ``runtime`` until the block ends; yields its ``host:port`` once SERVING."""
    stop = asyncio.Event()
    task = asyncio.create_task(serve(runtime, stop_signal=stop.wait()))
    target = f"{runtime.settings.grpc_host}:{runtime.settings.grpc_port}"
    try:
        async with open_channel(target) as channel:
            deadline = asyncio.get_running_loop().time() + start_timeout
            while not await check_health(channel, timeout=0.5):
                if task.done():
                    task.result()  # re-raise why the server did not start
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"service at {target} did not report SERVING")
                await asyncio.sleep(0.05)
        yield target
    finally:
        stop.set()
        await task
