"""orders' HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from boxoffice.orders import account_export, service
from boxoffice.orders.hot_routes import ORDER_PROBLEMS
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.schemas import (
    MAX_AMOUNT,
    CancellationTerms,
    CancelRequest,
    OrderPage,
    OrderRead,
    PaymentChange,
    RefundPage,
    RefundQuote,
    RefundQuoteRequest,
    RefundRead,
    RefundRequest,
    TossConfirm,
)
from boxoffice.platform.deps import CurrentUser, Page, ReadUoW, RuntimeDep, UoW
from boxoffice.platform.downloads import attachment
from boxoffice.platform.errors import BadRequest, DomainError
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.openapi import problems
from boxoffice.platform.pages import page_answer
from boxoffice.platform.runtime import Runtime

router = APIRouter(tags=["orders"])

_ERRORS = ORDER_PROBLEMS
_PAY_ERRORS = _ERRORS | problems(
    {
        409: "order_not_payable, conflict (payment in progress)",
        422: "payment_amount_mismatch, payment_rejected",
    },
    502,
)


def _result_redirect(runtime: Runtime, **params: str | None) -> RedirectResponse:
    """Back to the front end after a provider's browser redirect."""
    target = providers_of(runtime).settings.frontend_result_url or (
        runtime.settings.public_url.rstrip("/") + "/checkout/result"
    )
    query = urlencode({k: v for k, v in params.items() if v is not None})
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}{query}", status_code=status.HTTP_302_FOUND)


@router.get("/users/me/orders", response_model=OrderPage)
async def list_my_orders(uow: UoW, user: CurrentUser, page: Page) -> Any:
    return page_answer(await service.list_orders(uow, user, cursor=page.cursor, limit=page.limit))


@router.get(
    "/users/me/export",
    responses={
        200: {"content": {"application/json": {}}, "description": "the account's data"},
        **problems(401),
    },
)
async def export_my_data(uow: ReadUoW, user: CurrentUser) -> Response:
    """Everything kept of the caller (profile, seller application, orders, tickets,
    transfers) as one JSON file, to keep before deleting the account or to take elsewhere."""
    body = await account_export.export_account(uow, user)
    return attachment(dumps(body), "boxoffice-account.json", "application/json")


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderRead,
    responses=_ERRORS | problems({409: "cancellation_closed, ticket_used, conflict"}, 502),
)
async def cancel_order(
    order_id: str, runtime: RuntimeDep, user: CurrentUser, body: CancelRequest | None = None
) -> Any:
    body = body or CancelRequest()
    return await service.cancel_order(
        runtime,
        user,
        order_id,
        body.reason,
        refund_used=body.refund_used,
        charge_fee=body.charge_fee,
    )


@router.post(
    "/orders/{order_id}/payment",
    response_model=OrderRead,
    responses=_ERRORS
    | problems({409: "order_not_payable, conflict (payment in progress)"}, 422, 429, 502),
)
async def change_order_payment(
    order_id: str, body: PaymentChange, runtime: RuntimeDep, user: CurrentUser
) -> Any:
    """Pay a pending order another way (after a declined card, say), or open a fresh checkout
    the same way; its seats stay held and its amount stays. Answers the order with its new
    ``payment`` checkout."""
    return await service.change_payment(runtime, user, order_id, body.payment_provider)


@router.get("/orders/{order_id}/cancellation", response_model=CancellationTerms, responses=_ERRORS)
async def order_cancellation_terms(order_id: str, runtime: RuntimeDep, user: CurrentUser) -> Any:
    """What cancelling now would cost the buyer (the fee of the current window) and what a
    refund in full would return; for the buyer, the event's seller and admins."""
    return await service.cancellation_view(runtime, user, order_id)


_REFUND_ERRORS = _ERRORS | problems(
    {
        409: "line_not_refundable, cancellation_closed, ticket_used, ticket_transferred,"
        " conflict (the order is not paid, or another of its refunds is under way)",
        422: "validation_error: an unknown or repeated line position",
    },
    502,
)


def _picks(body: RefundQuoteRequest) -> list[tuple[int, int | None]]:
    return [(line.position, line.quantity) for line in body.lines]


@router.post(
    "/orders/{order_id}/refunds",
    response_model=RefundRead,
    status_code=status.HTTP_201_CREATED,
    responses=_REFUND_ERRORS,
)
async def refund_order_lines(
    order_id: str, body: RefundRequest, runtime: RuntimeDep, user: CurrentUser
) -> Any:
    """Refund some units of a paid order's lines, named by ``position``: the buyer within
    the show's rules (the fee of the current window on each seat), the event's seller or
    an admin in full at any time. The order stays ``paid`` while a line is left."""
    refund_id = await service.refund_order_lines(
        runtime,
        user,
        order_id,
        _picks(body),
        body.reason,
        refund_used=body.refund_used,
        charge_fee=body.charge_fee,
    )
    return await service.read_refund(runtime, refund_id)


@router.post(
    "/orders/{order_id}/refunds/quote", response_model=RefundQuote, responses=_REFUND_ERRORS
)
async def quote_order_refund(
    order_id: str, body: RefundQuoteRequest, runtime: RuntimeDep, user: CurrentUser
) -> Any:
    """What refunding these lines now would return to the buyer and keep (no change)."""
    return await service.quote_order_lines(runtime, user, order_id, _picks(body))


@router.get("/orders/{order_id}/refunds", response_model=RefundPage, responses=_ERRORS)
async def list_order_refunds(order_id: str, runtime: RuntimeDep, user: CurrentUser) -> Any:
    """The order's refunds with their lines, oldest first (buyer, seller, admin)."""
    return {"items": await service.order_refunds(runtime, user, order_id)}


@router.post("/payments/toss/confirm", response_model=OrderRead, responses=_PAY_ERRORS)
async def confirm_toss_payment(body: TossConfirm, runtime: RuntimeDep, user: CurrentUser) -> Any:
    view = await service.confirm_toss(
        runtime, user, payment_key=body.paymentKey, order_id=body.orderId, amount=body.amount
    )
    return view


@router.get("/payments/toss/success", status_code=302)
async def toss_success_redirect(
    runtime: RuntimeDep,
    payment_key: Annotated[str, Query(alias="paymentKey", max_length=200)],
    order_id: Annotated[str, Query(alias="orderId", max_length=64)],
    amount: Annotated[int, Query(ge=0, le=MAX_AMOUNT)],
) -> RedirectResponse:
    """Toss sends the browser here after authentication: confirm, then back to the front end."""
    try:
        view = await service.confirm_toss(
            runtime, None, payment_key=payment_key, order_id=order_id, amount=amount
        )
    except DomainError as exc:
        return _result_redirect(runtime, order_id=order_id, status="failed", code=exc.code)
    return _result_redirect(runtime, order_id=order_id, status=view.status)


@router.get("/payments/toss/fail", status_code=302)
async def toss_fail_redirect(
    runtime: RuntimeDep,
    code: Annotated[str | None, Query(max_length=100)] = None,
    order_id: Annotated[str | None, Query(alias="orderId", max_length=64)] = None,
) -> RedirectResponse:
    """The buyer gave up or Toss refused before confirm: nothing was taken; the order waits."""
    return _result_redirect(runtime, order_id=order_id, status="failed", code=code)


@router.get("/payments/kakaopay/approve", status_code=302)
async def kakaopay_approve_redirect(
    runtime: RuntimeDep,
    order_id: Annotated[str, Query(max_length=64)],
    pg_token: Annotated[str, Query(max_length=200)],
) -> RedirectResponse:
    try:
        view = await service.approve_kakaopay(runtime, order_id=order_id, pg_token=pg_token)
    except DomainError as exc:
        return _result_redirect(runtime, order_id=order_id, status="failed", code=exc.code)
    return _result_redirect(runtime, order_id=order_id, status=view.status)


_Signature = Annotated[str | None, Query(max_length=100, description="from our /ready")]


@router.get("/payments/kakaopay/cancel", status_code=302)
async def kakaopay_cancel_redirect(
    runtime: RuntimeDep, order_id: Annotated[str, Query(max_length=64)], sig: _Signature = None
) -> RedirectResponse:
    return await _kakaopay_abort(runtime, order_id, sig, "cancelled_by_buyer", "cancelled")


@router.get("/payments/kakaopay/fail", status_code=302)
async def kakaopay_fail_redirect(
    runtime: RuntimeDep, order_id: Annotated[str, Query(max_length=64)], sig: _Signature = None
) -> RedirectResponse:
    return await _kakaopay_abort(runtime, order_id, sig, "failed", "failed")


async def _kakaopay_abort(
    runtime: Runtime, order_id: str, sig: str | None, outcome: str, status: str
) -> RedirectResponse:
    if not await service.abort_kakaopay(runtime, order_id=order_id, outcome=outcome, signature=sig):
        return _result_redirect(runtime, order_id=order_id, status="failed", code="invalid_state")
    return _result_redirect(runtime, order_id=order_id, status=status)


@router.post("/webhooks/toss")
async def toss_webhook(
    request: Request,
    runtime: RuntimeDep,
    transmission_id: Annotated[
        str | None, Header(alias="tosspayments-webhook-transmission-id", max_length=128)
    ] = None,
) -> dict[str, str]:
    """Toss's payment webhook (not signed): acted on only after re-fetching the payment."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise BadRequest("The webhook body is not JSON.") from exc
    if not isinstance(body, dict):
        raise BadRequest("The webhook body must be a JSON object.")
    return {"status": await service.handle_toss_webhook(runtime, transmission_id, body)}
