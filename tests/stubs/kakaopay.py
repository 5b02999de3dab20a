"""A local stand-in for KakaoPay's single payment API, a real HTTP server on 127.0.0.1.

Follows ``reference/payments.md``: ``Authorization: SECRET_KEY <key>``, JSON bodies,
``/ready`` → TID and redirect URLs, ``/approve`` with the ``pg_token`` the buyer's
approval produced, ``/cancel`` (full or partial), ``/order``; errors are 4xx
``{"error_code", "error_message", "extras"}``.

:meth:`KakaoPayStandIn.authorize` plays the buyer approving in KakaoPay's page and returns
the ``pg_token`` that KakaoPay appends to ``approval_url``. ``fail_next`` answers the next
call of an operation with an error; ``delay_next`` answers it late (after doing the work).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.stubs.toss import StandInServer

TEST_SECRET_KEY = "DEV_standin_kakaopay_0000"
TEST_CID = "TC0ONETIME"
KST = timezone(timedelta(hours=9))


def _now() -> str:
    """Korean time without an offset, as KakaoPay writes it."""
    return datetime.now(KST).replace(microsecond=0, tzinfo=None).isoformat()


def _error(code: int, message: str, status: int = 400) -> JSONResponse:
    return JSONResponse(
        {"error_code": code, "error_message": message, "extras": {}}, status_code=status
    )


class KakaoPayStandIn:
    def __init__(self, secret_key: str = TEST_SECRET_KEY) -> None:
        self.secret_key = secret_key
        self._lock = threading.Lock()
        self.payments: dict[str, dict[str, Any]] = {}
        self.fail_next: dict[str, tuple[int, int, str]] = {}
        self.delay_next: dict[str, float] = {}
        self.server = StandInServer(
            Starlette(
                routes=[
                    Route(f"/{op}", self._endpoint(op), methods=["POST"])
                    for op in ("ready", "approve", "cancel", "order")
                ]
            )
        )

    # --- the buyer's side and the ledger ------------------------------------------------

    def authorize(self, tid: str) -> str:
        """The buyer approved in KakaoPay: the pg_token appended to approval_url."""
        with self._lock:
            payment = self.payments[tid]
            payment["status"] = "AUTH_PASSWORD"
            payment["pg_token"] = secrets.token_hex(10)
            return str(payment["pg_token"])

    def quit(self, tid: str) -> None:
        with self._lock:
            self.payments[tid]["status"] = "QUIT_PAYMENT"

    def redirect(self, tid: str, outcome: str) -> str:
        """Where KakaoPay sends the buyer's browser: ``approval``, ``cancel`` or ``fail``
        (the merchant's URL as given to /ready)."""
        with self._lock:
            return str(self.payments[tid][f"{outcome}_url"])

    @property
    def captured(self) -> int:
        with self._lock:
            return sum(p["total_amount"] for p in self.payments.values() if p["approved_at"])

    @property
    def refunded(self) -> int:
        with self._lock:
            return sum(p["canceled_amount"] for p in self.payments.values())

    def reset(self) -> None:
        with self._lock:
            self.payments.clear()
            self.fail_next.clear()
            self.delay_next.clear()

    # --- the API ------------------------------------------------------------------------

    def _endpoint(self, op: str) -> Any:
        async def handle(request: Request) -> Response:
            if request.headers.get("authorization") != f"SECRET_KEY {self.secret_key}":
                return _error(-401, "invalid secret key", 401)
            try:
                body = await request.json()
            except ValueError:
                return _error(-2, "invalid request body")
            if not isinstance(body, dict) or body.get("cid") != TEST_CID:
                return _error(-2, "invalid cid")
            with self._lock:
                injected = self.fail_next.pop(op, None)
                delay = self.delay_next.pop(op, 0.0)
            if injected is not None:
                status, code, message = injected
                return _error(code, message, status)
            response: Response = getattr(self, f"_{op}")(body)
            if delay:
                await asyncio.sleep(delay)
            return response

        return handle

    def _ready(self, body: dict[str, Any]) -> Response:
        required = (
            "partner_order_id",
            "partner_user_id",
            "item_name",
            "quantity",
            "total_amount",
            "tax_free_amount",
            "approval_url",
            "cancel_url",
            "fail_url",
        )
        missing = [name for name in required if name not in body]
        if missing or not isinstance(body["total_amount"], int) or body["total_amount"] <= 0:
            return _error(-2, f"invalid parameters: {missing or 'total_amount'}")
        tid = "T" + secrets.token_hex(9)
        with self._lock:
            self.payments[tid] = {
                "tid": tid,
                "cid": TEST_CID,
                "status": "READY",
                "partner_order_id": body["partner_order_id"],
                "partner_user_id": body["partner_user_id"],
                "item_name": body["item_name"],
                "quantity": body["quantity"],
                "total_amount": body["total_amount"],
                "approval_url": body["approval_url"],
                "cancel_url": body["cancel_url"],
                "fail_url": body["fail_url"],
                "canceled_amount": 0,
                "created_at": _now(),
                "approved_at": None,
                "canceled_at": None,
                "pg_token": None,
            }
        return JSONResponse(
            {
                "tid": tid,
                "next_redirect_pc_url": f"https://online-pay.kakao.example/pay/{tid}",
                "next_redirect_mobile_url": f"https://online-pay.kakao.example/mobile/{tid}",
                "next_redirect_app_url": f"https://online-pay.kakao.example/app/{tid}",
                "created_at": _now(),
            }
        )

    def _approve(self, body: dict[str, Any]) -> Response:
        with self._lock:
            payment = self.payments.get(str(body.get("tid")))
            if payment is None:
                return _error(-701, "tid not found")
            if payment["approved_at"]:
                return _error(-702, "payment is already done")
            if (
                body.get("partner_order_id") != payment["partner_order_id"]
                or body.get("partner_user_id") != payment["partner_user_id"]
                or not payment["pg_token"]
                or body.get("pg_token") != payment["pg_token"]
            ):
                return _error(-780, "approval failure!")
            payment.update(status="SUCCESS_PAYMENT", approved_at=_now())
            return JSONResponse(
                {
                    "aid": "A" + secrets.token_hex(9),
                    "tid": payment["tid"],
                    "cid": TEST_CID,
                    "partner_order_id": payment["partner_order_id"],
                    "partner_user_id": payment["partner_user_id"],
                    "payment_method_type": "MONEY",
                    "amount": {
                        "total": payment["total_amount"],
                        "tax_free": 0,
                        "vat": 0,
                        "point": 0,
                        "discount": 0,
                    },
                    "item_name": payment["item_name"],
                    "quantity": payment["quantity"],
                    "created_at": payment["created_at"],
                    "approved_at": payment["approved_at"],
                }
            )

    def _view(self, payment: dict[str, Any]) -> dict[str, Any]:
        total = payment["total_amount"]
        canceled = payment["canceled_amount"]
        return {
            "tid": payment["tid"],
            "cid": TEST_CID,
            "status": payment["status"],
            "partner_order_id": payment["partner_order_id"],
            "partner_user_id": payment["partner_user_id"],
            "item_name": payment["item_name"],
            "quantity": payment["quantity"],
            "amount": {"total": total, "tax_free": 0, "vat": 0, "point": 0, "discount": 0},
            "canceled_amount": {"total": canceled, "tax_free": 0, "vat": 0},
            "cancel_available_amount": {"total": total - canceled if payment["approved_at"] else 0},
            "created_at": payment["created_at"],
            "approved_at": payment["approved_at"],
            "canceled_at": payment["canceled_at"],
        }

    def _cancel(self, body: dict[str, Any]) -> Response:
        with self._lock:
            payment = self.payments.get(str(body.get("tid")))
            if payment is None:
                return _error(-701, "tid not found")
            amount = body.get("cancel_amount")
            available = payment["total_amount"] - payment["canceled_amount"]
            if not payment["approved_at"]:
                return _error(-721, "payment is not approved")
            if not isinstance(amount, int) or not 0 < amount <= available:
                return _error(-798, "cancel amount exceeds the cancelable amount")
            payment["canceled_amount"] += amount
            payment["canceled_at"] = _now()
            payment["status"] = (
                "CANCEL_PAYMENT"
                if payment["canceled_amount"] == payment["total_amount"]
                else "PART_CANCEL_PAYMENT"
            )
            return JSONResponse(self._view(payment))

    def _order(self, body: dict[str, Any]) -> Response:
        with self._lock:
            payment = self.payments.get(str(body.get("tid")))
            if payment is None:
                return _error(-701, "tid not found")
            return JSONResponse(self._view(payment))
