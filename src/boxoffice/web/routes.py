"""The shop's page routes: parse, ask ``views`` (the contexts' services), render.

Pages are public shells; what belongs to one user (a hold, orders, tickets) is a
*fragment* the page's script fetches with the user's access token, checked by the same
``CurrentUser`` dependency and the same service functions as the API (docs/web.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from boxoffice.catalog import service as catalog
from boxoffice.catalog.schemas import ListingQuery
from boxoffice.orders import service as orders
from boxoffice.platform import compression
from boxoffice.platform.config import WebSettings
from boxoffice.platform.deps import CurrentUser, OptionalUser, PathId, ReadUoW, RuntimeDep, UoW
from boxoffice.platform.errors import NotFound
from boxoffice.platform.jsonutil import dumps
from boxoffice.web import i18n, views
from boxoffice.web.rendering import STATIC, fragment, origin_of, render, shell
from boxoffice.web.seatplan import plan

router = APIRouter(include_in_schema=False)
TOSS_ORIGINS = "https://*.tosspayments.com"
Id = PathId


def _settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.web_settings
    return settings


def _not_found(request: Request) -> HTMLResponse:
    return render(request, "not_found.html", status_code=404)


@router.get("/")
async def home(
    request: Request,
    uow: UoW,
    runtime: RuntimeDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    query = ListingQuery(
        q=q or None, category=category or None, cursor=cursor, limit=_settings(request).page_size
    )
    page = await catalog.event_listing(runtime, query)
    categories = [c for c in await catalog.list_categories(uow) if c.active]
    return render(
        request,
        "home.html",
        page=page,
        categories=categories,
        q=q or "",
        category=category or "",
        now=runtime.clock.now(),
    )


@router.get("/events/{event_id}")
async def event(
    request: Request, event_id: Id, runtime: RuntimeDep, user: OptionalUser
) -> HTMLResponse:
    try:
        page = await views.event_page(runtime, user, event_id)
    except NotFound:
        return _not_found(request)
    return render(request, "event.html", page=page, now=runtime.clock.now())


async def _show_page(
    request: Request, template: str, show_id: str, runtime: RuntimeDep
) -> HTMLResponse:
    try:
        page = await views.show_page(runtime, None, show_id)
    except NotFound:
        return _not_found(request)
    return render(request, template, page=page, settings=_settings(request))


@router.get("/shows/{show_id}/queue")
async def waiting_room(request: Request, show_id: Id, runtime: RuntimeDep) -> HTMLResponse:
    return await _show_page(request, "queue.html", show_id, runtime)


@router.get("/shows/{show_id}/seats")
async def seat_picker(request: Request, show_id: Id, runtime: RuntimeDep) -> HTMLResponse:
    return await _show_page(request, "seats.html", show_id, runtime)


@router.get("/shows/{show_id}/seatplan.json")
async def seat_plan(request: Request, show_id: Id, uow: ReadUoW, runtime: RuntimeDep) -> Response:
    """Where the show's seats are drawn: static per venue, so browsers keep it (ETag)."""
    show = await catalog.show_view(uow, runtime, None, show_id)
    etag = f'"plan-{show.venue.id}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    body = dumps(plan(await catalog.get_venue(uow, show.venue.id)))
    if compression.accepts_gzip(request.headers.get("accept-encoding")):
        body = compression.compress(body)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


@router.get("/checkout/result")
async def checkout_result(request: Request) -> HTMLResponse:
    """Where the payment providers send the browser back (``?order_id&status[&code]``)."""
    return render(request, "result.html")


@router.get("/checkout/{hold_id}")
async def checkout(request: Request, hold_id: Id, runtime: RuntimeDep) -> HTMLResponse:
    sdk = _settings(request).toss_sdk_url
    toss = "toss" in orders.payment_providers(runtime)
    return render(
        request,
        "checkout.html",
        hold_id=hold_id,
        toss_sdk_url=sdk if toss else None,
        # Toss's SDK calls its API and opens its payment window from its own origins.
        provider_origins=(origin_of(sdk), TOSS_ORIGINS) if toss else (),
    )


@router.get("/login")
async def login(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return render(request, "login.html", social=sorted(runtime.settings.identity.oauth))


@router.get("/account")
async def account(request: Request) -> RedirectResponse:
    return RedirectResponse("/account/tickets", status_code=302)


# Pages that are only their template: their scripts do the work through the API.
_SHELLS = {
    "/signup": "signup.html",
    "/forgot-password": "forgot_password.html",
    "/account/orders": "orders.html",
    "/account/tickets": "tickets.html",
    "/account/settings": "settings.html",  # e-mail, password, the data export, the deletion
}
# Links carrying a secret land on these (a password reset's or an e-mail verification's in
# the query, social login's token pair in the fragment): no Referer may take it elsewhere.
_SECRET_SHELLS = {
    "/reset-password": "reset_password.html",
    "/verify-email": "verify_email.html",
    "/account/oauth": "oauth.html",
}


for _path, _template in _SHELLS.items():
    router.add_api_route(_path, shell(_template), methods=["GET"])
for _path, _template in _SECRET_SHELLS.items():
    router.add_api_route(
        _path, shell(_template, headers={"Referrer-Policy": "no-referrer"}), methods=["GET"]
    )


@router.get("/lang/{locale}")
async def switch_language(
    locale: str, next_path: Annotated[str, Query(alias="next", max_length=500)] = "/"
) -> RedirectResponse:
    """Remember the fan's language and go back (only to a path on this site)."""
    if not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        next_path = "/"
    response = RedirectResponse(next_path, status_code=303)
    if locale in i18n.LOCALES:
        response.set_cookie(
            i18n.LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax", httponly=True
        )
    return response


@router.get("/sw.js")
async def service_worker() -> Response:
    """The service worker keeps the tickets page readable offline; served from the root so
    its scope can cover ``/account/tickets``."""
    return Response(
        (STATIC / "js" / "sw.js").read_bytes(),
        media_type="text/javascript",
        # Its own policy: the worker fetches this site's pages and files (the policy every
        # other script gets, default-src 'none' with sandbox, would stop it registering).
        headers={
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'self'",
        },
    )


# --- fragments: one user's data, fetched with the access token -----------------------------


@router.get("/fragments/holds/{hold_id}")
async def hold_fragment(
    request: Request, hold_id: Id, runtime: RuntimeDep, user: CurrentUser
) -> HTMLResponse:
    page = await views.checkout(runtime, user, hold_id)
    return fragment(request, "fragments/checkout.html", page=page, now=runtime.clock.now())


@router.get("/fragments/orders")
async def orders_fragment(request: Request, uow: ReadUoW, user: CurrentUser) -> HTMLResponse:
    page, _ = await orders.list_orders(uow, user, cursor=None, limit=50)
    return fragment(request, "fragments/orders.html", orders=page)


@router.get("/fragments/orders/{order_id}")
async def order_fragment(
    request: Request, order_id: Id, runtime: RuntimeDep, user: CurrentUser
) -> HTMLResponse:
    order = await orders.get_order(runtime, user, order_id)
    return fragment(request, "fragments/order.html", order=order)


@router.get("/fragments/orders/{order_id}/cancel")
async def cancel_fragment(
    request: Request, order_id: Id, runtime: RuntimeDep, user: CurrentUser
) -> HTMLResponse:
    order, terms = await orders.order_and_cancellation_terms(runtime, user, order_id)
    return fragment(request, "fragments/cancel.html", order=order, terms=terms)


@router.get("/fragments/tickets")
async def tickets_fragment(request: Request, uow: ReadUoW, user: CurrentUser) -> HTMLResponse:
    return fragment(request, "fragments/tickets.html", cards=await views.my_tickets(uow, user))
