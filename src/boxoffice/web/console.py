"""The organisers' console under ``/console``: page shells and the live dashboard's stream.

Pages are public shells like the shop's; their scripts call the API itself with the
user's token (``GET /seller/events``, ``/shows/{id}/orders``, ``/checkin``, the admin
routes...), so the console makes exactly the API's checks, in the API's code. The one
thing the API has no route for, the dashboard's live stream, is served here behind the
same ``SellerUser`` dependency and the same ownership check as ``GET /shows/{id}/sales``
(docs/console.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from boxoffice.platform.deps import PathId, RuntimeDep, SellerUser
from boxoffice.web import console_views
from boxoffice.web.rendering import render, shell

router = APIRouter(prefix="/console", include_in_schema=False)
Id = PathId
DOOR_PERMISSIONS = "camera=(self), microphone=(), geolocation=(), payment=()"
Page = Callable[..., Awaitable[HTMLResponse]]


def _event_page(template: str) -> Page:
    async def page(request: Request, event_id: Id) -> HTMLResponse:
        return render(request, template, section="events", event_id=event_id)

    return page


def _show_page(template: str) -> Page:
    async def page(request: Request, show_id: Id) -> HTMLResponse:
        return render(request, template, section="events", show_id=show_id)

    return page


# Pages that are only their template (and the path's id): their scripts do the work
# through the API, as the shop's shells do.
router.add_api_route("", shell("console/events.html", section="events"))
# The venue editor, then the event with its prices and shows.
router.add_api_route("/new", shell("console/new.html", section="events"))
router.add_api_route("/events/{event_id}", _event_page("console/event.html"))
# The event's goods: products with their variants and stock, through the merch API.
router.add_api_route("/events/{event_id}/goods", _event_page("console/goods.html"))
router.add_api_route("/shows/{show_id}", _show_page("console/dashboard.html"))
# Seats kept back from the sale: selected on the map, blocked and released (the API's
# /shows/{id}/blocks).
router.add_api_route("/shows/{show_id}/box-office", _show_page("console/box_office.html"))
router.add_api_route("/shows/{show_id}/orders", _show_page("console/orders.html"))
router.add_api_route("/shows/{show_id}/attendees", _show_page("console/attendees.html"))
router.add_api_route("/door", shell("console/door.html", section="door", show_id=""))
router.add_api_route("/admin", shell("console/admin.html", section="admin"))


@router.get("/door/{show_id}")
async def door(request: Request, show_id: Id) -> HTMLResponse:
    """The door: the page may use the camera (and only this page of the site)."""
    return render(
        request,
        "console/door.html",
        section="door",
        show_id=show_id,
        headers={"Permissions-Policy": DOOR_PERMISSIONS},
    )


@router.get("/shows/{show_id}/live")
async def show_live(
    request: Request, show_id: Id, runtime: RuntimeDep, seller: SellerUser
) -> StreamingResponse:
    """``text/event-stream`` of the show's figures (``stats`` events) for its seller or an
    admin; refusals (401, 403, 404) are problem+json, decided before the stream starts."""
    first = await console_views.dashboard(runtime, seller, show_id)
    every = request.app.state.web_settings.console_refresh_seconds
    return StreamingResponse(
        console_views.dashboard_events(runtime, seller, show_id, first, every),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
