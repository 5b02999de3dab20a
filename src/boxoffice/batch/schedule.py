"""Cron schedules: parsing, validation and the next or latest fire time (croniter).

Five fields (minute hour day month weekday) or six, the sixth being seconds, as
croniter reads them. Times are computed in the configured zone (``batch_timezone``),
so "0 2 * * 0" is Sunday 02:00 local time across daylight-saving changes, and returned
in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from boxoffice.platform.jobs import JobSpec

DISABLED = frozenset({"off", "disabled", "never"})


class InvalidSchedule(ValueError):
    """A cron expression or zone that cannot be used; raised at start-up, never later."""


@dataclass(frozen=True)
class Schedule:
    expression: str
    zone: ZoneInfo

    @classmethod
    def parse(cls, expression: str, zone: str = "UTC") -> Schedule:
        expression = " ".join(expression.split())
        if len(expression.split(" ")) not in (5, 6) or not croniter.is_valid(expression):
            raise InvalidSchedule(
                f"{expression!r} is not a cron expression (5 fields, or 6 with seconds last)"
            )
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidSchedule(f"unknown time zone {zone!r}") from exc
        return cls(expression, tz)

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment``."""
        nxt: datetime = croniter(self.expression, moment.astimezone(self.zone)).get_next(datetime)
        return nxt.astimezone(UTC)

    def latest_at_or_before(self, moment: datetime) -> datetime:
        """The last fire time not after ``moment`` (missed ticks coalesce into this one)."""
        local = moment.astimezone(self.zone)
        found: datetime = croniter(self.expression, local + timedelta(seconds=1)).get_prev(datetime)
        while found > local:
            found = croniter(self.expression, found).get_prev(datetime)
        return found.astimezone(UTC)


@dataclass(frozen=True)
class ScheduledJob:
    """A job as the scheduler runs it: the spec plus its effective schedule (None = off)."""

    spec: JobSpec
    schedule: Schedule | None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def expression(self) -> str:
        return self.schedule.expression if self.schedule is not None else "off"


def effective_jobs(
    specs: list[JobSpec], overrides: dict[str, str], zone: str = "UTC"
) -> dict[str, ScheduledJob]:
    """Each job with its configured schedule; raises ``InvalidSchedule`` for a bad one.

    Duplicate job names are refused: a name is the job's identity in the run history.
    """
    jobs: dict[str, ScheduledJob] = {}
    for spec in specs:
        if spec.name in jobs:
            raise InvalidSchedule(f"two jobs are named {spec.name!r}")
        expression = overrides.get(spec.name, spec.schedule)
        if expression.strip().lower() in DISABLED:
            jobs[spec.name] = ScheduledJob(spec, None)
            continue
        try:
            jobs[spec.name] = ScheduledJob(spec, Schedule.parse(expression, zone))
        except InvalidSchedule as exc:
            raise InvalidSchedule(f"job {spec.name}: {exc}") from exc
    return jobs


def unknown_overrides(specs: list[JobSpec], overrides: dict[str, str]) -> list[str]:
    names = {spec.name for spec in specs}
    return sorted(name for name in overrides if name not in names)
