"""Templates per locale, and the headers every page goes out with."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from boxoffice.web import i18n

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"


def csp(*, provider_origins: tuple[str, ...] = (), image_origins: tuple[str, ...] = ()) -> str:
    """No inline script or style anywhere; the page talks only to this origin, and to a
    payment provider's (its SDK, its API calls, its payment window) where one is named."""
    scripts = " ".join(("'self'", *provider_origins))
    images = " ".join(("'self'", "data:", "https:", *image_origins))
    frames = f"frame-src {' '.join(provider_origins)}; " if provider_origins else ""
    return (
        "default-src 'self'; "
        f"script-src {scripts}; "
        "style-src 'self'; "
        f"img-src {images}; "
        f"connect-src {scripts}; "
        f"{frames}"
        "font-src 'self'; "
        "object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'"
    )


def page_headers(
    provider_origins: tuple[str, ...] = (), image_origins: tuple[str, ...] = ()
) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp(
            provider_origins=provider_origins, image_origins=image_origins
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Vary": "Accept-Language, Cookie",
    }


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@cache
def asset_version(path: str) -> str:
    """A short hash of a static file, so a changed asset gets a new URL."""
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC.resolve()) or not target.is_file():
        return "0"
    return hashlib.sha256(target.read_bytes()).hexdigest()[:10]


def static_url(path: str) -> str:
    return f"/static/{path}?v={asset_version(path)}"


@cache
def environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(i18n.formatters(locale))
    env.globals.update(static=static_url, locale=locale, locales=i18n.LOCALES)
    return env


def locale_of(request: Request) -> str:
    return i18n.negotiate(
        request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language")
    )


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    provider_origins: tuple[str, ...] = (),
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A full page with its security headers."""
    locale = locale_of(request)
    body = environment(locale).get_template(template).render(request=request, **context)
    # Stored images are addressed by the public URL (another origin when behind a proxy).
    images = (origin_of(request.app.state.public_url),)
    all_headers = page_headers(provider_origins, images)
    all_headers["Content-Language"] = locale
    all_headers.update(headers or {})
    return HTMLResponse(body, status_code=status_code, headers=all_headers)


def shell(template: str, **context: Any) -> Callable[[Request], Awaitable[HTMLResponse]]:
    """A page that is only its template (and ``context``): its script does the work."""

    async def page(request: Request) -> HTMLResponse:
        return render(request, template, **context)

    return page


def fragment(request: Request, template: str, **context: Any) -> HTMLResponse:
    """A piece of a page fetched by its script with the access token: never cached."""
    locale = locale_of(request)
    body = environment(locale).get_template(template).render(request=request, **context)
    return HTMLResponse(
        body,
        headers={
            "Cache-Control": "no-store",
            "Vary": "Authorization, Accept-Language, Cookie",
            "X-Content-Type-Options": "nosniff",
            "Content-Language": locale,
        },
    )


class StaticAssets(StaticFiles):
    """The shop's files: revalidated on each use (ETag), never sniffed."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-content-type-options", b"nosniff"),
                    (b"cache-control", b"no-cache"),
                ]
            await send(message)

        await super().__call__(scope, receive, with_headers)
