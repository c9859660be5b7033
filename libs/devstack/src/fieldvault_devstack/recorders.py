"""Recording stand-ins for the outside world that tests talk to for real: an SMTP
server (aiosmtpd) keeping every message, and an HTTP server (uvicorn) keeping every
request and answering with scripted status codes (webhook receivers, an SMS gateway)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller

TIMEOUT = 10.0


class Mailbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Message] = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.content)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str, *, invitations: bool = False) -> list[Message]:
        """Messages to ``address``; without invitations (every test person got one,
        unless they accepted it before notification got round to sending it)."""
        return [
            m
            for m in self.messages
            if m["To"] == address
            and (invitations or m["Subject"] != "You are invited to fieldvault")
        ]


def smtp_server(port: int) -> tuple[Controller, Mailbox]:
    mailbox = Mailbox(port)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    return controller, mailbox


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server recording every request; ``answers`` (per path) are the status
    codes of the next responses, 200 when none is left."""

    port: int
    requests: list[Received] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append(Received(scope["path"], headers, body))
        queued = self.answers.get(scope["path"], [])
        status = queued.pop(0) if queued else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def start_receiver(receiver: Receiver) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    config = uvicorn.Config(
        receiver, host="127.0.0.1", port=receiver.port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await eventually(lambda: _started(server), timeout=5)
    return server, task


async def _started(server: uvicorn.Server) -> bool:
    return bool(server.started)


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = TIMEOUT) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("the condition did not hold in time")
        await asyncio.sleep(0.05)


def text_of(mail: Message) -> str:
    """The decoded text of a single-part email (transfer encoding undone)."""
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(mail.get_content_charset() or "utf-8")


@contextlib.contextmanager
def receiver_in_thread(receiver: Receiver) -> Iterator[Receiver]:
    """Serve ``receiver`` from a thread of its own, for a synchronous fixture that must
    have it listening before the processes that call it start."""
    config = uvicorn.Config(
        receiver, host="127.0.0.1", port=receiver.port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="receiver", daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the receiver on port {receiver.port} did not start")
        time.sleep(0.02)
    try:
        yield receiver
    finally:
        server.should_exit = True
        thread.join(timeout=5)
