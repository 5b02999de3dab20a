"""Uploaded images: the content decides, never the file name (Pillow).

Shared by every context that takes images (event posters, product photos). A small file
can declare a huge picture (a 227 KiB PNG decoded to ~670 MiB), so: the header's
dimensions are checked before any pixel is decoded (:data:`MAX_PIXELS`, ~80 MB decoded as
RGBA); at most ``image_decode_concurrency`` images are decoded at once per process, in
worker threads (:func:`check_image`); and what is stored and served is the image re-encoded
from its pixels, never the upload's bytes: metadata (EXIF, GPS, comments) and anything
appended after the image data are gone.
"""

from __future__ import annotations

import asyncio
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import UploadFile
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.platform.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from boxoffice.platform.ids import new_id
from boxoffice.platform.openapi import problems
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.storage import Storage

T = TypeVar("T")

ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
THUMBNAIL_SIZE = (400, 400)
MAX_PIXELS = 20_000_000  # about 5000 x 4000: a print-size poster; ~80 MB decoded as RGBA
# What an image upload route may answer besides its own failures.
UPLOAD_PROBLEMS = problems(
    {413: "file over the upload limit", 415: "not a JPEG, PNG or WebP image"}
)


class ImageTooLarge(PayloadTooLarge):
    title = "Image too large"


class UnsupportedImage(UnsupportedMediaType):
    title = "Only JPEG, PNG and WebP images are accepted"


class InvalidImage(Unprocessable):
    title = "The image cannot be used"


async def read_upload(file: UploadFile, limit: int) -> bytes:
    """The uploaded file's bytes, reading at most one past ``limit``; raises ``ImageTooLarge``."""
    data = await file.read(limit + 1)
    refuse_oversized(data, limit)
    return data


def refuse_oversized(data: bytes, limit: int) -> None:
    if len(data) > limit:
        raise ImageTooLarge(f"Images are at most {limit} bytes.", max_bytes=limit)


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    thumbnail: bytes  # WebP, longest side at most THUMBNAIL_SIZE


def check_and_thumbnail(data: bytes, *, max_pixels: int = MAX_PIXELS) -> CheckedImage:
    """The image re-encoded from its pixels, its real type and size, and a thumbnail;
    raises ``UnsupportedImage`` (415) for anything but a decodable JPEG, PNG or WebP,
    ``InvalidImage`` (422) for a broken one or one declaring more than ``max_pixels``
    (checked from the header, before decoding)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            kind = _probe(data, max_pixels)
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)  # EXIF is dropped: apply its turn
                reencoded = _reencode(upright, kind)
                width, height = upright.size
                thumbnail = _thumbnail(upright)
    except (UnsupportedImage, InvalidImage):
        raise
    except UnidentifiedImageError as exc:
        raise UnsupportedImage("The file is not a JPEG, PNG or WebP image.") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImage("The image has too many pixels.", max_pixels=max_pixels) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage("The image is damaged or truncated.") from exc
    return CheckedImage(reencoded, ACCEPTED[kind], EXTENSIONS[kind], width, height, thumbnail)


def _probe(data: bytes, max_pixels: int) -> str:
    """The format, from the header alone: size checked before any pixel is decoded."""
    with Image.open(io.BytesIO(data)) as probe:
        kind = probe.format or ""
        if kind not in ACCEPTED:
            named = kind or "not an image"
            raise UnsupportedImage(f"This file is {named}; send JPEG, PNG or WebP.")
        width, height = probe.size
        if width * height > max_pixels:
            raise InvalidImage(
                f"The image has {width}x{height} pixels; at most {max_pixels}.",
                max_pixels=max_pixels,
            )
        probe.verify()  # structure and checksums, without decoding every pixel
    return kind


def _reencode(image: Image.Image, kind: str) -> bytes:
    """The pixels saved afresh: no EXIF, comments or trailing bytes; the colour profile
    is kept so colours do not shift."""
    options: dict[str, Any] = {}
    if icc := image.info.get("icc_profile"):
        options["icc_profile"] = icc
    if kind == "JPEG":
        image = image if image.mode in ("RGB", "L", "CMYK") else image.convert("RGB")
        options |= {"quality": 90, "optimize": True}
    elif kind == "WEBP":
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
        options |= {"quality": 90, "method": 4}
    elif "transparency" in image.info:
        options["transparency"] = image.info["transparency"]
    out = io.BytesIO()
    image.save(out, format=kind, **options)
    return out.getvalue()


class DecodeSlots:
    """At most ``size`` images decoded at once in this process, each in a worker thread:
    a burst of uploads queues instead of multiplying the memory it takes."""

    def __init__(self, size: int) -> None:
        self._slots = asyncio.Semaphore(size)

    async def run(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async with self._slots:
            return await asyncio.to_thread(work, *args, **kwargs)


async def check_image(
    runtime: Runtime, data: bytes, *, max_pixels: int = MAX_PIXELS
) -> CheckedImage:
    """:func:`check_and_thumbnail` in a worker thread, in one of the process's decode slots."""
    slots = runtime.adapters.ensure(
        DecodeSlots, lambda: DecodeSlots(runtime.settings.image_decode_concurrency)
    )
    return await slots.run(check_and_thumbnail, data, max_pixels=max_pixels)


@dataclass(frozen=True)
class StoredImage:
    """An upload checked and stored, with its WebP thumbnail, under one new id."""

    id: str
    key: str
    thumbnail_key: str
    checked: CheckedImage

    def columns(self) -> dict[str, Any]:
        """What every image table keeps of it (events' and products' alike)."""
        return {
            "key": self.key,
            "thumbnail_key": self.thumbnail_key,
            "content_type": self.checked.content_type,
            "width": self.checked.width,
            "height": self.checked.height,
            "size_bytes": len(self.checked.data),
        }


class StoredImageColumns:
    """The columns of an image table that :meth:`StoredImage.columns` fills (a mixin for
    the table's model, events' and products' alike)."""

    key: Mapped[str] = mapped_column(String(255))
    thumbnail_key: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)


async def store_image(
    runtime: Runtime, storage: Storage, folder: str, data: bytes, *, max_pixels: int
) -> StoredImage:
    """Check ``data`` (:func:`check_image`, raising as it does), then store the image and
    its thumbnail under ``folder`` (``events/<id>``, ``products/<id>``) with a new id."""
    checked = await check_image(runtime, data, max_pixels=max_pixels)
    image_id = new_id()
    key = f"{folder}/{image_id}.{checked.extension}"
    thumbnail_key = f"{folder}/{image_id}.thumb.webp"
    await storage.put(key, checked.data, checked.content_type)
    await storage.put(thumbnail_key, checked.thumbnail, "image/webp")
    return StoredImage(image_id, key, thumbnail_key, checked)


def _thumbnail(image: Image.Image) -> bytes:
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    copy = image.convert("RGBA" if has_alpha else "RGB")
    copy.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="WEBP", quality=80, method=4)
    return out.getvalue()
