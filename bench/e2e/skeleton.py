"""The skeleton baseline: the reveal's hops with no product logic.

HTTP (uvicorn) → FastAPI → grpc.aio → one row read and one row written in a
transaction (SQLAlchemy, the same async driver as the services) and one
AES-256-GCM decryption with a key cached in memory. Two processes, like the
gateway and customer_vault: ``python -m e2e.skeleton grpc ...`` and
``python -m e2e.skeleton http ...`` (run from ``bench/``).

What the product adds on top of this — token checks, exchange, grants, the
audit chain, Transit, events — is what the benchmark's ratios measure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid

import grpc
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from fieldvault_platform.db import create_engine, is_sqlite, normalise_url

SERVICE = "fieldvault.bench.v1.Skeleton"
METHOD = f"/{SERVICE}/Reveal"
ROWS = 1000


def _identity(data: bytes) -> bytes:
    return data


async def _prepare(engine: AsyncEngine, key: bytes) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS skeleton_secret"))
        await conn.execute(text("DROP TABLE IF EXISTS skeleton_log"))
        blob = "BLOB" if is_sqlite(str(engine.url)) else "BYTEA"
        await conn.execute(
            text(
                f"CREATE TABLE skeleton_secret (id VARCHAR(36) PRIMARY KEY, nonce {blob}, ct {blob})"  # noqa: E501
            )
        )
        await conn.execute(
            text("CREATE TABLE skeleton_log (id VARCHAR(36) PRIMARY KEY, secret_id VARCHAR(36))")
        )
        cipher = AESGCM(key)
        for index in range(ROWS):
            nonce = os.urandom(12)
            await conn.execute(
                text("INSERT INTO skeleton_secret (id, nonce, ct) VALUES (:id, :nonce, :ct)"),
                {"id": str(index), "nonce": nonce, "ct": cipher.encrypt(nonce, b"DOOR-4711", None)},
            )


async def serve_grpc(port: int, database_url: str) -> None:
    url = normalise_url(database_url)
    engine = create_engine(url)
    key = AESGCM.generate_key(bit_length=256)  # the "cached data key"
    cipher = AESGCM(key)
    await _prepare(engine, key)

    async def reveal(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        secret_id = request.decode()
        async with engine.begin() as conn:
            row = (
                await conn.execute(
                    text("SELECT nonce, ct FROM skeleton_secret WHERE id = :id"), {"id": secret_id}
                )
            ).one()
            await conn.execute(
                text("INSERT INTO skeleton_log (id, secret_id) VALUES (:id, :secret_id)"),
                {"id": str(uuid.uuid4()), "secret_id": secret_id},
            )
        return cipher.decrypt(row.nonce, row.ct, None)

    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handler = grpc.unary_unary_rpc_method_handler(
        reveal, request_deserializer=_identity, response_serializer=_identity
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE, {"Reveal": handler}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def http_app(grpc_port: int):  # type: ignore[no-untyped-def]
    from fastapi import FastAPI

    app = FastAPI()
    channel: dict[str, grpc.aio.Channel] = {}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/reveal/{secret_id}")
    async def reveal(secret_id: str) -> dict[str, str]:
        if "c" not in channel:
            channel["c"] = grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}")
        call = channel["c"].unary_unary(
            METHOD, request_serializer=_identity, response_deserializer=_identity
        )
        value: bytes = await call(secret_id.encode(), timeout=5)
        return {"value": value.decode()}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("role", choices=["grpc", "http"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--grpc-port", type=int, default=0)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if args.role == "grpc":
        asyncio.run(serve_grpc(args.port, args.database_url))
    else:
        import uvicorn

        uvicorn.run(
            http_app(args.grpc_port),
            host="127.0.0.1",
            port=args.port,
            log_level="warning",
            access_log=False,
        )


if __name__ == "__main__":
    main()
