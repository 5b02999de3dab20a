"""Uploaded images: the content decides, never the file name (Pillow).

Shared by every context that takes images (event posters, product photos). Decoding is
CPU work, so callers run :func:`check_and_thumbnail` in a worker thread; a decompression
bomb is refused before its pixels are allocated.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from fastapi import UploadFile
from PIL import Image, UnidentifiedImageError

from boxoffice.platform.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
THUMBNAIL_SIZE = (400, 400)
MAX_PIXELS = 60_000_000  # about 8000 x 7500: beyond any poster, short of a bomb


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
    """The image's real type and size, and a thumbnail; raises ``UnsupportedImage`` (415)
    for anything but a decodable JPEG, PNG or WebP, ``InvalidImage`` (422) for a broken or
    absurdly large one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format or ""
                if kind not in ACCEPTED:
                    raise UnsupportedImage(
                        f"This file is {kind or 'not an image'}; send JPEG, PNG or WebP."
                    )
                width, height = probe.size
                if width * height > max_pixels:
                    raise InvalidImage(
                        f"The image has {width}x{height} pixels; at most {max_pixels}."
                    )
                probe.verify()  # structure and checksums, without decoding every pixel
            with Image.open(io.BytesIO(data)) as image:
                image.draft("RGB", THUMBNAIL_SIZE)  # JPEG: decode at reduced scale
                image.load()
                thumbnail = _thumbnail(image)
    except (UnsupportedImage, InvalidImage):
        raise
    except UnidentifiedImageError as exc:
        raise UnsupportedImage("The file is not a JPEG, PNG or WebP image.") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImage("The image has too many pixels.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage("The image is damaged or truncated.") from exc
    return CheckedImage(data, ACCEPTED[kind], EXTENSIONS[kind], width, height, thumbnail)


def _thumbnail(image: Image.Image) -> bytes:
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    copy = image.convert("RGBA" if has_alpha else "RGB")
    copy.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="WEBP", quality=80, method=4)
    return out.getvalue()
