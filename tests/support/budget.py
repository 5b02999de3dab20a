"""Counting what a use case costs: database round trips and statements, Redis commands.

The database side counts on the engine's events: each statement the driver executes,
each transaction begun, committed or rolled back (with asyncpg each is a round trip of
its own; SQLite's ``BEGIN IMMEDIATE`` is a statement we count as the transaction's
begin). The Redis side counts on the client: each command sent alone is a round trip,
a pipeline is one round trip for all its commands (a script call is one command).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from redis.asyncio.client import Pipeline, Redis
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from boxoffice.platform.pressure import KEY_TAG


@dataclass
class Cost:
    statements: int = 0  # data statements: SELECT, INSERT, UPDATE, DELETE
    transactions: int = 0  # BEGINs
    ends: int = 0  # COMMITs and ROLLBACKs
    redis: int = 0  # Redis commands (a script call is one)
    redis_round_trips: int = 0
    redis_commands: Counter[str] = field(default_factory=Counter)
    sql: list[str] = field(default_factory=list)

    @property
    def round_trips(self) -> int:
        return self.statements + self.transactions + self.ends

    def __str__(self) -> str:
        lines = "\n  ".join(self.sql)
        return (
            f"{self.round_trips} round trips ({self.statements} statements, "
            f"{self.transactions} begins, {self.ends} ends), {self.redis} Redis commands in "
            f"{self.redis_round_trips} round trips {dict(self.redis_commands)}:\n  "
            f"{lines}"
        )


@asynccontextmanager
async def counting(engine: AsyncEngine) -> AsyncIterator[Cost]:
    """The cost of what runs inside the block."""
    cost = Cost()
    sync = engine.sync_engine

    def on_statement(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        text = " ".join(statement.split())[:160]
        if text.upper().startswith("BEGIN"):
            cost.transactions += 1  # SQLite's BEGIN IMMEDIATE
        else:
            cost.statements += 1
        cost.sql.append(text)

    def on_begin(conn: Any) -> None:
        if sync.dialect.name != "sqlite":
            cost.transactions += 1
            cost.sql.append("BEGIN")

    def on_end(conn: Any) -> None:
        cost.ends += 1
        cost.sql.append("COMMIT/ROLLBACK")

    listeners = [
        ("before_cursor_execute", on_statement),
        ("begin", on_begin),
        ("commit", on_end),
        ("rollback", on_end),
    ]
    single, batch = Redis.execute_command, Pipeline.execute

    async def one(self: Redis, *args: Any, **options: Any) -> Any:
        if not isinstance(self, Pipeline) and _of_the_step(args):
            cost.redis_round_trips += 1
            cost.redis_commands[str(args[0]).lower()] += 1
        return await single(self, *args, **options)

    async def many(self: Pipeline, *args: Any, **options: Any) -> Any:
        commands = [command for command, _ in self.command_stack if _of_the_step(command)]
        if commands:
            cost.redis_round_trips += 1
            for command in commands:
                cost.redis_commands[str(command[0]).lower()] += 1
        return await batch(self, *args, **options)

    for name, listener in listeners:
        event.listen(sync, name, listener)
    try:
        with ExitStack() as patches:
            patches.enter_context(mock.patch.object(Redis, "execute_command", one))
            patches.enter_context(mock.patch.object(Pipeline, "execute", many))
            yield cost
    finally:
        for name, listener in listeners:
            event.remove(sync, name, listener)
        cost.redis = sum(cost.redis_commands.values())


def _of_the_step(command: Sequence[Any]) -> bool:
    """Not the checkout gauge's counters (platform/pressure.py): they are added once a
    second, by whichever request comes first in the next one: a second's cost, not a step's."""
    return not (len(command) > 1 and KEY_TAG in str(command[1]))
