"""Sellers' webhook endpoints over HTTP (``docs/webhooks.md``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from boxoffice.notifications import webhooks
from boxoffice.notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from boxoffice.platform.db import record_of
from boxoffice.platform.deps import RuntimeDep, SellerUser, UoW
from boxoffice.platform.openapi import problems
from boxoffice.platform.schemas import Strict

router = APIRouter(tags=["webhooks"])
_ERRORS = problems(401, {403: "not an approved seller", 404: "no such endpoint of this seller"})
EventType = Literal["order.paid", "order.refunded", "ticket.checked_in", "show.sold_out"]


class EndpointCreate(Strict):
    url: str = Field(min_length=8, max_length=500, description="https:// (public addresses only)")
    events: list[EventType] = Field(min_length=1, max_length=len(webhooks.EVENT_TYPES))


class EndpointUpdate(Strict):
    active: bool


class EndpointRead(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool
    failure_streak: int
    created_at: datetime
    disabled_at: datetime | None


class EndpointCreated(EndpointRead):
    secret: str = Field(description="signs every delivery; shown this once")


class EndpointList(BaseModel):
    items: list[EndpointRead]


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryRead(BaseModel):
    id: str
    event_id: str
    event_type: str
    status: str
    attempts: list[AttemptRead]
    created_at: datetime
    delivered_at: datetime | None


class DeliveryList(BaseModel):
    items: list[DeliveryRead]


def _read(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events.split(),
        "active": endpoint.active,
        "failure_streak": endpoint.failure_streak,
        "created_at": endpoint.created_at,
        "disabled_at": endpoint.disabled_at,
    }


def _delivery(row: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryRead:
    """The delivery's row with its attempts (the row's own ``attempts`` only counts them)."""
    return record_of(DeliveryRead, row, attempts=attempts)


@router.post(
    "/seller/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=EndpointCreated,
    responses=_ERRORS
    | problems(
        {
            409: "conflict (ten endpoints at most)",
            422: "validation_error, webhook_target_refused (SSRF guard)",
        }
    ),
)
async def register_webhook(
    body: EndpointCreate, uow: UoW, runtime: RuntimeDep, seller: SellerUser
) -> Any:
    """An endpoint for the seller's events; the answer carries its signing secret, once."""
    endpoint = await webhooks.register(uow, runtime, seller, body.url, list(body.events))
    return EndpointCreated(**_read(endpoint), secret=endpoint.secret)


@router.get("/seller/webhooks", response_model=EndpointList, responses=_ERRORS)
async def list_webhooks(uow: UoW, seller: SellerUser) -> Any:
    endpoints = await webhooks.endpoints_of(uow, seller)
    return EndpointList(items=[EndpointRead(**_read(e)) for e in endpoints])


@router.patch("/seller/webhooks/{endpoint_id}", response_model=EndpointRead, responses=_ERRORS)
async def update_webhook(
    endpoint_id: str, body: EndpointUpdate, uow: UoW, seller: SellerUser
) -> Any:
    """Disable, or enable again (a disabled endpoint gets nothing; enabling resets its
    failure count)."""
    return EndpointRead(**_read(await webhooks.set_active(uow, seller, endpoint_id, body.active)))


@router.delete(
    "/seller/webhooks/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS
)
async def delete_webhook(endpoint_id: str, uow: UoW, seller: SellerUser) -> Response:
    await webhooks.remove(uow, seller, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/seller/webhooks/{endpoint_id}/deliveries", response_model=DeliveryList, responses=_ERRORS
)
async def list_webhook_deliveries(endpoint_id: str, uow: UoW, seller: SellerUser) -> Any:
    """The newest 50 deliveries, each with its attempts."""
    rows = await webhooks.deliveries(uow, seller, endpoint_id)
    return DeliveryList(items=[_delivery(row, attempts) for row, attempts in rows])


@router.post(
    "/seller/webhooks/{endpoint_id}/deliveries/{delivery_id}/resend",
    status_code=status.HTTP_202_ACCEPTED,
    responses=_ERRORS | problems({409: "webhook_endpoint_disabled"}),
)
async def resend_webhook_delivery(
    endpoint_id: str, delivery_id: str, uow: UoW, seller: SellerUser
) -> dict[str, str]:
    """Send the delivery again (delivered or not), by hand."""
    row = await webhooks.resend(uow, seller, endpoint_id, delivery_id)
    return {"id": row.id, "status": row.status}
