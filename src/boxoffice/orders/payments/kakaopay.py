"""KakaoPay single payment: ready (TID and redirect), approve with ``pg_token``, cancel, order.

``Authorization: SECRET_KEY <key>``, JSON. KakaoPay takes no idempotency key: our own
claim on the order (one confirm at a time) and lookups after errors stand in for it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx

from boxoffice.orders.payments import _http
from boxoffice.orders.payments.base import (
    Checkout,
    ConfirmRequest,
    PaymentOutcomeUnknown,
    PaymentRejected,
    PaymentRequest,
    PaymentState,
    ProviderPayment,
)

NAME = "kakaopay"
_FAILED = {"FAIL_AUTH_PASSWORD", "QUIT_PAYMENT", "FAIL_PAYMENT"}
_STATES = {
    "SUCCESS_PAYMENT": PaymentState.CAPTURED,
    "PART_CANCEL_PAYMENT": PaymentState.PARTIALLY_CANCELLED,
    "CANCEL_PAYMENT": PaymentState.CANCELLED,
}


KST = timezone(timedelta(hours=9))


def _time(value: Any) -> datetime | None:
    """KakaoPay's times carry no offset; they are Korean time."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=KST)


def redirect_key(secret: str) -> bytes:
    """The key that signs the cancel/fail redirect URLs, derived from the app's secret."""
    return hmac.new(secret.encode(), b"boxoffice/kakaopay-redirect/v1", hashlib.sha256).digest()


def redirect_signature(key: bytes, order_id: str) -> str:
    """``sig`` of an order's cancel/fail URLs: only the browser KakaoPay sends back (it got
    the URL from our /ready) can abort that order's payment."""
    digest = hmac.new(key, f"abort:{order_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class KakaoPayProvider:
    name = NAME
    prepares_offline = False  # ``ready`` is a call that returns the tid

    def __init__(
        self,
        *,
        secret_key: str,
        cid: str,
        base_url: str,
        approval_url: str,
        cancel_url: str,
        fail_url: str,
        timeout: float,
        connect_timeout: float,
        redirect_key: bytes,
    ) -> None:
        self._auth = f"SECRET_KEY {secret_key}"
        self._redirect_key = redirect_key
        self.cid = cid
        self.approval_url = approval_url
        self.cancel_url = cancel_url
        self.fail_url = fail_url
        self._http = _http.make_client(base_url, timeout=timeout, connect_timeout=connect_timeout)

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await _http.send(
            self._http,
            NAME,
            "POST",
            path,
            json={"cid": self.cid, **body},
            headers={"Authorization": self._auth},
        )
        data = _http.json_body(response)
        if response.status_code == httpx.codes.OK:
            return data
        code = str(data.get("error_code", f"HTTP_{response.status_code}"))
        message = str(data.get("error_message") or response.reason_phrase)
        if response.status_code >= 500:
            raise PaymentOutcomeUnknown(NAME, code, message, status=response.status_code)
        raise PaymentRejected(NAME, code, message, status=response.status_code)

    def _with_order(self, url: str, order_id: str, *, signed: bool = False) -> str:
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}order_id={quote(order_id, safe='')}"
        if signed:
            url += f"&sig={redirect_signature(self._redirect_key, order_id)}"
        return url

    def signed_redirect(self, order_id: str, signature: str | None) -> bool:
        """Is ``signature`` the ``sig`` this provider put in the order's cancel/fail URLs?"""
        expected = redirect_signature(self._redirect_key, order_id)
        return signature is not None and hmac.compare_digest(signature, expected)

    async def prepare(self, request: PaymentRequest) -> Checkout:
        body = await self._call(
            "/ready",
            {
                "partner_order_id": request.order_id,
                "partner_user_id": request.user_id,
                "item_name": request.order_name[:100],
                "quantity": request.quantity,
                "total_amount": request.amount,
                "tax_free_amount": 0,
                "approval_url": self._with_order(self.approval_url, request.order_id),
                "cancel_url": self._with_order(self.cancel_url, request.order_id, signed=True),
                "fail_url": self._with_order(self.fail_url, request.order_id, signed=True),
            },
        )
        tid = str(body["tid"])
        return Checkout(
            NAME,
            {
                "tid": tid,
                "redirect_url": body.get("next_redirect_pc_url"),
                "mobile_redirect_url": body.get("next_redirect_mobile_url"),
                "app_redirect_url": body.get("next_redirect_app_url"),
            },
            reference=tid,
        )

    async def confirm(self, request: ConfirmRequest) -> ProviderPayment:
        body = await self._call(
            "/approve",
            {
                "tid": request.reference,
                "partner_order_id": request.order_id,
                "partner_user_id": request.user_id,
                "pg_token": request.token or "",
            },
        )
        total = int((body.get("amount") or {}).get("total") or 0)
        return ProviderPayment(
            NAME,
            str(body.get("tid", request.reference)),
            str(body.get("partner_order_id", request.order_id)),
            PaymentState.CAPTURED,
            total,
            0,
            "SUCCESS_PAYMENT",
            _time(body.get("approved_at")),
            {"aid": body.get("aid"), "method": body.get("payment_method_type")},
        )

    async def cancel(
        self, *, reference: str, order_id: str, amount: int, reason: str, idempotency_key: str
    ) -> ProviderPayment:
        body = await self._call(
            "/cancel", {"tid": reference, "cancel_amount": amount, "cancel_tax_free_amount": 0}
        )
        return self._from_order(body, order_id)

    async def lookup(self, *, reference: str | None, order_id: str) -> ProviderPayment | None:
        if not reference:
            return None  # KakaoPay finds payments by TID only
        try:
            body = await self._call("/order", {"tid": reference})
        except PaymentRejected as exc:
            if exc.status in (httpx.codes.BAD_REQUEST, httpx.codes.NOT_FOUND):
                return None
            raise
        return self._from_order(body, order_id)

    def _from_order(self, body: dict[str, Any], order_id: str) -> ProviderPayment:
        raw_status = str(body.get("status", ""))
        amount = body.get("amount") or {}
        total = int(amount.get("total") or 0) if isinstance(amount, dict) else int(amount or 0)
        canceled = body.get("canceled_amount") or {}
        refunded = (
            int(canceled.get("total") or 0) if isinstance(canceled, dict) else int(canceled or 0)
        )
        approved = body.get("approved_at")
        if raw_status in _STATES:
            state = _STATES[raw_status]
        elif raw_status in _FAILED:
            state = PaymentState.FAILED
        else:
            state = PaymentState.PENDING
        captured = total if state in _STATES.values() and approved else 0
        return ProviderPayment(
            NAME,
            str(body.get("tid", "")),
            str(body.get("partner_order_id", order_id)),
            state if captured or state is not PaymentState.CANCELLED else PaymentState.FAILED,
            captured,
            refunded if captured else 0,
            raw_status,
            _time(approved),
        )

    async def aclose(self) -> None:
        await self._http.aclose()
