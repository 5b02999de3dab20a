"""A local stand-in for Toss Payments, a real HTTP server on 127.0.0.1 (Starlette + uvicorn).

It follows ``reference/payments.md``: Basic auth with ``secret:``, JSON errors
``{"code", "message"}`` with Toss's statuses, ``Idempotency-Key`` (a replay returns the
first answer; a replay while the first runs gets 409 ``IDEMPOTENT_REQUEST_PROCESSING``),
``TossPayments-Test-Code`` error injection for test keys, confirm / cancel / lookups.

:meth:`TossStandIn.authorize` plays the buyer in the payment widget: it opens an
authenticated payment and returns its ``paymentKey``. ``captured`` and ``refunded`` are
the ledger the money-invariant test reads. For browser tests it also serves a reduced SDK
(``/v2/standard``: ``requestPayment`` opens ``/window``) and the payment window, which
authorizes and redirects to ``successUrl`` as Toss does (or to ``failUrl``).
``confirm_delay`` makes the next confirm capture the money and then answer too late (a
client timeout, outcome unknown).
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import re
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

KST = timezone(timedelta(hours=9))
TEST_SECRET_KEY = "test_sk_standin_0000"
TEST_CLIENT_KEY = "test_ck_standin_0000"
ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")

# What TossPayments-Test-Code may inject, with the status the real API answers it with.
ERROR_STATUS = {
    "ALREADY_PROCESSED_PAYMENT": 400,
    "INVALID_REQUEST": 400,
    "INVALID_API_KEY": 400,
    "BELOW_MINIMUM_AMOUNT": 400,
    "UNAPPROVED_ORDER_ID": 400,
    "ALREADY_CANCELED_PAYMENT": 400,
    "NOT_MATCHES_REFUNDABLE_AMOUNT": 400,
    "UNAUTHORIZED_KEY": 401,
    "REJECT_CARD_PAYMENT": 403,
    "REJECT_CARD_COMPANY": 403,
    "FORBIDDEN_REQUEST": 403,
    "NOT_CANCELABLE_AMOUNT": 403,
    "NOT_CANCELABLE_PAYMENT": 403,
    "NOT_FOUND_PAYMENT": 404,
    "NOT_FOUND_PAYMENT_SESSION": 404,
    "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING": 500,
    "UNKNOWN_PAYMENT_ERROR": 500,
}


def _now_kst() -> str:
    return datetime.now(UTC).astimezone(KST).strftime("%Y-%m-%dT%H:%M:%S+09:00")


def _html(text: str) -> str:
    return html.escape(text, quote=True)


def _query(params: dict[str, str]) -> str:
    return urlencode(params)


def _error(code: str, message: str, status: int | None = None) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message}, status_code=status or ERROR_STATUS[code]
    )


class StandInServer:
    """Runs an ASGI app under uvicorn in a daemon thread on a free loopback port."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.url = ""

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("stand-in server did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)


class TossStandIn:
    def __init__(self, secret_key: str = TEST_SECRET_KEY) -> None:
        self.secret_key = secret_key
        self._lock = threading.Lock()
        self.payments: dict[str, dict[str, Any]] = {}
        self._idempotent: dict[tuple[str, str, str, str], tuple[int, Any] | None] = {}
        self.confirm_delay = 0.0
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.server = StandInServer(self._app())

    # --- the buyer's side and the ledger ------------------------------------------------

    def authorize(self, order_id: str, amount: int, order_name: str = "tickets") -> str:
        """The buyer paid in the widget: an authenticated payment waiting for confirm."""
        key = "tgen_" + secrets.token_hex(12)
        with self._lock:
            self.payments[key] = {
                "paymentKey": key,
                "orderId": order_id,
                "orderName": order_name,
                "status": "IN_PROGRESS",
                "method": "카드",
                "totalAmount": amount,
                "balanceAmount": amount,
                "currency": "KRW",
                "requestedAt": _now_kst(),
                "approvedAt": None,
                "secret": secrets.token_hex(8),
                "receipt": {"url": f"https://receipt.example/{key}"},
                "failure": None,
                "cancels": [],
                "card": {"company": "현대", "number": "4330****1234", "approveNo": "00000000"},
            }
        return key

    def payment(self, payment_key: str) -> dict[str, Any]:
        with self._lock:
            return dict(self.payments[payment_key])

    @property
    def captured(self) -> int:
        with self._lock:
            return sum(
                p["totalAmount"] for p in self.payments.values() if p["approvedAt"] is not None
            )

    @property
    def refunded(self) -> int:
        with self._lock:
            return sum(c["cancelAmount"] for p in self.payments.values() for c in p["cancels"])

    def reset(self) -> None:
        with self._lock:
            self.payments.clear()
            self._idempotent.clear()
            self.requests.clear()
            self.confirm_delay = 0.0

    # --- the API ------------------------------------------------------------------------

    # --- the browser's side: the SDK's requestPayment and the payment window ------------

    async def _sdk(self, request: Request) -> Response:
        """What ``js.tosspayments.com/v2/standard`` gives a page, reduced to the redirect flow:
        ``TossPayments(clientKey).payment({customerKey}).requestPayment({...})`` opens the
        payment window (here: this server's ``/window``)."""
        base = json.dumps(str(request.base_url).rstrip("/"))
        script = (
            "(function(){var base="
            + base
            + (
                ";function TossPayments(clientKey){return{payment:function(){"
                "return{requestPayment:function(r){var q=new URLSearchParams({clientKey:clientKey,"
                "orderId:r.orderId,orderName:r.orderName,amount:String(r.amount.value),"
                "successUrl:r.successUrl,failUrl:r.failUrl});location.assign(base+'/window?'+q);"
                "return new Promise(function(){});}};}};}TossPayments.ANONYMOUS='ANONYMOUS';"
                "window.TossPayments=TossPayments;})();"
            )
        )
        return Response(script, media_type="text/javascript")

    async def _window(self, request: Request) -> Response:
        """The payment window: the buyer pays (an authenticated payment, then Toss's redirect
        to successUrl) or gives up (failUrl with PAY_PROCESS_CANCELED)."""
        if request.method == "POST":
            form = await request.form()
            fields = {k: str(v) for k, v in form.items()}
            if fields.get("action") == "cancel":
                query = {
                    "code": "PAY_PROCESS_CANCELED",
                    "message": "결제를 취소하셨습니다.",
                    "orderId": fields["orderId"],
                }
                return RedirectResponse(f"{fields['failUrl']}?{_query(query)}", status_code=303)
            key = self.authorize(fields["orderId"], int(fields["amount"]), fields["orderName"])
            query = {
                "paymentType": "NORMAL",
                "orderId": fields["orderId"],
                "paymentKey": key,
                "amount": fields["amount"],
            }
            return RedirectResponse(f"{fields['successUrl']}?{_query(query)}", status_code=303)
        params = dict(request.query_params)
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{_html(v)}">' for k, v in params.items()
        )
        page = (
            '<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>토스페이먼츠</title>'
            f"</head><body><h1>토스페이먼츠 (stand-in)</h1><p>{_html(params.get('orderName', ''))}"
            f' — {_html(params.get("amount", ""))}원</p><form method="post">{hidden}'
            '<button name="action" value="pay">결제하기</button>'
            '<button name="action" value="cancel">취소</button></form></body></html>'
        )
        return HTMLResponse(page)

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v2/standard", self._sdk, methods=["GET"]),
                Route("/window", self._window, methods=["GET", "POST"]),
                Route("/v1/payments/confirm", self._confirm, methods=["POST"]),
                Route("/v1/payments/orders/{order_id}", self._by_order, methods=["GET"]),
                Route("/v1/payments/{payment_key}/cancel", self._cancel, methods=["POST"]),
                Route("/v1/payments/{payment_key}", self._by_key, methods=["GET"]),
            ]
        )

    def _authorised(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.secret_key}:".encode()).decode()
        return secrets.compare_digest(request.headers.get("authorization", ""), expected)

    async def _guarded(self, request: Request, handler: Any) -> Response:
        """Auth, test-code injection and idempotency around a POST handler."""
        self.requests.append((request.method, request.url.path, dict(request.headers)))
        if not self._authorised(request):
            return _error("UNAUTHORIZED_KEY", "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.")
        test_code = request.headers.get("tosspayments-test-code")
        if test_code and self.secret_key.startswith("test_"):
            return _error(
                test_code, "테스트 코드로 요청한 에러입니다.", ERROR_STATUS.get(test_code, 400)
            )
        key = request.headers.get("idempotency-key")
        if key is None:
            return await handler(request)
        if len(key) > 300:
            return _error("INVALID_IDEMPOTENCY_KEY", "멱등키가 너무 깁니다.", 400)
        slot = (key, self.secret_key, request.url.path, request.method)
        if slot in self._idempotent:
            first = self._idempotent[slot]
            if first is None:
                return _error(
                    "IDEMPOTENT_REQUEST_PROCESSING", "이전 멱등 요청이 처리 중입니다.", 409
                )
            return JSONResponse(first[1], status_code=first[0])
        self._idempotent[slot] = None
        try:
            response = await handler(request)
        except BaseException:
            del self._idempotent[slot]
            raise
        assert isinstance(response, JSONResponse)
        self._idempotent[slot] = (response.status_code, json.loads(bytes(response.body)))
        return response

    async def _confirm(self, request: Request) -> Response:
        return await self._guarded(request, self._do_confirm)

    async def _do_confirm(self, request: Request) -> Response:
        body = await request.json()
        key, order_id, amount = body.get("paymentKey"), body.get("orderId"), body.get("amount")
        if not isinstance(key, str) or not isinstance(order_id, str) or not isinstance(amount, int):
            return _error("INVALID_REQUEST", "잘못된 요청입니다.")
        if not ORDER_ID.match(order_id) or len(key) > 200:
            return _error("INVALID_REQUEST", "잘못된 요청입니다.")
        with self._lock:
            payment = self.payments.get(key)
            if payment is None:
                return _error(
                    "NOT_FOUND_PAYMENT_SESSION",
                    "결제 시간이 만료되어 결제 진행 데이터가 존재하지 않습니다.",
                )
            if payment["status"] != "IN_PROGRESS":
                return _error("ALREADY_PROCESSED_PAYMENT", "이미 처리된 결제 입니다.")
            if payment["orderId"] != order_id or payment["totalAmount"] != amount:
                return _error("INVALID_REQUEST", "결제 금액이 일치하지 않습니다.")
            payment.update(status="DONE", approvedAt=_now_kst())
            answer = dict(payment)
            delay, self.confirm_delay = self.confirm_delay, 0.0
        if delay:
            await asyncio.sleep(delay)  # captured, but the client gives up first
        return JSONResponse(answer)

    async def _cancel(self, request: Request) -> Response:
        return await self._guarded(request, self._do_cancel)

    async def _do_cancel(self, request: Request) -> Response:
        body = await request.json()
        reason = body.get("cancelReason")
        if not isinstance(reason, str) or not reason:
            return _error("INVALID_REQUEST", "취소 사유는 필수입니다.")
        with self._lock:
            payment = self.payments.get(request.path_params["payment_key"])
            if payment is None:
                return _error("NOT_FOUND_PAYMENT", "존재하지 않는 결제 정보 입니다.")
            if payment["status"] == "CANCELED":
                return _error("ALREADY_CANCELED_PAYMENT", "이미 취소된 결제 입니다.")
            if payment["status"] not in ("DONE", "PARTIAL_CANCELED"):
                return _error("NOT_CANCELABLE_PAYMENT", "취소 할 수 없는 결제 입니다.")
            amount = body.get("cancelAmount", payment["balanceAmount"])
            if not isinstance(amount, int) or not 0 < amount <= payment["balanceAmount"]:
                return _error("NOT_CANCELABLE_AMOUNT", "취소 할 수 없는 금액 입니다.")
            payment["balanceAmount"] -= amount
            payment["status"] = "CANCELED" if payment["balanceAmount"] == 0 else "PARTIAL_CANCELED"
            payment["cancels"] = [
                *payment["cancels"],
                {
                    "transactionKey": secrets.token_hex(8),
                    "cancelReason": reason,
                    "cancelAmount": amount,
                    "canceledAt": _now_kst(),
                    "cancelStatus": "DONE",
                },
            ]
            return JSONResponse(dict(payment))

    async def _by_key(self, request: Request) -> Response:
        self.requests.append((request.method, request.url.path, dict(request.headers)))
        if not self._authorised(request):
            return _error("UNAUTHORIZED_KEY", "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.")
        with self._lock:
            payment = self.payments.get(request.path_params["payment_key"])
            if payment is None:
                return _error("NOT_FOUND_PAYMENT", "존재하지 않는 결제 정보 입니다.")
            return JSONResponse(dict(payment))

    async def _by_order(self, request: Request) -> Response:
        self.requests.append((request.method, request.url.path, dict(request.headers)))
        if not self._authorised(request):
            return _error("UNAUTHORIZED_KEY", "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.")
        order_id = request.path_params["order_id"]
        with self._lock:
            found = [p for p in self.payments.values() if p["orderId"] == order_id]
            done = [p for p in found if p["approvedAt"] is not None]
            if not found:
                return _error("NOT_FOUND_PAYMENT", "존재하지 않는 결제 정보 입니다.")
            return JSONResponse(dict((done or found)[-1]))
