"""Templates: one per page, a plain view model from the route, shared bits added here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from web.i18n import LANGUAGE_COOKIE, LANGUAGES, Formatter, language_of, translations
from web.security import CSRF_COOKIE, csrf_secret, csrf_token_for
from web.views import moment

TEMPLATES_DIR = Path(__file__).parent / "templates"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True
templates.env.filters["moment"] = moment


def page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    language = language_of(request)
    catalogue = translations(language)
    settings = request.app.state.settings
    values: dict[str, Any] = {
        "request": request,
        "_": catalogue.gettext,
        "ngettext": catalogue.ngettext,
        "lang": language,
        "languages": LANGUAGES,
        "fmt": Formatter(language, settings.zone),
        "csrf_token": csrf_token_for(csrf_secret(request)),
        "nav": None,
        **(context or {}),
    }
    response = templates.TemplateResponse(
        request, template, values, status_code=status_code, headers=headers
    )
    remember_csrf(request, response)
    return response


def remember_csrf(request: Request, response: Response) -> None:
    """Set the CSRF cookie when this request made the browser its first secret."""
    fresh = getattr(request.state, "new_csrf_secret", None)
    if fresh:
        response.set_cookie(
            CSRF_COOKIE, fresh, path="/", secure=True, httponly=True, samesite="strict"
        )


def remember_language(response: Response, language: str) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        path="/",
        max_age=365 * 24 * 3600,
        secure=True,
        httponly=True,
        samesite="lax",
    )
