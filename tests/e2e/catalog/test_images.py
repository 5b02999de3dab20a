"""Event images over HTTP: content checked with Pillow, size limit, thumbnail, served back."""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
import pytest
from PIL import Image

from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime
from tests.conftest import BACKENDS
from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import image_bytes, open_show

LIMIT = 300_000


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(max_upload_bytes=LIMIT, public_url="http://testserver")


async def _upload(
    client: httpx.AsyncClient,
    caller: Caller | None,
    event_id: str,
    data: bytes,
    *,
    kind: str = "poster",
    filename: str = "poster.png",
    content_type: str = "image/png",
) -> httpx.Response:
    return await client.post(
        f"{API}/events/{event_id}/images",
        files={"file": (filename, data, content_type)},
        data={"kind": kind},
        headers=caller.headers if caller else {},
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_poster_upload_keeps_original_and_thumbnail(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    setup = await open_show(client, runtime)
    response = await _upload(client, setup.seller, setup.event_id, image_bytes("PNG", (1200, 1600)))
    assert response.status_code == 201, response.text
    image = response.json()
    assert image["content_type"] == "image/png"
    assert (image["width"], image["height"]) == (1200, 1600)
    assert image["url"].startswith("http://testserver/media/events/")

    original = await client.get(image["url"].removeprefix("http://testserver"))
    assert original.status_code == 200
    assert original.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(original.content)) as served:
        assert served.size == (1200, 1600)
    thumb = await client.get(image["thumbnail_url"].removeprefix("http://testserver"))
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(thumb.content)) as small:
        assert small.format == "WEBP"
        assert max(small.size) == 400
        assert small.size == (300, 400)

    detail = (await client.get(f"{API}/events/{setup.event_id}")).json()
    assert detail["poster_url"] == image["url"]
    assert [i["id"] for i in detail["images"]] == [image["id"]]
    listing = (await client.get(f"{API}/events")).json()
    assert listing["items"][0]["thumbnail_url"] == image["thumbnail_url"]


@pytest.mark.parametrize("kind", ["JPEG", "WEBP"])
async def test_jpeg_and_webp_are_accepted(
    client: httpx.AsyncClient, runtime: Runtime, kind: str
) -> None:
    setup = await open_show(client, runtime)
    # The declared name and type lie; the content decides.
    response = await _upload(
        client, setup.seller, setup.event_id, image_bytes(kind), kind="detail", filename="x.gif"
    )
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == f"image/{kind.lower()}"
    assert response.json()["kind"] == "detail"


@pytest.mark.parametrize(
    "data",
    [image_bytes("GIF"), image_bytes("BMP", (60, 60)), b"%PDF-1.7 not an image at all", b""],
    ids=["gif", "bmp", "pdf", "empty"],
)
async def test_other_content_is_415(
    client: httpx.AsyncClient, runtime: Runtime, data: bytes
) -> None:
    setup = await open_show(client, runtime)
    response = await _upload(client, setup.seller, setup.event_id, data, filename="poster.png")
    assert_problem(response, 415, "unsupported_media_type")


async def test_truncated_image_is_422(client: httpx.AsyncClient, runtime: Runtime) -> None:
    setup = await open_show(client, runtime)
    data = image_bytes("PNG", (800, 800))
    response = await _upload(client, setup.seller, setup.event_id, data[: len(data) // 2])
    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_over_the_limit_is_413(client: httpx.AsyncClient, runtime: Runtime) -> None:
    setup = await open_show(client, runtime)
    png = image_bytes("PNG", (400, 400))
    # Just over the limit (the app's check) and far over it (the body limit before parsing).
    for size in (LIMIT + 1, LIMIT * 3):
        big = png + b"\0" * (size - len(png))  # trailing bytes: still a decodable PNG
        response = await _upload(client, setup.seller, setup.event_id, big)
        assert_problem(response, 413, "payload_too_large")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_only_the_owner_uploads_and_kind_is_checked(
    client: httpx.AsyncClient, runtime: Runtime, other_seller: Caller, fan: Caller
) -> None:
    setup = await open_show(client, runtime)
    data = image_bytes()
    assert_problem(await _upload(client, None, setup.event_id, data), 401, "unauthorized")
    assert_problem(await _upload(client, fan, setup.event_id, data), 403, "forbidden")
    assert_problem(await _upload(client, other_seller, setup.event_id, data), 403, "forbidden")
    assert_problem(
        await _upload(client, setup.seller, setup.event_id, data, kind="banner"),
        422,
        "validation_error",
    )
    no_file = await client.post(
        f"{API}/events/{setup.event_id}/images",
        data={"kind": "poster"},
        headers=setup.seller.headers,
    )
    assert_problem(no_file, 422, "validation_error")


async def test_media_route_refuses_escapes_and_unknown_files(client: httpx.AsyncClient) -> None:
    for path in ("/media/../boxoffice.db", "/media/events/none.png", "/media/%2e%2e/keys/x"):
        response = await client.get(path)
        assert response.status_code == 404, (path, response.status_code)
