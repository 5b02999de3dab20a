"""Product images: the seller uploads, the content is checked, anyone can fetch them."""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

from boxoffice.merch.service import MAX_IMAGES_PER_PRODUCT
from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.e2e.merch.conftest import Shop
from tests.support.api import API, assert_problem, customer, user_with_role
from tests.support.catalog import image_bytes
from tests.support.merch import create_product


def upload(data: bytes, name: str = "stick.png", content_type: str = "image/png") -> dict:
    return {"file": (name, data, content_type)}


async def test_seller_adds_images_that_anyone_can_see(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    product = await create_product(client, shop.seller, shop.event_id)
    url = f"{API}/products/{product['id']}/images"
    created = await client.post(
        url, files=upload(image_bytes("JPEG"), "x.png"), headers=shop.seller.headers
    )
    assert created.status_code == 201, created.text
    image = created.json()
    assert image["url"].endswith(".jpg")  # the content decides, not the file name
    assert image["thumbnail_url"].endswith(".thumb.webp")

    fetched = await client.get(urlsplit(image["url"]).path)
    assert fetched.status_code == 200
    with Image.open(io.BytesIO(fetched.content)) as served:  # re-encoded from its pixels
        assert (served.format, served.size) == (
            "JPEG",
            Image.open(io.BytesIO(image_bytes("JPEG"))).size,
        )
    thumbnail = await client.get(urlsplit(image["thumbnail_url"]).path)
    assert thumbnail.content[:4] == b"RIFF"

    shown = (await client.get(f"{API}/products/{product['id']}")).json()
    assert shown["images"] == [image]


async def test_image_refusals(client: httpx.AsyncClient, runtime: Runtime, shop: Shop) -> None:
    product = await create_product(client, shop.seller, shop.event_id)
    url = f"{API}/products/{product['id']}/images"
    png = upload(image_bytes("PNG"))
    rival = await user_with_role(client, runtime, Role.SELLER, tag="rival")
    assert_problem(await client.post(url, files=png, headers=rival.headers), 403, "forbidden")
    fan = await customer(client)
    assert_problem(await client.post(url, files=png, headers=fan.headers), 403, "forbidden")
    assert_problem(await client.post(url, files=png), 401, "unauthorized")
    missing = f"{API}/products/nope/images"
    assert_problem(
        await client.post(missing, files=png, headers=shop.seller.headers), 404, "not_found"
    )

    seller = shop.seller.headers
    text = upload(b"not an image at all", "a.png")
    assert_problem(
        await client.post(url, files=text, headers=seller), 415, "unsupported_media_type"
    )
    gif = upload(image_bytes("GIF"), "a.gif", "image/gif")
    assert_problem(await client.post(url, files=gif, headers=seller), 415, "unsupported_media_type")
    truncated = upload(image_bytes("PNG")[:200])
    assert_problem(await client.post(url, files=truncated, headers=seller), 422, "validation_error")
    no_file = await client.post(url, data={"kind": "x"}, headers=seller)
    assert_problem(no_file, 422, "validation_error")

    for _ in range(MAX_IMAGES_PER_PRODUCT):
        assert (await client.post(url, files=png, headers=seller)).status_code == 201
    assert_problem(await client.post(url, files=png, headers=seller), 409, "conflict")
    assert len((await client.get(f"{API}/products/{product['id']}")).json()["images"]) == 10


class TestUploadLimit:
    """With a small upload limit (only these tests)."""

    @pytest.fixture
    def settings(self, make_settings: Callable[..., Settings]) -> Settings:
        return make_settings(max_upload_bytes=20_000)

    async def test_an_image_over_the_upload_limit_is_413(
        self, client: httpx.AsyncClient, runtime: Runtime, shop: Shop
    ) -> None:
        product = await create_product(client, shop.seller, shop.event_id)
        big = upload(image_bytes("PNG", (2000, 2000)) + b"\0" * 30_000)
        response = await client.post(
            f"{API}/products/{product['id']}/images", files=big, headers=shop.seller.headers
        )
        assert_problem(response, 413, "payload_too_large")
