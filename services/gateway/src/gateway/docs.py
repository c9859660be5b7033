"""``/docs``: Swagger UI served from the ``swagger-ui-py`` package, never a CDN.

The page works without internet access (a technician's laptop on a site's
guest network, an air-gapped operator): its script, styles and icons are the
package's files under ``/docs/assets``, and its start-up script is a file of
ours too, so the page's CSP can forbid inline script and every other origin.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
INIT_PATH = "/docs/init.js"

#: Same-origin only: the page's own files and /openapi.json. Swagger UI sets inline
#: styles on its elements and shows SVG icons as data: URLs.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{title}} - Swagger UI</title>
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{INIT_PATH}"></script>
</body>
</html>
"""

_INIT = """window.ui = SwaggerUIBundle({
  url: "%s",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
"""


def swagger_ui_assets() -> Path:
    """The Swagger UI 5 distribution inside ``swagger-ui-py`` (found, not imported:
    its package pulls in adapters for other web frameworks)."""
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def install(app: FastAPI) -> None:
    """Serve ``/docs`` (create the app with ``docs_url=None``)."""
    page = _PAGE.replace("{title}", app.title)
    init = _INIT % (app.openapi_url or "/openapi.json")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})

    @app.get(INIT_PATH, include_in_schema=False)
    async def swagger_ui_init() -> Response:
        return Response(init, media_type="text/javascript")

    app.mount(ASSETS_PATH, StaticFiles(directory=swagger_ui_assets()), name="swagger-ui-assets")
