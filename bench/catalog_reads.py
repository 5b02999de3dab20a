"""Benchmark: event detail and listing reads, requests/s at concurrency 50, p50/p99,
catalog cache on and off; prints JSON.

    .venv/bin/python bench/catalog_reads.py                      # SQLite, memory cache
    .venv/bin/python bench/catalog_reads.py --postgres --redis   # PostgreSQL, Redis cache
    .venv/bin/python bench/catalog_reads.py --gzip               # + the cached reads in gzip

Real `boxoffice serve` processes (uvicorn, one worker) serve: one with the cache on, one
with ``BOXOFFICE_CACHE_ENABLED=false``, on the same database, measured in alternating
slices so that other work on a shared machine weighs on both alike. This process seeds the
catalog over HTTP as the demo seller (``--events`` published events with two shows
each), then loads the detail (a random event per request; each counts a view) and the
listing (first pages of four queries) routes; with ``--gzip`` the cache-on server is also
loaded with ``Accept-Encoding: gzip`` (the answers' mean size is reported). The load
generator shares the machine's cores with the server; its CPU share is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.processes import free_port, stop, wait_healthy  # noqa: E402

from bench.auth import _scratch_postgres, machine, percentile  # noqa: E402
from bench.common import Connection, errors_in, finish  # noqa: E402

API = "/api/v1"
CATEGORIES = ("concert", "musical", "theatre", "classical")


def _server(
    env: dict[str, str], data_dir: Path, name: str, workers: int
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log_path = data_dir / f"{name}.log"
    command = ["serve", "--port", str(port), "--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "boxoffice", *command],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, process, 60, log_path)
    return process, base


async def seed(base: str, events: int) -> list[str]:
    """A venue and ``events`` published events (two shows each), as the demo seller."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        login = await http.post(
            f"{API}/auth/login",
            json={"email": "seller@boxoffice.local", "password": "seller-pass-1234"},
        )
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        venue = await http.post(
            f"{API}/venues",
            headers=headers,
            json={
                "name": "Bench Hall",
                "sections": [
                    {"name": g, "grade": g, "rows": [{"label": "A", "seats": 20}]}
                    for g in ("VIP", "R", "S")
                ],
            },
        )
        venue.raise_for_status()
        now = datetime.now(UTC)
        ids = []
        for index in range(events):
            body = {
                "title": f"Bench Live {index} — {random.choice(['IU', 'Seoul', 'Jazz', 'Hamlet'])}",
                "description": "A benchmark event with a reasonably long description. " * 5,
                "category": CATEGORIES[index % len(CATEGORIES)],
                "venue_id": venue.json()["id"],
                "grades": [
                    {"code": "VIP", "price": 165000},
                    {"code": "R", "price": 132000},
                    {"code": "S", "price": 99000},
                ],
                "sale_opens_at": (now - timedelta(hours=1)).isoformat(),
                "sale_closes_at": (now + timedelta(days=60)).isoformat(),
            }
            created = await http.post(f"{API}/events", json=body, headers=headers)
            created.raise_for_status()
            event_id = created.json()["id"]
            for day in (10 + index % 50, 11 + index % 50):
                starts_at = (now + timedelta(days=day, minutes=index)).isoformat()
                show = await http.post(
                    f"{API}/events/{event_id}/shows", json={"starts_at": starts_at}, headers=headers
                )
                show.raise_for_status()
            published = await http.post(f"{API}/events/{event_id}/publish", headers=headers)
            published.raise_for_status()
            ids.append(event_id)
        return ids


async def stadium(base: str) -> dict[str, Any]:
    """One request creating a 70,000-seat venue, and one reading its map back."""
    async with httpx.AsyncClient(base_url=base, timeout=300) as http:
        login = await http.post(
            f"{API}/auth/login",
            json={"email": "seller@boxoffice.local", "password": "seller-pass-1234"},
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        body = {
            "name": "Bench Stadium",
            "sections": [
                {
                    "name": f"S{section:02d}",
                    "grade": ("VIP", "R", "S", "A")[section * 4 // 70],
                    "rows": [{"label": f"R{row}", "seats": 50} for row in range(20)],
                }
                for section in range(70)
            ],
        }
        started = time.perf_counter()
        created = await http.post(f"{API}/venues", json=body, headers=headers)
        create_seconds = time.perf_counter() - started
        created.raise_for_status()
        started = time.perf_counter()
        read = await http.get(f"{API}/venues/{created.json()['id']}")
        read_seconds = time.perf_counter() - started
        read.raise_for_status()
        return {
            "seats": read.json()["seat_count"],
            "create_seconds": round(create_seconds, 2),
            "read_seconds": round(read_seconds, 2),
            "map_bytes": len(read.content),
        }


@dataclass
class Slice:
    """What a load slice (or several, added up) saw."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    body_bytes: int = 0
    wall: float = 0.0
    cpu: float = 0.0  # this process's

    def __iadd__(self, other: Slice) -> Slice:
        self.latencies += other.latencies
        self.errors += other.errors
        self.body_bytes += other.body_bytes
        self.wall += other.wall
        self.cpu += other.cpu
        return self


async def _slice(
    base: str, make_path: Any, concurrency: int, seconds: float, headers: bytes = b""
) -> Slice:
    """One load slice on ``concurrency`` keep-alive connections of the lean client, each
    request sending ``headers``."""
    seen = Slice()
    latencies, errors = seen.latencies, seen.errors
    deadline = time.perf_counter() + seconds
    url = httpx.URL(base)

    async def worker() -> None:
        connection = Connection(url.host, url.port or 80)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    status, body = await connection.request("GET", make_path(), headers=headers)
                except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
                    connection.close()  # a dropped connection is a failed request
                    errors[type(exc).__name__] += 1
                    continue
                latencies.append(time.perf_counter() - started)
                seen.body_bytes += len(body)
                if status >= 400:
                    errors[str(status)] += 1
        finally:
            connection.close()

    cpu = time.process_time()
    wall = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seen.wall, seen.cpu = time.perf_counter() - wall, time.process_time() - cpu
    return seen


def _summary(seen: Slice) -> dict[str, Any]:
    latencies = seen.latencies
    return {
        "requests": len(latencies),
        "errors": sum(seen.errors.values()),
        "errors_by_kind": dict(seen.errors),
        "requests_per_second": round(len(latencies) / seen.wall, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
        "bytes_per_answer": round(seen.body_bytes / max(len(latencies), 1)),
        "load_generator_cpu_share_of_machine": round(
            seen.cpu / seen.wall / (os.cpu_count() or 1), 3
        ),
    }


async def measure(
    bases: dict[str, str], event_ids: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Cache off and on measured in alternating slices, so that other work on the shared
    machine weighs on both alike; each total is ``args.seconds`` per route and mode."""
    listings = [
        {"limit": 20},
        {"limit": 50},
        {"category": "concert", "limit": 20},
        {"q": "iu", "limit": 20},
    ]
    rng = random.Random(7)

    def detail() -> str:
        return f"{API}/events/{rng.choice(event_ids)}"

    def listing() -> str:
        return f"{API}/events?{urlencode(rng.choice(listings))}"

    # each mode: a server and the request headers it is loaded with
    modes = {mode: (base, b"") for mode, base in bases.items()}
    if args.gzip:
        modes["cache_on_gzip"] = (bases["cache_on"], b"Accept-Encoding: gzip\r\n")
    results: dict[str, dict[str, Any]] = {mode: {} for mode in modes}
    for base, headers in modes.values():  # warm-up (and fill the caches)
        await _slice(base, detail, args.concurrency, 1.0, headers)
        await _slice(base, listing, args.concurrency, 1.0, headers)
    slice_seconds = args.seconds / args.rounds
    for route, make_path in (("event_detail", detail), ("event_listing", listing)):
        totals = {mode: Slice() for mode in modes}
        for _ in range(args.rounds):
            for mode, (base, headers) in modes.items():
                totals[mode] += await _slice(
                    base, make_path, args.concurrency, slice_seconds, headers
                )
        for mode, total in totals.items():
            results[mode][route] = _summary(total)
    return results


async def _drop_postgres(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    load_at_start = round(os.getloadavg()[0], 2)  # other work on the machine skews results
    data_dir = Path(tempfile.mkdtemp(prefix="bo-bench-catalog-"))
    env = {**os.environ, "BOXOFFICE_DATA_DIR": str(data_dir), "BOXOFFICE_LOG_LEVEL": "WARNING"}
    backend = "sqlite"
    if args.postgres:
        backend = "postgresql"
        env["BOXOFFICE_DATABASE_URL"] = asyncio.run(_scratch_postgres())
        # Both servers (cache off, cache on) run at once and every worker keeps up to
        # 2 × pool size connections: 2 × 4 × 2 × 5 = 80 fits a default PostgreSQL
        # (max_connections 100); the default 10 per worker did not ("too many clients"
        # answered as 503s under the alternating load).
        env["BOXOFFICE_DATABASE_POOL_SIZE"] = str(args.pool_size)
    if args.redis:
        env["BOXOFFICE_REDIS_URL"] = "redis://127.0.0.1:6379/0"
        env["BOXOFFICE_REDIS_PREFIX"] = f"bo-bench-catalog-{os.getpid()}"
    for command in (["migrate"], ["demo"]):
        subprocess.run(
            [sys.executable, "-m", "boxoffice", *command],
            env=env,
            check=True,
            cwd=ROOT,
            stdout=sys.stderr,
        )
    results: dict[str, Any] = {}
    servers: list[subprocess.Popen[bytes]] = []
    bases: dict[str, str] = {}
    try:
        for mode in ("cache_off", "cache_on"):
            enabled = "false" if mode == "cache_off" else "true"
            server, bases[mode] = _server(
                {**env, "BOXOFFICE_CACHE_ENABLED": enabled}, data_dir, mode, args.workers
            )
            servers.append(server)
        started = time.perf_counter()
        event_ids = asyncio.run(seed(bases["cache_off"], args.events))
        results["seed_seconds"] = round(time.perf_counter() - started, 1)
        if args.stadium:
            results["stadium_70000_seats"] = asyncio.run(stadium(bases["cache_off"]))
        results.update(asyncio.run(measure(bases, event_ids, args)))
    finally:
        for server in servers:
            stop(server)
    if args.postgres:
        asyncio.run(_drop_postgres(env["BOXOFFICE_DATABASE_URL"]))
    return {
        "benchmark": "catalog_reads",
        "machine": {**machine(), "load_average_1m_at_start": load_at_start},
        "backend": {
            "database": backend,
            "cache": "redis" if args.redis else "memory LRU",
            "server_workers": args.workers,
            "database_pool_size_per_worker": args.pool_size if args.postgres else None,
        },
        "concurrency": args.concurrency,
        "seconds_per_scenario": args.seconds,
        "alternating_rounds": args.rounds,
        "published_events": len(event_ids),
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=4, help="uvicorn workers per server")
    parser.add_argument("--events", type=int, default=120)
    parser.add_argument("--pool-size", type=int, default=5, help="per worker (PostgreSQL)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating slices per route")
    parser.add_argument("--postgres", action="store_true", help="use the local PostgreSQL")
    parser.add_argument("--redis", action="store_true", help="use the local Redis for the cache")
    parser.add_argument(
        "--gzip", action="store_true", help="also the cached reads asked with Accept-Encoding: gzip"
    )
    parser.add_argument(
        "--no-stadium", dest="stadium", action="store_false", help="skip the 70,000-seat venue"
    )
    report = run(parser.parse_args())
    finish(report, {"failed_requests": errors_in(report["results"])})


if __name__ == "__main__":
    main()
