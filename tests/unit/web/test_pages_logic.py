"""The shop's plain logic: which language a request gets, money and dates, the seat plan."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from boxoffice.web import i18n
from boxoffice.web.seatplan import plan


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "ko"),
        (None, "en-US,en;q=0.9,ko;q=0.8", "en"),
        (None, "ko-KR,ko;q=0.9,en;q=0.8", "ko"),
        (None, "fr-FR, en;q=0.5", "en"),
        (None, "ko;q=0.2, en;q=0.7", "en"),
        (None, "en;q=0", "ko"),
        ("en", "ko-KR", "en"),
        ("xx", "en", "en"),
    ],
)
def test_the_language_switch_wins_then_accept_language_then_korean(
    cookie: str | None, header: str | None, expected: str
) -> None:
    assert i18n.negotiate(cookie, header) == expected


def test_won_are_written_the_way_each_language_writes_them() -> None:
    assert i18n.money(165000, "KRW", "ko") == "165,000원"
    assert i18n.money(165000, "KRW", "en") == "₩165,000"


def test_times_are_shown_in_seoul() -> None:
    moment = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)  # 19:00 in Seoul
    assert "오후 7:00" in i18n.when(moment, "ko")
    assert "7:00 PM" in i18n.when(moment, "en")


def test_the_korean_catalog_translates_every_text() -> None:
    catalog = i18n.translations("ko")
    assert catalog.gettext("Buy tickets") == "예매하기"


def _venue(coordinates: bool) -> dict[str, object]:
    def seat(i: int, row: int) -> dict[str, object]:
        xy = {"x": float(i), "y": float(row)} if coordinates else {"x": None, "y": None}
        return {"id": f"s{row}-{i}", "number": str(i + 1), "grade": "R", **xy}

    return {
        "id": "v1",
        "sections": [
            {
                "name": "A",
                "grade": "R",
                "rows": [
                    {"label": "1", "seats": [seat(i, 0) for i in range(4)]},
                    {"label": "2", "seats": [seat(i, 1) for i in range(2)]},
                ],
            },
            {"name": "B", "grade": "R", "rows": [{"label": "1", "seats": [seat(0, 5)]}]},
        ],
    }


def test_a_plan_centres_rows_and_stacks_sections_when_the_venue_has_no_coordinates() -> None:
    drawn = plan(_venue(coordinates=False))
    a, b = drawn["sections"]
    assert drawn["seat_count"] == 7
    first_row_start = a["seats"][0][3]
    assert [s[3] - first_row_start for s in a["seats"][4:]] == [1.0, 2.0]  # centred
    assert b["y"] > a["y"] + a["h"]  # the next section sits behind, with a gap
    assert all(0 <= s[3] <= drawn["width"] and 0 <= s[4] <= drawn["height"] for s in a["seats"])


def test_a_plan_keeps_the_venues_own_coordinates() -> None:
    drawn = plan(_venue(coordinates=True))
    seats = {s[0]: (s[3], s[4]) for section in drawn["sections"] for s in section["seats"]}
    assert seats["s0-3"][0] - seats["s0-0"][0] == 3.0
    assert seats["s5-0"][1] - seats["s0-0"][1] == 5.0


def test_every_text_of_the_templates_has_a_korean_translation() -> None:
    from babel.messages.extract import extract_from_dir

    templates = i18n.CATALOGS.parent / "templates"
    method_map = [("**.html", "jinja2.ext:babel_extract")]
    options = {"**.html": {"extensions": "jinja2.ext.i18n"}}
    found = {
        message[2]
        for message in extract_from_dir(str(templates), method_map, options_map=options)
        if isinstance(message[2], str)
    }
    catalog = i18n.translations("ko")
    untranslated = sorted(text for text in found if catalog.gettext(text) == text)
    assert untranslated == ["API"], untranslated  # "API" reads the same in both
