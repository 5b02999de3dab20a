"""What every benchmark reports: the machine it ran on, percentiles, and its invariants.

Every benchmark ends with :func:`finish`: the JSON report with an ``invariants`` section
of counts that must be zero (requests that failed, seats sold twice, events lost, ...),
and exit status 1 when one is not. CI runs each benchmark at a tiny size
(``tests/bench``), so a benchmark that no longer runs, or whose run breaks what it
checks, fails the build instead of rotting until someone measures again. Timings are
reported, never judged there.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import platform
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# This machine's PostgreSQL (trust auth): where the benchmarks make their scratch databases.
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@contextmanager
def collector_paused() -> Iterator[None]:
    """A load generator's collector off while it runs its crowd: the heap grows with every
    connection, and Python's full collections of it paused the schedule the latencies are
    counted from (lag p99 0.5-1 s in bench/arrival.py); the garbage is gathered after."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def machine() -> dict[str, Any]:
    """CPU, cores, Python, system and the load at start (the cores may be shared)."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_average_1m_at_start": os.getloadavg()[0],
    }


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def latency_summary(samples: list[float]) -> dict[str, Any]:
    """``count`` and the p50/p95/p99 of ``samples`` (seconds) in milliseconds."""
    if not samples:
        return {"count": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None}
    return {
        "count": len(samples),
        **{f"p{q}_ms": round(percentile(samples, q / 100) * 1000, 1) for q in (50, 95, 99)},
    }


async def drop_postgres_database(url: str) -> None:
    """Drop a benchmark's scratch PostgreSQL database (the one ``url`` names)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def errors_in(results: Any) -> int:
    """Every ``errors`` count anywhere in a results tree, summed."""
    if isinstance(results, Mapping):
        own = results.get("errors")
        total = own if isinstance(own, int) and not isinstance(own, bool) else 0
        return total + sum(errors_in(v) for k, v in results.items() if k != "errors")
    if isinstance(results, list):
        return sum(errors_in(item) for item in results)
    return 0


def statuses_outside(statuses: Mapping[str, int], expected: Iterable[int]) -> int:
    """How many answers had a status not in ``expected`` (``statuses``: status -> count)."""
    allowed = {str(status) for status in expected}
    return sum(count for status, count in statuses.items() if str(status) not in allowed)


def finish(report: dict[str, Any], invariants: Mapping[str, int]) -> None:
    """Print ``report`` with its invariant counts; exit 1 when any of them is not zero."""
    report["invariants"] = dict(invariants)
    print(json.dumps(report, indent=2))
    broken = {name: count for name, count in invariants.items() if count}
    if broken:
        print(f"invariants broken: {broken}", file=sys.stderr)
        raise SystemExit(1)


class Connection:
    """One keep-alive HTTP/1.1 connection, kept lean so a load generator takes little of the
    CPU it shares with the servers: each request is one write, each answer one
    ``readuntil`` of the head and one read of the body (Content-Length answers only)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = f"{host}:{port}".encode()
        self.address = (host, port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: bytes = b""
    ) -> tuple[int, bytes]:
        """(status, body); ``headers`` are whole lines (``b"Name: value\\r\\n"``)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(*self.address)
        assert self.reader is not None
        typed = b"Content-Type: application/json\r\n" if body else b""
        self.writer.write(
            b"%s %s HTTP/1.1\r\nHost: %s\r\n%s%sContent-Length: %d\r\n\r\n%s"
            % (method.encode(), path.encode(), self.host, typed, headers, len(body), body)
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        at = lower.find(b"\r\ncontent-length:")
        length = int(lower[at + 17 : lower.index(b"\r\n", at + 2)]) if at >= 0 else 0
        payload = await self.reader.readexactly(length)
        if b"\r\nconnection: close" in lower:
            self.close()
        return status, payload

    async def post(self, path: str, body: bytes, headers: bytes = b"") -> tuple[int, bytes]:
        return await self.request("POST", path, body, headers)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None
