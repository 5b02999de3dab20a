"""seating's hot operations, each declared once (``platform/hotroutes.py``).

``POST /shows/{id}/holds`` is what a sale's crowd does once admitted, thousands of times a
second, and most attempts are refused by the seat board in one Redis call: through
FastAPI, its routing and dependency solving were most of such an attempt's CPU. The
hold's buyer then reads it back (``GET /holds/{id}``) on the way to checkout.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints, TypeAdapter

from boxoffice.platform.fastlane import FastRequest, FastResponse
from boxoffice.platform.hotroutes import Header, HotRoute
from boxoffice.platform.openapi import problems
from boxoffice.seating import service
from boxoffice.seating.best_available import Wanted
from boxoffice.seating.contracts import HeldSeats
from boxoffice.seating.schemas import HoldCreate, HoldRead

_ID = TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=64)])
_TAGS = ("seating",)


async def _answer(request: FastRequest, held: HeldSeats, status: int) -> FastResponse:
    read = HoldRead.of(held)
    read.suggested_products = await service.goods_to_offer(request.runtime, held)
    return FastResponse(status, read.model_dump_json().encode())


async def hold_seats(request: FastRequest) -> FastResponse:
    """Hold the seats, all or none, for the hold's minutes (the show's queue on: with the
    admission token the waiting room gave); or, with ``best_available``, as many seats
    side by side as asked for, which the shop chooses."""
    user = await request.user()
    show_id = request.param("show_id", _ID)
    body = await request.model(HoldCreate)
    best = body.best_available
    held = await service.hold_seats(
        request.runtime,
        show_id=show_id,
        user=user,
        seat_ids=body.seat_ids,
        admission_token=request.header(b"x-admission-token"),
        ticket_types=body.ticket_types,
        code=body.code,
        standing={area.section: area.quantity for area in body.standing or ()},
        best=None if best is None else Wanted(best.quantity, best.grade, best.section),
    )
    return await _answer(request, held, 201)


async def get_hold(request: FastRequest) -> FastResponse:
    """The hold, for its holder or an admin."""
    user = await request.user()
    held = await service.get_hold(request.runtime, request.param("hold_id", _ID), user)
    return await _answer(request, held, 200)


HOT_ROUTES = [
    HotRoute(
        "POST",
        "/shows/{show_id}/holds",
        hold_seats,
        "hold_seats",
        _TAGS,
        checkout=True,
        status_code=201,
        response_model=HoldRead,
        body=HoldCreate,
        headers=[Header("X-Admission-Token", "the waiting room's token, when the queue is on")],
        responses=problems(
            {
                403: "admission_required / admission_invalid (queue on)",
                409: "seat_unavailable, with the taken seat_ids and suggested_seat_ids (best "
                "available: none free side by side, seat_ids empty)",
                422: "sale_not_open, purchase_limit_exceeded, validation_error, "
                "ticket_type_unavailable, out_of_stock (a ticket type's cap), code_invalid, "
                "code_exhausted",
            },
            503,
        ),
    ),
    HotRoute(
        "GET",
        "/holds/{hold_id}",
        get_hold,
        "get_hold",
        _TAGS,
        response_model=HoldRead,
        responses=problems({404: "no such hold (or not yours)"}),
    ),
]
