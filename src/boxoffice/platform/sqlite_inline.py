"""SQLite on the event loop's own thread: the embedded database without a thread hop.

aiosqlite runs each connection on a thread of its own: every statement is a queue put,
a thread wake-up, a hand-over of the GIL and a wake-up of the event loop through its
self-pipe, then the same back. SQLite answers the statements of a purchase in
microseconds, so in the embedded process that traffic, not SQLite, was most of the
database's cost (py-spy: the loop's self-pipe writes alone ~10 % of the samples).

Here the connection object SQLAlchemy's aiosqlite dialect drives is a thin shell whose
coroutines call :mod:`sqlite3` directly and return without suspending. That is safe
because nothing in this process waits on SQLite's lock: writers queue on the engine's
asyncio lock before ``BEGIN IMMEDIATE`` (:func:`boxoffice.platform.db._configure_sqlite`)
and readers read WAL snapshots, which never wait. Another *process* writing the same file
(a CLI command during ``boxoffice run``) can make a statement wait for SQLite's lock; the
loop then waits with it, at most ``busy_seconds``. The dialect, its statement cache,
its errors (aiosqlite re-exports sqlite3's) and the pool are SQLAlchemy's, unchanged.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

from sqlalchemy.engine import make_url


class _Cursor:
    """aiosqlite's cursor interface over a :class:`sqlite3.Cursor`, finishing at once."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Cursor:
        self._cursor.execute(sql, () if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _Cursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _RunNow:
    """What SQLAlchemy hands a call for the connection's thread (its isolation-level
    setter): there is no thread, so the call runs at once and settles the future."""

    __slots__ = ()

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:
            if future is None:
                raise
            future.set_exception(error)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection:
    """aiosqlite's connection interface (as SQLAlchemy's dialect uses it) over a
    :class:`sqlite3.Connection` on the calling thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection  # None once closed
        self._tx = _RunNow()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _Cursor:
        return _Cursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Cursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def inline_creator(
    url: str, *, busy_seconds: float
) -> Callable[[], Coroutine[Any, Any, InlineConnection]]:
    """An ``async_creator`` for ``create_async_engine``: the URL's file (or URI) opened
    as pysqlite would, waiting at most ``busy_seconds`` for another process's lock."""
    parsed = make_url(url)
    args, options = parsed.get_dialect()().create_connect_args(parsed)
    database: str = args[0]
    kwargs: dict[str, Any] = {**options, "timeout": busy_seconds, "check_same_thread": False}

    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(database, **kwargs))

    return connect
