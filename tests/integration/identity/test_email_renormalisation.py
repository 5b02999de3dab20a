"""The identity_0002 migration stores every e-mail in the one normal form."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from boxoffice.migrations import upgrade_async

_INSERT = sa.text(
    "INSERT INTO identity_users (id, email, name, role, locale, email_verified, created_at,"
    " updated_at) VALUES (:id, :email, 'Fan', 'customer', 'ko', 0, :at, :at)"
)


async def test_stored_addresses_are_renormalised_unless_taken(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade_async(url, "identity_0001")
    engine = create_async_engine(url)
    at = "2026-11-30 10:00:00.000000"
    try:
        async with engine.begin() as conn:
            for user_id, email in [
                ("u1", "ｆａｎ@example.com"),  # stored before: full-width local part
                ("u2", "straße@example.com"),
                ("u3", "strasse@example.com"),  # already what u2 becomes: u2 is kept
                ("u4", "plain@example.com"),
            ]:
                await conn.execute(_INSERT, {"id": user_id, "email": email, "at": at})
        await upgrade_async(url)
        async with engine.connect() as conn:
            rows = dict((await conn.execute(sa.text("SELECT id, email FROM identity_users"))).all())
    finally:
        await engine.dispose()
    assert rows == {
        "u1": "fan@example.com",
        "u2": "straße@example.com",
        "u3": "strasse@example.com",
        "u4": "plain@example.com",
    }
