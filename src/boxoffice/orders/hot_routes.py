"""orders' hot operations, each declared once (``platform/hotroutes.py``): placing an
order from a hold, paying it, and reading it back are every buyer's way out of a sale."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints, TypeAdapter

from boxoffice.orders import service
from boxoffice.orders.schemas import OrderCreate, OrderRead
from boxoffice.platform.fastlane import FastRequest, FastResponse
from boxoffice.platform.hotroutes import Header, HotRoute
from boxoffice.platform.openapi import problems

_ID = TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=64)])
_TAGS = ("orders",)
# What a route of one order of the caller's may answer (the FastAPI routes' too).
ORDER_PROBLEMS = problems(401, {404: "no such order for this user"})


async def _answer(request: FastRequest, view: OrderRead, status: int) -> FastResponse:
    view.suggested_products = await service.goods_to_offer(request.runtime, view)
    return FastResponse(status, view.model_dump_json().encode())


async def create_order(request: FastRequest) -> FastResponse:
    """Place an order from your hold and/or goods; the server prices it. The same
    Idempotency-Key with the same body returns the same order (200)."""
    user = await request.user()
    body = await request.model(OrderCreate)
    view, created = await service.create_order(
        request.runtime, user, body, request.header(b"idempotency-key")
    )
    return await _answer(request, view, 201 if created else 200)


async def pay_order(request: FastRequest) -> FastResponse:
    """Pay with the internal (simulated) provider, at once (tests and demos)."""
    user = await request.user()
    view = await service.pay_internal(request.runtime, user, request.param("order_id", _ID))
    return FastResponse(200, view.model_dump_json().encode())


async def get_order(request: FastRequest) -> FastResponse:
    """The order, for its buyer or an admin."""
    user = await request.user()
    view = await service.get_order(request.runtime, user, request.param("order_id", _ID))
    return await _answer(request, view, 200)


HOT_ROUTES = [
    HotRoute(
        "POST",
        "/orders",
        create_order,
        "create_order",
        _TAGS,
        checkout=True,
        status_code=201,
        response_model=OrderRead,
        body=OrderCreate,
        headers=[Header("Idempotency-Key", "one per order you mean to place", required=True)],
        responses={
            200: {"description": "the same key and body again: the same order"},
            **problems(
                {
                    400: "Idempotency-Key header missing",
                    409: "hold_expired, idempotency_conflict, conflict",
                    422: "validation_error, out_of_stock, purchase_limit_exceeded",
                    502: "payment_provider_error: the checkout could not be opened",
                }
            ),
        },
    ),
    HotRoute(
        "POST",
        "/orders/{order_id}/pay",
        pay_order,
        "pay_order",
        _TAGS,
        checkout=True,
        response_model=OrderRead,
        responses=ORDER_PROBLEMS
        | problems(
            {409: "order_not_payable, conflict (payment in progress)", 422: "payment_rejected"}, 502
        ),
    ),
    HotRoute(
        "GET",
        "/orders/{order_id}",
        get_order,
        "get_order",
        _TAGS,
        response_model=OrderRead,
        responses=ORDER_PROBLEMS,
    ),
]
