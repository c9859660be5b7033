"""Email (SMTP, or one ``.eml`` file per message locally) and SMS (a generic HTTP gateway)."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib
import httpx

from notification.settings import Settings


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class FileMailer:
    """The local stack's mail: ``<mail_dir>/<time>-<id>.eml``, readable by the owner only."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, message)

    def _write(self, message: EmailMessage) -> None:
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self._directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(message.as_bytes())


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, message: EmailMessage) -> None:
        s = self._settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            timeout=30,
        )


def mailer(settings: Settings) -> Mailer:
    if settings.email_transport == "smtp":
        return SmtpMailer(settings)
    return FileMailer(Path(settings.mail_dir))


def email(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    message["Message-ID"] = f"<{uuid.uuid4().hex}@fieldvault>"
    message.set_content(body, cte=_transfer_encoding(body))
    return message


#: RFC 5322's limit for a line, line break excluded.
_MAX_LINE = 998


def _transfer_encoding(body: str) -> str:
    """7bit for ASCII, 8bit for other UTF-8 text: links stay whole and greppable.

    Left to itself, :mod:`email` picks quoted-printable for any line over 78
    characters, which turns ``=`` into ``=3D`` and breaks a link with soft line
    breaks. Only a line too long for any mail server falls back to it.
    """
    if any(len(line.encode()) > _MAX_LINE for line in body.splitlines()):
        return "quoted-printable"
    return "7bit" if body.isascii() else "8bit"


class SmsGateway:
    """POST ``{"to", "from", "text"}`` as JSON with the configured bearer token."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient) -> None:
        if settings.sms_gateway_url is None:
            raise ValueError("no SMS gateway configured")
        self._url = str(settings.sms_gateway_url)
        self._token = settings.sms_gateway_token
        self._sender = settings.sms_sender
        self._client = client

    async def send(self, to: str, text: str) -> None:
        headers = {"Content-Type": "application/json"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        response = await self._client.post(
            self._url,
            json={"to": to, "from": self._sender, "text": text},
            headers=headers,
            timeout=15,
            follow_redirects=False,
        )
        response.raise_for_status()
