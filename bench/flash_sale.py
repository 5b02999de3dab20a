"""The flash sale: N buyers for S seats through the production-like topology; prints JSON.

    .venv/bin/python bench/flash_sale.py --buyers 20000 --seats 5000 --admit-rate 15  # full size

(15/s is what this 2-core machine's purchase path serves with everything on it; see
bench/results/flash_sale/README.md for that run and one at 100/s.)
    .venv/bin/python bench/flash_sale.py --buyers 500 --seats 100         # what CI runs

It starts `deploy/local.py`'s topology (API processes, dispatcher, worker, scheduler,
nginx on PostgreSQL + Redis), creates a venue, an event with its queue on and a show as a
seller would, seeds the buyers (signed in before the sale opens: access tokens are minted
with the topology's key; login itself is measured by bench/auth.py), then runs the buyers
in several load-generator processes. Afterwards it counts in the database: tickets sold,
double-sold seats, orders lost, and buyers left without an outcome — the three must be 0.
The report's ``cpu`` says where the machine's cores went (each kind of server process, and
the load generator) during the arrival and until the sell-out (``bench/flash/cpu.py``).
It writes the JSON report and PNG plots to --out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import re
import resource
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "deploy"))

from bench.common import drop_postgres_database, finish, latency_summary, machine  # noqa: E402
from bench.flash import buyer as buyers_module  # noqa: E402
from bench.flash.cpu import CpuTimeline  # noqa: E402
from bench.flash.waitlist import report as waitlist_report  # noqa: E402
from bench.invariants import (  # noqa: E402
    LIVE_TICKETS,
    PAID_ORDERS_WITHOUT_THEIR_TICKETS,
    SEATS_WITH_TWO_LIVE_TICKETS,
    SOLD_SEATS,
    SOLD_SEATS_WITHOUT_ONE_TICKET,
    TICKETS_ON_UNSOLD_SEATS,
)

API = "/api/v1"
SECTIONS = (
    ("Floor A", "VIP", 198000),
    ("Floor B", "R", 165000),
    ("Stand C", "S", 132000),
    ("Stand D", "A", 99000),
)
STEPS = ("join", "wait", "seat_map", "hold", "order", "pay", "cancel", "waitlist_buy")

# Counts that must be zero after every sale (the report's invariants).
ZERO_COUNTS = ("double_sold_seats", "orders_lost", "buyers_without_outcome")


def setup_sale(gateway: str, args: argparse.Namespace) -> dict[str, Any]:
    """Venue, event (queue on), show and publication, created over HTTP as the demo seller."""
    with httpx.Client(base_url=gateway, timeout=120) as http:
        login = http.post(
            f"{API}/auth/login",
            json={"email": "seller@boxoffice.local", "password": "seller-pass-1234"},
        )
        login.raise_for_status()
        seller = {"Authorization": f"Bearer {login.json()['access_token']}"}
        per_section = math.ceil(args.seats / len(SECTIONS))
        seats_per_row = 50 if per_section >= 50 else per_section
        sections, remaining = [], args.seats
        for name, grade, _price in SECTIONS:
            count = min(per_section, remaining)
            remaining -= count
            rows, label = [], 0
            while count > 0:
                take = min(seats_per_row, count)
                rows.append({"label": f"{label + 1}", "seats": take})
                count -= take
                label += 1
            sections.append({"name": name, "grade": grade, "rows": rows})
        venue = http.post(
            f"{API}/venues",
            headers=seller,
            json={
                "name": f"Flash Arena {uuid.uuid4().hex[:6]}",
                "address": "Seoul",
                "sections": sections,
            },
        )
        venue.raise_for_status()
        now = datetime.now(UTC)
        event = http.post(
            f"{API}/events",
            headers=seller,
            json={
                "title": "Flash sale benchmark",
                "description": "20,000 fans, 5,000 seats",
                "category": "concert",
                "venue_id": venue.json()["id"],
                "grades": [{"code": g, "name": g, "price": p} for _, g, p in SECTIONS],
                "sale_opens_at": (now - timedelta(minutes=1)).isoformat(),
                "sale_closes_at": (now + timedelta(days=20)).isoformat(),
                "max_tickets_per_user": 4,
                # The seller's hold window (the chaos runs shorten it: a hold whose answer
                # was lost with a killed process keeps its seats until it expires).
                **({"hold_minutes": args.hold_minutes} if getattr(args, "hold_minutes", 0) else {}),
                "queue": {
                    "enabled": True,
                    "admit_per_second": args.admit_rate,
                    "max_active": args.max_active,
                },
            },
        )
        event.raise_for_status()
        event_id = event.json()["id"]
        show = http.post(
            f"{API}/events/{event_id}/shows",
            headers=seller,
            json={"starts_at": (now + timedelta(days=30)).isoformat()},
        )
        show.raise_for_status()
        http.post(f"{API}/events/{event_id}/publish", headers=seller).raise_for_status()
        seat_map = http.get(f"{API}/shows/{show.json()['id']}/seats").json()
    return {
        "event_id": event_id,
        "show_id": show.json()["id"],
        "seats": len(seat_map["seats"]),
        "section_rank": {name: rank for rank, (name, _g, _p) in enumerate(SECTIONS)},
        "section_grades": {name: grade for name, grade, _p in SECTIONS},
    }


async def seed_buyers(database_url: str, key_file: Path, count: int) -> list[tuple[str, str]]:
    """Insert the buyers in bulk (one shared argon2 hash) and mint each an access token."""
    from argon2 import PasswordHasher
    from sqlalchemy import insert

    from boxoffice.identity.models import User
    from boxoffice.platform.db import create_engine
    from boxoffice.platform.ids import new_id
    from boxoffice.platform.security import KeyRing, TokenUse

    ring = KeyRing.from_files(key_file, [], "boxoffice")
    password_hash = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(
        "fan-password"
    )
    now = datetime.now(UTC)
    rows = [
        {
            "id": new_id(),
            "email": f"fan-{uuid.uuid4().hex}@flash.example",
            "password_hash": password_hash,
            "name": f"Fan {i}",
            "phone": None,
            "role": "customer",
            "locale": "ko",
            "email_verified": True,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]
    engine = create_engine(database_url, pool_size=2)
    try:
        async with engine.begin() as conn:
            for start in range(0, len(rows), 2000):
                await conn.execute(insert(User), rows[start : start + 2000])
    finally:
        await engine.dispose()
    tokens = []
    for row in rows:
        token = ring.sign(
            {"sub": row["id"], "email": row["email"], "role": "customer"},
            use=TokenUse.ACCESS,
            now=now,
            ttl=timedelta(hours=3),
        )
        tokens.append((row["id"], token))
    return tokens


async def verify(database_url: str, show_id: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Count in the database what the invariants promise."""
    from sqlalchemy import text

    from boxoffice.platform.db import create_engine

    engine = create_engine(database_url, pool_size=2)
    try:
        async with engine.connect() as conn:

            async def scalar(sql: str) -> int:
                return int((await conn.execute(text(sql), {"show": show_id})).scalar() or 0)

            tickets_live = await scalar(LIVE_TICKETS)
            seats_with_two_live_tickets = await scalar(SEATS_WITH_TWO_LIVE_TICKETS)
            sold_seats = await scalar(SOLD_SEATS)
            sold_without_one_ticket = await scalar(SOLD_SEATS_WITHOUT_ONE_TICKET)
            tickets_on_unsold_seats = await scalar(TICKETS_ON_UNSOLD_SEATS)
            paid_orders_without_tickets = await scalar(PAID_ORDERS_WITHOUT_THEIR_TICKETS)
            rows = (
                await conn.execute(
                    text("SELECT id, status FROM orders_orders WHERE show_id = :show"),
                    {"show": show_id},
                )
            ).all()
    finally:
        await engine.dispose()
    status_by_order = {row[0]: row[1] for row in rows}
    expected = {
        "bought": {"paid"},
        "bought_then_cancelled": {"cancelled", "refunded", "partially_refunded"},
        "bought_from_waitlist": {"paid"},
    }
    lost = [
        r["order_id"]
        for r in results
        if r["outcome"] in expected
        and status_by_order.get(r["order_id"]) not in expected[r["outcome"]]
    ]
    return {
        "tickets_sold": tickets_live,
        "seats_sold": sold_seats,
        "double_sold_seats": seats_with_two_live_tickets + tickets_on_unsold_seats,
        "sold_seats_without_exactly_one_ticket": sold_without_one_ticket,
        "orders_lost": len(lost) + paid_orders_without_tickets,
        "orders_by_status": {
            s: list(status_by_order.values()).count(s) for s in set(status_by_order.values())
        },
    }


def summarise(
    results: list[dict[str, Any]], seats: int, args: argparse.Namespace, wall: float
) -> dict[str, Any]:
    steps: dict[str, dict[str, Any]] = {}
    for step in STEPS:
        samples = [s for r in results for s in r["steps"].get(step, [])]
        if samples:
            steps[step] = {
                **latency_summary(samples),
                "per_second": round(len(samples) / wall, 1),
            }
    outcomes = {o: sum(1 for r in results if r["outcome"] == o) for o in buyers_module.OUTCOMES}
    without = [r for r in results if r["outcome"] is None]
    # Sold out: the first moment every seat was paid for (net of cancellations).
    events = sorted(
        [(r["paid_at"], len(r["seats"])) for r in results if r["paid_at"] is not None]
        + [(r["cancelled_at"], -len(r["seats"])) for r in results if r["cancelled_at"] is not None]
    )
    sold, sold_out_at = 0, None
    for moment, delta in events:
        sold += delta
        if sold >= seats and sold_out_at is None:
            sold_out_at = moment
    admitted_by_sell_out = sum(
        1
        for r in results
        if r["admitted_at"] is not None and (sold_out_at is None or r["admitted_at"] <= sold_out_at)
    )
    # Of them, those who never paid: let in to find no seats (or gave up). The ratio below
    # counts them as the door doing its work, so it is reported beside it.
    admitted_without_tickets = sum(
        1
        for r in results
        if r["admitted_at"] is not None
        and (sold_out_at is None or r["admitted_at"] <= sold_out_at)
        and r["paid_at"] is None
    )
    allowed = admitted_by_sell_out / args.admit_rate if admitted_by_sell_out else None
    stream_events = sum(r.get("stream_events", 0) for r in results)
    offers = [held for r in results for held in r.get("seat_offers", [])]
    best = [held for r in results for held in r.get("best_available", [])]
    reopened = Counter(
        "connection" if p[2] == 0 else str(p[2])
        for r in results
        for p in r.get("problems", [])
        if p[1] == "wait"
    )
    return {
        "outcomes": outcomes,
        "buyers_without_outcome": len(without),
        # What the buyers without an outcome were last told, by step and status.
        "errors_by_kind": dict(Counter(error_kind(r["error"]) for r in without).most_common()),
        "errors_sample": sorted({r["error"] for r in without if r["error"]})[:10],
        "time_to_sell_out_seconds": round(sold_out_at, 2) if sold_out_at is not None else None,
        "admitted_by_sell_out": admitted_by_sell_out,
        "admitted_by_sell_out_without_tickets": admitted_without_tickets,
        "sell_out_time_the_admit_rate_allows_seconds": round(allowed, 2) if allowed else None,
        "sell_out_ratio_to_admit_rate_bound": (
            round(sold_out_at / allowed, 3) if sold_out_at is not None and allowed else None
        ),
        "tickets_per_second_until_sold_out": round(seats / sold_out_at, 1) if sold_out_at else None,
        "steps": steps,
        # Refused holds whose offer of free seats side by side the buyer then asked to hold
        # (docs/seating.md), and how many of those holds were won.
        "seat_offers": {"tried": len(offers), "held": sum(offers)},
        # Holds that let the shop choose the seats (--best-available), and how many were won.
        "best_available_holds": {"tried": len(best), "held": sum(best)},
        # What the waiting streams carried: the gateway, the API and the load generator
        # each pay for every event.
        "stream_events": {
            "count": stream_events,
            "per_second": round(stream_events / wall, 1),
        },
        # Streams answered 502/503/504 or dropped, and opened again (as the queue page
        # does): by status, "connection" where it failed or dropped without an answer.
        "streams_opened_again": dict(sorted(reopened.items())),
    }


def plot(results: list[dict[str, Any]], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    fig, ax = plt.subplots(figsize=(9, 5))
    for step in STEPS:
        samples = sorted(s * 1000 for r in results for s in r["steps"].get(step, []))
        if samples:
            ax.plot(samples, [i / len(samples) for i in range(len(samples))], label=step)
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("fraction of requests")
    ax.set_title("Latency distribution per step (CDF)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.savefig(out / "latency_per_step.png", dpi=110, bbox_inches="tight")
    files.append("latency_per_step.png")

    fig, ax = plt.subplots(figsize=(9, 5))
    paid = sorted((r["paid_at"], len(r["seats"])) for r in results if r["paid_at"] is not None)
    total, xs, ys = 0, [], []
    for moment, count in paid:
        total += count
        xs.append(moment)
        ys.append(total)
    ax.step(xs, ys, where="post")
    ax.set_xlabel("seconds since the sale opened")
    ax.set_ylabel("tickets paid (cumulative)")
    ax.set_title("Sales over time")
    ax.grid(alpha=0.3)
    fig.savefig(out / "sales_over_time.png", dpi=110, bbox_inches="tight")
    files.append("sales_over_time.png")

    fig, ax = plt.subplots(figsize=(9, 5))
    horizon = max([r["joined_at"] for r in results] + [r["admitted_at"] or 0 for r in results]) + 1
    seconds = list(range(int(horizon) + 1))
    joined = sorted(r["joined_at"] for r in results)
    admitted = sorted(r["admitted_at"] for r in results if r["admitted_at"] is not None)
    waiting = [
        sum(1 for j in joined if j <= t) - sum(1 for a in admitted if a <= t) for t in seconds
    ]
    ax.plot(seconds, waiting)
    ax.set_xlabel("seconds since the sale opened")
    ax.set_ylabel("people waiting in the queue")
    ax.set_title("Queue length over time")
    ax.grid(alpha=0.3)
    fig.savefig(out / "queue_length_over_time.png", dpi=110, bbox_inches="tight")
    files.append("queue_length_over_time.png")
    plt.close("all")
    return files


BUYERS_PER_ADDRESS = 50  # households and small NATs; far below the per-address join limit


def source_address(index: int) -> str:
    """The loopback address the ``index``-th buyer connects from (127.1.0.1, 127.1.0.2, ...)."""
    group = index // BUYERS_PER_ADDRESS
    return f"127.1.{group // 250}.{group % 250 + 1}"


def run_load(
    plan: dict[str, Any], tokens: list[tuple[str, str]], processes: int, work_dir: Path
) -> list[dict[str, Any]]:
    buyers = [(uid, token, source_address(i)) for i, (uid, token) in enumerate(tokens)]
    context = multiprocessing.get_context("spawn")
    progress = context.Value("i", 0)
    size = math.ceil(len(buyers) / processes)  # contiguous: an address stays in one process
    chunks = [buyers[i * size : (i + 1) * size] for i in range(processes)]
    workers = []
    for index, chunk in enumerate(chunks):
        out_path = work_dir / f"buyers-{index}.json"
        worker = context.Process(
            target=buyers_module.process_main,
            args=(plan, chunk, 1000 + index, str(out_path), progress),
        )
        worker.start()
        workers.append((worker, out_path))
    _show_progress(progress, len(tokens), workers)
    results: list[dict[str, Any]] = []
    for worker, out_path in workers:
        worker.join()
        if worker.exitcode != 0 or not out_path.exists():
            raise RuntimeError(f"load-generator process failed with exit code {worker.exitcode}")
        results.extend(json.loads(out_path.read_text()))
    return results


def _show_progress(progress: Any, total: int, workers: list[Any]) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("buyers with an outcome"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=__import__("rich.console").console.Console(stderr=True),
    ) as bar:
        task = bar.add_task("sale", total=total)
        while any(w.is_alive() for w, _ in workers):
            bar.update(task, completed=progress.value)
            time.sleep(0.5)
        bar.update(task, completed=progress.value)


def start_topology(
    args: argparse.Namespace, state_dir: Path, database_url: str, *, streams: int
) -> Any:
    """``deploy/local.py``'s topology for a sale of ``streams`` fans: ``args.api`` API
    processes behind nginx on ``args.port``, no per-address rate limit (the buyers come from
    a few loopback addresses), room for every fan's stream, the background roles niced."""
    import local as topology_tool  # deploy/local.py

    up_args = topology_tool.parser().parse_args(
        [
            "up",
            "--api",
            str(args.api),
            "--port",
            str(args.port),
            "--api-base-port",
            "0",
            "--state-dir",
            str(state_dir),
            "--database-url",
            database_url,
            "--redis-prefix",
            f"bo-flash-{os.getpid()}",
            "--rate",
            "100000r/s",
            "--burst",
            "100000",
            "--sse-per-address",
            str(streams + 100),
            "--nginx-workers",
            str(topology_tool.nginx_workers_for(streams)),
            "--background-nice",
            str(args.background_nice),
            "--checkout-api",
            str(args.checkout_api),
            "--front-nice",
            str(args.front_nice),
        ]
    )
    return topology_tool.up(up_args)


def error_kind(error: str | None) -> str:
    """``hold answered 503`` of ``RuntimeError: hold answered 503 {...}``; else the class."""
    if error is None:
        return "none"
    kind = re.match(r"\w+: (\w[\w ]* answered \d+)", error)
    return kind.group(1) if kind else error.split(":", 1)[0]


def topology_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``start_topology`` (this bench's and bench/arrival.py's)."""
    parser.add_argument("--api", type=int, default=3, help="API processes in the topology")
    parser.add_argument(
        "--checkout-api", type=int, default=0, help="of them, serving only the checkout"
    )
    parser.add_argument(
        "--front-nice", type=int, default=0, help="with --checkout-api: the others' niceness"
    )
    parser.add_argument(
        "--background-nice", type=int, default=10, help="the worker's and scheduler's niceness"
    )
    parser.add_argument("--port", type=int, default=8180, help="the gateway's")


@dataclass
class StagedSale:
    topology: Any
    sale: dict[str, Any]
    tokens: list[tuple[str, str]]  # (user id, access token) per buyer
    state_dir: Path
    database_url: str


@contextlib.contextmanager
def staged_sale(args: argparse.Namespace, name: str, buyers: int) -> Iterator[StagedSale]:
    """The topology up on a database of its own, the sale set up and ``buyers`` fans signed
    in; afterwards the topology down and the database dropped, whatever happened."""
    import local as topology_tool  # deploy/local.py

    state_dir = Path(tempfile.mkdtemp(prefix=f"bo-{name}-"))
    database_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/bo_{name}_{os.getpid()}"
    topology = start_topology(args, state_dir, database_url, streams=buyers)
    try:
        sale = setup_sale(topology.gateway_url, args)
        key_file = state_dir / "data" / "keys" / "jwt-dev.pem"
        tokens = asyncio.run(seed_buyers(database_url, key_file, buyers))
        yield StagedSale(topology, sale, tokens, state_dir, database_url)
    finally:
        topology_tool.down(
            topology_tool.parser().parse_args(["down", "--state-dir", str(state_dir)])
        )
        asyncio.run(drop_postgres_database(database_url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=20000)
    parser.add_argument("--seats", type=int, default=5000)
    parser.add_argument(
        "--admit-rate", type=float, default=200.0, help="people admitted per second"
    )
    parser.add_argument(
        "--max-active", type=int, default=2000, help="admitted and still shopping, at most"
    )
    parser.add_argument("--cancel-rate", type=float, default=0.05)
    parser.add_argument(
        "--arrival-seconds", type=float, default=20.0, help="buyers arrive over this span"
    )
    topology_arguments(parser)
    parser.add_argument(
        "--processes", type=int, default=0, help="load-generator processes (0: auto)"
    )
    parser.add_argument(
        "--waitlist",
        action="store_true",
        help="fans told 'sold out' join the waitlist; cancels come after the sell-out",
    )
    parser.add_argument("--waitlist-share", type=float, default=0.5)
    parser.add_argument(
        "--best-available",
        type=float,
        default=0.0,
        help="share of the buyers who let the shop choose their seats (docs/seating.md, "
        "'Best available') instead of picking them on the map",
    )
    parser.add_argument("--waitlist-wait-seconds", type=float, default=180.0)
    parser.add_argument(
        "--buyers-out",
        help="also write every buyer's timeline (joined, admitted, paid, step durations) "
        "to this JSON file, for looking into where a run's time went",
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "flash_sale"))
    args = parser.parse_args()

    import signal

    def stop_on_sigterm(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # so the finally below stops the topology

    signal.signal(signal.SIGTERM, stop_on_sigterm)

    with staged_sale(args, "flash", args.buyers) as staged:
        topology, sale, tokens = staged.topology, staged.sale, staged.tokens
        state_dir, database_url = staged.state_dir, staged.database_url
        processes = args.processes or max(1, math.ceil(args.buyers / 5000))
        plan = {
            "base_url": topology.gateway_url,
            "show_id": sale["show_id"],
            "section_rank": sale["section_rank"],
            "section_grades": sale["section_grades"],
            "best_available_share": args.best_available,
            "cancel_rate": args.cancel_rate,
            "max_tickets": 4,
            "arrival_seconds": args.arrival_seconds,
            "started_at": time.time(),
            "waitlist": args.waitlist,
            "waitlist_share": args.waitlist_share,
            "waitlist_wait_seconds": args.waitlist_wait_seconds,
        }
        started = time.monotonic()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        timeline = CpuTimeline(topology, plan["started_at"])
        timeline.sample()
        timeline.start()
        try:
            results = run_load(plan, tokens, processes, state_dir)
        finally:
            timeline.stop()
        wall = time.monotonic() - started
        # Only the load generator's processes end (and are reaped) inside run_load.
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_cpu = reaped.ru_utime + reaped.ru_stime - children.ru_utime - children.ru_stime
        summary = summarise(results, sale["seats"], args, wall)
        cores = os.cpu_count() or 1
        sold_out_at = summary["time_to_sell_out_seconds"] or wall
        # Where the cores went: while the crowd arrived, and until the last seat was sold.
        summary["cpu"] = {
            "arrival": timeline.between(0.0, min(args.arrival_seconds, sold_out_at), cores),
            "until_sold_out": timeline.between(0.0, sold_out_at, cores),
        }
        checks = asyncio.run(verify(database_url, sale["show_id"], results))
        if args.waitlist:
            checks["waitlist"] = asyncio.run(
                waitlist_report(database_url, sale["show_id"], results)
            )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.buyers_out:
        Path(args.buyers_out).write_text(json.dumps(results))
    report = {
        "benchmark": "flash_sale",
        "machine": machine(),
        "load_generator": {
            "processes": processes,
            "on_the_same_machine": True,
            "cpu_seconds": round(load_cpu, 1),
            "cpu_share_of_machine": round(load_cpu / (wall * (os.cpu_count() or 1)), 3),
        },
        "topology": {
            "api_processes": args.api,
            "of_them_checkout_only": args.checkout_api,
            "gateway": "nginx",
            "database": "postgresql",
            "redis": True,
        },
        "buyers": args.buyers,
        "seats": sale["seats"],
        "admit_per_second": args.admit_rate,
        "max_active": args.max_active,
        "cancel_rate": args.cancel_rate,
        "arrival_seconds": args.arrival_seconds,
        "wall_seconds": round(wall, 1),
        **checks,
        **summary,
    }
    report["plots"] = plot(results, out)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    invariants = {name: report[name] for name in ZERO_COUNTS}
    if args.waitlist:
        for name in ("unsold_seats_while_fans_waited", "fans_offered_two_seats_at_once"):
            invariants[name] = report["waitlist"][name]
    finish(report, invariants)


if __name__ == "__main__":
    main()
