"""`boxoffice demo` seeds the catalog idempotently; `boxoffice flush-views` moves counted
views from Redis into the database. Both as real processes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from boxoffice.catalog.views import RedisViewCounter
from boxoffice.migrations import upgrade_async
from boxoffice.platform.db import create_engine
from tests.support import backends
from tests.support.processes import ROOT, boxoffice_command
from tests.support.running import run_sync


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        boxoffice_command(*args),
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def _query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in await conn.execute(text(sql))]
    finally:
        await engine.dispose()


@pytest.mark.slow
def test_demo_seeds_the_catalog_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    env = {
        "BOXOFFICE_DATA_DIR": str(tmp_path),
        "BOXOFFICE_DATABASE_URL": url,
        "BOXOFFICE_LOG_JSON": "false",
    }
    run_sync(upgrade_async(url))
    _run(["demo"], env)
    _run(["demo"], env)
    counts = run_sync(
        _query(
            url,
            "SELECT (SELECT count(*) FROM catalog_venues),"
            " (SELECT sum(seat_count) FROM catalog_venues),"
            " (SELECT count(*) FROM catalog_events WHERE status = 'published'),"
            " (SELECT count(*) FROM catalog_shows), (SELECT count(*) FROM catalog_event_images),"
            " (SELECT count(DISTINCT grade) FROM catalog_venue_seats),"
            " (SELECT count(*) FROM seating_seats)",
        )
    )
    # The demo arena's event (two shows, two images) and the shop's three (web/demo.py: two
    # 405-seat theatres and a 40-seat hall, one show and one poster each).
    assert counts == [(4, 2850, 4, 5, 5, 5, 4850)]
    images = list((tmp_path / "media" / "events").rglob("*"))
    assert len([p for p in images if p.is_file()]) == 10  # five images, five thumbnails


@pytest.mark.slow
def test_flush_views_command_writes_counts_from_redis(tmp_path: Path, redis_prefix: str) -> None:
    backends.require_service("redis")
    url = f"sqlite+aiosqlite:///{tmp_path / 'views.db'}"
    run_sync(upgrade_async(url))

    async def prepare() -> None:
        engine = create_engine(url, pool_size=1)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO catalog_venues"
                    " (id, seller_id, name, address, seat_count, created_at)"
                    " VALUES ('v1', 's1', 'Hall', '', 0, '2026-01-01 00:00:00')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO catalog_events"
                    " (id, seller_id, venue_id, category, title, description,"
                    " status, currency, sale_opens_at, sale_closes_at, max_tickets_per_user,"
                    " hold_minutes, queue_enabled, queue_admit_per_second, queue_max_active,"
                    " queue_pre_queue_minutes, cancellation_policy, view_count,"
                    " created_at, updated_at)"
                    " VALUES ('e1', 's1', 'v1', 'concert', 'T', '', 'published', 'KRW',"
                    " '2026-01-01 00:00:00', '2026-02-01 00:00:00', 4, 7, 0, 50, 1000, 0, '{}', 5,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
        await engine.dispose()
        client = Redis.from_url(backends.REDIS_URL, decode_responses=True)
        await RedisViewCounter(client, redis_prefix).add("e1", 37)
        await client.aclose()

    run_sync(prepare())
    env = {
        "BOXOFFICE_DATA_DIR": str(tmp_path),
        "BOXOFFICE_DATABASE_URL": url,
        "BOXOFFICE_REDIS_URL": backends.REDIS_URL,
        "BOXOFFICE_REDIS_PREFIX": redis_prefix,
    }
    try:
        assert "37 views written" in _run(["flush-views"], env)
        assert "0 views written" in _run(["flush-views"], env)
        assert run_sync(_query(url, "SELECT view_count FROM catalog_events")) == [(42,)]
    finally:
        run_sync(backends.clean_redis(redis_prefix))
