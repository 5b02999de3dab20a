"""Cron schedules: fire times, coalescing, zones, seconds, overrides and refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from boxoffice.batch.jobs import JOBS
from boxoffice.batch.schedule import InvalidSchedule, Schedule, effective_jobs, unknown_overrides
from boxoffice.platform.jobs import JobSpec
from tests.support.batch import succeed


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_weekly_statistics_fire_on_sunday_at_two() -> None:
    weekly = Schedule.parse("0 2 * * 0")
    assert weekly.next_after(at(2026, 11, 20, 12, 0)) == at(2026, 11, 22, 2, 0)
    assert weekly.next_after(at(2026, 11, 22, 2, 0)) == at(2026, 11, 29, 2, 0)  # strictly after
    assert weekly.latest_at_or_before(at(2026, 11, 22, 2, 0)) == at(2026, 11, 22, 2, 0)
    assert weekly.latest_at_or_before(at(2026, 11, 22, 1, 59, 59)) == at(2026, 11, 15, 2, 0)


def test_missed_ticks_coalesce_into_the_latest() -> None:
    minutely = Schedule.parse("* * * * *")
    assert minutely.latest_at_or_before(at(2026, 1, 1, 9, 41, 30)) == at(2026, 1, 1, 9, 41)


def test_a_sixth_field_counts_seconds() -> None:
    every_5s = Schedule.parse("* * * * * */5")
    assert every_5s.next_after(at(2026, 1, 1, 0, 0, 0)) == at(2026, 1, 1, 0, 0, 5)
    moment = datetime(2026, 1, 1, 0, 0, 4, 500_000, tzinfo=UTC)
    assert every_5s.latest_at_or_before(moment) == at(2026, 1, 1, 0, 0, 0)


def test_schedules_are_read_in_the_configured_zone() -> None:
    seoul = Schedule.parse("0 2 * * 0", "Asia/Seoul")
    assert seoul.next_after(at(2026, 11, 20, 12, 0)) == at(2026, 11, 21, 17, 0)  # 02:00 KST
    berlin = Schedule.parse("0 2 * * *", "Europe/Berlin")
    # 02:00 does not exist the night summer time starts: that night's run is at 03:00 CEST
    assert berlin.next_after(at(2026, 3, 28, 12, 0)) == at(2026, 3, 29, 1, 0)
    assert berlin.next_after(at(2026, 3, 29, 1, 0)) == at(2026, 3, 30, 0, 0)  # 02:00 CEST


@pytest.mark.parametrize(
    "expression", ["", "* * * *", "61 * * * *", "* * * * * * * *", "every minute", "0 2 * * 8"]
)
def test_bad_expressions_are_refused(expression: str) -> None:
    with pytest.raises(InvalidSchedule):
        Schedule.parse(expression)


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(InvalidSchedule, match="zone"):
        Schedule.parse("* * * * *", "Mars/Olympus")


def test_overrides_replace_or_disable_a_jobs_schedule() -> None:
    specs = [*JOBS, JobSpec("test.job", "* * * * *", succeed)]
    jobs = effective_jobs(
        specs, {"batch.purge_outbox": "15 4 * * *", "test.job": "off", "nope.job": "* * * * *"}
    )
    assert jobs["batch.purge_outbox"].expression == "15 4 * * *"
    assert jobs["test.job"].schedule is None
    assert jobs["test.job"].expression == "off"
    assert jobs["batch.refresh_table_statistics"].expression == "0 2 * * 0"
    assert unknown_overrides(specs, {"nope.job": "* * * * *"}) == ["nope.job"]


def test_a_bad_override_or_a_duplicate_name_fails_at_start_up() -> None:
    with pytest.raises(InvalidSchedule, match=r"batch\.purge_outbox"):
        effective_jobs(JOBS, {"batch.purge_outbox": "at dawn"})
    with pytest.raises(InvalidSchedule, match="two jobs"):
        effective_jobs([*JOBS, JOBS[0]], {})
