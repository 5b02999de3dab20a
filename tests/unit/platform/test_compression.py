"""gzip negotiation and the per-process memo of compressed answers."""

from __future__ import annotations

import gzip
import zlib

import pytest

from boxoffice.platform.compression import GzipMemo, accepts_gzip


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ("identity", False),
        ("br, deflate", False),
        ("gzip", True),
        ("GZip", True),
        ("gzip, deflate, br", True),
        ("deflate;q=1.0, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0, identity", False),
        ("gzip;q=nonsense", False),
        ("x-gzip", True),
        ("*", True),
        ("*;q=0", False),
        ("gzip;q=0, *", False),  # gzip named and refused: the star does not bring it back
        ("*, gzip;q=0", False),
        ("br, *;q=0.1", True),
    ],
)
def test_accept_encoding_is_read_as_rfc_9110_says(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_a_head_is_compressed_once_and_every_rest_completes_one_valid_stream() -> None:
    memo = GzipMemo()
    head = '{"id":"e1","title":"' + "IU HEREH World Tour " * 40 + '","view_count":'
    first = memo.around("e1", head, "1", ',"tail":true}')
    second = memo.around("e1", head, "2", ',"tail":true}')
    assert gzip.decompress(first).decode() == head + '1,"tail":true}'
    assert gzip.decompress(second).decode() == head + '2,"tail":true}'
    assert len(first) < len(head) // 4
    # the same head: the compressed prefix is the one kept
    assert first[:20] == second[:20]
    changed = head.replace("IU", "BTS")
    assert gzip.decompress(memo.around("e1", changed, "3", "}")).decode() == changed + "3}"
    assert gzip.decompress(memo.around("e1", changed, "4", ",0}")).decode() == changed + "4,0}"


@pytest.mark.parametrize("changing", ["", "7", "가" * 30_000, "x" * 140_000])
@pytest.mark.parametrize("tail", ["", "}", ',"note":"공연 ' + "z" * 5000 + '"}'])
def test_any_cut_makes_a_stream_that_every_gzip_reader_reads(changing: str, tail: str) -> None:
    head = '{"title":"아이유 HEREH 월드 투어","view_count":'
    body = GzipMemo().around("e", head, changing, tail)
    assert gzip.decompress(body).decode() == head + changing + tail
    # as HTTP clients read it (httpx, urllib3): one member through zlib's gzip mode
    reader = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert (reader.decompress(body) + reader.flush()).decode() == head + changing + tail
    assert reader.eof
    assert not reader.unused_data


def test_a_whole_text_is_compressed_again_only_when_it_changed() -> None:
    memo = GzipMemo()
    text = '{"items":[' + ",".join(f'{{"n":{n}}}' for n in range(500)) + "]}"
    kept = memo.whole("page", text)
    assert memo.whole("page", str(text)) is kept  # an equal text, even a new object
    other = text.replace('"n":7}', '"n":8}')
    assert gzip.decompress(memo.whole("page", other)).decode() == other
    assert memo.whole("page", other) is not kept


def test_the_least_recently_used_are_forgotten_past_the_bound() -> None:
    memo = GzipMemo(entries=3)
    for n in range(10):
        memo.whole(f"page-{n}", f"text {n}")
        memo.around(f"event-{n}", f"head {n}", "1", "}")
    assert len(memo) == 6
    first = memo.whole("page-9", "text 9")
    memo.whole("page-10", "text 10")  # page-7 goes, page-9 was just used
    assert memo.whole("page-9", "text 9") is first
