"""Benchmark: complete seated purchases per second — hold one seat, order it, pay; prints JSON.

    .venv/bin/python bench/purchase.py                       # serve --workers 4, PostgreSQL + Redis
    .venv/bin/python bench/purchase.py --embedded            # `boxoffice run`: SQLite, in memory
    .venv/bin/python bench/purchase.py --seats 500 --concurrency 20

Virtual buyers, ``--concurrency`` at a time (closed loop), each as a different user: hold
one seat (``POST /shows/{id}/holds``), place the order (``POST /orders`` with an
Idempotency-Key, internal provider) and pay it (``POST /orders/{id}/pay``). Every seat is
wanted by two buyers, so half of them lose the seat at the hold (409) and go home. The
show sells without a waiting room (this measures the checkout behind it). Reported:
complete purchases per second over the run, p50/p99 of each step, the servers' CPU per
purchase (the API processes, and PostgreSQL's and Redis's), database statements per
step counted in-process on a few purchases of the same code before the run, and the
invariants read back from the database afterwards (seats sold twice, paid orders without
their tickets, tickets on unsold seats, buyers without an outcome — all must be 0).
The load generator is a minimal HTTP/1.1 client in this process; its CPU share is
reported, since it shares the machine with the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.processes import free_port, stop, wait_healthy  # noqa: E402

from bench.common import POSTGRES, Connection, drop_postgres_database, finish, machine, percentile  # noqa: E402
from bench.invariants import (  # noqa: E402
    PAID_ORDERS_WITHOUT_THEIR_TICKETS,
    SEATS_WITH_TWO_LIVE_TICKETS,
    SOLD_SEATS,
    TICKETS_ON_UNSOLD_SEATS,
)

API = "/api/v1"
REDIS_URL = "redis://127.0.0.1:6379/0"
STEPS = ("hold", "order", "pay")
PROBE_PURCHASES = 5  # purchases whose statements are counted in-process before the run


# --- set-up ---------------------------------------------------------------------------------


async def scratch_postgres(name: str) -> str:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from boxoffice.platform.db import create_engine

    engine = create_engine(POSTGRES, pool_size=1)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)


def settings_for(args: argparse.Namespace, data_dir: Path, database_url: str) -> Any:
    from boxoffice.platform.config import Environment, Settings

    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        environment=Environment.TEST,
        data_dir=data_dir,
        database_url=database_url,
        redis_url=None if args.embedded else REDIS_URL,
        redis_prefix=args.prefix,
        log_level="WARNING",
        seed_demo=False,
    )


async def open_show_and_buyers(
    base: str, settings: Any, args: argparse.Namespace
) -> tuple[Any, list[bytes]]:
    """The show on sale (``--seats`` plus the probe's), and each buyer's header line."""
    from tests.support.catalog import open_show

    from boxoffice.app import wire
    from boxoffice.platform.runtime import build_runtime
    from boxoffice.platform.security import TokenUse

    runtime = wire(build_runtime(settings))
    seats = args.seats + PROBE_PURCHASES
    per_row = 50
    try:
        async with httpx.AsyncClient(base_url=base, timeout=300) as client:
            show = await open_show(
                client,
                runtime,
                rows=(seats + per_row - 1) // per_row,
                seats_per_row=per_row,
                grades=(("R", 132000),),
            )
        now, ttl = runtime.clock.now(), timedelta(hours=2)
        buyers = [
            f"Authorization: Bearer {token}\r\n".encode()
            for token in (
                runtime.keys.sign(
                    {"sub": f"buyer-{i:06d}", "email": f"b{i}@example.com", "role": "customer"},
                    use=TokenUse.ACCESS,
                    now=now,
                    ttl=ttl,
                )
                for i in range(2 * args.seats)
            )
        ]
        return show, buyers
    finally:
        await runtime.close()


# --- statements per step, counted in-process --------------------------------------------------


async def count_statements(settings: Any, show: Any) -> dict[str, float]:
    """Statements per step of a few purchases of the same code, through an in-process app
    on the same database and Redis (the load run's servers cannot be asked)."""
    from asgi_lifespan import LifespanManager
    from sqlalchemy import event

    from boxoffice.app import create_app
    from boxoffice.platform.security import TokenUse

    app = create_app(settings, background=False)
    counts: Counter[str] = Counter()
    step = "setup"

    def count(*_: Any) -> None:
        counts[step] += 1

    async with LifespanManager(app):
        runtime = app.state.runtime
        engine = runtime.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            for seat in show.seat_ids[-PROBE_PURCHASES:]:
                token = runtime.keys.sign(
                    {"sub": str(uuid.uuid4()), "email": "p@example.com"} | {"role": "customer"},
                    use=TokenUse.ACCESS,
                    now=runtime.clock.now(),
                    ttl=timedelta(hours=1),
                )
                auth = {"Authorization": f"Bearer {token}"}
                step = "hold"
                held = await client.post(
                    f"{API}/shows/{show.show_id}/holds", json={"seat_ids": [seat]}, headers=auth
                )
                assert held.status_code == 201, held.text
                step = "order"
                order = await client.post(
                    f"{API}/orders",
                    json={"hold_id": held.json()["hold_id"], "payment_provider": "internal"},
                    headers=auth | {"Idempotency-Key": uuid.uuid4().hex},
                )
                assert order.status_code == 201, order.text
                step = "pay"
                paid = await client.post(f"{API}/orders/{order.json()['id']}/pay", headers=auth)
                assert paid.status_code == 200, paid.text
        event.remove(engine, "before_cursor_execute", count)
    per_step = {name: round(counts[name] / PROBE_PURCHASES, 1) for name in STEPS}
    per_step["purchase"] = round(sum(per_step[name] for name in STEPS), 1)
    return per_step


# --- load -----------------------------------------------------------------------------------


async def buy(
    base: str, show: Any, buyers: list[bytes], args: argparse.Namespace
) -> dict[str, Any]:
    """Every buyer once, ``--concurrency`` at a time; each seat is wanted by two of them."""
    rng = random.Random(7)
    wanted = [show.seat_ids[i // 2] for i in range(len(buyers))]
    order = list(range(len(buyers)))
    rng.shuffle(order)
    queue = iter(order)
    url = httpx.URL(base)
    latencies: dict[str, list[float]] = {name: [] for name in STEPS}
    outcomes: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    totals: list[float] = []  # hold to paid, of each purchase

    async def step(
        connection: Connection, name: str, path: str, body: bytes, headers: bytes
    ) -> tuple[int, bytes]:
        started = time.perf_counter()
        status, payload = await connection.post(path, body, headers)
        latencies[name].append(time.perf_counter() - started)
        statuses[f"{name} {status}"] += 1
        return status, payload

    async def purchase(connection: Connection, index: int) -> str:
        began = time.perf_counter()
        who = buyers[index]
        seat = json.dumps({"seat_ids": [wanted[index]]}).encode()
        status, body = await step(
            connection, "hold", f"{API}/shows/{show.show_id}/holds", seat, who
        )
        if status == 409:
            return "seat_taken"
        if status != 201:
            return f"hold_{status}"
        hold_id = json.loads(body)["hold_id"]
        placing = json.dumps({"hold_id": hold_id, "payment_provider": "internal"}).encode()
        key = f"Idempotency-Key: {uuid.uuid4().hex}\r\n".encode()
        status, body = await step(connection, "order", f"{API}/orders", placing, who + key)
        if status != 201:
            return f"order_{status}"
        order_id = json.loads(body)["id"]
        status, body = await step(connection, "pay", f"{API}/orders/{order_id}/pay", b"", who)
        if status != 200 or json.loads(body)["status"] != "paid":
            return f"pay_{status}"
        totals.append(time.perf_counter() - began)
        return "bought"

    async def worker() -> None:
        connection = Connection(url.host, url.port or 80)
        try:
            for index in queue:
                try:
                    outcomes[await purchase(connection, index)] += 1
                except (ConnectionError, OSError, asyncio.IncompleteReadError):
                    connection.close()
                    outcomes["transport_error"] += 1
        finally:
            connection.close()

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    bought = outcomes["bought"]
    return {
        "buyers": len(buyers),
        "wall_seconds": round(wall, 2),
        "purchases": bought,
        "purchases_per_second": round(bought / wall, 1),
        "steps_ms": {
            name: {
                "p50": round(percentile(samples, 0.5) * 1000, 1),
                "p99": round(percentile(samples, 0.99) * 1000, 1),
            }
            for name, samples in latencies.items()
            if samples
        },
        "purchase_ms": {
            "p50": round(percentile(totals, 0.5) * 1000, 1),
            "p99": round(percentile(totals, 0.99) * 1000, 1),
        }
        if totals
        else None,
        "outcomes": dict(sorted(outcomes.items())),
        "statuses": dict(sorted(statuses.items())),
        "load_generator_cpu_share_of_machine": round(cpu / wall / (os.cpu_count() or 1), 3),
    }


# --- what the servers used, and what the database says ------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def descendants(pid: int) -> list[int]:
    found = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found += descendants(int(child))
    return found


def pids_named(*names: str) -> dict[str, set[int]]:
    """The processes of each of ``names`` (as ``pgrep -x``), in one pass over /proc: a
    sampler reads them every half second during a sale, and spawns no process to do so."""
    found: dict[str, set[int]] = {name: set() for name in names}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name = (entry / "comm").read_text().rstrip("\n")
            except OSError:  # ended meanwhile
                continue
            if name in found:
                found[name].add(int(entry.name))
    return found


def backend_pids() -> set[int]:
    """PostgreSQL's and Redis's processes (the machine's own servers, shared with others)."""
    return set().union(*pids_named("postgres", "redis-server").values())


async def invariants(database_url: str, show_id: str) -> dict[str, int]:
    from sqlalchemy import text

    from boxoffice.platform.db import create_engine

    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:

            async def count(sql: str) -> int:
                return int((await conn.execute(text(sql), {"show": show_id})).scalar() or 0)

            return {
                "seats_sold_twice": await count(SEATS_WITH_TWO_LIVE_TICKETS),
                "paid_orders_without_their_tickets": await count(PAID_ORDERS_WITHOUT_THEIR_TICKETS),
                "tickets_on_unsold_seats": await count(TICKETS_ON_UNSOLD_SEATS),
                "seats_sold": await count(SOLD_SEATS),
            }
    finally:
        await engine.dispose()


@contextmanager
def server(
    args: argparse.Namespace, env: dict[str, str], data_dir: Path
) -> Iterator[tuple[str, int]]:
    port = free_port()
    if args.embedded:
        command = ["run", "--port", str(port), "--no-demo"]
    else:
        command = ["serve", "--port", str(port), "--workers", str(args.workers)]
        command += ["--contexts", "identity,catalog,waitroom,seating,merch,orders,tickets"]
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "boxoffice", *command],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process, 120, log_path)
        yield base, process.pid
    finally:
        stop(process)


def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="bo-bench-purchase-"))
    db_name = f"bo_bench_purchase_{os.getpid()}"
    if args.embedded:
        database_url = f"sqlite+aiosqlite:///{data_dir / 'boxoffice.db'}"
    else:
        database_url = asyncio.run(scratch_postgres(db_name))
    args.prefix = f"bo-bench-purchase-{os.getpid()}"
    settings = settings_for(args, data_dir, database_url)
    env = {
        **os.environ,
        "BOXOFFICE_ENVIRONMENT": "test",
        "BOXOFFICE_DATA_DIR": str(data_dir),
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_REDIS_PREFIX": args.prefix,
        "BOXOFFICE_LOG_LEVEL": "WARNING",
        "BOXOFFICE_SEED_DEMO": "false",
    }
    if not args.embedded:
        env["BOXOFFICE_REDIS_URL"] = REDIS_URL
        env["BOXOFFICE_DATABASE_POOL_SIZE"] = str(args.pool_size)
    from boxoffice import migrations

    migrations.upgrade(database_url)
    try:
        with server(args, env, data_dir) as (base, pid):
            show, buyers = asyncio.run(open_show_and_buyers(base, settings, args))
            statements = asyncio.run(count_statements(settings, show))
            watched = descendants(pid)
            backends = set() if args.embedded else backend_pids()
            load_before = os.getloadavg()[0]
            app_cpu, backend_cpu = cpu_seconds(watched), cpu_seconds(sorted(backends))
            results = asyncio.run(buy(base, show, buyers, args))
            app_cpu = cpu_seconds(watched) - app_cpu
            if not args.embedded:  # connections opened during the run started from zero
                backend_cpu = cpu_seconds(sorted(backends | backend_pids())) - backend_cpu
            load_after = os.getloadavg()[0]
        counted = asyncio.run(invariants(database_url, show.show_id))
        shutil.rmtree(data_dir, ignore_errors=True)  # kept, with the server's log, on failure
    finally:
        if not args.embedded:
            asyncio.run(drop_postgres_database(database_url))
            from tests.support.backends import clean_redis

            asyncio.run(clean_redis(args.prefix))
    bought = max(1, results["purchases"])
    return {
        "benchmark": "purchase",
        "machine": {**machine(), "load_average_1m": {"before": load_before, "after": load_after}},
        "topology": {
            "command": "boxoffice run"
            if args.embedded
            else f"boxoffice serve --workers {args.workers}",
            "database": "sqlite" if args.embedded else "postgresql",
            "redis": not args.embedded,
            "database_pool_size_per_worker": None if args.embedded else args.pool_size,
            "load_generator": "this process, same machine",
        },
        "scenario": {
            "seats": args.seats,
            "buyers_per_seat": 2,
            "concurrency": args.concurrency,
            "provider": "internal",
            "queue": False,
        },
        "results": results,
        "server_cpu_ms_per_purchase": {
            "api": round(app_cpu * 1000 / bought, 2),
            "postgresql_and_redis": None
            if args.embedded
            else round(backend_cpu * 1000 / bought, 2),
        },
        "database_statements_per_step": statements,
        "database": counted,
        "targets": (
            {"purchases_per_second": 100, "p99_ms": 2000}
            if args.embedded
            else {"purchases_per_second": 300, "p99_ms": 500}
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedded", action="store_true", help="`boxoffice run` on SQLite")
    parser.add_argument("--seats", type=int, default=3000, help="each wanted by two buyers")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4, help="uvicorn workers (serve)")
    parser.add_argument("--pool-size", type=int, default=8, help="per worker (serve)")
    args = parser.parse_args()
    report = run(args)
    results, counted = report["results"], report["database"]
    unfinished = {k: v for k, v in results["outcomes"].items() if k not in ("bought", "seat_taken")}
    finish(
        report,
        {
            "seats_sold_twice": counted["seats_sold_twice"],
            "paid_orders_without_their_tickets": counted["paid_orders_without_their_tickets"],
            "tickets_on_unsold_seats": counted["tickets_on_unsold_seats"],
            "buyers_without_an_outcome": results["buyers"] - sum(results["outcomes"].values()),
            "buyers_who_failed": sum(unfinished.values()),
            "seats_unsold": args.seats - results["purchases"],
        },
    )


if __name__ == "__main__":
    main()
