"""Defect 11 (logs): SQL parameters never reach an error text, and e-mail addresses and
tokens are masked in every log line, tracebacks included."""

from __future__ import annotations

import pytest
import structlog
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from boxoffice.platform.observability import configure_logging
from boxoffice.platform.runtime import Runtime

EMAIL = "private.fan@example.com"
JWT = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIwMTkzIn0.c2lnbmF0dXJlLWJ5dGVz"


async def _insert_twice(runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        await uow.session.execute(text("CREATE TEMPORARY TABLE fans (email TEXT UNIQUE)"))
        insert = text("INSERT INTO fans (email) VALUES (:email)")
        await uow.session.execute(insert, {"email": EMAIL})
        await uow.session.execute(insert, {"email": EMAIL})


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_sql_errors_hide_their_parameters_and_logs_mask_personal_data(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(sa_exc.IntegrityError) as raised:
        await _insert_twice(runtime)
    assert "parameters hidden" in str(raised.value)
    assert "[parameters:" not in str(raised.value)

    configure_logging("INFO", json_logs=True)
    log = structlog.get_logger("test")
    try:
        raise raised.value
    except sa_exc.IntegrityError:
        log.exception("unhandled_error", note=f"signed in as {EMAIL} with {JWT}")
    written = capsys.readouterr().err
    assert "unhandled_error" in written
    assert "IntegrityError" in written  # the traceback is there, its personal data is not
    assert EMAIL not in written
    assert JWT not in written
