"""catalog's HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from boxoffice.catalog import reads, service
from boxoffice.catalog.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    EventCancel,
    EventCreate,
    EventRead,
    EventUpdate,
    ImageCreated,
    SellerEventPage,
    SellerEventQuery,
    ShowCreate,
    ShowDetail,
    ShowRead,
    ShowReschedule,
    VenueCreate,
    VenueRead,
)
from boxoffice.platform import media
from boxoffice.platform.deps import AdminUser, OptionalUser, ReadUoW, RuntimeDep, SellerUser, UoW
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.openapi import ADMIN_RESPONSES, owner_problems, problems
from boxoffice.platform.pages import page_answer
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal

router = APIRouter(tags=["catalog"])

_OWNER = owner_problems("event")
_SHOW_OWNER = owner_problems("show")


def _json(body: Any, status_code: int = 200) -> Response:
    payload = body if isinstance(body, bytes | str) else dumps(body)
    return Response(payload, status_code=status_code, media_type="application/json")


async def _event_as_changed(
    runtime: Runtime, seller: Principal, event_id: str, status_code: int = 200
) -> Response:
    """The event as its seller sees it after a change (the view not counted)."""
    return _json(await reads.event_detail(runtime, seller, event_id, count_view=False), status_code)


# Categories


@router.get("/categories", response_model=list[CategoryRead])
async def list_categories(uow: ReadUoW) -> Any:
    return await service.list_categories(uow)


@router.get("/admin/categories", response_model=list[CategoryRead], responses=ADMIN_RESPONSES)
async def admin_list_categories(uow: ReadUoW, admin: AdminUser) -> Any:
    """Every category, the hidden (inactive) ones too, in display order."""
    return await service.list_categories(uow, include_inactive=True)


@router.post(
    "/categories",
    status_code=status.HTTP_201_CREATED,
    response_model=CategoryRead,
    responses=ADMIN_RESPONSES | problems({409: "code taken"}),
)
async def create_category(body: CategoryCreate, uow: UoW, admin: AdminUser) -> Any:
    return await service.create_category(uow, body)


@router.patch(
    "/categories/{code}",
    response_model=CategoryRead,
    responses=ADMIN_RESPONSES | problems({404: "no category"}),
)
async def update_category(code: str, body: CategoryUpdate, uow: UoW, admin: AdminUser) -> Any:
    return await service.update_category(uow, code, body)


# Venues


@router.post(
    "/venues",
    status_code=status.HTTP_201_CREATED,
    response_model=VenueRead,
    responses=problems({403: "sellers only", 422: "invalid seat map"}),
)
async def create_venue(body: VenueCreate, uow: UoW, seller: SellerUser) -> Response:
    return _json(await service.create_venue(uow, seller, body), status.HTTP_201_CREATED)


@router.get("/venues/{venue_id}", response_model=VenueRead, responses=problems({404: "no venue"}))
async def get_venue(venue_id: str, uow: ReadUoW) -> Response:
    return _json(await service.get_venue(uow, venue_id))


# Events


@router.post(
    "/events",
    status_code=status.HTTP_201_CREATED,
    response_model=EventRead,
    responses=problems({403: "approved sellers only", 422: "invalid"}),
)
async def create_event(
    body: EventCreate, uow: UoW, runtime: RuntimeDep, seller: SellerUser
) -> Response:
    event = await service.create_event(uow, runtime, seller, body)
    return await _event_as_changed(runtime, seller, event.id, status.HTTP_201_CREATED)


@router.patch("/events/{event_id}", response_model=EventRead, responses=_OWNER)
async def update_event(
    event_id: str, body: EventUpdate, uow: UoW, runtime: RuntimeDep, seller: SellerUser
) -> Response:
    await service.update_event(uow, runtime, seller, event_id, body)
    return await _event_as_changed(runtime, seller, event_id)


@router.post("/events/{event_id}/publish", response_model=EventRead, responses=_OWNER)
async def publish_event(
    event_id: str, uow: UoW, runtime: RuntimeDep, seller: SellerUser
) -> Response:
    await service.publish_event(uow, runtime, seller, event_id)
    return await _event_as_changed(runtime, seller, event_id)


@router.post("/events/{event_id}/cancel", response_model=EventRead, responses=_OWNER)
async def cancel_event(
    event_id: str,
    uow: UoW,
    runtime: RuntimeDep,
    seller: SellerUser,
    body: EventCancel | None = None,
) -> Response:
    reason = body.reason if body is not None else ""
    await service.cancel_event(uow, runtime, seller, event_id, reason)
    return await _event_as_changed(runtime, seller, event_id)


@router.post(
    "/events/{event_id}/shows",
    status_code=status.HTTP_201_CREATED,
    response_model=ShowRead,
    responses=_OWNER,
)
async def create_show(
    event_id: str, body: ShowCreate, uow: UoW, runtime: RuntimeDep, seller: SellerUser
) -> Any:
    show = await service.create_show(uow, runtime, seller, event_id, body.starts_at)
    return ShowRead.model_validate(show)


@router.post(
    "/events/{event_id}/images",
    status_code=status.HTTP_201_CREATED,
    response_model=ImageCreated,
    responses=_OWNER | media.UPLOAD_PROBLEMS,
)
async def upload_event_image(
    event_id: str,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
    kind: Annotated[Literal["poster", "detail"], Form()],
    uow: UoW,
    runtime: RuntimeDep,
    seller: SellerUser,
) -> Any:
    data = await media.read_upload(file, runtime.settings.max_upload_bytes)
    image = await service.add_image(uow, runtime, seller, event_id, kind=kind, data=data)
    return service.image_read(runtime, image)  # served as ImageCreated (response_model)


@router.get(
    "/seller/events", response_model=SellerEventPage, responses=problems(401, {403: "sellers only"})
)
async def list_seller_events(
    uow: ReadUoW, seller: SellerUser, query: Annotated[SellerEventQuery, Query()]
) -> Any:
    """The caller's own events in every state (drafts too; every seller's for an admin),
    newest first, title search ``q``, keyset-paged (``cursor``)."""
    return page_answer(await service.seller_events(uow, seller, query))


# Shows


@router.get(
    "/shows/{show_id}", response_model=ShowDetail, responses=problems({404: "no such show"})
)
async def get_show(show_id: str, uow: ReadUoW, runtime: RuntimeDep, user: OptionalUser) -> Response:
    return _json(await reads.show_detail(uow, runtime, user, show_id))


@router.post(
    "/shows/{show_id}/reschedule",
    response_model=ShowRead,
    responses=_SHOW_OWNER | problems({409: "conflict (cancelled, or the event has a show then)"}),
)
async def reschedule_show(
    show_id: str, body: ShowReschedule, uow: UoW, runtime: RuntimeDep, seller: SellerUser
) -> Any:
    """Move the show (the event's seller or an admin): its tickets follow, each holder is
    e-mailed, and its buyers cancel without a fee for ``refund_days``. Idempotent."""
    show = await service.reschedule_show(
        uow, runtime, seller, show_id, body.starts_at, body.refund_days
    )
    return ShowRead.model_validate(show)


@router.post("/shows/{show_id}/cancel", response_model=ShowRead, responses=_SHOW_OWNER)
async def cancel_show(
    show_id: str,
    uow: UoW,
    runtime: RuntimeDep,
    seller: SellerUser,
    body: EventCancel | None = None,
) -> Any:
    """One show off (the event's seller or an admin): nothing more is sold for it, every
    paid order of it is refunded in full, its buyers e-mailed. Idempotent: a retry answers
    the cancelled show."""
    reason = body.reason if body is not None else ""
    show = await service.cancel_show(uow, runtime, seller, show_id, reason)
    return ShowRead.model_validate(show)
