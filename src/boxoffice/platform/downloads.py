"""A file to save: an answer with ``Content-Disposition: attachment``, never cached (what
boxoffice hands out as a file — exports, a person's data — carries personal data or codes),
streamed when its body comes from an iterator."""

from __future__ import annotations

from collections.abc import AsyncIterable

from starlette.responses import Response, StreamingResponse


def attachment(
    body: bytes | str | AsyncIterable[str | bytes], filename: str, media_type: str
) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    }
    if isinstance(body, bytes | str):
        return Response(body, media_type=media_type, headers=headers)
    return StreamingResponse(body, media_type=media_type, headers=headers)
