"""Every benchmark in bench/ runs at a tiny size, so none can rot unnoticed.

Each script ends its JSON report with ``invariants`` (counts that must be zero: failed
requests, seats held or sold twice, events lost, stock oversold) and exits 1 when one is
not (``bench/common.finish``). This runs them as a newcomer would, as processes, and
checks the exit status and the counts; the timings they print are not judged here.
The full-size flash sale's small twin is ``tests/e2e/test_flash_sale.py``, the chaos
runs' ``tests/e2e/test_chaos.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import backends
from tests.support.processes import free_port_to_listen_on_later

ROOT = Path(__file__).resolve().parents[2]

FREE_PORT = "{free port}"  # replaced when the benchmark starts: other runs may hold any fixed one
TINY = {
    "arrival": [
        *("--fans", "300", "--rate", "150", "--hold-seconds", "1", "--api", "2"),
        *("--port", FREE_PORT),
    ],
    "auth": ["--seconds", "1", "--concurrency", "4"],
    "catalog_reads": [
        *("--seconds", "0.5", "--events", "4", "--rounds", "1", "--no-stadium"),
        *("--workers", "2"),
    ],
    "events": [
        *("--events", "300", "--concurrency", "8", "--database", "postgresql"),
        *("--brokers", "redis,nats,kafka"),  # Kafka: tansu, started by the benchmark
    ],
    "holds": [
        "--seconds",
        "2",
        "--rows",
        "2",
        "--per-row",
        "20",
        "--users",
        "400",
        "--pgbench-seconds",
        "1",
    ],
    "merch_stock": ["--orders", "60", "--backend", "sqlite", "--backend", "postgresql"],
    "purchase": ["--seats", "60", "--concurrency", "10", "--workers", "2"],
    "purchase_embedded": ["--seats", "40", "--concurrency", "10", "--embedded"],
    "statement_cost": ["--statements", "100"],
    "waitroom": ["--joins", "300", "--polls", "300", "--streams", "100", "--seconds", "2"],
}
NEEDS = {
    "arrival": ["postgresql", "redis", "nginx"],
    "events": ["postgresql", "redis", "nats"],
    "holds": ["postgresql", "redis"],
    "merch_stock": ["postgresql"],
    "purchase": ["postgresql", "redis"],
    "statement_cost": ["postgresql"],
    "waitroom": ["redis"],
}


def test_every_benchmark_has_a_tiny_run() -> None:
    helpers = {"__init__", "common", "invariants", "faults", "chaos_report"}
    scripts = {p.stem for p in (ROOT / "bench").glob("*.py")} - helpers
    twins_in_e2e = {"flash_sale", "chaos"}
    assert scripts - twins_in_e2e == {name.removesuffix("_embedded") for name in TINY}


@pytest.mark.slow
@pytest.mark.timeout(720)  # past its run's own timeout, which fails it with the run's output
@pytest.mark.parametrize("name", sorted(TINY))
def test_benchmark_runs_with_its_invariants_at_zero(name: str, tmp_path: Path) -> None:
    for service in NEEDS.get(name, []):
        if service == "nginx":
            backends.require_nginx()
        else:
            backends.require_service(service)
    arguments = [str(free_port_to_listen_on_later()) if a == FREE_PORT else a for a in TINY[name]]
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name.removesuffix('_embedded')}.py"), *arguments],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout)
    assert report["invariants"], "a benchmark reports what it checked"
    assert set(report["invariants"].values()) == {0}, report["invariants"]
    assert report["machine"]["cores"] >= 1
