"""Keyset cursors over a (moment, id) order: the opaque, URL-safe text a list hands out as
its ``next_cursor`` and takes back as ``cursor`` (a listing by first show, a run history
by start). Pure Python: each context turns :class:`BadCursor` into its own error."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime


class BadCursor(ValueError):
    pass


def encode_cursor(moment: datetime, row_id: str) -> str:
    raw = json.dumps([moment.isoformat(), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (aware moment, id) ``cursor`` was made from; raises :class:`BadCursor` for any
    text :func:`encode_cursor` did not write."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment_text, row_id = json.loads(raw)
        moment = datetime.fromisoformat(moment_text)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadCursor("cursor is not one this API issued") from exc
    if moment.tzinfo is None or not isinstance(row_id, str):
        raise BadCursor("cursor is not one this API issued")
    return moment, row_id
