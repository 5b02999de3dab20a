"""gzip for answers served again and again: negotiated by ``Accept-Encoding``, compressed
once per process and kept.

A sale's public reads (the event page, the listing, the seat map) are the same text for
thousands of fans; compressing each answer anew would cost more CPU than rendering it
(~70 µs for a 2 KB event on this project's 2-core machine, against the ~20 µs a cached hit
takes). :class:`GzipMemo` keeps the compressed form beside the text it was made from and
gives it back while the text is the same. An answer with one changing part (the event's
view count) keeps its unchanging head compressed, with the compressor's state after it,
and compresses only the rest per request (~14 µs): one gzip stream, as any client reads it.
"""

from __future__ import annotations

import gzip
import zlib
from collections import OrderedDict
from typing import TypeVar

LEVEL = 5  # zlib's level: nearly level 9's size for JSON at a third of its time
VARY = (b"vary", b"accept-encoding")
ENCODED = (b"content-encoding", b"gzip")
# A head's window and hash table: 4 KB and 16 KB (32 KB of memory a kept compressor, not
# zlib's 256 KB): answers of a few KB compress as well, and a copy per request is cheap.
_WINDOW_BITS, _MEMORY_LEVEL = 12, 5
_GZIP_CONTAINER = 16  # added to the window bits: a gzip header and trailer, not zlib's
V = TypeVar("V")


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` value lets the answer be gzip (RFC 9110 §12.5.3):
    ``gzip`` or ``*`` listed without ``q=0``; names compared without case."""
    if not accept_encoding:
        return False
    star: bool | None = None
    for item in accept_encoding.split(","):
        coding, _, parameters = item.partition(";")
        name = coding.strip().lower()
        if name not in ("gzip", "x-gzip", "*"):
            continue
        allowed = _weight(parameters) > 0
        if name == "*":
            star = allowed
        else:
            return allowed
    return bool(star)


def _weight(parameters: str) -> float:
    for parameter in parameters.split(";"):
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0  # a malformed weight allows nothing
    return 1.0


def compress(body: bytes) -> bytes:
    """One answer compressed once (for what is not served again)."""
    return gzip.compress(body, compresslevel=LEVEL)


class GzipMemo:
    """Compressed answers kept per process under a key (an event, a listing page), each
    valid while the text it was made from is the same; the least recently used go first."""

    def __init__(self, entries: int = 256) -> None:
        self._entries = entries
        self._whole: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._heads: OrderedDict[str, tuple[str, bytes, zlib._Compress]] = OrderedDict()

    def whole(self, key: str, text: str) -> bytes:
        """``text`` gzipped: compressed on the first call and whenever the text changed."""
        kept = self._whole.get(key)
        if kept is not None and kept[0] == text:
            self._whole.move_to_end(key)
            return kept[1]
        body = compress(text.encode())
        _keep(self._whole, key, (text, body), self._entries)
        return body

    def around(self, key: str, head: str, rest: str) -> bytes:
        """``head + rest`` gzipped, where ``head`` is the same call after call and ``rest``
        changes: the head is compressed once, and each call carries on from a copy of the
        compressor's state after it."""
        kept = self._heads.get(key)
        if kept is not None and kept[0] == head:
            self._heads.move_to_end(key)
            _, prefix, after_head = kept
        else:
            after_head = zlib.compressobj(
                LEVEL, zlib.DEFLATED, _GZIP_CONTAINER + _WINDOW_BITS, _MEMORY_LEVEL
            )
            prefix = after_head.compress(head.encode())
            _keep(self._heads, key, (head, prefix, after_head), self._entries)
        compressor = after_head.copy()
        return prefix + compressor.compress(rest.encode()) + compressor.flush()

    def __len__(self) -> int:
        return len(self._whole) + len(self._heads)


def _keep(entries: OrderedDict[str, V], key: str, value: V, limit: int) -> None:
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > limit:
        entries.popitem(last=False)
