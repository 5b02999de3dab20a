"""Errors: which database failures are retryable (503) or bugs (500), and problem bodies."""

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


def test_extra_members_cannot_overwrite_the_problem_members() -> None:
    import json

    from boxoffice.platform.errors import problem

    response = problem(
        409,
        "seat_unavailable",
        "Seat unavailable",
        "Taken.",
        headers={"Retry-After": "1"},
        status="sold",
        code="x",
        seat_ids=["A-1"],
    )
    body = json.loads(bytes(response.body))
    assert (body["status"], body["code"], body["seat_ids"]) == (409, "seat_unavailable", ["A-1"])
    assert response.headers["Retry-After"] == "1"
