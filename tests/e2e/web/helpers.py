"""Steps a fan takes in the shop, shared by the browser tests."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from tests.support.api import PASSWORD, unique_email


async def sign_up(page: Any, base: str, name: str = "Fan") -> str:
    """Create an account through the sign-up page; the fan is signed in afterwards."""
    email = unique_email(name.lower())
    await page.goto(f"{base}/signup")
    await page.fill("#name", name)
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("#signup-form button[type=submit]")
    await page.wait_for_url(f"{base}/")
    await page.wait_for_selector("[data-auth=in]:not([hidden])", state="attached")
    return email


async def log_in(page: Any, base: str, email: str, next_path: str = "/") -> None:
    await page.goto(f"{base}/login?next={next_path}")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(f"{base}{next_path}")


async def load_ms(page: Any) -> float:
    """From the start of the navigation to the end of its load event, as the browser timed it."""
    timing = await page.evaluate(
        "() => { const t = performance.getEntriesByType('navigation')[0];"
        " return t.loadEventEnd - t.startTime; }"
    )
    return float(timing)


async def pick_seats(page: Any, count: int) -> list[str]:
    """Click ``count`` free seats on the map; returns their ids."""
    await page.wait_for_selector("#picker[data-ready]")
    ids: list[str] = await page.eval_on_selector_all(
        "circle.seat:not(.taken)", f"nodes => nodes.slice(0, {count}).map(n => n.dataset.id)"
    )
    for seat_id in ids:
        await page.click(f'circle[data-id="{seat_id}"]')
    return ids


async def hold_and_checkout(page: Any) -> str:
    await page.click("#hold")
    await page.wait_for_url("**/checkout/*")
    await page.wait_for_selector("#pay-form")
    return str(page.url.rsplit("/", 1)[1])


async def eventually(check: Any, seconds: float = 15.0) -> Any:
    """``check()`` until it is truthy or ``seconds`` have passed; its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


GATEWAY_TIMEOUT = {
    "type": "https://boxoffice.dev/problems/gateway-timeout",
    "title": "Gateway timeout",
    "status": 504,
    "detail": "The service did not answer in time; what you asked may have been done.",
    "code": "gateway_timeout",
}


async def count_answers(page: Any, pattern: str, *, first_too_late: bool) -> list[int]:
    """Requests to ``pattern`` reach the API; the page gets their answers, except, with
    ``first_too_late``, the first one's, replaced by the gateway's 504 (it stopped waiting:
    deploy/nginx). Returns the API's statuses, filled in as the requests come."""
    statuses: list[int] = []

    async def handle(route: Any) -> None:
        done = await route.fetch()  # the API does it
        statuses.append(done.status)
        if not first_too_late or len(statuses) > 1:
            await route.fulfill(response=done)
            return
        timed_out = json.dumps(GATEWAY_TIMEOUT)
        await route.fulfill(status=504, content_type="application/problem+json", body=timed_out)

    await page.route(pattern, handle)
    return statuses
