"""Swagger UI at ``/docs`` from the app itself (the ``swagger-ui-bundle`` package's files),
so the API browser works without internet."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from swagger_ui_bundle import swagger_ui_path

from boxoffice.web.rendering import StaticAssets

ASSETS = "/docs-assets"


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets (call with ``docs_url=None`` on the app)."""
    app.mount(ASSETS, StaticAssets(directory=swagger_ui_path), name="swagger-ui")
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )

    app.include_router(router)
