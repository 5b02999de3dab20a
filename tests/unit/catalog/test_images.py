"""Image checks: content decides the type; too many pixels is refused before decoding."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from boxoffice.platform import media as images
from boxoffice.platform.media import InvalidImage, UnsupportedImage
from tests.support.catalog import image_bytes


def test_png_with_transparency_keeps_it_in_the_thumbnail() -> None:
    source = Image.new("RGBA", (800, 200), (255, 0, 0, 0))
    out = io.BytesIO()
    source.save(out, format="PNG")
    checked = images.check_and_thumbnail(out.getvalue())
    assert (checked.content_type, checked.extension, checked.width, checked.height) == (
        "image/png",
        "png",
        800,
        200,
    )
    with Image.open(io.BytesIO(checked.thumbnail)) as thumb:
        assert thumb.size == (400, 100)
        assert thumb.mode == "RGBA"


def test_too_many_pixels_is_refused() -> None:
    with pytest.raises(InvalidImage):
        images.check_and_thumbnail(image_bytes("PNG", (200, 200)), max_pixels=10_000)


def test_gif_is_unsupported() -> None:
    with pytest.raises(UnsupportedImage):
        images.check_and_thumbnail(image_bytes("GIF", (10, 10)))
