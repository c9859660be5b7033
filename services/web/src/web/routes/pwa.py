"""Installable: the web manifest and the service worker (served from the root for its scope).

The worker caches only the static files; pages and answers with data always go to
the network and are never stored.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from web.i18n import language_of, translations

router = APIRouter()

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@router.get("/manifest.webmanifest")
async def manifest(request: Request) -> Response:
    _ = translations(language_of(request)).gettext
    return JSONResponse(
        {
            "name": "fieldvault",
            "short_name": "fieldvault",
            "description": _("Your jobs for the day, and door codes only when needed."),
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#0b4f6c",
            "icons": [
                {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
                {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
                {
                    "src": "/static/icons/icon-512.png",
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
        },
        media_type="application/manifest+json",
    )


@router.get("/sw.js")
async def service_worker() -> Response:
    return FileResponse(
        STATIC_DIR / "sw.js",
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )
