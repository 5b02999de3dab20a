"""The arrival: fans join a show's queue and open their live stream through the gateway; JSON.

    .venv/bin/python bench/arrival.py                          # 20,000 fans at 1,000 a second
    .venv/bin/python bench/arrival.py --fans 2000 --rate 500   # smaller

The first seconds of a popular sale, measured alone: issue 14 asks that 1,000 new fans a
second, each joining (``POST /shows/{id}/queue``) and then opening its SSE stream
(``GET /queue/{entry_id}/stream``) through the nginx gateway of ``deploy/local.py``'s
topology, be answered with a p99 of at most 1 s. The topology is the flash sale's
(bench/flash_sale.py: API processes, dispatcher admitting at ``--admit-rate``, worker,
scheduler, nginx; PostgreSQL and Redis of this machine); nobody buys, so what is measured
is the waiting room's front door.

Each fan is one TCP connection from one of a few hundred loopback addresses (50 fans an
address), opened at its moment on a fixed schedule (``--rate`` a second), and keeps its
stream open to the end. The load generator is one process of raw asyncio protocols (no
HTTP library) so that it takes little of the two cores it shares with the servers; its
own lag (how late it opened a fan's connection) is reported, and every latency counts
from the fan's scheduled moment, so a load generator falling behind shows as slowness, not
as speed. Reported: the join's latency (scheduled moment → answer), the stream's first
event (stream asked → first event) and the whole (scheduled → first event), p50/p95/p99;
the arrival rate achieved; the CPU each kind of server process used per fan; and counts
that must be 0 (joins refused, streams that never carried an event or ended early).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "deploy"))

from bench import flash_sale  # noqa: E402
from bench.common import collector_paused, finish, latency_summary, machine  # noqa: E402
from bench.flash.cpu import process_cpu  # noqa: E402

API = "/api/v1"
HEAD_END = b"\r\n\r\n"
EVENT = b"\nevent: "


@dataclass
class Fan:
    """One fan's timeline (seconds since the arrival began) and what the servers said."""

    scheduled: float
    connected: float = 0.0
    joined: float = 0.0
    join_status: int = 0
    stream_asked: float = 0.0
    first_event: float = 0.0
    first_event_name: str = ""
    events: int = 0
    ended_early: bool = False
    error: str = ""
    settled: bool = False  # has its outcome: a first event, or an error


class Tally:
    """Counts the fans with an outcome (first event, or an error); set when all have one."""

    def __init__(self, fans: int) -> None:
        self.remaining = fans
        self.all_settled = asyncio.Event()

    def settle(self, fan: Fan) -> None:
        if fan.settled:
            return
        fan.settled = True
        self.remaining -= 1
        if self.remaining <= 0:
            self.all_settled.set()


class FanProtocol(asyncio.Protocol):
    """Join, then ask for the stream on the same keep-alive connection, then count events."""

    def __init__(
        self, fan: Fan, join: bytes, stream_request: str | None, origin: float, tally: Tally
    ) -> None:
        self.fan, self.join, self.stream_request, self.origin = fan, join, stream_request, origin
        self.tally = tally
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.state = "join"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.fan.connected = time.monotonic() - self.origin
        self.transport.write(self.join)

    def data_received(self, data: bytes) -> None:
        if self.state == "join":
            self.buffer += data
            self._join_answer()
        elif self.state == "stream-head":
            self.buffer += data
            end = self.buffer.find(HEAD_END)
            if end >= 0:
                self.state, rest = "stream", self.buffer[end + 4 :]
                self.buffer = b"\n"
                self._events(rest)
        elif self.state == "stream":
            self._events(data)

    def _join_answer(self) -> None:
        end = self.buffer.find(HEAD_END)
        if end < 0:
            return
        head = self.buffer[:end].decode("latin-1").split("\r\n")
        length = next(
            (int(h.split(":", 1)[1]) for h in head if h.lower().startswith("content-length:")), -1
        )
        body = self.buffer[end + 4 :]
        if length < 0:
            self._fail("join answer without Content-Length")
            return
        if len(body) < length:
            return  # the rest of the body is on its way
        self.fan.join_status = int(head[0].split(" ", 2)[1])
        self.fan.joined = time.monotonic() - self.origin
        if self.fan.join_status not in (200, 201):
            self._fail(f"join answered {self.fan.join_status}: {body[:200]!r}")
            return
        entry_id = json.loads(body[:length])["entry_id"]
        if self.stream_request is None:  # --joins-only
            self.state, self.fan.first_event, self.fan.first_event_name = "idle", -1.0, "-"
            self.tally.settle(self.fan)
            return
        self.buffer, self.state = b"", "stream-head"
        self.fan.stream_asked = time.monotonic() - self.origin
        assert self.transport is not None
        self.transport.write(self.stream_request.format(entry_id=entry_id).encode())

    def _events(self, data: bytes) -> None:
        # Keep the last few bytes, so an event name split across two reads still counts.
        seen = self.buffer + data
        found = seen.count(EVENT)
        if found and not self.fan.events:
            self.fan.first_event = time.monotonic() - self.origin
            start = seen.index(EVENT) + len(EVENT)
            self.fan.first_event_name = seen[start : seen.find(b"\n", start)].decode()
            self.tally.settle(self.fan)
        self.fan.events += found
        self.buffer = seen[-(len(EVENT) - 1) :]

    def _fail(self, error: str) -> None:
        self.fan.error = error
        self.tally.settle(self.fan)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.state != "closing":
            self.fan.ended_early = True
            self.tally.settle(self.fan)


async def arrive(
    port: int,
    show_id: str,
    tokens: list[tuple[str, str]],
    rate: float,
    *,
    hold_seconds: float,
    answer_timeout: float,
    joins_only: bool = False,
) -> tuple[list[Fan], float]:
    """Open every fan's connection at its moment; once each has its first event (or
    ``answer_timeout`` has passed), keep the streams ``hold_seconds`` more."""
    loop = asyncio.get_running_loop()
    origin = time.monotonic()
    fans = [Fan(scheduled=i / rate) for i in range(len(tokens))]
    tally = Tally(len(fans))
    protocols: list[FanProtocol] = []
    connecting: list[asyncio.Task[None]] = []

    async def connect(index: int, token: str) -> None:
        join = (
            f"POST {API}/shows/{show_id}/queue HTTP/1.1\r\nHost: bench\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        stream = (
            None
            if joins_only
            else f"GET {API}/queue/{{entry_id}}/stream HTTP/1.1\r\nHost: bench\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        )
        protocol = FanProtocol(fans[index], join, stream, origin, tally)
        protocols.append(protocol)
        try:
            await loop.create_connection(
                lambda: protocol,
                "127.0.0.1",
                port,
                local_addr=(flash_sale.source_address(index), 0),
            )
        except OSError as exc:
            fans[index].error = f"connect: {exc}"
            tally.settle(fans[index])

    for index, (_user, token) in enumerate(tokens):
        delay = origin + fans[index].scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        connecting.append(asyncio.ensure_future(connect(index, token)))
    await asyncio.gather(*connecting)
    # Every fan answered (or failed) before the streams are watched for ``hold_seconds``.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(tally.all_settled.wait(), answer_timeout)
    await asyncio.sleep(hold_seconds)
    ended = time.monotonic() - origin
    for protocol in protocols:
        protocol.state = "closing"
        if protocol.transport is not None:
            protocol.transport.close()
    return fans, ended


def report_of(
    fans: list[Fan], ended: float, cpu: dict[str, float], own_cpu: float
) -> dict[str, Any]:
    answered = [f for f in fans if f.joined]
    first = [f for f in fans if f.first_event > 0]
    last_scheduled = fans[-1].scheduled if fans else 0.0
    names: dict[str, int] = {}
    for fan in first:
        names[fan.first_event_name] = names.get(fan.first_event_name, 0) + 1
    return {
        "arrival": {
            "fans": len(fans),
            "scheduled_per_second": round(len(fans) / last_scheduled, 1)
            if last_scheduled
            else None,
            "joins_answered_per_second": round(len(answered) / max(f.joined for f in answered), 1)
            if answered
            else None,
            "seconds_measured": round(ended, 1),
        },
        "join": latency_summary([f.joined - f.scheduled for f in answered]),
        "stream_first_event": latency_summary([f.first_event - f.stream_asked for f in first]),
        "join_and_first_event": latency_summary([f.first_event - f.scheduled for f in first]),
        "load_generator_lag": latency_summary(
            [f.connected - f.scheduled for f in fans if f.connected]
        ),
        "first_events": names,
        "events_received": sum(f.events for f in fans),
        "server_cpu_ms_per_fan": {k: round(v * 1000 / len(fans), 3) for k, v in cpu.items()},
        "server_cpu_share_of_machine": {
            k: round(v / ended / (os.cpu_count() or 1), 3) for k, v in cpu.items()
        },
        "load_generator_cpu_share_of_machine": round(own_cpu / ended / (os.cpu_count() or 1), 3),
        "errors_sample": sorted({f.error for f in fans if f.error})[:5],
        "unanswered_fans_sample": [i for i, f in enumerate(fans) if not f.join_status][:10],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fans", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=1000.0, help="new fans a second")
    parser.add_argument("--hold-seconds", type=float, default=5.0, help="streams kept after")
    parser.add_argument(
        "--answer-timeout", type=float, default=120.0, help="seconds a fan waits for answers"
    )
    parser.add_argument(
        "--joins-only", action="store_true", help="fans join but open no stream (to compare)"
    )
    parser.add_argument("--admit-rate", type=float, default=100.0, help="the dispatcher's")
    parser.add_argument("--max-active", type=int, default=2000)
    parser.add_argument("--seats", type=int, default=1000)
    flash_sale.topology_arguments(parser)
    args = parser.parse_args()
    # One socket a fan, all held to the end: the limit on open files is often below that.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(hard, args.fans + 1024)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
    except (ValueError, OSError):  # not allowed to raise the hard limit here
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if args.fans + 256 > limit:  # the bench's own files, the servers' pipes
        print(f"open files limited to {limit}: {limit - 256} fans", file=sys.stderr)
        args.fans = limit - 256

    with flash_sale.staged_sale(args, "arrival", args.fans) as staged:
        time.sleep(5)  # the seeding's tail (and the topology's start) settle first
        before, own = process_cpu(staged.topology), resource.getrusage(resource.RUSAGE_SELF)
        with collector_paused():  # the fans are garbage only at the end
            fans, ended = uvloop.run(
                arrive(
                    args.port,
                    staged.sale["show_id"],
                    staged.tokens,
                    args.rate,
                    hold_seconds=args.hold_seconds,
                    answer_timeout=args.answer_timeout,
                    joins_only=args.joins_only,
                )
            )
            after, mine = process_cpu(staged.topology), resource.getrusage(resource.RUSAGE_SELF)
    own_cpu = mine.ru_utime + mine.ru_stime - own.ru_utime - own.ru_stime
    cpu = {kind: after[kind] - before[kind] for kind in before}
    report = {
        "benchmark": "arrival",
        "machine": machine(),
        "topology": {
            "api_processes": args.api,
            "of_them_checkout_only": args.checkout_api,
            "gateway": "nginx",
            "redis": True,
        },
        "settings": {
            "fans": args.fans,
            "rate": args.rate,
            "admit_per_second": args.admit_rate,
            "max_active": args.max_active,
            "hold_seconds": args.hold_seconds,
            "joins_only": args.joins_only,
        },
        "targets": {"fans_per_second": 1000, "join_p99_ms": 1000},
        **report_of(fans, ended, cpu, own_cpu),
    }
    finish(
        report,
        {
            "joins_refused": sum(1 for f in fans if f.join_status not in (0, 200, 201)),
            "joins_unanswered": sum(1 for f in fans if not f.join_status),
            "streams_without_an_event": sum(1 for f in fans if not f.first_event),
            "streams_ended_early": sum(1 for f in fans if f.ended_early),
        },
    )


if __name__ == "__main__":
    main()
