"""Two `boxoffice dispatcher` processes on real Redis (and on a Redis Cluster): one admits,
the other takes over."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from boxoffice.platform.config import Settings
from boxoffice.platform.lease import RedisLeases
from boxoffice.platform.redisconn import command_client
from boxoffice.platform.runtime import Runtime
from boxoffice.waitroom.dispatcher import LEASE_NAME
from boxoffice.waitroom.redis_store import RedisQueueStore
from tests.support.catalog import open_show

PEOPLE = 300


def start_dispatcher(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BOXOFFICE_ENVIRONMENT": "test",
        "BOXOFFICE_DATA_DIR": str(settings.data_dir),
        "BOXOFFICE_DATABASE_URL": settings.database_url,
        "BOXOFFICE_REDIS_URL": str(settings.redis_url),
        "BOXOFFICE_REDIS_PREFIX": settings.redis_prefix,
        "BOXOFFICE_LOG_LEVEL": "WARNING",
        "BOXOFFICE_WAITROOM_TICK_SECONDS": "0.2",
        "BOXOFFICE_WAITROOM_LEASE_SECONDS": "1.5",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "boxoffice", "dispatcher"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def eventually(check, what: str, seconds: float = 30.0):  # type: ignore[no-untyped-def]
    """Poll ``check`` until it returns something truthy (a liveness bound, not a timing claim)."""
    for _ in range(int(seconds / 0.05)):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


@pytest.mark.slow
@pytest.mark.parametrize("use_redis", [True, "cluster"])
async def test_standby_takes_over_when_the_active_dispatcher_is_killed(
    client: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    setup = await open_show(
        client, runtime, queue={"enabled": True, "admit_per_second": 60, "max_active": 10_000}
    )
    show_id = setup.show_id
    url = str(settings.redis_url)  # the machine's Redis, or a three-master cluster
    store = RedisQueueStore(url, settings.redis_prefix, retention_ms=3_600_000)
    redis = command_client(url, max_connections=4)
    leases = RedisLeases(redis, settings.redis_prefix)
    try:
        now = int(runtime.clock.now().timestamp() * 1000)
        await asyncio.gather(
            *(
                store.join(show_id, f"u{i}", entry_id=f"{show_id}.{i}", now_ms=now, pre_queue=False)
                for i in range(PEOPLE)
            )
        )
        processes += [start_dispatcher(settings), start_dispatcher(settings)]
        pids = {f"{os.uname().nodename}:{p.pid}": p for p in processes}

        async def serving() -> int:
            return (await store.state(show_id, 0)).serving

        async def holder() -> str | None:
            return await leases.holder(LEASE_NAME)

        first = await eventually(holder, "a dispatcher takes the lease")
        assert first in pids
        await eventually(serving, "the first dispatcher admits")
        pids[first].kill()  # SIGKILL: no goodbye, the lease must lapse
        pids[first].wait()
        killed_at = await serving()

        async def taken_over() -> str | None:
            holder = await leases.holder(LEASE_NAME)
            return holder if holder not in (None, first) else None

        second = await eventually(taken_over, "the standby takes the lease")
        assert second in pids
        assert pids[second].poll() is None

        async def moved_on() -> bool:
            return await serving() > killed_at

        await eventually(moved_on, "the standby admits")

        async def all_in() -> bool:
            return await serving() == PEOPLE

        await eventually(all_in, "everyone is admitted", seconds=60)
    finally:
        await redis.aclose()

    entries = [await store.get(show_id, f"{show_id}.{i}") for i in range(PEOPLE)]
    await store.close()
    admitted = sorted(
        (entry.number, entry.admitted_until_ms) for entry in entries if entry is not None
    )
    assert [number for number, _ in admitted] == list(range(1, PEOPLE + 1))  # each one once
    moments = [until for _, until in admitted]
    assert None not in moments
    assert moments == sorted(moments)  # admitted in number order, across both dispatchers
