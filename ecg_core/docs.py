"""The local server's API documentation: Swagger UI served from the fastapi-offline package (no CDN).

The documentation is open without the bearer token, on purpose: the pages and the OpenAPI schema describe
the routes and hold no data or secrets, and a browser cannot send a bearer token to load a page. Calls made
from the page ("Try it out") still need the token; with ENDPOINT_TOKEN set the schema declares it, so
Swagger's Authorize button sends it.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline

DOCS_URL = "/docs"
SEED_DOCS_URL = "/api/openapi"  # where the seed trainer service had its Swagger page
OPENAPI_URL = "/api/openapi.json"
ASSETS_URL = "/docs-assets"
_OPEN_PATHS = frozenset({DOCS_URL, SEED_DOCS_URL, OPENAPI_URL, f"{DOCS_URL}/oauth2-redirect"})


def documented_app(title: str, bearer_token: bool, **fastapi_options) -> FastAPI:
    """A FastAPI app whose Swagger pages load their scripts from this server."""
    app = FastAPIOffline(title=title, version="1", docs_url=DOCS_URL, redoc_url=None, openapi_url=OPENAPI_URL,
                         static_url=ASSETS_URL, **fastapi_options)

    @app.get(SEED_DOCS_URL, include_in_schema=False)
    async def seed_docs():
        return get_swagger_ui_html(openapi_url=OPENAPI_URL, title=app.title,
                                   swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS_URL}/favicon.png")

    if bearer_token:
        def openapi_with_bearer() -> dict:
            if app.openapi_schema is None:
                schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
                schema.setdefault("components", {})["securitySchemes"] = {"bearer": {"type": "http",
                                                                                     "scheme": "bearer"}}
                schema["security"] = [{"bearer": []}]
                app.openapi_schema = schema
            return app.openapi_schema

        app.openapi = openapi_with_bearer
    return app


def is_documentation(path: str) -> bool:
    return path in _OPEN_PATHS or path.startswith(ASSETS_URL + "/")
