"""Who is asking: the session behind the ``__Host-fv-session`` cookie, and API calls made
with its tokens.

:class:`Caller` is what a signed-in page gets. Its :meth:`Caller.api` refreshes the
access token shortly before it expires, and on a 401 tries the refresh token once;
when that fails too (signed out elsewhere, deactivated, password changed) the session
is deleted and :class:`SignInRequired` sends the browser to the sign-in page. Every
page load therefore asks the gateway, which refuses a revoked session within a second.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from web.gateway import GatewayClient, GatewayRefused
from web.sessions import Session, SessionStore, new_session_id

SESSION_COOKIE = "__Host-fv-session"
#: Refresh this long before the access token expires.
REFRESH_MARGIN_SECONDS = 30


#: One refresh at a time per session in this process: a refresh token works once, and
#: presenting it twice (two parallel calls of one page) would revoke the session.
_refreshing: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


class SignInRequired(Exception):
    """No live session: the page answers with a redirect to sign-in."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


@dataclass
class Caller:
    request: Request
    session_id: str
    session: Session

    @property
    def gateway(self) -> GatewayClient:
        gateway: GatewayClient = self.request.app.state.gateway
        return gateway

    @property
    def store(self) -> SessionStore:
        store: SessionStore = self.request.app.state.sessions
        return store

    async def api(self, method: str, path: str, **kwargs: Any) -> Any:
        if time.time() > self.session.access_expires_at - REFRESH_MARGIN_SECONDS:
            await self.refresh(self.session.access_token)
        used = self.session.access_token
        try:
            return await self.gateway.request(
                method, path, token=self.session.access_token, **kwargs
            )
        except GatewayRefused as refused:
            if refused.status != 401:
                raise
        await self.refresh(used)
        try:
            return await self.gateway.request(
                method, path, token=self.session.access_token, **kwargs
            )
        except GatewayRefused as refused:
            if refused.status == 401:
                await self.end("revoked")
            raise

    async def refresh(self, stale_access_token: str) -> None:
        lock = _refreshing.get(self.session_id)
        if lock is None:
            lock = _refreshing[self.session_id] = asyncio.Lock()
        async with lock:
            if self.session.access_token != stale_access_token:
                return  # a parallel call of this page refreshed already
            stored = await self.store.load(self.session_id)
            if stored is None:
                raise SignInRequired("expired")
            if stored.access_token != stale_access_token:
                self.session = stored  # another request refreshed it
                return
            await self._refresh()

    async def _refresh(self) -> None:
        if not self.session.refresh_token:
            await self.end("expired")
        try:
            pair = await self.gateway.request(
                "POST",
                "/v1/auth/refresh",
                json={"refresh_token": self.session.refresh_token},
                client_address=client_address(self.request),
            )
        except GatewayRefused as refused:
            if refused.status in (400, 401, 403, 422):
                await self.end("revoked")
            raise
        keep_tokens(self.session, pair)
        await self.store.save(self.session_id, self.session)

    async def end(self, reason: str) -> None:
        await self.store.delete(self.session_id)
        raise SignInRequired(reason)


def keep_tokens(session: Session, pair: dict[str, Any]) -> None:
    session.access_token = str(pair["access_token"])
    session.refresh_token = str(pair.get("refresh_token") or "")
    session.access_expires_at = time.time() + float(pair.get("expires_in") or 300)


async def current_session(request: Request) -> tuple[str, Session] | None:
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if not session_id:
        return None
    store: SessionStore = request.app.state.sessions
    session = await store.load(session_id)
    if session is None:
        return None
    return session_id, session


async def signed_in(request: Request) -> Caller:
    """The FastAPI dependency of every page with data."""
    found = await current_session(request)
    if found is None or found[1].state != "signed_in":
        raise SignInRequired("none")
    return Caller(request, *found)


async def start_session(request: Request, response: Response, session: Session) -> str:
    """A new session (a new cookie value: never one the browser had before sign-in)."""
    old = request.cookies.get(SESSION_COOKIE, "")
    store: SessionStore = request.app.state.sessions
    if old:
        await store.delete(old)
    session_id = new_session_id()
    await store.save(session_id, session)
    set_session_cookie(response, session_id)
    return session_id


def set_session_cookie(response: Response, session_id: str) -> None:
    # No Max-Age: a session cookie, gone when the browser closes; the server ends it
    # sooner (idle timeout, absolute lifetime, revocation).
    response.set_cookie(
        SESSION_COOKIE, session_id, path="/", secure=True, httponly=True, samesite="lax"
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
