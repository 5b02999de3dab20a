"""The embedded database runs SQLite on the event loop's thread (platform/sqlite_inline)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from boxoffice.platform.db import create_engine


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}"


async def test_statements_run_on_the_loop_thread_and_round_trip_values(url: str) -> None:
    engine = create_engine(url, pool_size=2)
    seen: list[int] = []
    try:
        async with engine.begin() as conn:
            raw = await conn.get_raw_connection()
            raw.driver_connection._conn.create_function(  # type: ignore[union-attr]
                "whose_thread", 0, lambda: seen.append(threading.get_ident()) or 1
            )
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
            await conn.execute(
                text("INSERT INTO t (name) VALUES (:n)"), [{"n": "a"}, {"n": "b"}, {"n": None}]
            )
            assert (await conn.execute(text("SELECT whose_thread()"))).scalar() == 1
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [(1, "a"), (2, "b"), (3, None)]
        assert seen == [threading.get_ident()]
    finally:
        await engine.dispose()


async def test_errors_are_the_drivers_and_leave_the_connection_usable(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(Exception, match="UNIQUE constraint failed"):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (2)"))
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 2
    finally:
        await engine.dispose()


async def test_a_write_waits_for_another_processs_lock_then_goes_through(
    url: str, tmp_path: Path
) -> None:
    """Another process holding the write lock makes a write wait (the loop with it) until
    the lock is free, not fail at once."""
    engine = create_engine(url, pool_size=2)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        other = sqlite3.connect(
            tmp_path / "inline.db", isolation_level=None, check_same_thread=False
        )
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (1)")
        threading.Timer(0.3, other.commit).start()  # the "other process" lets go
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (2)"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 2
        other.close()
    finally:
        await engine.dispose()


async def test_concurrent_writers_in_one_process_each_commit_once(url: str) -> None:
    engine = create_engine(url, pool_size=5)
    try:
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
    finally:
        await engine.dispose()
