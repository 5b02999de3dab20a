"""Toss Payments: checkout parameters for the payment widget, confirm, cancel, lookup.

``Authorization: Basic base64(secret_key + ":")``; every POST carries an
``Idempotency-Key`` (a replay returns the first answer). ``test_code`` (test keys only)
is sent as ``TossPayments-Test-Code`` so the sandbox answers with that error.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from boxoffice.orders.payments import _http
from boxoffice.orders.payments.base import (
    Checkout,
    ConfirmRequest,
    PaymentAlreadyProcessed,
    PaymentOutcomeUnknown,
    PaymentRejected,
    PaymentRequest,
    PaymentState,
    ProviderPayment,
)

NAME = "toss"
_STATES = {
    "DONE": PaymentState.CAPTURED,
    "CANCELED": PaymentState.CANCELLED,
    "PARTIAL_CANCELED": PaymentState.PARTIALLY_CANCELLED,
    "ABORTED": PaymentState.FAILED,
    "EXPIRED": PaymentState.FAILED,
}
_ALREADY = {"ALREADY_PROCESSED_PAYMENT", "ALREADY_CANCELED_PAYMENT"}


def payment_from_toss(body: dict[str, Any]) -> ProviderPayment:
    """Our view of a Toss Payment object."""
    raw_status = str(body.get("status", ""))
    state = _STATES.get(raw_status, PaymentState.PENDING)
    total = int(body.get("totalAmount") or 0)
    raw_balance = body.get("balanceAmount")
    balance = total if raw_balance is None else int(raw_balance)
    captured = (
        total
        if state
        in (PaymentState.CAPTURED, PaymentState.CANCELLED, PaymentState.PARTIALLY_CANCELLED)
        else 0
    )
    approved = body.get("approvedAt")
    return ProviderPayment(
        provider=NAME,
        reference=str(body.get("paymentKey", "")),
        order_id=str(body.get("orderId", "")),
        state=state,
        captured_amount=captured,
        refunded_amount=(total - balance) if captured else 0,
        raw_status=raw_status,
        approved_at=datetime.fromisoformat(approved) if approved else None,
        details={"method": body.get("method"), "receipt": (body.get("receipt") or {}).get("url")},
    )


class TossProvider:
    name = NAME
    prepares_offline = True  # the widget's parameters; Toss hears of the order at confirm

    def __init__(
        self,
        *,
        secret_key: str,
        client_key: str,
        base_url: str,
        success_url: str,
        fail_url: str,
        timeout: float,
        connect_timeout: float,
    ) -> None:
        self._auth = "Basic " + base64.b64encode(f"{secret_key}:".encode()).decode()
        self._test_mode = secret_key.startswith("test_")
        self.client_key = client_key
        self.success_url = success_url
        self.fail_url = fail_url
        self.test_code: str | None = None
        self._http = _http.make_client(base_url, timeout=timeout, connect_timeout=connect_timeout)

    def _headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": self._auth}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key[:300]
        if self.test_code and self._test_mode:
            headers["TossPayments-Test-Code"] = self.test_code
        return headers

    async def _call(
        self, method: str, path: str, *, json: dict[str, Any] | None = None, key: str | None = None
    ) -> dict[str, Any]:
        response = await _http.send(
            self._http, NAME, method, path, json=json, headers=self._headers(key)
        )
        body = _http.json_body(response)
        if response.status_code == httpx.codes.OK:
            return body
        code = str(body.get("code") or f"HTTP_{response.status_code}")
        message = str(body.get("message") or response.reason_phrase)
        if response.status_code >= 500 or code == "IDEMPOTENT_REQUEST_PROCESSING":
            raise PaymentOutcomeUnknown(NAME, code, message, status=response.status_code)
        if code in _ALREADY:
            raise PaymentAlreadyProcessed(NAME, code, message, status=response.status_code)
        raise PaymentRejected(NAME, code, message, status=response.status_code)

    async def prepare(self, request: PaymentRequest) -> Checkout:
        # The widget opens the payment; nothing to call until the buyer comes back.
        return Checkout(
            NAME,
            {
                "order_id": request.order_id,
                "order_name": request.order_name,
                "amount": request.amount,
                "client_key": self.client_key,
                "success_url": self.success_url,
                "fail_url": self.fail_url,
            },
        )

    async def confirm(self, request: ConfirmRequest) -> ProviderPayment:
        body = await self._call(
            "POST",
            "/v1/payments/confirm",
            json={
                "paymentKey": request.reference,
                "orderId": request.order_id,
                "amount": request.amount,
            },
            key=request.idempotency_key,
        )
        return payment_from_toss(body)

    async def cancel(
        self, *, reference: str, order_id: str, amount: int, reason: str, idempotency_key: str
    ) -> ProviderPayment:
        body = await self._call(
            "POST",
            f"/v1/payments/{quote(reference, safe='')}/cancel",
            json={"cancelReason": reason[:200] or "cancelled", "cancelAmount": amount},
            key=idempotency_key,
        )
        return payment_from_toss(body)

    async def lookup(self, *, reference: str | None, order_id: str) -> ProviderPayment | None:
        path = (
            f"/v1/payments/{quote(reference, safe='')}"
            if reference
            else f"/v1/payments/orders/{quote(order_id, safe='')}"
        )
        try:
            body = await self._call("GET", path)
        except PaymentRejected as exc:
            if exc.status == httpx.codes.NOT_FOUND:
                return None
            raise
        return payment_from_toss(body)

    async def aclose(self) -> None:
        await self._http.aclose()
