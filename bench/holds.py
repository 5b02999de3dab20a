"""Benchmark: seat holds under heavy contention through two server processes; prints JSON.

    .venv/bin/python bench/holds.py                 # PostgreSQL + Redis, 20 s of load
    .venv/bin/python bench/holds.py --seconds 30 --concurrency 96

Two real `boxoffice serve` processes (uvicorn, one worker each) share a scratch PostgreSQL
database and Redis. This process is the load generator: closed-loop workers, each sending
`POST /shows/{id}/holds` for 1-4 adjacent seats, most of them near the stage (many users
wanting the best seats), each attempt as a different user. It reports attempts/s, p50/p99
latency, the outcome counts, the number of double-held seats counted in the database
(must be 0) and the machine's `pgbench` single-row-update TPS measured in the same run,
so the hold rate can be read as a ratio to what the database itself can do. The load
generator uses a minimal HTTP/1.1 keep-alive client so that it takes little of the CPU
it shares with the servers; its CPU share is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.processes import free_port, running_server  # noqa: E402

from bench.common import POSTGRES, Connection, finish, machine, percentile  # noqa: E402

API = "/api/v1"
REDIS_URL = "redis://127.0.0.1:6379/0"
CONTEXTS = "identity,catalog,waitroom,seating"


# --- a small HTTP/1.1 client: one keep-alive connection per worker --------------------------


# --- set-up ---------------------------------------------------------------------------------


async def scratch_database(name: str) -> str:
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


async def drop_database(name: str) -> None:
    from sqlalchemy import text

    from boxoffice.platform.db import create_engine

    engine = create_engine(POSTGRES, pool_size=1)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


async def open_show_over_http(base: str, settings: Any, args: argparse.Namespace) -> Any:
    """The show on sale, and per user the request's header lines that say who they are: an
    access token, and with ``--queue`` an admission token to the show (as the waiting room
    would have issued it)."""
    from tests.support.catalog import open_show

    from boxoffice.platform.runtime import build_runtime
    from boxoffice.platform.security import TokenUse
    from boxoffice.waitroom import admission

    runtime = build_runtime(settings)
    queue = {"enabled": True, "admit_per_second": 1000, "max_active": 100_000}
    try:
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            show = await open_show(
                client,
                runtime,
                rows=args.rows,
                seats_per_row=args.per_row,
                queue=queue if args.queue else None,
            )
        now, ttl = runtime.clock.now(), timedelta(hours=2)
        credentials = []
        for i in range(args.users):
            user_id = f"bench-user-{i:06d}"
            access = runtime.keys.sign(
                {"sub": user_id, "email": f"b{i}@example.com", "role": "customer"},
                use=TokenUse.ACCESS,
                now=now,
                ttl=ttl,
            )
            lines = f"Authorization: Bearer {access}\r\n"
            if args.queue:
                admitted, _ = admission.issue(
                    runtime, show_id=show.show_id, user_id=user_id, ttl=ttl
                )
                lines += f"X-Admission-Token: {admitted}\r\n"
            credentials.append(lines.encode())
        return show, credentials
    finally:
        await runtime.close()


def wanted_seats(seat_ids: list[str], rng: random.Random, crowd: float) -> list[str]:
    size = rng.randint(1, 4)
    start = min(int(rng.expovariate(1 / crowd)), len(seat_ids) - size)
    return seat_ids[start : start + size]


# --- load -----------------------------------------------------------------------------------


async def hammer(
    urls: list[str], show: Any, credentials: list[bytes], args: argparse.Namespace
) -> dict[str, Any]:
    rng = random.Random(42)
    latencies: dict[int, list[float]] = {}
    errors = 0
    next_user = iter(range(10**9))
    path = f"{API}/shows/{show.show_id}/holds"
    deadline = time.perf_counter() + args.seconds

    async def worker(index: int) -> None:
        nonlocal errors
        url = httpx.URL(urls[index % len(urls)])
        connection = Connection(url.host, url.port or 80)
        who, left = b"", 0
        try:
            while time.perf_counter() < deadline:
                if left == 0:  # the next user, who tries up to --attempts-per-user times
                    who, left = (
                        credentials[next(next_user) % len(credentials)],
                        args.attempts_per_user,
                    )
                left -= 1
                body = json.dumps({"seat_ids": wanted_seats(show.seat_ids, rng, args.crowd)})
                started = time.perf_counter()
                try:
                    status, _ = await connection.post(path, body.encode(), who)
                except (ConnectionError, OSError, asyncio.IncompleteReadError):
                    connection.close()
                    errors += 1
                    continue
                latencies.setdefault(status, []).append(time.perf_counter() - started)
        finally:
            connection.close()

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(args.concurrency)))
    wall = time.perf_counter() - wall
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    every = [sample for samples in latencies.values() for sample in samples]
    return {
        "attempts": len(every),
        "attempts_per_second": round(len(every) / wall, 1),
        "p50_ms": round(percentile(every, 0.50) * 1000, 2),
        "p99_ms": round(percentile(every, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(every) * 1000, 2),
        "outcomes": {str(k): len(v) for k, v in sorted(latencies.items())},
        "by_outcome_p50_p99_ms": {
            str(k): [round(percentile(v, q) * 1000, 2) for q in (0.50, 0.99)]
            for k, v in sorted(latencies.items())
        },
        "transport_errors": errors,
        "load_generator_cpu_share_of_machine": round(cpu / wall / (os.cpu_count() or 1), 3),
        "load_generator_cpu_ms_per_attempt": round(cpu * 1000 / max(1, len(every)), 3),
    }


async def double_held_seats(settings: Any, show_id: str) -> dict[str, int]:
    """Counted in the database: seats in more than one live hold, and live holds' seats
    that the seat rows do not give to them."""
    from sqlalchemy import select

    from boxoffice.platform.clock import SystemClock
    from boxoffice.platform.db import create_engine, session_factory
    from boxoffice.platform.uow import UnitOfWork
    from boxoffice.seating.models import Hold, Seat

    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with UnitOfWork(session_factory(engine), SystemClock()) as uow:
            now = uow.clock.now()
            holds = (
                await uow.session.execute(
                    select(Hold.id, Hold.seat_ids).where(
                        Hold.show_id == show_id, Hold.status == "active", Hold.expires_at > now
                    )
                )
            ).all()
            owner = dict(
                (
                    await uow.session.execute(
                        select(Seat.seat_id, Seat.hold_id).where(
                            Seat.show_id == show_id, Seat.status == "held"
                        )
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    seen: dict[str, int] = {}
    mismatched = 0
    for hold_id, seat_ids in holds:
        for seat in json.loads(seat_ids):
            seen[seat] = seen.get(seat, 0) + 1
            mismatched += owner.get(seat) != hold_id
    return {
        "double_held_seats": sum(1 for n in seen.values() if n > 1) + mismatched,
        "held_seats": len(seen),
        "holds": len(holds),
    }


def servers_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU the server processes have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


# --- pgbench --------------------------------------------------------------------------------


def pgbench(seconds: int) -> dict[str, Any]:
    """The machine's PostgreSQL doing single-row updates (and pgbench's simple-update)."""
    name = f"bo_bench_pgbench_{os.getpid()}"
    asyncio.run(scratch_database(name))
    conn = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
    try:
        subprocess.run(
            ["pgbench", "-i", "-q", "-s", "1", *conn, name],
            check=True,
            capture_output=True,
        )
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
            script.write(
                "\\set aid random(1, 100000 * :scale)\n"
                "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;\n"
            )
        results: dict[str, Any] = {}
        for label, workload in (
            ("one_row_update_tps", ["-f", script.name]),
            ("simple_update_tps", ["-b", "simple-update"]),
        ):
            run = subprocess.run(
                ["pgbench", "-n", "-c", "8", "-j", "2", "-T", str(seconds), *workload, *conn, name],
                check=True,
                capture_output=True,
                text=True,
            )
            found = re.search(r"tps = ([0-9.]+)", run.stdout)
            results[label] = round(float(found.group(1)), 1) if found else None
        os.unlink(script.name)
        results["command"] = (
            f"pgbench -n -c 8 -j 2 -T {seconds} (-f one-row-update.sql | -b simple-update)"
        )
        return results
    finally:
        asyncio.run(drop_database(name))


# --- main -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    from boxoffice import migrations
    from boxoffice.platform.config import Environment, Settings

    db_name = f"bo_bench_holds_{os.getpid()}"
    database_url = asyncio.run(scratch_database(db_name))
    data_dir = Path(tempfile.mkdtemp(prefix="bo-bench-holds-"))
    prefix = f"bo-bench-holds-{os.getpid()}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        environment=Environment.TEST,
        data_dir=data_dir,
        database_url=database_url,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        log_level="WARNING",
        seed_demo=False,
    )
    migrations.upgrade(database_url)
    env = {
        "BOXOFFICE_ENVIRONMENT": "test",
        "BOXOFFICE_DATA_DIR": str(data_dir),
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_DATABASE_POOL_SIZE": str(args.pool_size),
        "BOXOFFICE_REDIS_URL": REDIS_URL,
        "BOXOFFICE_REDIS_PREFIX": prefix,
        "BOXOFFICE_LOG_LEVEL": "WARNING",
        "BOXOFFICE_SEED_DEMO": "false",
        "BOXOFFICE_SERVE_CONTEXTS": CONTEXTS,
    }
    try:
        with ExitStack() as stack:
            urls, pids = [], []
            for index in range(2):
                port = free_port()
                server = stack.enter_context(
                    running_server(
                        ["serve", "--port", str(port)],
                        env,
                        port,
                        log_path=data_dir / f"serve-{index}.log",
                    )
                )
                urls.append(f"http://127.0.0.1:{port}")
                pids.append(server.pid)
            show, credentials = asyncio.run(open_show_over_http(urls[0], settings, args))
            warm = argparse.Namespace(**{**vars(args), "seconds": min(2.0, args.seconds)})
            warm_users = min(5000, len(credentials) // 4)
            # warm-up on the last users
            asyncio.run(hammer(urls, show, credentials[-warm_users:], warm))
            load_before, cpu_before = os.getloadavg()[0], servers_cpu_seconds(pids)
            results = asyncio.run(hammer(urls, show, credentials[:-warm_users], args))
            server_cpu = servers_cpu_seconds(pids) - cpu_before
            results["servers_cpu_ms_per_attempt"] = round(
                server_cpu * 1000 / results["attempts"], 3
            )
            results["machine_load_average_1m"] = {
                "before": round(load_before, 2),
                "after": round(os.getloadavg()[0], 2),
            }
        counted = asyncio.run(double_held_seats(settings, show.show_id))
        database = pgbench(args.pgbench_seconds)
        shutil.rmtree(data_dir, ignore_errors=True)  # kept (with the servers' logs) on failure
    finally:
        asyncio.run(drop_database(db_name))
        from tests.support.backends import clean_redis

        asyncio.run(clean_redis(prefix))
    per_second = results["attempts_per_second"]
    return {
        "benchmark": "seating.holds",
        "machine": machine(),
        "topology": {
            "servers": 2,
            "server_workers_each": 1,
            "database": "postgresql",
            "redis": True,
            "database_pool_size_each": args.pool_size,
            "load_generator": "this process, same machine",
        },
        "scenario": {
            "seats": len(show.seat_ids),
            "seats_per_attempt": "1-4 adjacent",
            "crowding": f"start seat ~ exponential, mean {args.crowd} (best seats first)",
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "attempts_per_user": args.attempts_per_user,
            "queue": args.queue,
            "per_user_limit": 4,
        },
        "results": {**results, **counted},
        "pgbench": database,
        "holds_per_second_over_pgbench_one_row_update_tps": (
            round(per_second / database["one_row_update_tps"], 3)
            if database.get("one_row_update_tps")
            else None
        ),
        "targets": {"attempts_per_second": 1500, "p99_ms": 100, "double_held_seats": 0},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rows", type=int, default=20, help="at most 26")
    parser.add_argument("--per-row", type=int, default=100)
    parser.add_argument("--crowd", type=float, default=300.0, help="mean start seat")
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--users", type=int, default=60_000, help="distinct users (tokens)")
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument(
        "--queue", action="store_true", help="queue on: each attempt sends an admission token"
    )
    parser.add_argument(
        "--attempts-per-user",
        type=int,
        default=1,
        help="consecutive attempts with one user's tokens (1: a new user per attempt)",
    )
    report = run(parser.parse_args())
    results = report["results"]
    finish(
        report,
        {
            "double_held_seats": results["double_held_seats"],
            "server_errors": sum(n for k, n in results["outcomes"].items() if k >= "500"),
            "transport_errors": results["transport_errors"],
        },
    )


if __name__ == "__main__":
    main()
