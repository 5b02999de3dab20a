"""The embedded database runs SQLite on the event loop's thread (platform/sqlite_inline)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from boxoffice.platform.db import create_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}", pool_size=5)
    yield engine
    await engine.dispose()


async def test_statements_run_on_the_loop_thread_and_round_trip_values(engine: AsyncEngine) -> None:
    seen: list[int] = []

    def whose_thread() -> int:
        seen.append(threading.get_ident())
        return 1

    async with engine.begin() as conn:
        raw = await conn.get_raw_connection()
        raw.driver_connection._conn.create_function("whose_thread", 0, whose_thread)  # type: ignore[union-attr]
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
        await conn.execute(
            text("INSERT INTO t (name) VALUES (:n)"), [{"n": "a"}, {"n": "b"}, {"n": None}]
        )
        assert (await conn.execute(text("SELECT whose_thread()"))).scalar() == 1
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
    assert [tuple(r) for r in rows] == [(1, "a"), (2, "b"), (3, None)]
    assert seen == [threading.get_ident()]


async def test_errors_are_the_drivers_and_leave_the_connection_usable(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        await conn.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(Exception, match="UNIQUE constraint failed"):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (2)"))
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 2


async def test_a_write_waits_for_another_processs_lock_then_goes_through(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Another process holding the write lock makes a write wait (the loop with it) until
    the lock is free, not fail at once."""
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    other = sqlite3.connect(tmp_path / "inline.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    threading.Timer(0.3, other.commit).start()  # the "other process" lets go
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (2)"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 2
    other.close()


async def test_concurrent_writers_in_one_process_each_commit_once(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE c (k TEXT PRIMARY KEY, n INTEGER)"))
        await conn.execute(text("INSERT INTO c VALUES ('x', 0)"))

    async def bump() -> None:
        async with engine.begin() as conn:
            n = (await conn.execute(text("SELECT n FROM c WHERE k = 'x'"))).scalar_one()
            await asyncio.sleep(0)  # another writer would interleave here
            await conn.execute(text("UPDATE c SET n = :n WHERE k = 'x'"), {"n": n + 1})

    await asyncio.gather(*(bump() for _ in range(50)))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT n FROM c"))).scalar() == 50


async def test_writers_of_two_engines_on_one_file_queue_together(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Two engines on one file in one process (two apps in a test, an app and a worker):
    a writer of one waits its turn behind the other's open transaction instead of sleeping
    in SQLite's busy handler on the loop's thread, where that transaction cannot finish."""
    other = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}", pool_size=5)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE c (k TEXT PRIMARY KEY, n INTEGER)"))
        await conn.execute(text("INSERT INTO c VALUES ('x', 0)"))

    async def bump(through: AsyncEngine) -> None:
        async with through.begin() as conn:
            n = (await conn.execute(text("SELECT n FROM c WHERE k = 'x'"))).scalar_one()
            await asyncio.sleep(0.01)  # the other engine's writers run meanwhile
            await conn.execute(text("UPDATE c SET n = :n WHERE k = 'x'"), {"n": n + 1})

    try:
        await asyncio.gather(*(bump(e) for _ in range(10) for e in (engine, other)))
    finally:
        await other.dispose()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT n FROM c"))).scalar() == 20
