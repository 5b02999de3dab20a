"""Benchmark: the waiting room on one API process with Redis; prints JSON.

    .venv/bin/python bench/waitroom.py                       # 20,000 joins, 10,000 streams
    .venv/bin/python bench/waitroom.py --joins 2000 --streams 500 --seconds 3   # quick look

A real `boxoffice serve` process (uvicorn, one worker, contexts identity, catalog and
waitroom) and a real `boxoffice dispatcher` run on the machine's Redis; this process is
the load generator (a minimal HTTP/1.1 keep-alive client on asyncio, so that it spends
as little CPU as possible) and reports its own CPU share next to the server's, since
they share the machine's cores. Measured:

- joins/s: distinct users joining one show (POST /shows/{id}/queue), access tokens minted
  with the server's key (sign-up and login are measured by bench/auth.py);
- polling reads/s: GET /queue/{entry_id} by those users;
- SSE: how many concurrent streams the process holds while every stream receives each
  tick's `position` event within 1 s of the dispatcher publishing it, and the server's
  resident memory per stream.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.processes import free_port, stop, wait_healthy  # noqa: E402

from bench.auth import machine, percentile  # noqa: E402
from bench.common import finish, statuses_outside  # noqa: E402

API = "/api/v1"
REDIS_URL = os.environ.get("BOXOFFICE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


class Connection:
    """One keep-alive HTTP/1.1 connection; requests one at a time (no pipelining)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, method: str, path: str, token: str) -> tuple[int, bytes]:
        self.writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
            "Content-Length: 0\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    def close(self) -> None:
        self.writer.close()


def cpu_seconds_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def hammer(
    port: int, server_pid: int, work: list[tuple[str, str, str]], concurrency: int
) -> dict[str, Any]:
    """Run ``work`` (method, path, token) over ``concurrency`` connections; rates and CPU."""
    connections = [await Connection.open(port) for _ in range(concurrency)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(work)

    async def worker(conn: Connection) -> None:
        for method, path, token in queue:
            started = time.perf_counter()
            try:
                status, _ = await conn.request(method, path, token)
            except (ConnectionError, asyncio.IncompleteReadError):
                status = 0  # the server dropped the connection: counted, then reconnect
                conn.close()
                conn = await Connection.open(port)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    cpu, server_cpu, wall = own_cpu(), cpu_seconds_of(server_pid), time.perf_counter()
    await asyncio.gather(*(worker(conn) for conn in connections))
    wall = time.perf_counter() - wall
    cpu, server_cpu = own_cpu() - cpu, cpu_seconds_of(server_pid) - server_cpu
    for conn in connections:
        conn.close()
    cores = os.cpu_count() or 1
    return {
        "requests": len(latencies),
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "server_cpu_share_of_one_core": round(server_cpu / wall, 3),
        # What one fully busy core would serve: fair when other work shares the machine.
        "per_server_cpu_second": round(len(latencies) / server_cpu, 1) if server_cpu else None,
        "load_generator_cpu_share_of_machine": round(cpu / wall / cores, 3),
    }


class StreamClient(asyncio.Protocol):
    """One SSE connection: notes when each `position` event arrives (parsed minimally)."""

    def __init__(self, received: list[tuple[int, float]], index: int) -> None:
        self.received = received
        self.index = index
        self.buffer = b""
        self.started = asyncio.get_running_loop().create_future()
        self.closed = False

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if not self.started.done():
            if b"200 OK" in data[:40]:
                self.started.set_result(True)
            else:
                self.started.set_exception(RuntimeError(data[:200].decode(errors="replace")))
                return
        self.buffer += data
        while b"\n\n" in self.buffer:
            event, self.buffer = self.buffer.split(b"\n\n", 1)
            marker = event.find(b"id: p")
            if marker >= 0:
                end = event.find(b"\n", marker)
                position = event[marker + 5 : end if end >= 0 else None]
                if position.isdigit():
                    self.received.append((int(position), now))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True


async def streams(
    port: int,
    server_pid: int,
    entries: list[tuple[str, str, int]],
    count: int,
    seconds: float,
    ticks: asyncio.Queue[tuple[int, float]],
    start_dispatching: Callable[[], None],
) -> dict[str, Any]:
    """Open ``count`` streams, then start the dispatcher and follow its ticks for ``seconds``."""
    loop = asyncio.get_running_loop()
    rss_before = rss_bytes(server_pid)
    logs: list[list[tuple[int, float]]] = [[] for _ in range(count)]
    clients: list[tuple[asyncio.Transport, StreamClient, int]] = []
    opened = time.perf_counter()
    for start in range(0, count, 500):
        batch = []
        for index in range(start, min(count, start + 500)):
            entry_id, token, number = entries[index]
            transport, client = await loop.create_connection(
                lambda index=index: StreamClient(logs[index], index), "127.0.0.1", port
            )
            transport.write(
                f"GET {API}/queue/{entry_id}/stream HTTP/1.1\r\nHost: bench\r\n"
                f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            clients.append((transport, client, number))
            batch.append(client.started)
        await asyncio.gather(*batch)
    open_seconds = time.perf_counter() - opened
    await asyncio.sleep(1.0)
    rss_streaming = rss_bytes(server_pid)
    start_dispatching()
    await asyncio.sleep(2.0)  # the dispatcher takes the lease and ticks
    for log in logs:
        log.clear()
    while not ticks.empty():
        ticks.get_nowait()
    cpu, server_cpu, wall = own_cpu(), cpu_seconds_of(server_pid), time.perf_counter()
    tick_log: dict[int, float] = {}  # serving number -> when the bench saw it published
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        try:
            serving, at = await asyncio.wait_for(ticks.get(), deadline - time.perf_counter())
        except TimeoutError:
            break
        tick_log.setdefault(serving, at)
    await asyncio.sleep(1.5)  # the last tick's events are still on their way
    wall = time.perf_counter() - wall
    cpu, server_cpu = own_cpu() - cpu, cpu_seconds_of(server_pid) - server_cpu
    # Every (stream, tick) pair: did the stream get that tick's position, and how late?
    delays: list[float] = []
    missed = 0
    for (_transport, _client, number), log in zip(clients, logs, strict=True):
        seen = {number - position: at for position, at in log}
        for serving, published in tick_log.items():
            if serving >= number:
                continue  # admitted by then: that stream got `admitted`, not a position
            if serving in seen:
                delays.append(seen[serving] - published)
            else:
                missed += 1
    alive = sum(1 for _t, client, _n in clients if not client.closed)
    for transport, _client, _number in clients:
        transport.close()
    cores = os.cpu_count() or 1
    pairs = len(delays) + missed
    return {
        "streams": count,
        "streams_alive_at_end": alive,
        "seconds_to_open_all": round(open_seconds, 2),
        "ticks_observed": len(tick_log),
        "stream_tick_pairs": pairs,
        "pairs_received_within_1s": sum(1 for d in delays if d <= 1.0),
        "pairs_missed": missed,
        "delay_p50_ms": round(percentile(delays, 0.5) * 1000, 1) if delays else None,
        "delay_p99_ms": round(percentile(delays, 0.99) * 1000, 1) if delays else None,
        "delay_max_ms": round(max(delays) * 1000, 1) if delays else None,
        "server_rss_mb_before": round(rss_before / 2**20, 1),
        "server_rss_mb_streaming": round(rss_streaming / 2**20, 1),
        "server_memory_per_stream_kb": round((rss_streaming - rss_before) / count / 1024, 1),
        "server_cpu_share_of_one_core": round(server_cpu / wall, 3),
        "load_generator_cpu_share_of_machine": round(cpu / wall / cores, 3),
    }


async def follow_ticks(prefix: str, show_id: str, ticks: asyncio.Queue[tuple[int, float]]) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, decode_responses=True)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(f"{prefix}:wr:serving:{show_id}")
    try:
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None and message.get("type") == "message":
                ticks.put_nowait((int(json.loads(message["data"])["v"]), time.time()))
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await client.aclose()


async def fanout_in_process(count: int) -> dict[str, Any]:
    """The application's own cost per stream per tick: ASGI streams with a no-op `send`.

    Everything but the socket: the wake-up, the position line, the middleware `send`
    wrappers. The difference to the HTTP figure is uvicorn's write and the kernel's.
    """
    from asgi_lifespan import LifespanManager
    from httpx import ASGITransport, AsyncClient
    from tests.support.catalog import open_show

    from boxoffice.app import create_app
    from boxoffice.migrations import upgrade_async
    from boxoffice.platform.config import Settings
    from boxoffice.waitroom import service
    from boxoffice.waitroom.domain import ServingState

    data_dir = Path(tempfile.mkdtemp(prefix="bo-bench-fanout-"))
    url = f"sqlite+aiosqlite:///{data_dir}/fanout.db"
    await upgrade_async(url)
    os.environ["BOXOFFICE_WAITROOM_JOINS_PER_ADDRESS_PER_MINUTE"] = "100000000"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, database_url=url, log_level="WARNING"
    )
    app = create_app(settings, ["identity", "catalog", "waitroom"], background=False)
    sent = [0]
    async with LifespanManager(app) as manager:
        runtime = app.state.runtime
        async with AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://b") as c:
            setup = await open_show(c, runtime, queue={"enabled": True, "max_active": 10})
            users = mint_tokens(data_dir / "keys" / "jwt-dev.pem", count)
            entries = []
            for _user, token in users:
                joined = await c.post(
                    f"{API}/shows/{setup.show_id}/queue",
                    headers={"Authorization": f"Bearer {token}"},
                )
                entries.append((joined.json()["entry_id"], token))

        async def stream(entry_id: str, token: str) -> None:
            async def receive() -> dict[str, Any]:
                await asyncio.Event().wait()
                return {}

            async def send(message: dict[str, Any]) -> None:
                sent[0] += 1

            scope = {
                "type": "http",
                "asgi": {"version": "3.0", "spec_version": "2.3"},
                "http_version": "1.1",
                "method": "GET",
                "scheme": "http",
                "path": f"{API}/queue/{entry_id}/stream",
                "raw_path": b"",
                "query_string": b"",
                "root_path": "",
                "headers": [(b"host", b"b"), (b"authorization", f"Bearer {token}".encode())],
                "client": ("127.0.0.1", 1),
                "server": ("127.0.0.1", 80),
            }
            await manager.app(scope, receive, send)

        tasks = [asyncio.create_task(stream(e, t)) for e, t in entries]
        board = service.room(runtime).board
        while board.stream_count(setup.show_id) < count:  # noqa: ASYNC110 - a bench's poll
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        base = board.current(setup.show_id).serving  # type: ignore[union-attr]
        costs = []
        for tick in range(1, 6):
            before, cpu = sent[0], own_cpu()
            board.deliver(ServingState(setup.show_id, base + tick, count, 1.0, 0))
            # Spin until every stream not yet reached has written its line.
            while sent[0] - before < count - (base + tick):  # noqa: ASYNC110
                await asyncio.sleep(0)
            costs.append((own_cpu() - cpu) / (count - base - tick))
        for task in tasks:
            task.cancel()
    return {
        "streams": count,
        "app_cpu_us_per_stream_per_tick": round(statistics.median(costs) * 1e6, 1),
    }


async def make_show(base: str, env: dict[str, str], admit_per_second: float) -> str:
    """A published show with its queue on, created over HTTP as a seller would."""
    import httpx
    from tests.support.catalog import open_show

    from boxoffice.platform.config import Settings
    from boxoffice.platform.runtime import build_runtime

    for name, value in env.items():
        if name.startswith("BOXOFFICE_"):
            os.environ[name] = value
    runtime = build_runtime(Settings(_env_file=None))  # type: ignore[call-arg]
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            setup = await open_show(
                client,
                runtime,
                queue={
                    "enabled": True,
                    "admit_per_second": admit_per_second,
                    "max_active": 1_000_000,
                },
            )
    finally:
        await runtime.close()
    return setup.show_id


def mint_tokens(key_file: Path, count: int) -> list[tuple[str, str]]:
    from boxoffice.platform.ids import new_id
    from boxoffice.platform.security import KeyRing, TokenUse

    ring = KeyRing.from_files(key_file, [], "boxoffice")
    now = datetime.now(UTC)
    tokens = []
    for index in range(count):
        user_id = new_id()
        token = ring.sign(
            {"sub": user_id, "email": f"fan-{index}@bench.example", "role": "customer"},
            use=TokenUse.ACCESS,
            now=now,
            ttl=timedelta(hours=2),
        )
        tokens.append((user_id, token))
    return tokens


async def measure(
    args: argparse.Namespace, port: int, server_pid: int, env: dict[str, str], data_dir: Path
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    prefix = env["BOXOFFICE_REDIS_PREFIX"]
    # Joins only: no dispatcher yet, so positions do not move while joining.
    show_id = await make_show(base, env, admit_per_second=args.admit_per_second)
    users = mint_tokens(data_dir / "keys" / "jwt-dev.pem", args.joins)
    join_path = f"{API}/shows/{show_id}/queue"
    results: dict[str, Any] = {}
    # The framework's floor on this machine: an unauthenticated GET through the same stack.
    results["baseline_get_health"] = await hammer(
        port, server_pid, [("GET", "/health", "-")] * int(args.polls // 2), args.concurrency
    )
    # Every fan's first request to this process: each join verifies a new token.
    results["joins"] = await hammer(
        port, server_pid, [("POST", join_path, token) for _, token in users], args.concurrency
    )
    # The same fans joining another show's queue: their tokens are already verified here
    # (remembered for 60 s), as when a fan's earlier requests reached this process.
    second_show = await make_show(base, env, admit_per_second=args.admit_per_second)
    results["joins_token_already_verified"] = await hammer(
        port,
        server_pid,
        [("POST", f"{API}/shows/{second_show}/queue", token) for _, token in users],
        args.concurrency,
    )
    # Entry ids and numbers, from a re-join (200, same entry) per user.
    entries: list[tuple[str, str, int]] = []
    conn = await Connection.open(port)
    for _user, token in users[-max(args.streams, 1000) :]:
        status, body = await conn.request("POST", join_path, token)
        if status == 200:
            read = json.loads(body)
            entries.append((read["entry_id"], token, read["number"]))
    conn.close()
    entries.sort(key=lambda e: e[2])
    polls = [
        ("GET", f"{API}/queue/{entry_id}", token)
        for entry_id, token, _ in random.choices(entries, k=int(args.polls))
    ]
    results["polling_reads"] = await hammer(port, server_pid, polls, args.concurrency)

    ticks: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
    follower = asyncio.create_task(follow_ticks(prefix, show_id, ticks))
    dispatchers: list[subprocess.Popen[bytes]] = []

    def start_dispatching() -> None:
        dispatchers.append(
            subprocess.Popen(
                [sys.executable, "-m", "boxoffice", "dispatcher"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    try:
        # Streams of the people furthest back (the last to join): they all see every tick.
        far = entries[-args.streams :] if args.streams else []
        results["sse"] = await streams(
            port, server_pid, far, len(far), args.seconds, ticks, start_dispatching
        )
    finally:
        for dispatcher in dispatchers:
            stop(dispatcher)
        follower.cancel()
    return results


def run(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="bo-bench-waitroom-"))
    prefix = f"bo-bench-wr-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "BOXOFFICE_DATA_DIR": str(data_dir),
        "BOXOFFICE_LOG_LEVEL": "WARNING",
        "BOXOFFICE_REDIS_URL": REDIS_URL,
        "BOXOFFICE_REDIS_PREFIX": prefix,
        "BOXOFFICE_WAITROOM_JOINS_PER_ADDRESS_PER_MINUTE": "100000000",
        "BOXOFFICE_WAITROOM_TICK_SECONDS": "1.0",
    }
    python = sys.executable
    subprocess.run(
        [python, "-m", "boxoffice", "migrate"], env=env, check=True, cwd=ROOT, stdout=sys.stderr
    )
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                python,
                "-m",
                "boxoffice",
                "serve",
                "--port",
                str(port),
                "--contexts",
                "identity,catalog,waitroom",
            ],
            env={
                **env,
                "BOXOFFICE_WAITROOM_SALE_INFO_CACHE_SECONDS": "5",
                # The API process only serves; the dispatcher process admits.
                "BOXOFFICE_WAITROOM_DISPATCH_IN_PROCESS": "false",
            },
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server, 60, log_path)
        results = asyncio.run(measure(args, port, server.pid, env, data_dir))
    finally:
        stop(server)
        asyncio.run(_clean(prefix))
    return {
        "benchmark": "waitroom",
        "machine": machine(),
        "backend": {"database": "sqlite", "redis": True, "api_processes": 1, "workers": 1},
        "settings": {
            "joins": args.joins,
            "polls": args.polls,
            "concurrency": args.concurrency,
            "streams": args.streams,
            "seconds_watching_streams": args.seconds,
            "tick_seconds": 1.0,
            "admit_per_second": args.admit_per_second,
        },
        "targets": {
            "joins_per_second": 5000,
            "polling_reads_per_second": 10000,
            "streams": 10000,
            "kb_per_stream": 50,
        },
        "results": {**results, "sse_fanout_in_process": asyncio.run(fanout_in_process(3000))},
    }


async def _clean(prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"*{prefix}*", count=1000)]
        for start in range(0, len(keys), 1000):
            await client.delete(*keys[start : start + 1000])
    finally:
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--joins", type=int, default=20000)
    parser.add_argument("--polls", type=int, default=50000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--streams", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=10.0, help="watching the streams")
    parser.add_argument("--admit-per-second", type=float, default=1.0)
    report = run(parser.parse_args())
    results = report["results"]
    expected = {"joins": {201}, "joins_token_already_verified": {201}, "polling_reads": {200}}
    invariants = {
        f"unexpected_{name}": statuses_outside(results[name]["statuses"], allowed)
        for name, allowed in expected.items()
    }
    sse = results["sse"]
    invariants["streams_lost"] = sse["streams"] - sse["streams_alive_at_end"]
    finish(report, invariants)


if __name__ == "__main__":
    main()
