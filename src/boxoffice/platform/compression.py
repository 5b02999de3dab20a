"""gzip for answers served again and again: negotiated by ``Accept-Encoding``, compressed
once per process and kept.

A sale's public reads (the event page, the listing, the seat map) are the same text for
thousands of fans; compressing each answer anew would cost ~70 µs for a 2 KB event on this
project's 2-core machine, ~200 µs for a 38 KB listing, every time, for the same bytes.
:class:`GzipMemo` keeps the compressed form beside the text it was made from and gives it
back while the text is the same. An answer with one changing part (the event's view count)
keeps what comes before and after it compressed, and puts the count between them
uncompressed per request, with the trailer's CRC carried on (~1.5 µs a read, where carrying
on from a copy of zlib's state after the head cost ~14 µs): one gzip stream, as any client
reads it. That framing (RFC 1951's stored block, RFC 1952's trailer) is written here, being
a dozen lines that zlib does not offer.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections import OrderedDict
from typing import NamedTuple, TypeVar

LEVEL = 6  # zlib's default: a 38 KB listing in 2.8 KB (level 9: 2.7 KB, in 1.6× the time)
VARY = (b"vary", b"accept-encoding")
ENCODED = (b"content-encoding", b"gzip")
# A gzip member's header (RFC 1952): deflate, no name, no time, no OS said.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_TRAILER = struct.Struct("<II")  # CRC-32 and length (mod 2**32) of what was compressed
_STORED_MAX = 0xFFFF
V = TypeVar("V")


class _Cut(NamedTuple):
    """What ``around`` keeps of an answer cut around its changing part."""

    head: str
    tail: str
    prefix: bytes  # the gzip header and the head's deflate blocks
    suffix: bytes  # the tail's deflate blocks, the last one final
    crc: int  # CRC-32 of the head
    size: int  # the head's length in bytes
    ending: bytes  # the tail's bytes (its CRC-32 is carried on after the changing part)


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
        self._heads: OrderedDict[str, _Cut] = OrderedDict()

    def whole(self, key: str, text: str) -> bytes:
        """``text`` gzipped: compressed on the first call and whenever the text changed."""
        kept = self._whole.get(key)
        if kept is not None and kept[0] == text:
            self._whole.move_to_end(key)
            return kept[1]
        body = compress(text.encode())
        _keep(self._whole, key, (text, body), self._entries)
        return body

    def around(self, key: str, head: str, changing: str, tail: str) -> bytes:
        """``head + changing + tail`` gzipped, where ``head`` and ``tail`` are the same call
        after call and ``changing`` (a count) is short: the head and the tail are compressed
        once, each into deflate blocks of its own, the head's ending on a byte (a sync
        flush); each call puts ``changing`` between them as a stored block and adds the
        trailer (CRC-32 carried on through the three, and the length): one gzip stream."""
        kept = self._heads.get(key)
        if kept is not None and kept.head == head and kept.tail == tail:
            self._heads.move_to_end(key)
        else:
            fixed = head.encode()
            prefix = _raw_deflate(fixed, zlib.Z_SYNC_FLUSH)
            ending = tail.encode()
            kept = _Cut(
                head,
                tail,
                prefix=_GZIP_HEADER + prefix,
                suffix=_raw_deflate(ending, zlib.Z_FINISH),
                crc=zlib.crc32(fixed),
                size=len(fixed),
                ending=ending,
            )
            _keep(self._heads, key, kept, self._entries)
        middle = changing.encode()
        crc = zlib.crc32(kept.ending, zlib.crc32(middle, kept.crc))
        size = kept.size + len(middle) + len(kept.ending)
        trailer = _TRAILER.pack(crc, size & 0xFFFFFFFF)
        return b"".join((kept.prefix, *_stored_blocks(middle), kept.suffix, trailer))

    def __len__(self) -> int:
        return len(self._whole) + len(self._heads)


def _raw_deflate(data: bytes, flush: int) -> bytes:
    """``data`` as deflate blocks without a container: ``Z_SYNC_FLUSH`` leaves them open
    and ending on a byte, ``Z_FINISH`` ends the stream with them."""
    deflate = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return deflate.compress(data) + deflate.flush(flush)


def _stored_blocks(data: bytes) -> list[bytes]:
    """``data`` as deflate's stored (uncompressed) blocks, none final (RFC 1951 §3.2.4);
    they follow blocks that ended on a byte, and end on one."""
    blocks: list[bytes] = []
    for start in range(0, len(data), _STORED_MAX):
        chunk = data[start : start + _STORED_MAX]
        blocks += (b"\x00", struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF), chunk)
    return blocks


def _keep(entries: OrderedDict[str, V], key: str, value: V, limit: int) -> None:
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > limit:
        entries.popitem(last=False)
