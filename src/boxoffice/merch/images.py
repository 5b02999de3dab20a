"""Product image checks with Pillow: the content decides, never the file name.

The same rules as the catalog's event images (JPEG, PNG or WebP; a pixel cap that refuses
decompression bombs before allocating; a WebP thumbnail). The catalog's checker lives in
``boxoffice.catalog.images``, which the context boundary (import-linter) keeps private;
once catalog exposes it through its service (or it moves into ``platform``), this module
should call that instead of repeating it.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from boxoffice.platform.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

ACCEPTED = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
THUMBNAIL_SIZE = (400, 400)
MAX_PIXELS = 60_000_000


class ImageTooLarge(PayloadTooLarge):
    title = "Image too large"


class UnsupportedImage(UnsupportedMediaType):
    title = "Only JPEG, PNG and WebP images are accepted"


class InvalidImage(Unprocessable):
    title = "The image cannot be used"


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    thumbnail: bytes  # WebP, longest side at most THUMBNAIL_SIZE


def check_and_thumbnail(data: bytes, *, max_pixels: int = MAX_PIXELS) -> CheckedImage:
    """The image's real type and size, and a thumbnail (CPU work: run it in a thread).

    Raises ``UnsupportedImage`` (415) for anything but a decodable JPEG, PNG or WebP and
    ``InvalidImage`` (422) for a broken or absurdly large one.
    """
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
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.draft("RGB", THUMBNAIL_SIZE)
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
    content_type, extension = ACCEPTED[kind]
    return CheckedImage(data, content_type, extension, width, height, thumbnail)


def _thumbnail(image: Image.Image) -> bytes:
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    copy = image.convert("RGBA" if has_alpha else "RGB")
    copy.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="WEBP", quality=80, method=4)
    return out.getvalue()
