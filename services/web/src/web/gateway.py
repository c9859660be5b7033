"""The gateway's public REST API, called like any other client would.

One :class:`GatewayClient` per process (one connection pool). A refusal is a
:class:`GatewayRefused` carrying the problem's stable ``code``, its status and
``detail``; pages turn codes into words (``web.problems``), never show the
detail's raw text when it is not meant for people. The gateway down is
:class:`GatewayUnavailable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class GatewayRefused(Exception):
    status: int
    code: str
    detail: str = ""
    retry_after: int | None = None
    #: problem+json members besides the standard ones (e.g. ``opens_at``).
    extra: dict[str, Any] | None = None

    def __str__(self) -> str:
        # Never the detail: it may quote what the caller sent.
        return f"gateway refused with {self.status} {self.code}"


@dataclass
class Download:
    """A document the API answered (a contract, a DPA, an export), passed on as a file."""

    content: bytes
    content_type: str
    disposition: str


class GatewayUnavailable(Exception):
    """The gateway could not be reached or answered 5xx without a problem."""


#: The API's refusal of customer data to a person who has not acknowledged the tenant's
#: data-handling instructions in force.
INSTRUCTIONS_NOT_ACKNOWLEDGED = "instructions_not_acknowledged"


@dataclass
class InstructionsToRead(Exception):
    """The caller must read and acknowledge ``version`` of the data-handling instructions.

    Deliberately not a :class:`GatewayRefused`: pages that explain refusals in place
    let it through, and the app sends the person to the instructions page instead
    (``web.routes.instructions``), then back to where they were.
    """

    version: int

    def __str__(self) -> str:
        return f"instructions version {self.version} not acknowledged"


_STANDARD = {"type", "title", "status", "detail", "code", "instance"}


def _refusal(response: httpx.Response) -> GatewayRefused:
    body: dict[str, Any] = {}
    try:
        parsed = response.json()
        if isinstance(parsed, dict):
            body = parsed
    except ValueError:
        pass
    retry = response.headers.get("Retry-After")
    return GatewayRefused(
        status=response.status_code,
        code=str(body.get("code") or f"http_{response.status_code}"),
        detail=str(body.get("detail") or ""),
        retry_after=int(retry) if retry and retry.isdigit() else None,
        extra={k: v for k, v in body.items() if k not in _STANDARD},
    )


class GatewayClient:
    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=timeout, headers={"User-Agent": "fieldvault-web"}
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        client_address: str | None = None,
        if_match: str | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        raw: bool = False,
    ) -> Any:
        """The JSON answer (None for 204); raises GatewayRefused / GatewayUnavailable.

        ``if_match`` sends the etag a change is based on (a stale one is a 412);
        ``files`` posts multipart; ``raw`` answers a :class:`Download` instead of JSON.
        """
        headers = {"Accept": "*/*" if raw else "application/json"}
        if if_match:
            headers["If-Match"] = if_match
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if client_address:
            # The gateway believes this only from a proxy it trusts.
            headers["X-Forwarded-For"] = client_address
        try:
            response = await self._http.request(
                method, path, headers=headers, json=json, params=params, files=files
            )
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(type(exc).__name__) from None
        if response.status_code >= 500 and response.status_code != 503:
            raise GatewayUnavailable(f"status {response.status_code}")
        if response.status_code >= 400:
            refusal = _refusal(response)
            if response.status_code == 403 and refusal.code == INSTRUCTIONS_NOT_ACKNOWLEDGED:
                version = (refusal.extra or {}).get("instructions_version")
                raise InstructionsToRead(version if isinstance(version, int) else 0)
            raise refusal
        if raw:
            return Download(
                content=response.content,
                content_type=response.headers.get("content-type", "application/octet-stream"),
                disposition=response.headers.get("content-disposition", ""),
            )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def ready(self) -> bool:
        try:
            response = await self._http.get("/readyz", timeout=1.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200
