"""Sellers' webhooks (``docs/webhooks.md``): a seller registers endpoints and the events
they want; each event of their sales becomes one delivery per endpoint, signed, sent from
the worker, retried with growing delays, in order per aggregate, visible with every
attempt, and the endpoint disabled after persistent failure.

Two consumers. The fan-out (database only) turns a domain event into delivery rows and a
``WebhookDue`` per delivery, in the transaction that marks the event processed. The sender
(acts outside the database) posts one delivery; a failure is recorded as an attempt and
raised, so the messaging layer retries it after ``retry_delays_seconds`` and dead-letters
it after the last (an admin can retry a dead letter; the seller can resend by hand).
Order per aggregate: a delivery is not sent while an older one of the same endpoint and
aggregate is undelivered — it waits (as a retry) behind it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from sqlalchemy import func, select

from boxoffice.catalog import service as catalog
from boxoffice.notifications.errors import WebhookEndpointDisabled, WebhookTargetRefused
from boxoffice.notifications.events import WebhookDue
from boxoffice.notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from boxoffice.platform.errors import Conflict, NotFound
from boxoffice.platform.ids import new_id
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.messaging import Delivery
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork

log = structlog.get_logger("boxoffice.webhooks")

EVENT_TYPES = ("order.paid", "order.refunded", "ticket.checked_in", "show.sold_out")
MAX_ENDPOINTS = 10
SIGNATURE_HEADER = "Boxoffice-Signature"


class NotYetInOrder(Exception):
    """An older delivery of the same aggregate is not delivered yet: wait behind it."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``, the header's value."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


async def check_target(runtime: Runtime, url: str) -> None:
    """Refuse what is not a public HTTPS address (SSRF): no loopback, private, link-local,
    multicast or reserved target, whatever the name resolves to now. Tests and a local
    topology allow private targets (and plain HTTP) by setting."""
    allow_private = runtime.settings.notifications.webhook_allow_private_targets
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise WebhookTargetRefused("Webhooks go to https:// addresses.")
    if not parts.hostname or parts.username or parts.password:
        raise WebhookTargetRefused("The address needs a host, and no credentials in it.")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443)
    except OSError as exc:
        raise WebhookTargetRefused("The address's host does not resolve.") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global and not allow_private:
            raise WebhookTargetRefused("The address resolves to a private or local network.")


# --- the seller's API ----------------------------------------------------------------------


async def register(
    uow: UnitOfWork, runtime: Runtime, seller: Principal, url: str, events: list[str]
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (returned once); commits. Raises catalog's
    approval refusal (403), ``WebhookTargetRefused`` and ``Conflict`` (too many)."""
    await catalog.require_approved_seller(uow, seller)
    await check_target(runtime, url)
    count = await uow.session.scalar(
        select(func.count()).where(WebhookEndpoint.seller_id == seller.id)
    )
    if (count or 0) >= MAX_ENDPOINTS:
        raise Conflict(f"At most {MAX_ENDPOINTS} endpoints per seller.")
    endpoint = WebhookEndpoint(
        id=new_id(), seller_id=seller.id, url=url, events=" ".join(sorted(set(events))),
        secret="whsec_" + secrets.token_urlsafe(32), active=True, failure_streak=0,
        created_at=uow.clock.now(), disabled_at=None,
    )  # fmt: skip
    uow.session.add(endpoint)
    await uow.commit()
    return endpoint


async def owned(uow: UnitOfWork, seller: Principal, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await uow.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.seller_id != seller.id:
        raise NotFound("No such webhook endpoint.")
    return endpoint


async def endpoints_of(uow: UnitOfWork, seller: Principal) -> list[WebhookEndpoint]:
    rows = await uow.session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.seller_id == seller.id)
        .order_by(WebhookEndpoint.id)
    )
    return list(rows)


async def set_active(
    uow: UnitOfWork, seller: Principal, endpoint_id: str, active: bool
) -> WebhookEndpoint:
    endpoint = await owned(uow, seller, endpoint_id)
    endpoint.active = active
    endpoint.failure_streak = 0 if active else endpoint.failure_streak
    endpoint.disabled_at = None if active else uow.clock.now()
    await uow.commit()
    return endpoint


async def remove(uow: UnitOfWork, seller: Principal, endpoint_id: str) -> None:
    await uow.session.delete(await owned(uow, seller, endpoint_id))
    await uow.commit()


async def deliveries(
    uow: UnitOfWork, seller: Principal, endpoint_id: str, limit: int = 50
) -> list[tuple[WebhookDelivery, list[WebhookAttempt]]]:
    """The endpoint's newest deliveries, each with its attempts (oldest first)."""
    await owned(uow, seller, endpoint_id)
    rows = list(
        await uow.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
    attempts: dict[str, list[WebhookAttempt]] = {row.id: [] for row in rows}
    for attempt in await uow.session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(list(attempts)))
        .order_by(WebhookAttempt.id)
    ):
        attempts[attempt.delivery_id].append(attempt)
    return [(row, attempts[row.id]) for row in rows]


async def resend(
    uow: UnitOfWork, seller: Principal, endpoint_id: str, delivery_id: str
) -> WebhookDelivery:
    """Send a delivery again, by hand (delivered or not); commits."""
    endpoint = await owned(uow, seller, endpoint_id)
    if not endpoint.active:
        raise WebhookEndpointDisabled()
    row = await uow.session.get(WebhookDelivery, delivery_id)
    if row is None or row.endpoint_id != endpoint.id:
        raise NotFound("No such delivery.")
    row.status, row.delivered_at = "pending", None
    uow.record(WebhookDue(delivery_id=row.id, endpoint_id=endpoint.id))
    await uow.commit()
    return row


# --- the consumers -------------------------------------------------------------------------


_ENDPOINTS_READ = "notifications.webhook_endpoints"  # the session's note of sellers read


async def wanted_by(uow: UnitOfWork, seller_id: str | None, kind: str) -> list[WebhookEndpoint]:
    """The seller's active endpoints that want ``kind``. Read once per transaction: the
    events of a group commit (a sale's payments) share it, and most sellers have none."""
    if seller_id is None:
        return []
    read: dict[str, list[WebhookEndpoint]] = uow.session.info.setdefault(_ENDPOINTS_READ, {})
    if seller_id not in read:
        read[seller_id] = list(
            await uow.session.scalars(
                select(WebhookEndpoint).where(
                    WebhookEndpoint.seller_id == seller_id, WebhookEndpoint.active.is_(True)
                )
            )
        )
    return [endpoint for endpoint in read[seller_id] if kind in endpoint.events.split()]


async def fan_out(
    delivery: Delivery,
    *,
    kind: str,
    seller_id: str | None,
    aggregate_id: str,
    data: dict[str, Any],
    once_as: str | None = None,
) -> None:
    """One delivery row and one ``WebhookDue`` per active endpoint of the seller that wants
    ``kind``, committed with the event's processed mark. ``once_as`` names the delivery
    (its ``id``) instead of the domain event, so that it is made once per endpoint
    whichever event comes to it first (a show sells out once)."""
    event_id = once_as or delivery.event_id
    async with delivery.uow() as uow:
        now = uow.clock.now()
        for endpoint in await wanted_by(uow, seller_id, kind):
            made = await uow.session.scalar(
                select(WebhookDelivery.id).where(
                    WebhookDelivery.endpoint_id == endpoint.id,
                    WebhookDelivery.event_id == event_id,
                )
            )
            if made is not None:  # a redelivered event, or ``once_as`` already sent
                continue
            body = {"id": event_id, "type": kind, "created_at": now, "data": data}
            row = WebhookDelivery(
                id=new_id(), endpoint_id=endpoint.id, event_id=event_id,
                event_type=kind, aggregate_id=aggregate_id, payload=dumps(body).decode(),
                status="pending", attempts=0, created_at=now, delivered_at=None,
            )  # fmt: skip
            uow.session.add(row)
            uow.record(WebhookDue(delivery_id=row.id, endpoint_id=endpoint.id))
        await delivery.commit(uow)


async def send(event: WebhookDue, delivery: Delivery) -> None:
    """Post one delivery; raise on failure (the messaging layer retries)."""
    runtime = delivery.runtime
    async with delivery.uow() as uow:
        row = await uow.session.get(WebhookDelivery, event.delivery_id)
        endpoint = await uow.session.get(WebhookEndpoint, event.endpoint_id)
        if row is None or endpoint is None or row.status != "pending" or not endpoint.active:
            await delivery.commit(uow)  # gone, sent, or the endpoint is off: nothing to do
            return
        older = await uow.session.scalar(
            select(WebhookDelivery.id).where(
                WebhookDelivery.endpoint_id == endpoint.id,
                WebhookDelivery.aggregate_id == row.aggregate_id,
                WebhookDelivery.id < row.id,
                WebhookDelivery.status == "pending",
            )
        )
        if older is not None:
            raise NotYetInOrder(f"delivery {row.id} waits for {older}")
        url, secret, payload = endpoint.url, endpoint.secret, row.payload.encode()
    status_code, error, took = await _post(runtime, url, secret, row.event_type, row.id, payload)
    ok = status_code is not None and 200 <= status_code < 300
    async with delivery.uow() as uow:
        await _record(uow, runtime, event, status_code, error, took, ok)
        if ok:
            await delivery.commit(uow)
            return
        await uow.commit()
    raise RuntimeError(f"webhook {event.delivery_id}: {status_code or error}")


async def _post(
    runtime: Runtime, url: str, secret: str, kind: str, delivery_id: str, body: bytes
) -> tuple[int | None, str | None, int]:
    started = time.perf_counter()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "boxoffice-webhooks/1",
        "Boxoffice-Event": kind,
        "Boxoffice-Delivery": delivery_id,
        SIGNATURE_HEADER: sign(secret, int(runtime.clock.now().timestamp()), body),
    }
    try:
        await check_target(runtime, url)  # again: what the name resolves to may have changed
        timeout = runtime.settings.notifications.webhook_timeout_seconds
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            answer = await client.post(url, content=body, headers=headers)
        return answer.status_code, None, int((time.perf_counter() - started) * 1000)
    except httpx.TimeoutException:
        return None, "timeout", int((time.perf_counter() - started) * 1000)
    except (httpx.HTTPError, WebhookTargetRefused) as exc:
        return None, type(exc).__name__, int((time.perf_counter() - started) * 1000)


async def _record(
    uow: UnitOfWork,
    runtime: Runtime,
    event: WebhookDue,
    status_code: int | None,
    error: str | None,
    took: int,
    ok: bool,
) -> None:
    now = uow.clock.now()
    row = await uow.session.get(WebhookDelivery, event.delivery_id, with_for_update=True)
    endpoint = await uow.session.get(WebhookEndpoint, event.endpoint_id, with_for_update=True)
    assert row is not None
    assert endpoint is not None
    uow.session.add(
        WebhookAttempt(
            id=new_id(), delivery_id=row.id, at=now, status_code=status_code, error=error,
            duration_ms=took,
        )
    )  # fmt: skip
    row.attempts += 1
    if ok:
        row.status, row.delivered_at, endpoint.failure_streak = "delivered", now, 0
        return
    endpoint.failure_streak += 1
    if endpoint.failure_streak >= runtime.settings.notifications.webhook_disable_after_failures:
        endpoint.active, endpoint.disabled_at = False, now
        log.warning("webhook_endpoint_disabled", endpoint_id=endpoint.id)
