"""The storage port's contract, run against the local directory and a real S3 server (moto)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from boxoffice.platform.config import Settings, StorageSettings
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.storage import InvalidKey, LocalStorage, S3Storage, Storage
from tests.support.api import API
from tests.support.catalog import ensure_categories, image_bytes, open_show


@pytest.fixture(params=["local", "s3"])
async def storage(
    request: pytest.FixtureRequest, tmp_path: Path, s3_endpoint: str
) -> AsyncIterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "media", "http://media.test")
        return
    s3 = await S3Storage(
        bucket=f"bo-{uuid.uuid4().hex[:12]}",
        endpoint_url=s3_endpoint,
        region="ap-northeast-2",
        access_key_id="test",
        secret_access_key="test",
    ).start()
    await s3.create_bucket()
    await s3.create_bucket()  # idempotent
    try:
        yield s3
    finally:
        await s3.close()


async def test_put_get_delete_and_url(storage: Storage) -> None:
    key = "events/abc/poster.png"
    assert await storage.get(key) is None
    await storage.put(key, b"first", "image/png")
    await storage.put(key, b"second version", "image/png")  # overwrite
    assert await storage.get(key) == b"second version"
    assert storage.url(key).endswith("/events/abc/poster.png")
    await storage.delete(key)
    assert await storage.get(key) is None
    await storage.delete(key)  # deleting twice is fine


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "a//b", "", "sp ace"])
async def test_keys_cannot_escape(storage: Storage, key: str) -> None:
    with pytest.raises(InvalidKey):
        await storage.put(key, b"x", "text/plain")


async def test_s3_objects_are_served_with_their_type(s3_endpoint: str) -> None:
    s3 = await S3Storage(
        bucket="bo-public",
        endpoint_url=s3_endpoint,
        access_key_id="t",
        secret_access_key="t",
        acl="public-read",
    ).start()
    try:
        await s3.create_bucket()
        await s3.put("a/b.webp", b"RIFF....WEBP", "image/webp")
        async with httpx.AsyncClient() as http:
            response = await http.get(s3.url("a/b.webp"))
        assert response.status_code == 200
        assert response.content == b"RIFF....WEBP"
        assert response.headers["content-type"] == "image/webp"
    finally:
        await s3.close()


@pytest.fixture
def settings(make_settings: Callable[..., Settings], s3_endpoint: str) -> Settings:
    storage = StorageSettings(
        backend="s3",
        s3_endpoint_url=s3_endpoint,
        s3_bucket=f"bo-{uuid.uuid4().hex[:12]}",
        s3_access_key_id="test",
        s3_secret_access_key=SecretStr("test"),
        s3_create_bucket=True,
        s3_acl="public-read",
    )
    return make_settings(storage=storage)


async def test_event_images_go_to_s3_when_configured(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await ensure_categories(runtime)
    assert isinstance(runtime.storage, S3Storage)
    setup = await open_show(client, runtime)
    png = image_bytes("PNG", (500, 500))
    response = await client.post(
        f"{API}/events/{setup.event_id}/images",
        files={"file": ("p.png", png, "image/png")},
        data={"kind": "poster"},
        headers=setup.seller.headers,
    )
    assert response.status_code == 201, response.text
    image = response.json()
    async with httpx.AsyncClient() as http:
        original = await http.get(image["url"])
        thumbnail = await http.get(image["thumbnail_url"])
    assert original.content == png
    assert thumbnail.headers["content-type"] == "image/webp"
    assert (
        await client.get(image["url"].replace(image["url"].split("/events/")[0], "/media"))
    ).status_code == 404
