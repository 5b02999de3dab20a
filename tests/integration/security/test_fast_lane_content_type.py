"""Defect 11 (hold fast lane): a body of another content type is refused on the fast lane
exactly as FastAPI refuses it on an ordinary route (422, never parsed as JSON)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime
from tests.support.api import API, customer, unique_email
from tests.support.catalog import open_show


@pytest.fixture(params=[True, False], ids=["fast-lane", "fastapi"])
def settings(request: pytest.FixtureRequest, make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(fast_lane=request.param)


def _refusal(response: httpx.Response) -> tuple[int, str, list[object]]:
    body = response.json()
    return response.status_code, body["code"], body["errors"]


async def test_text_plain_hold_is_refused_like_fastapi_refuses_it(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime)
    fan = await customer(client)
    plain = {**fan.headers, "content-type": "text/plain"}
    hold = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        content=b'{"seat_ids": ["%s"]}' % show.seat_ids[0].encode(),
        headers=plain,
    )
    signup = await client.post(
        f"{API}/auth/signup",
        content=b'{"email": "%s", "password": "correct-horse-battery", "name": "Fan"}'
        % unique_email().encode(),
        headers={"content-type": "text/plain"},
    )
    assert _refusal(signup)[:2] == (422, "validation_error")  # FastAPI's own answer
    assert _refusal(hold) == _refusal(signup)
    json_hold = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        content=b'{"seat_ids": ["%s"]}' % show.seat_ids[0].encode(),
        headers={**fan.headers, "content-type": "application/json; charset=utf-8"},
    )
    assert json_hold.status_code == 201, json_hold.text
