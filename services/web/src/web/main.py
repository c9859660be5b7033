"""The composition root: ``create_app(settings)`` builds the field app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from web.auth import SignInRequired, clear_session_cookie
from web.gateway import GatewayClient, GatewayRefused, GatewayUnavailable, InstructionsToRead
from web.i18n import Formatter, language_of, translations
from web.problems import explain
from web.rendering import page
from web.routes import (
    admin,
    audit,
    board,
    customers,
    health,
    inbox,
    instructions,
    invitations,
    jobs,
    keys,
    me,
    privacy,
    pwa,
    reports,
    rotation,
    shared,
    shares,
    signin,
    today,
)
from web.security import page_security_headers
from web.sessions import SessionStore, SessionStoreUnavailable
from web.settings import WebSettings

SERVICE_NAME = "web"
STATIC_DIR = Path(__file__).parent / "static"

log = logging.getLogger(__name__)


def create_app(settings: WebSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.gateway = GatewayClient(
            settings.gateway_url, timeout=settings.gateway_timeout_seconds
        )
        app.state.sessions = SessionStore(
            settings.nats_url,
            settings.session_bucket,
            idle_seconds=settings.session_idle_seconds,
            absolute_seconds=settings.session_absolute_seconds,
            replicas=settings.nats_replicas,
        )
        try:
            yield
        finally:
            await app.state.sessions.close()
            await app.state.gateway.aclose()

    app = FastAPI(
        title="fieldvault web",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.add_middleware(page_security_headers, hsts=not settings.is_development)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (health, signin, invitations, shared, today, jobs, inbox, me, pwa, instructions):
        app.include_router(module.router)
    # The office console: the same sessions, headers and catalogues, laid out wider.
    for module in (board, customers, keys, admin, audit, privacy, shares, reports, rotation):
        app.include_router(module.router)

    @app.exception_handler(SignInRequired)
    async def _to_sign_in(request: Request, exc: SignInRequired) -> Response:
        target = "/signin?ended=1" if exc.reason in ("revoked", "expired") else "/signin"
        response = RedirectResponse(target, status_code=303)
        clear_session_cookie(response)
        return response

    @app.exception_handler(GatewayRefused)
    async def _refused(request: Request, exc: GatewayRefused) -> Response:
        # A refusal no route explained itself: said in words, with its status.
        language = language_of(request)
        message = explain(
            exc, translations(language).gettext, Formatter(language, settings.zone).time
        )
        status = exc.status if 400 <= exc.status < 600 else 400
        return page(request, "message.html", {"message": message}, status_code=status)

    @app.exception_handler(InstructionsToRead)
    async def _to_instructions(request: Request, exc: InstructionsToRead) -> Response:
        # Customer data waits until the person acknowledged the instructions in force:
        # show them, then come back here. The page's script follows the link itself.
        target = instructions.instructions_url(request)
        if "application/json" in request.headers.get("accept", ""):
            _ = translations(language_of(request)).gettext
            return JSONResponse(
                {
                    "error": _("Read the data-handling instructions first."),
                    "instructions_url": target,
                },
                status_code=403,
            )
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(GatewayUnavailable)
    @app.exception_handler(SessionStoreUnavailable)
    async def _unavailable(request: Request, exc: Exception) -> Response:
        log.warning("a dependency is unavailable", extra={"error": type(exc).__name__})
        return page(request, "unavailable.html", status_code=503, headers={"Retry-After": "5"})

    return app
