"""Benchmark: login and token verification, requests/s at concurrency 50, p50/p99; prints JSON.

    .venv/bin/python bench/auth.py                      # embedded (SQLite, memory)
    .venv/bin/python bench/auth.py --postgres --redis   # the machine's PostgreSQL and Redis

A real `boxoffice serve` process (uvicorn, one worker) serves; this process is the load
generator and reports its own CPU share, since both share the machine's cores. Login
is bound by argon2id by design (see docs/decisions.md); verification is an RS256
signature check and a primary-key read (`GET /users/me`). The in-process verify rate
of the key ring alone is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.processes import free_port, stop, wait_healthy  # noqa: E402

from bench.common import drop_postgres_database, errors_in, finish, machine, percentile  # noqa: E402

API = "/api/v1"


async def load(
    client: httpx.AsyncClient, make_request: Any, concurrency: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await make_request(client)
            latencies.append(time.perf_counter() - started)
            if response.status_code >= 400:
                errors += 1

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - wall
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {
        "requests": len(latencies),
        "errors": errors,
        "requests_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
        "load_generator_cpu_share_of_machine": round(cpu / wall / (os.cpu_count() or 1), 3),
    }


def verify_in_process(seconds: float = 2.0) -> dict[str, Any]:
    from boxoffice.platform.security import KeyRing, TokenUse, generate_key_file

    with tempfile.TemporaryDirectory() as tmp:
        generate_key_file(Path(tmp) / "k.pem")
        ring = KeyRing.from_files(Path(tmp) / "k.pem", [], "boxoffice")
    token = ring.sign(
        {"sub": "u", "email": "e@x.co", "role": "customer"},
        use=TokenUse.ACCESS,
        now=datetime.now(UTC),
        ttl=timedelta(minutes=100),
    )
    count, deadline = 0, time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        ring.verify(token, use=TokenUse.ACCESS)
        count += 1
    return {"verifications_per_second_one_core": round(count / (time.perf_counter() - started))}


def run(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="bo-bench-auth-"))
    env = {**os.environ, "BOXOFFICE_DATA_DIR": str(data_dir), "BOXOFFICE_LOG_LEVEL": "WARNING"}
    env["BOXOFFICE_LOGIN_FAILURES_PER_ADDRESS"] = "1000000"
    env["BOXOFFICE_SIGNUP_PER_ADDRESS_PER_HOUR"] = "1000000"
    backend = "sqlite"
    if args.postgres:
        backend = "postgresql"
        env["BOXOFFICE_DATABASE_URL"] = asyncio.run(_scratch_postgres())
    if args.redis:
        env["BOXOFFICE_REDIS_URL"] = "redis://127.0.0.1:6379/0"
        env["BOXOFFICE_REDIS_PREFIX"] = f"bo-bench-{port}"
    python = sys.executable
    subprocess.run(
        [python, "-m", "boxoffice", "migrate"], env=env, check=True, cwd=ROOT, stdout=sys.stderr
    )
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [python, "-m", "boxoffice", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, server, 60, log_path)
        results = asyncio.run(measure(base, args))
    finally:
        stop(server)
        if args.postgres:
            asyncio.run(drop_postgres_database(env["BOXOFFICE_DATABASE_URL"]))
    return {
        "benchmark": "auth",
        "machine": machine(),
        "backend": {"database": backend, "redis": bool(args.redis), "server_workers": 1},
        "concurrency": args.concurrency,
        "seconds_per_scenario": args.seconds,
        "argon2id": {"time_cost": 2, "memory_kib": 19456, "parallelism": 1},
        "results": results,
        "in_process": verify_in_process(),
    }


async def measure(base: str, args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        users = []
        for index in range(args.concurrency):
            email = f"bench-{index}@example.com"
            await client.post(
                f"{API}/auth/signup",
                json={"email": email, "password": "bench-password", "name": "B"},
            )
            users.append(email)
        token = (
            await client.post(
                f"{API}/auth/login", json={"email": users[0], "password": "bench-password"}
            )
        ).json()["access_token"]
        counter = iter(range(10**9))

        async def login(c: httpx.AsyncClient) -> httpx.Response:
            email = users[next(counter) % len(users)]
            return await c.post(
                f"{API}/auth/login", json={"email": email, "password": "bench-password"}
            )

        async def verify(c: httpx.AsyncClient) -> httpx.Response:
            return await c.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"})

        await load(client, verify, args.concurrency, 1.0)  # warm-up
        return {
            "login": await load(client, login, args.concurrency, args.seconds),
            "verify_token_users_me": await load(client, verify, args.concurrency, args.seconds),
        }


async def _scratch_postgres() -> str:
    import asyncpg

    name = f"bo_bench_auth_{os.getpid()}"
    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--postgres", action="store_true", help="use the local PostgreSQL")
    parser.add_argument("--redis", action="store_true", help="use the local Redis")
    report = run(parser.parse_args())
    finish(report, {"failed_requests": errors_in(report["results"])})


if __name__ == "__main__":
    main()
