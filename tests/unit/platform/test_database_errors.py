"""Which database failures are the client's to retry (503) and which are bugs (500)."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from boxoffice.platform.errors import database_unavailable


class _Driver(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _wrapped(sqlstate: str) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError("SELECT 1", {}, _Driver(sqlstate))


def test_load_and_outages_are_retryable() -> None:
    assert database_unavailable(_wrapped("53300"))  # too many connections
    assert database_unavailable(_wrapped("08006"))  # connection failure
    assert database_unavailable(_wrapped("57P01"))  # admin shutdown (a restart)
    assert database_unavailable(_wrapped("40P01"))  # deadlock detected
    assert database_unavailable(sa_exc.TimeoutError("QueuePool limit reached"))
    assert database_unavailable(sa_exc.OperationalError("SELECT 1", {}, Exception("locked")))


def test_bugs_are_not_dressed_up_as_outages() -> None:
    assert not database_unavailable(_wrapped("23505"))  # unique violation nobody handled
    assert not database_unavailable(_wrapped("42P01"))  # undefined table
    assert not database_unavailable(sa_exc.IntegrityError("INSERT", {}, Exception("dup")))
    assert not database_unavailable(ValueError("not a database error"))
