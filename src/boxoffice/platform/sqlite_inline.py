"""SQLite on the event loop's own thread: the embedded database without a thread hop.

aiosqlite runs each connection on a thread of its own: every statement is a queue put,
a thread wake-up, a hand-over of the GIL and a wake-up of the event loop through its
self-pipe, then the same back. SQLite answers the statements of a purchase in
microseconds, so in the embedded process that traffic, not SQLite, was most of the
database's cost (py-spy: the loop's self-pipe writes alone ~10 % of the samples).

Here the connection object SQLAlchemy's aiosqlite dialect drives is a thin shell whose
coroutines call :mod:`sqlite3` directly and return without suspending. That is safe
because nothing in this process waits on SQLite's lock: writers queue on the file's
asyncio lock before ``BEGIN IMMEDIATE`` (:func:`configure_writers`)
and readers read WAL snapshots, which never wait. Another *process* writing the same file
(a CLI command during ``boxoffice run``) can make a statement wait for SQLite's lock; the
loop then waits with it, at most ``busy_seconds``. The dialect, its statement cache,
its errors (aiosqlite re-exports sqlite3's) and the pool are SQLAlchemy's, unchanged.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import weakref
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only


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


# How long a statement waits for another *process's* write lock on the SQLite file; in this
# process nothing waits on it (writers queue on an asyncio lock, readers read WAL
# snapshots), and the wait holds up the event loop (see the module's doc).
SQLITE_BUSY_SECONDS = 5.0
READ_ONLY = "boxoffice_read_only"  # execution option: a transaction that only reads


# The queue of writers to each SQLite file, per event loop: shared by every engine on the
# file in this process (two apps in one test, the statistics job's beside the app's), for
# an engine's own lock would let another engine's writer sleep in SQLite's busy handler on
# the loop's thread, where the transaction it waits for cannot finish (the busy timeout's
# 503).
_WRITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _writer_queue(database: str) -> asyncio.Lock:
    per_loop = _WRITERS.setdefault(asyncio.get_running_loop(), {})
    lock = per_loop.get(database)
    if lock is None:
        lock = per_loop[database] = asyncio.Lock()
    return lock


def configure_writers(engine: AsyncEngine, database: str) -> None:
    """SQLite has one writer. A transaction that writes takes the write lock at BEGIN
    (``BEGIN IMMEDIATE``), so two of them never both read, then both try to upgrade
    (SQLITE_BUSY that no timeout can cure); and in this process writers queue for it on
    an asyncio lock first (one per file, :func:`_writer_queue`), in order, woken the
    moment it is free, instead of sleeping in SQLite's busy handler (whose naps grow to
    100 ms) while the event loop could run the writer ahead of them. A transaction marked
    read-only begins deferred: with WAL it reads a snapshot and neither waits for writers
    nor holds them up."""
    sync_engine = engine.sync_engine
    # An in-memory database is the connection's own: its engine queues alone.
    key = os.path.realpath(database) if database != ":memory:" else f"memory:{id(engine)}"

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below be the only one
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        writer = _writer_queue(key)
        await_only(writer.acquire())
        conn.connection.info["writer"] = writer
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn.connection.info)
            raise

    def _release(info: dict[str, Any]) -> None:
        writer = info.pop("writer", None)
        if writer is not None:
            writer.release()

    @event.listens_for(sync_engine, "commit")
    @event.listens_for(sync_engine, "rollback")
    def _on_end(conn: Any) -> None:
        try:
            info = conn.connection.info
        except sa_exc.SQLAlchemyError:  # invalidated or closed: the pool's events free it
            return
        _release(info)

    # Whatever ends a connection's use without a commit or rollback frees the lock too.
    @event.listens_for(sync_engine.pool, "checkin")
    @event.listens_for(sync_engine.pool, "invalidate")
    def _on_release(_dbapi_conn: Any, record: Any, *_rest: Any) -> None:
        if record is not None:
            _release(record.info)
