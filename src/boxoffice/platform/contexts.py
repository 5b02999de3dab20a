"""How a context plugs into the app: one shape, declared in each context's ``module.py``.

``boxoffice.app`` (the composition root) imports every context's ``MODULE`` and wires them:
routers under ``/api/v1`` (and ``root_routers`` outside it), the fast lane's routes, jobs
for the scheduler, consumers for the worker, ``startup`` for the chosen contexts of a
process, and ``provide`` for every context in every process. ``provide`` is how a higher
context offers a lower one what the lower one's contract asks for (seating makes the seat
inventory that catalog's ``ShowInventory`` port names): the lower context never imports
the higher one, and the arrows between contexts point one way (the import-linter
``layers`` contract in pyproject.toml says the order).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from fastapi import APIRouter

from boxoffice.platform.fastlane import FastRoute
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.messaging import Consumer
from boxoffice.platform.runtime import Runtime

API_PREFIX = "/api/v1"
Startup = Callable[[Runtime, AsyncExitStack], Awaitable[None]]
Provide = Callable[[Runtime], None]


@dataclass(frozen=True)
class ContextModule:
    """A context's routers and what it brings to a process."""

    name: str
    routers: list[APIRouter] = field(default_factory=list)
    root_routers: list[APIRouter] = field(default_factory=list)  # mounted outside /api/v1
    # Hot routes also answered by the fast lane (each has a FastAPI twin in ``routers``).
    fast_routes: list[FastRoute] = field(default_factory=list)
    jobs: list[JobSpec] = field(default_factory=list)  # scheduled by batch
    consumers: list[Consumer] = field(default_factory=list)  # run by the worker / in-process
    # Adapters and loops, when the process serves this context (in the app's lifespan).
    startup: Startup | None = None
    # Ports this context fills for the contexts below it: synchronous, no I/O, every process.
    provide: Provide | None = None
