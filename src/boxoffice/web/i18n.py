"""Korean and English: the locale of a request, gettext catalogs, dates and money.

Texts are written in English in the templates and translated by ``i18n/ko/.../messages.po``
(read at start-up, no compile step). The locale comes from the ``bo_lang`` cookie the
language switch sets, else from ``Accept-Language``, else Korean.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from babel.support import NullTranslations, Translations

LOCALES = ("ko", "en")
DEFAULT_LOCALE = "ko"
LANG_COOKIE = "bo_lang"
SEOUL = ZoneInfo("Asia/Seoul")  # shows are in Korea: every time is shown in KST
CATALOGS = Path(__file__).parent / "i18n"


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's choice, else the best of ``Accept-Language`` (q-values honoured)."""
    if cookie in LOCALES:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in LOCALES and quality > 0:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else DEFAULT_LOCALE


@cache
def translations(locale: str) -> NullTranslations:
    """The catalog of ``locale`` (English is the source language: no catalog)."""
    po_path = CATALOGS / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def money(amount: int | None, currency: str, locale: str) -> str:
    """``165,000원`` in Korean, ``₩165,000`` in English (KRW has no minor unit)."""
    if amount is None:
        return ""
    if currency == "KRW":
        return f"{amount:,}원" if locale == "ko" else f"₩{amount:,}"
    return format_currency(amount / 100, currency, locale=Locale.parse(locale))


PATTERNS = {
    "ko": {
        "long": "yyyy년 M월 d일 (E) a h:mm",
        "medium": "yyyy. M. d. a h:mm",
        "date": "yyyy. M. d.",
    },
    "en": {
        "long": "EEE, MMM d, yyyy, h:mm a",
        "medium": "MMM d, yyyy, h:mm a",
        "date": "MMM d, yyyy",
    },
}


def when(moment: datetime | None, locale: str, style: str = "medium") -> str:
    """A date and time in Seoul's time, written the way the locale writes it."""
    if moment is None:
        return ""
    pattern = PATTERNS.get(locale, PATTERNS["en"]).get(style, style)
    return format_datetime(moment, pattern, tzinfo=SEOUL, locale=Locale.parse(locale))


def formatters(locale: str) -> dict[str, Callable[..., str]]:
    return {
        "money": lambda amount, currency="KRW": money(amount, currency, locale),
        "when": lambda moment, style="medium": when(moment, locale, style),
    }
