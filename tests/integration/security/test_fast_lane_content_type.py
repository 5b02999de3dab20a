"""Defect 11 (hold fast lane): a body of another content type is refused on the fast lane
exactly as on an ordinary route, never parsed as JSON: 415 ``unsupported_media_type`` for
a type that is neither JSON nor a form (the API takes JSON, API.md), and a form 422 as
FastAPI answers it."""

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


def _refusal(response: httpx.Response) -> tuple[int, str, object]:
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    return response.status_code, body["code"], body.get("errors", body["detail"])


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
    assert _refusal(signup)[:2] == (415, "unsupported_media_type")
    assert "application/json" in str(_refusal(signup)[2])
    assert _refusal(hold) == _refusal(signup)
    form_type = {"content-type": "application/x-www-form-urlencoded"}
    form_hold = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        content=b'{"seat_ids": ["%s"]}' % show.seat_ids[0].encode(),
        headers={**fan.headers, **form_type},
    )
    form_signup = await client.post(
        f"{API}/auth/signup",
        content=b'{"email": "%s", "password": "correct-horse-battery", "name": "Fan"}'
        % unique_email().encode(),
        headers=form_type,
    )
    assert _refusal(form_signup)[:2] == (422, "validation_error")  # FastAPI's own answer
    assert _refusal(form_hold) == _refusal(form_signup)
    json_hold = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        content=b'{"seat_ids": ["%s"]}' % show.seat_ids[0].encode(),
        headers={**fan.headers, "content-type": "application/json; charset=utf-8"},
    )
    assert json_hold.status_code == 201, json_hold.text
