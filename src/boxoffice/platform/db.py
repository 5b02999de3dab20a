"""Async SQLAlchemy for SQLite (default), PostgreSQL (asyncpg) and MySQL/MariaDB (asyncmy).

Each context declares its tables on :data:`Base` with its own name prefix; Alembic
migrations are the only way the schema changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

from sqlalchemy import (
    DateTime,
    ForeignKey,
    MetaData,
    Row,
    String,
    Table,
    and_,
    bindparam,
    event,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, MappedColumn, mapped_column
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from boxoffice.platform.sqlite_inline import SQLITE_BUSY_SECONDS, configure_writers, inline_creator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class RowUpdate:
    """A conditional ``UPDATE`` of one row by its primary key, built once and run with
    parameters: compiled once per dialect, each call only binds values (building a
    statement per call was most of a hot write's Python cost).

    ``await change(conn, key_<column>=..., set_<column>=..., **when_params)``: the row
    after the change (its ``returning`` columns), or None when ``when`` did not hold (no
    row changed). One statement where the database returns updated rows (PostgreSQL,
    SQLite); on MySQL/MariaDB the row is read back after the update, still locked by it.
    """

    def __init__(
        self,
        table: Table,
        *,
        sets: Sequence[str],
        returning: Sequence[ColumnElement[Any]],
        when: ColumnElement[bool] | None = None,
    ) -> None:
        by_key = and_(*(c == bindparam(f"key_{c.name}") for c in table.primary_key.columns))
        statement = (
            update(table).where(by_key).values({name: bindparam(f"set_{name}") for name in sets})
        )
        self._update = statement if when is None else statement.where(when)
        self._returning = self._update.returning(*returning)
        self._read = select(*returning).where(by_key)
        self._keys = [f"key_{c.name}" for c in table.primary_key.columns]

    async def __call__(self, connection: AsyncConnection, **params: Any) -> Row[Any] | None:
        if connection.dialect.update_returning:
            return (await connection.execute(self._returning, params)).first()
        result = await connection.execute(self._update, params)
        if result.rowcount != 1:
            return None
        keys = {name: params[name] for name in self._keys}
        return (await connection.execute(self._read, keys)).first()


def table_of(model: type[Base]) -> Table:
    """A model's table, for Core statements (multi-row inserts, ``UPDATE ... RETURNING``)."""
    return cast(Table, model.__table__)


Record = TypeVar("Record")


def record_of(record: type[Record], row: object, **given: Any) -> Record:
    """A dataclass a contract hands out, or a response model, from a row whose attributes
    carry its fields' names: what a context shows of its table without handing out the ORM
    object. ``given`` are the fields the row does not carry, or carries otherwise; a field
    with a default that the row does not carry keeps its default (one without raises)."""
    required, optional = _fields(cast(type, record))
    copied = {name: getattr(row, name) for name in required if name not in given}
    for name in optional:
        if name not in given and (value := getattr(row, name, _ABSENT)) is not _ABSENT:
            copied[name] = value
    return record(**copied, **given)


_ABSENT = object()


@cache
def _fields(record: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the fields without a default, those with one) of a dataclass or a pydantic model."""
    if dataclasses.is_dataclass(record):
        fields = [f for f in dataclasses.fields(record) if f.init]
        missing = dataclasses.MISSING
        defaulted = {f.name for f in fields if f.default is not missing}
        defaulted |= {f.name for f in fields if f.default_factory is not missing}
        names = [f.name for f in fields]
    else:  # a pydantic model
        names = list(record.model_fields)
        defaulted = {n for n, f in record.model_fields.items() if not f.is_required()}
    return (
        tuple(n for n in names if n not in defaulted),
        tuple(n for n in names if n in defaulted),
    )


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend, with microseconds (MySQL's DATETIME(6))."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def Id() -> String:  # noqa: N802 - reads like a type in column declarations
    """Column type of every id: a UUIDv7 string."""
    return String(36)


# The columns every context declares alike, as ``Annotated`` types SQLAlchemy maps:
# ``id: Mapped[IdKey]``, ``seller_id: Mapped[IdColumn]``, ``paid_at: Mapped[UTCTime | None]``
# (``| None`` makes the column nullable). A ``mapped_column(...)`` beside one adds to it.
IdKey = Annotated[str, mapped_column(Id(), primary_key=True)]
IdColumn = Annotated[str, mapped_column(Id())]
UTCTime = Annotated[datetime, mapped_column(UTCDateTime())]


def owned_by(parent: str) -> MappedColumn[Any]:
    """The id of the row (``parent``: ``"table.id"``) this one belongs to and is deleted
    with: ``OwnedByVenue = Annotated[str, owned_by("catalog_venues.id")]``."""
    return mapped_column(Id(), ForeignKey(parent, ondelete="CASCADE"))


def backend_name(url: str) -> str:
    """``sqlite``, ``postgresql`` or ``mysql`` for a database URL."""
    name = make_url(url).get_backend_name()
    return "mysql" if name == "mariadb" else name


def pool_capacity(engine: AsyncEngine) -> int:
    """How many connections ``engine``'s pool lends at once (:func:`create_engine` opens
    no overflow connections)."""
    pool = engine.pool
    assert isinstance(pool, QueuePool), "create_engine's engines pool their connections"
    return pool.size()


def create_engine(
    url: str, *, pool_size: int = 10, pool_timeout: float = 30.0, echo: bool = False
) -> AsyncEngine:
    """An engine configured for the backend: WAL and immediate transactions on SQLite,
    READ COMMITTED on MySQL/MariaDB (as PostgreSQL's default). On servers, a connection
    the server closed (a restart, a terminated backend) is noticed at checkout without a
    round trip (:func:`_discard_closed`), instead of pinging before every unit of work.
    ``pool_timeout``: seconds a checkout waits for a connection before the pool gives up
    (``TimeoutError``, answered 503)."""
    backend = backend_name(url)
    if backend == "sqlite":
        db_path = make_url(url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=pool_timeout,
            async_creator=inline_creator(url, busy_seconds=SQLITE_BUSY_SECONDS),
            hide_parameters=True,  # errors and logs never carry e-mails, names, token hashes
        )
        configure_writers(engine, db_path or ":memory:")
        return engine
    kwargs: dict[str, Any] = {
        "echo": echo,
        "hide_parameters": True,  # errors and logs never carry e-mails, names, token hashes
        # The same ceiling as a pool of ``pool_size`` with as many overflow connections, but
        # every connection opened stays: an overflow one was closed on its return under load
        # and its successor paid a connect and the preparing of every statement again.
        "pool_size": 2 * pool_size,
        "max_overflow": 0,
        "pool_timeout": pool_timeout,
        "pool_recycle": 1800,
    }
    if backend == "mysql":
        kwargs["isolation_level"] = "READ COMMITTED"
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine.pool, "checkout", _discard_closed)
    return engine


def _driver_closed(dbapi_connection: Any) -> bool:
    """What the driver already knows without asking the server: its socket was closed
    (asyncpg and asyncmy notice the server's close as soon as the event loop reads it)."""
    driver: Any = getattr(dbapi_connection, "_connection", None)
    is_closed = getattr(driver, "is_closed", None)  # asyncpg
    if callable(is_closed):
        return bool(is_closed())
    if hasattr(driver, "_transport"):  # asyncmy
        transport = driver._transport
        return transport is None or transport.is_closing() or bool(driver._stream_broken)
    return False


def _discard_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    # DisconnectionError makes the pool discard this connection and check out another
    # (a fresh one when the server restarted): no request sees the dead connection.
    if _driver_closed(dbapi_connection):
        raise sa_exc.DisconnectionError("the server closed this connection")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


# --- which failures pass -----------------------------------------------------------------
# One place decides whether a database error is a bug (500) or a passing condition: a
# transaction to run again (deadlock, serialization failure, SQLite's lock), or a database
# that is down, restarting or full (a 503 with Retry-After).

_UNREACHABLE_SQLSTATES = ("08", "53", "57")  # connection, insufficient resources, shutdown
_MYSQL_UNREACHABLE = {1040, 1203, 2002, 2003, 2006, 2013}  # too many connections, gone away
_MYSQL_RETRY = {1213, 1205}  # deadlock, lock wait timeout
_UNREACHABLE_SIGNS = (
    "too many clients",
    "too many connections",
    "connection refused",
    "connection reset",
    "connection was closed",
    "could not connect",
)


def _sqlstate(error: BaseException) -> str:
    origin: BaseException | None = getattr(error, "orig", None)
    while origin is not None:
        state = getattr(origin, "sqlstate", None) or getattr(origin, "pgcode", None)
        if isinstance(state, str):
            return state
        origin = origin.__cause__
    return ""


def _mysql_code(error: BaseException) -> object:
    args = getattr(getattr(error, "orig", None), "args", ())
    return args[0] if args else None


def retry_transaction(error: BaseException) -> bool:
    """A deadlock, serialization failure or SQLite lock: the transaction may run again."""
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if _sqlstate(error) in ("40001", "40P01") or _mysql_code(error) in _MYSQL_RETRY:
        return True
    text = str(error).lower()
    return "deadlock" in text or "database is locked" in text


def unreachable(error: BaseException) -> bool:
    """The database cannot be reached or takes no more connections (not a bug in a query)."""
    if isinstance(error, sa_exc.TimeoutError):
        return True  # the pool had no connection to give
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated or _sqlstate(error).startswith(_UNREACHABLE_SQLSTATES):
        return True
    if _mysql_code(error) in _MYSQL_UNREACHABLE:
        return True
    text = str(error).lower()
    return any(sign in text for sign in _UNREACHABLE_SIGNS)


def database_unavailable(error: BaseException) -> bool:
    """True for database failures a client should retry (503), not bugs (500)."""
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return True  # MySQL and SQLite report busy, locks and lost servers this way
    return unreachable(error) or retry_transaction(error) or _sqlstate(error).startswith("40")
