"""Unary round trips through ``GrpcServer`` (with its ErrorInterceptor) vs a bare grpc.aio server.

Both servers listen on 127.0.0.1 (free ports) with the same generic echo
handler (bytes in, bytes out) and the same channel options; the only
difference on the call path is the platform's interceptor. Client and servers
share one process and event loop, so the client's cost is in both numbers
and the ratio is that of a whole round trip as a caller sees it.

Measured sequentially and with ``--concurrency`` calls in flight on one
channel, in short rounds that alternate between the two servers; the ratio
is the median of the per-round ratios, which shrugs off load from the rest
of the machine.

Usage: python bench/grpc_roundtrip.py [--n 4000] [--concurrency 16] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import defaultdict
from collections.abc import Callable

import grpc

from fieldvault_platform.grpc_server import GrpcServer

SERVICE = "fieldvault.bench.v1.BenchService"
METHOD = f"/{SERVICE}/Echo"
REQUEST = b"x" * 128
SERVER_OPTIONS = [("grpc.so_reuseport", 0)]  # what GrpcServer uses
BARE = "bare grpc.aio"
PLATFORM = "GrpcServer"


def _identity(data: bytes) -> bytes:
    return data


async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


def register(server: grpc.aio.Server) -> None:
    handler = grpc.unary_unary_rpc_method_handler(
        echo, request_deserializer=_identity, response_serializer=_identity
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE, {"Echo": handler}),)
    )


Call = Callable[..., "grpc.aio.UnaryUnaryCall[bytes, bytes]"]


async def sequential(call: Call, n: int) -> None:
    for _ in range(n):
        await call(REQUEST, timeout=5)


async def concurrent(call: Call, n: int, concurrency: int) -> None:
    async def worker(count: int) -> None:
        for _ in range(count):
            await call(REQUEST, timeout=5)

    share, extra = divmod(n, concurrency)
    await asyncio.gather(*(worker(share + (i < extra)) for i in range(concurrency)))


async def seconds_for(call: Call, n: int, concurrency: int) -> float:
    started = time.perf_counter()
    if concurrency == 1:
        await sequential(call, n)
    else:
        await concurrent(call, n, concurrency)
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> None:
    bare = grpc.aio.server(options=SERVER_OPTIONS)
    register(bare)
    bare_port = bare.add_insecure_port("127.0.0.1:0")
    await bare.start()
    platform = GrpcServer(
        host="127.0.0.1", port=0, registrars=[register], service_names=[SERVICE], grace_seconds=1
    )
    await platform.start()
    channels = {
        BARE: grpc.aio.insecure_channel(f"127.0.0.1:{bare_port}"),
        PLATFORM: grpc.aio.insecure_channel(f"127.0.0.1:{platform.port}"),
    }
    per_round = max(1, args.n // args.rounds)
    # (variant, concurrency) -> seconds of each round
    seconds: dict[tuple[str, int], list[float]] = defaultdict(list)
    try:
        calls = {name: channel.unary_unary(METHOD) for name, channel in channels.items()}
        for call in calls.values():  # warm-up: connect, and the first calls' slow path
            await sequential(call, 200)
        for concurrency in (1, args.concurrency):
            for round_ in range(args.rounds):
                # Short alternating rounds, order swapped each time: load from the
                # rest of the machine hits both variants alike.
                order = list(calls) if round_ % 2 == 0 else list(reversed(calls))
                for name in order:
                    elapsed = await seconds_for(calls[name], per_round, concurrency)
                    seconds[name, concurrency].append(elapsed)
    finally:
        for channel in channels.values():
            await channel.close()
        await platform.stop()
        await bare.stop(1)

    total = per_round * args.rounds
    print(f"\n{total} unary calls of {len(REQUEST)} bytes per row on loopback")
    print(f"({args.rounds} alternating rounds of {per_round})\n")
    print(f"{'server':<16} {'in flight':>9} {'calls/s':>9} {'us/call':>8}")
    for concurrency in (1, args.concurrency):
        for name in (BARE, PLATFORM):
            rate = total / sum(seconds[name, concurrency])
            print(f"{name:<16} {concurrency:>9} {rate:>9.0f} {1e6 / rate:>8.1f}")
    print("\nratio GrpcServer / bare in calls/s (median over rounds; below 1.00 = overhead):")
    for concurrency in (1, args.concurrency):
        ratios = [
            bare_s / platform_s
            for bare_s, platform_s in zip(
                seconds[BARE, concurrency], seconds[PLATFORM, concurrency], strict=True
            )
        ]
        print(
            f"  {concurrency:>2} in flight   {statistics.median(ratios):5.2f}"
            f"   (rounds ranged {min(ratios):.2f} to {max(ratios):.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4000, help="calls per variant and row")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds per row")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
