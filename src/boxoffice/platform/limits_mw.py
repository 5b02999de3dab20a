"""Request body limits: refuse oversized bodies with 413 before they are read into memory."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.platform.errors import PayloadTooLarge, problem


class BodySizeLimitMiddleware:
    """JSON bodies up to ``max_json``; multipart uploads up to ``max_upload`` plus form overhead."""

    def __init__(self, app: ASGIApp, *, max_json: int, max_upload: int) -> None:
        self.app = app
        self.max_json = max_json
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        multipart = content_type.startswith("multipart/")
        limit = self.max_upload + 64 * 1024 if multipart else self.max_json
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return

        received = 0
        exceeded = False
        answered = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
            return message

        async def guarded_send(message: Message) -> None:
            # Whatever the app made of the aborted read (FastAPI says 400), the answer is 413.
            nonlocal answered
            if not exceeded:
                await send(message)
                return
            if message["type"] == "http.response.start" and not answered:
                answered = True
                await _too_large(limit)(scope, receive, send)

        await self.app(scope, counting_receive, guarded_send)


def _too_large(limit: int) -> Response:
    return problem(
        413,
        "payload_too_large",
        "Payload too large",
        f"The request body exceeds {limit} bytes.",
        max_bytes=limit,
    )
