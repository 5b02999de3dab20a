"""Chaos in the flash sale: the sale of bench/flash_sale.py with one part of it broken mid-sale.

    .venv/bin/python bench/chaos.py --fault api --buyers 3000 --seats 1000     # full size
    .venv/bin/python bench/chaos.py --fault all --buyers 300 --seats 150 ...   # what CI runs

The topology (deploy/local.py: API processes behind nginx, two dispatchers — a leader and a
standby —, worker, scheduler) runs on a PostgreSQL cluster and a Redis of the run's own
(bench/faults.py), under a supervisor that starts a dead process again. At a random moment
of the sale (seeded: ``--seed``) the fault is injected (``all``: each fault in turn,
spaced out). The buyers behave as a good client does: a 503 (or a dropped connection) is
retried after its Retry-After, an order with the same Idempotency-Key, and a place the
waiting room forgot is joined again.

Afterwards it counts, in the database: double-sold seats, orders lost, buyers without an
outcome, paid orders without their tickets, e-mails missing (an ``order_paid`` e-mail for
every order paid, an ``order_cancelled`` one for every one cancelled after it was paid,
waited for while the worker catches up) and answers of 500 (or any 5xx but 502-504) — all
must be 0. The report shows the errors buyers saw around each fault and how long until the
sale sold at its rate again; the plot shows sales over time with the fault marked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "deploy"))

from bench.chaos_report import analyse, emails_and_tickets, plot  # noqa: E402
from bench.common import finish, machine  # noqa: E402
from bench.faults import FAULTS, PrivatePostgres, PrivateRedis, inject  # noqa: E402
from bench.flash_sale import run_load, seed_buyers, setup_sale, summarise, verify  # noqa: E402

INVARIANTS = (
    "double_sold_seats",
    "orders_lost",
    "buyers_without_outcome",
    "paid_orders_without_tickets",
    "emails_missing",
    "server_errors",
)


def fault_moments(faults: list[str], args: argparse.Namespace, rng: random.Random) -> list[float]:
    """Seconds after the sale opens: random, inside the part of the sale that sells.

    The sale sells about ``seats / 2.2`` buyers' worth (fans buy 2.2 seats on average) at
    the admit rate; one fault falls in its middle half, several in turn across most of it."""
    selling = args.seats / 2.2 / args.admit_rate
    first, last = (0.3, 0.65) if len(faults) == 1 else (0.1, 0.85)
    start, end = args.arrival_seconds + selling * first, args.arrival_seconds + selling * last
    span = (end - start) / len(faults)
    return [start + i * span + rng.uniform(0.1, 0.6) * span for i in range(len(faults))]


class FaultInjector(threading.Thread):
    """Injects the faults at their moments (time.time() based) while the buyers run."""

    def __init__(self, plan: list[tuple[float, str]], **context: Any) -> None:
        super().__init__(name="fault-injector", daemon=True)
        self.plan, self.context = plan, context
        self.done: list[dict[str, Any]] = []
        self.failure: str | None = None

    def run(self) -> None:
        for moment, fault in self.plan:
            time.sleep(max(0.0, moment - time.time()))
            try:
                self.done.append(inject(fault, **self.context))
            except Exception as exc:  # reported, and fails the run
                self.failure = f"{fault}: {type(exc).__name__}: {exc}"
                return


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fault", required=True, choices=(*FAULTS, "all"))
    parser.add_argument("--buyers", type=int, default=3000)
    parser.add_argument("--seats", type=int, default=1000)
    parser.add_argument("--admit-rate", type=float, default=5.0)
    parser.add_argument("--max-active", type=int, default=200)
    parser.add_argument("--cancel-rate", type=float, default=0.05)
    parser.add_argument("--hold-minutes", type=int, default=2, help="the event's hold window")
    parser.add_argument("--arrival-seconds", type=float, default=10.0)
    parser.add_argument("--api", type=int, default=3)
    parser.add_argument("--processes", type=int, default=0)
    parser.add_argument("--outage-seconds", type=float, default=3.0, help="Redis/PG down for")
    parser.add_argument("--email-wait-seconds", type=float, default=180.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--redis-empty", action="store_true", help="Redis without persistence: restarts empty"
    )
    parser.add_argument("--port", type=int, default=8280)
    parser.add_argument("--out", default=None, help="default: bench/results/chaos/<fault>")
    return parser.parse_args()


def start_topology(args: argparse.Namespace, work: Path, pg: str, redis_url: str) -> Any:
    import local as topology_tool  # deploy/local.py

    up_args = topology_tool.parser().parse_args(
        [
            *("up", "--api", str(args.api), "--port", str(args.port)),
            *("--api-base-port", "0", "--state-dir", str(work / "topology")),
            *("--database-url", pg, "--redis-url", redis_url, "--redis-prefix", "bo-chaos"),
            *("--rate", "100000r/s", "--burst", "100000", "--dispatchers", "2"),
            *("--sse-per-address", str(args.buyers + 100)),
            *("--nginx-workers", str(topology_tool.nginx_workers_for(args.buyers))),
        ]
    )
    return topology_tool.up(up_args)


def stop_topology(work: Path) -> None:
    import local as topology_tool

    topology_tool.down(
        topology_tool.parser().parse_args(["down", "--state-dir", str(work / "topology")])
    )


def sale(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Servers, topology, the sale with its faults, the counts; returns the report's body."""
    import local as topology_tool

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    faults = list(FAULTS) if args.fault == "all" else [args.fault]
    redis_server = PrivateRedis(work, durable=not args.redis_empty)
    postgres = PrivatePostgres(work)
    postgres.init()
    postgres.start()
    redis_server.start()
    try:
        topology = start_topology(args, work, postgres.url, redis_server.url)
        supervisor = topology_tool.Supervisor(topology)
        supervisor.start()
        try:
            body = _run_sale(args, work, seed, faults, topology, redis_server, postgres)
        finally:
            supervisor.stop()
            stop_topology(work)
        body["supervisor_restarts"] = [
            {"at": round(at - body["opened_at"], 2), "process": name}
            for at, name, _pid in supervisor.restarts
        ]
        return body
    finally:
        redis_server.kill()
        postgres.stop("fast")


def _run_sale(
    args: argparse.Namespace,
    work: Path,
    seed: int,
    faults: list[str],
    topology: Any,
    redis_server: PrivateRedis,
    postgres: PrivatePostgres,
) -> dict[str, Any]:
    sale_info = setup_sale(topology.gateway_url, args)
    keys = work / "topology" / "data" / "keys" / "jwt-dev.pem"
    tokens = asyncio.run(seed_buyers(postgres.url, keys, args.buyers))
    processes = args.processes or max(1, math.ceil(args.buyers / 5000))
    opened_at = time.time()
    plan = {
        "base_url": topology.gateway_url,
        "show_id": sale_info["show_id"],
        "section_rank": sale_info["section_rank"],
        "cancel_rate": args.cancel_rate,
        "max_tickets": 4,
        "arrival_seconds": args.arrival_seconds,
        "started_at": opened_at,
        "retry_unavailable": True,
    }
    moments = fault_moments(faults, args, random.Random(seed))
    injector = FaultInjector(
        [(opened_at + m, f) for m, f in zip(moments, faults, strict=True)],
        topology=topology,
        redis_server=redis_server,
        postgres=postgres,
        prefix="bo-chaos",
        outage_seconds=args.outage_seconds,
    )
    injector.start()
    started = time.monotonic()
    results = run_load(plan, tokens, processes, work)
    wall = time.monotonic() - started
    injector.join(timeout=120)
    if injector.failure or len(injector.done) != len(faults):
        raise SystemExit(f"fault injection failed: {injector.failure or 'not every fault ran'}")
    summary = summarise(results, sale_info["seats"], args, wall)
    checks = asyncio.run(verify(postgres.url, sale_info["show_id"], results))
    after = asyncio.run(
        emails_and_tickets(postgres.url, sale_info["show_id"], args.email_wait_seconds)
    )
    done = [
        {**d, "at": round(d["at"] - opened_at, 2), "back_at": round(d["back_at"] - opened_at, 2)}
        for d in injector.done
    ]
    return {
        "opened_at": opened_at,
        "seed": seed,
        "processes": processes,
        "wall_seconds": round(wall, 1),
        "results": results,
        "faults": done,
        "seats": sale_info["seats"],
        **checks,
        **after,
        **summary,
    }


def main() -> None:
    args = parse()

    def stop_on_sigterm(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # so the finally blocks stop what was started

    signal.signal(signal.SIGTERM, stop_on_sigterm)
    work = Path(tempfile.mkdtemp(prefix="bo-chaos-"))
    try:
        body = sale(args, work)
    finally:
        if not os.environ.get("BOXOFFICE_CHAOS_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}", file=sys.stderr)
    results = body.pop("results")
    body.pop("opened_at")
    out = Path(args.out or ROOT / "bench" / "results" / "chaos" / args.fault)
    out.mkdir(parents=True, exist_ok=True)
    analysis = analyse(results, body["faults"])
    report = {
        "benchmark": "chaos",
        "fault": args.fault,
        "machine": machine(),
        "load_generator": {"processes": body.pop("processes"), "on_the_same_machine": True},
        "topology": {
            "api_processes": args.api,
            "dispatchers": "2 (leader + standby)",
            "gateway": "nginx",
            "database": "postgresql 15 (own cluster)",
            "redis": "own redis-server, "
            + ("no persistence" if args.redis_empty else "AOF, appendfsync always"),
            "supervisor": "deploy/local.py Supervisor, checks every 0.5 s",
        },
        "buyers": args.buyers,
        "admit_per_second": args.admit_rate,
        "max_active": args.max_active,
        "cancel_rate": args.cancel_rate,
        "hold_minutes": args.hold_minutes,
        "arrival_seconds": args.arrival_seconds,
        "outage_seconds": args.outage_seconds,
        **body,
        **analysis,
    }
    report["plots"] = plot(results, body["faults"], analysis, out, args.fault)
    invariants = {name: int(report[name]) for name in INVARIANTS}
    (out / "report.json").write_text(json.dumps({**report, "invariants": invariants}, indent=2))
    finish(report, invariants)


if __name__ == "__main__":
    main()
