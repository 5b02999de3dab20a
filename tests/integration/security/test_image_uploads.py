"""Defect 9: image uploads cannot exhaust memory (dimensions checked from the header, decodes
bounded per process) and what is served is re-encoded (no metadata, no appended bytes)."""

from __future__ import annotations

import asyncio
import io
import struct
import threading
import zlib
from collections.abc import Callable

import httpx
import pytest
from PIL import Image

from boxoffice.platform.config import Settings
from boxoffice.platform.media import MAX_PIXELS, DecodeSlots
from boxoffice.platform.runtime import Runtime
from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import open_show


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(public_url="http://testserver")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def declared_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` (its data is a few rows)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )


def flat_png(width: int, height: int) -> bytes:
    """A real, complete, highly compressible PNG: small file, many pixels."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG", optimize=True)
    return out.getvalue()


async def _upload(
    client: httpx.AsyncClient, seller: Caller, event_id: str, data: bytes
) -> httpx.Response:
    return await client.post(
        f"{API}/events/{event_id}/images",
        files={"file": ("poster.png", data, "image/png")},
        data={"kind": "poster"},
        headers=seller.headers,
    )


async def test_pixel_bombs_are_refused_from_their_header(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    setup = await open_show(client, runtime)
    declared = declared_png(40_000, 40_000)  # 1.6 G pixels in 100 bytes
    assert len(declared) < 200
    body = assert_problem(
        await _upload(client, setup.seller, setup.event_id, declared), 422, "validation_error"
    )
    assert body["max_pixels"] == MAX_PIXELS
    bomb = flat_png(6_000, 6_000)  # complete and valid: 36 M pixels in a few KiB
    assert len(bomb) < 100_000
    body = assert_problem(
        await _upload(client, setup.seller, setup.event_id, bomb), 422, "validation_error"
    )
    assert "6000x6000" in body["detail"]
    assert body["max_pixels"] == MAX_PIXELS


async def test_served_image_is_reencoded_without_metadata_or_appended_bytes(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    setup = await open_show(client, runtime)
    exif = Image.Exif()
    exif[0x010E] = "shot at home, 37.5665 N 126.9780 E"  # ImageDescription
    exif[0x0112] = 6  # orientation: rotate 90 degrees to view
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 200)).save(out, format="JPEG", exif=exif.tobytes())
    payload = b"<script>alert(document.cookie)</script>"
    upload = out.getvalue() + payload
    response = await client.post(
        f"{API}/events/{setup.event_id}/images",
        files={"file": ("poster.jpg", upload, "image/jpeg")},
        data={"kind": "poster"},
        headers=setup.seller.headers,
    )
    assert response.status_code == 201, response.text
    image = response.json()
    assert (image["width"], image["height"]) == (200, 300)  # turned upright, as viewers show it
    served = await client.get(image["url"].removeprefix("http://testserver"))
    assert served.status_code == 200
    assert payload not in served.content
    assert b"shot at home" not in served.content
    assert served.content.endswith(b"\xff\xd9")  # nothing after the JPEG's end marker
    with Image.open(io.BytesIO(served.content)) as again:
        assert again.format == "JPEG"
        assert again.size == (200, 300)
        assert not again.getexif()


async def test_decodes_queue_for_a_free_slot() -> None:
    slots = DecodeSlots(1)
    started: list[int] = []
    release = threading.Event()
    first_started = threading.Event()

    def decode(n: int) -> int:
        started.append(n)
        first_started.set()
        release.wait(30)
        return n

    first = asyncio.create_task(slots.run(decode, 1))
    second = asyncio.create_task(slots.run(decode, 2))
    assert await asyncio.to_thread(first_started.wait, 30)
    for _ in range(20):  # give the second every chance to start (it must not)
        await asyncio.sleep(0.01)
    assert started == [1]
    release.set()
    assert await asyncio.gather(first, second) == [1, 2]
    assert started == [1, 2]
