"""What a process remembers to refuse contended holds cheaply: never more than it verified."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from boxoffice.catalog.contracts import QueueSettings, ShowSaleInfo
from boxoffice.platform.errors import Forbidden
from boxoffice.seating.recent import RecentAdmissions, RecentSaleInfo


class Verifier:
    def __init__(self, expires: float | None = None) -> None:
        self.calls = 0
        self.expires = time.time() + 600 if expires is None else expires

    def __call__(self) -> float:
        self.calls += 1
        return self.expires


def refuse() -> float:
    raise Forbidden("not admitted")


def test_a_verified_admission_is_remembered_for_its_show_and_user_only() -> None:
    admissions, verify = RecentAdmissions(), Verifier()
    admissions.check("token", "show", "fan", verify)
    admissions.check("token", "show", "fan", verify)
    assert verify.calls == 1
    with pytest.raises(Forbidden):
        admissions.check("token", "show", "someone-else", refuse)
    with pytest.raises(Forbidden):
        admissions.check("token", "another-show", "fan", refuse)


def test_refused_and_expired_admissions_are_never_honoured_from_memory() -> None:
    admissions = RecentAdmissions()
    with pytest.raises(Forbidden):
        admissions.check("forged", "show", "fan", refuse)
    with pytest.raises(Forbidden):
        admissions.check("forged", "show", "fan", refuse)
    expiring = Verifier(expires=time.time() - 1)  # verified, but its expiry has passed
    admissions.check("old", "show", "fan", expiring)
    with pytest.raises(Forbidden):
        admissions.check("old", "show", "fan", refuse)


def test_the_admission_memo_stays_bounded() -> None:
    admissions = RecentAdmissions(limit=3)
    for i in range(5):
        admissions.check(f"t{i}", "show", "fan", Verifier())
    verify = Verifier()
    admissions.check("t0", "show", "fan", verify)
    assert verify.calls == 1  # forgotten, so verified again


def _info(show_id: str) -> ShowSaleInfo:
    now = datetime.now(UTC)
    return ShowSaleInfo(
        show_id=show_id,
        event_id="event",
        seller_id="seller",
        title="IU",
        event_status="published",
        show_status="scheduled",
        starts_at=now + timedelta(days=40),
        sale_opens_at=now - timedelta(hours=1),
        sale_closes_at=now + timedelta(days=30),
        max_tickets_per_user=4,
        hold_minutes=7,
        currency="KRW",
        grade_prices={"VIP": 165000},
        queue=QueueSettings(False, 10.0, 100, 0),
    )


async def test_sale_info_is_read_again_once_it_is_older_than_allowed() -> None:
    reads: list[str] = []

    async def read(show_id: str) -> ShowSaleInfo | None:
        reads.append(show_id)
        return None if show_id == "unknown" else _info(show_id)

    recent = RecentSaleInfo(seconds=0.05)
    assert await recent.get("show", read) == await recent.get("show", read)
    assert reads == ["show"]
    await asyncio.sleep(0.06)
    await recent.get("show", read)
    assert reads == ["show", "show"]
    assert await recent.get("unknown", read) is None
    assert await recent.get("unknown", read) is None
    assert reads.count("unknown") == 2  # an unknown show is not remembered
