"""How the shop plugs into the app: its routes, its files, its settings."""

from __future__ import annotations

from fastapi import FastAPI

from boxoffice.platform.config import Settings
from boxoffice.web import console, routes
from boxoffice.web.rendering import STATIC, StaticAssets


def install(app: FastAPI, settings: Settings) -> None:
    app.state.web_settings = settings.web
    app.state.public_url = settings.public_url
    app.mount("/static", StaticAssets(directory=STATIC), name="static")
    app.include_router(console.router)
    app.include_router(routes.router)
