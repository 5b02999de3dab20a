"""What the Toss and KakaoPay clients share: one httpx client, timeouts, error mapping."""

from __future__ import annotations

from typing import Any

import httpx
import structlog

from boxoffice.orders.payments.base import PaymentOutcomeUnknown

log = structlog.get_logger("boxoffice.payments")


def make_client(base_url: str, *, timeout: float, connect_timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        headers={"User-Agent": "boxoffice/1 (+payments)"},
    )


async def send(
    client: httpx.AsyncClient, provider: str, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """The response of any status; transport failures become ``PaymentOutcomeUnknown``.

    A connection refused before anything was sent is also reported as unknown: it is
    rare and reconciliation makes it harmless, while guessing "not sent" could lose money.
    """
    try:
        return await client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        log.warning("payment_provider_timeout", provider=provider, path=url)
        raise PaymentOutcomeUnknown(
            provider, "TIMEOUT", "The provider did not answer in time."
        ) from exc
    except httpx.HTTPError as exc:
        log.warning(
            "payment_provider_unreachable", provider=provider, path=url, error=type(exc).__name__
        )
        raise PaymentOutcomeUnknown(
            provider, "NETWORK_ERROR", "The provider could not be reached."
        ) from exc


def json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
