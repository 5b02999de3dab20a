"""The organisers' console under ``/console``: page shells and the live dashboard's stream.

Pages are public shells like the shop's; their scripts call the API itself with the
user's token (``GET /seller/events``, ``/shows/{id}/orders``, ``/checkin``, the admin
routes...), so the console makes exactly the API's checks, in the API's code. The one
thing the API has no route for, the dashboard's live stream, is served here behind the
same ``SellerUser`` dependency and the same ownership check as ``GET /shows/{id}/sales``
(docs/console.md).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from boxoffice.platform.deps import PathId, RuntimeDep, SellerUser
from boxoffice.web import console_views
from boxoffice.web.rendering import render

router = APIRouter(prefix="/console", include_in_schema=False)
Id = PathId
DOOR_PERMISSIONS = "camera=(self), microphone=(), geolocation=(), payment=()"


@router.get("")
async def events(request: Request) -> HTMLResponse:
    return render(request, "console/events.html", section="events")


@router.get("/new")
async def new_event(request: Request) -> HTMLResponse:
    """The venue editor, then the event with its prices and shows (all through the API)."""
    return render(request, "console/new.html", section="events")


@router.get("/events/{event_id}")
async def event(request: Request, event_id: Id) -> HTMLResponse:
    return render(request, "console/event.html", section="events", event_id=event_id)


@router.get("/events/{event_id}/goods")
async def event_goods(request: Request, event_id: Id) -> HTMLResponse:
    """The event's goods: products with their variants and stock, through the merch API."""
    return render(request, "console/goods.html", section="events", event_id=event_id)


@router.get("/shows/{show_id}")
async def show_dashboard(request: Request, show_id: Id) -> HTMLResponse:
    return render(request, "console/dashboard.html", section="events", show_id=show_id)


@router.get("/shows/{show_id}/box-office")
async def show_box_office(request: Request, show_id: Id) -> HTMLResponse:
    """Seats kept back from the sale: selected on the map, blocked and released (the API's
    ``/shows/{id}/blocks``)."""
    return render(request, "console/box_office.html", section="events", show_id=show_id)


@router.get("/shows/{show_id}/orders")
async def show_orders(request: Request, show_id: Id) -> HTMLResponse:
    return render(request, "console/orders.html", section="events", show_id=show_id)


@router.get("/shows/{show_id}/attendees")
async def show_attendees(request: Request, show_id: Id) -> HTMLResponse:
    return render(request, "console/attendees.html", section="events", show_id=show_id)


@router.get("/door")
async def door_pick(request: Request) -> HTMLResponse:
    return render(request, "console/door.html", section="door", show_id="")


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


@router.get("/admin")
async def admin(request: Request) -> HTMLResponse:
    return render(request, "console/admin.html", section="admin")


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
