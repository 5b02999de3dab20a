"""Scheduled jobs as data: each context declares what should run and when; batch runs them.

A job is an async function of the runtime returning how many rows it affected. Contexts
list their jobs on their ``ContextModule``; the scheduler (batch) fires them on their
cron schedules, one instance at a time across processes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from boxoffice.platform.runtime import Runtime

JobFunction = Callable[["Runtime"], Awaitable[int]]


@dataclass(frozen=True)
class JobSpec:
    name: str  # stable id, e.g. "seating.expire_holds"
    schedule: str  # cron expression (5 fields; seconds as a 6th field where supported)
    run: JobFunction
    description: str = ""
