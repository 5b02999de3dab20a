"""Structured logs, request ids and Prometheus metrics.

One pure-ASGI middleware does all three per request: it takes or makes an
``X-Request-ID``, binds it to the log context, times the request and counts it by
route template (never by raw path, so ids do not explode the label set).
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.platform.http_headers import with_security_headers
from boxoffice.platform.ids import new_id

_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_SECRET_KEYS = ("password", "token", "secret", "authorization", "cookie", "pg_token", "code")


def _drop_secrets(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in list(event):
        if any(marker in key.lower() for marker in _SECRET_KEYS):
            event[key] = "[redacted]"
    return event


# Personal data that reaches a log by way of an error text (a driver's message quoting a
# value, an exception naming an address): e-mail addresses and bearer tokens are masked.
_PERSONAL = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"  # e-mail addresses
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"  # JWTs
)


def _mask_personal(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if isinstance(value, str) and ("@" in value or "eyJ" in value):
            event[key] = _PERSONAL.sub("[redacted]", value)
    return event


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_secrets,
        structlog.processors.format_exc_info,
        _mask_personal,  # after format_exc_info: the rendered traceback is masked too
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


class Metrics:
    """Metric families of one app, in their own registry (several apps may share a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "boxoffice_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        # By the answer's class too (2xx, 4xx, 5xx): on a hold, a slow refusal (409) and a
        # slow win (201) have different causes, and one histogram would mix them.
        self.latency = Histogram(
            "boxoffice_http_request_duration_seconds",
            "HTTP request latency by route and class of answer",
            ["method", "route", "status_class"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )


class RequestContextMiddleware:
    """``route_templates`` maps a route object's id to its full path template (with prefix)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, route_templates: dict[int, str]) -> None:
        self.app = app
        self.metrics = metrics
        self.route_templates = route_templates
        self.log = structlog.get_logger("boxoffice.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        request_id = incoming.decode("latin-1") if _REQUEST_ID.fullmatch(incoming) else new_id()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = with_security_headers(message.get("headers", []), scope["path"])
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            matched = scope.get("route")
            route = (
                self.route_templates.get(id(matched), getattr(matched, "path", "<unmatched>"))
                if matched is not None
                else "<unmatched>"
            )
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route, f"{status // 100}xx").observe(elapsed)
            if status >= 500:
                self.log.warning(
                    "request",
                    method=method,
                    route=route,
                    status=status,
                    ms=round(elapsed * 1000, 2),
                )
            structlog.contextvars.unbind_contextvars("request_id")
