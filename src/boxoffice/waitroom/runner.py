"""Running the dispatcher: inside ``boxoffice run`` (embedded) or as ``boxoffice dispatcher``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

import structlog
from redis.asyncio import Redis

from boxoffice.platform.lease import LeaseStore, MemoryLeases, RedisLeases
from boxoffice.platform.redisconn import command_client
from boxoffice.platform.runtime import Runtime

if TYPE_CHECKING:
    from boxoffice.waitroom.service import Waitroom

log = structlog.get_logger("boxoffice.waitroom.dispatcher")


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _leases(runtime: Runtime, stack: AsyncExitStack) -> LeaseStore:
    url = runtime.settings.redis_url
    if not url:
        return MemoryLeases()
    client: Redis = command_client(url, max_connections=4)
    stack.push_async_callback(client.aclose)
    return RedisLeases(client, runtime.settings.redis_prefix)


async def start_in_process(runtime: Runtime, waitroom: Waitroom, stack: AsyncExitStack) -> None:
    """The embedded run's dispatcher: a task of the API process, stopped with it."""
    stop = asyncio.Event()
    leases = _leases(runtime, stack)
    task = asyncio.create_task(
        waitroom.dispatcher(runtime).run(leases, holder_name(), stop), name="waitroom-dispatcher"
    )

    async def finish() -> None:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(finish)


async def run_standalone(runtime: Runtime) -> None:
    """``boxoffice dispatcher``: tick while leading, stand by otherwise, until SIGTERM/SIGINT."""
    from boxoffice.waitroom import service

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(runtime.close)
        waitroom = service.room(runtime)
        stack.push_async_callback(waitroom.store.close)
        holder = holder_name()
        log.info("waitroom.dispatcher_started", holder=holder)
        await waitroom.dispatcher(runtime).run(_leases(runtime, stack), holder, stop)
        log.info("waitroom.dispatcher_stopped", holder=holder)
