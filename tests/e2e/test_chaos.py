"""Issue 17's CI check: a small flash sale through the topology with every fault in turn.

bench/chaos.py runs it on a PostgreSQL cluster and a Redis of its own (the shared servers
are never restarted): kill -9 of an API process, of the dispatcher leader, of the worker,
a Redis restart and a PostgreSQL restart, each at a random moment (the seed is in the
report). It exits 1 unless every invariant count is 0; the test checks the report too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import backends
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def require_binary(path: str) -> None:
    if shutil.which(path) or Path(path).exists():
        return
    message = f"{path} is not installed; the chaos run needs it"
    if backends.services_required():
        pytest.fail(f"{message}; BOXOFFICE_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(message)


@pytest.mark.slow
@pytest.mark.timeout(720)  # past its run's own timeout, which fails it with the run's output
def test_a_small_sale_survives_each_fault(tmp_path: Path) -> None:
    for needed in ("redis-server", str(PG_BIN / "initdb"), str(PG_BIN / "pg_ctl")):
        require_binary(needed)
    backends.require_nginx()
    out = tmp_path / "report"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "chaos.py"),
            *("--fault", "all", "--buyers", "300", "--seats", "200"),
            *("--admit-rate", "2", "--max-active", "40", "--arrival-seconds", "5"),
            *("--api", "2", "--processes", "1", "--outage-seconds", "1"),
            # a worker killed with e-mails in flight leaves them to the broker's redelivery
            # (60 s); one redelivery that fails (PostgreSQL restarting, a busy machine) waits
            # a second round. A run with none missing stops waiting at once.
            *("--email-wait-seconds", "200"),
            *("--port", str(free_port()), "--out", str(out)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    written = out / "report.json"
    report = json.loads(written.read_text()) if written.exists() else {}
    found = {key: report.get(key) for key in ("faults", "mail_backlog") if key in report}
    assert result.returncode == 0, f"report: {json.dumps(found)}\n{result.stderr[-4000:]}"
    assert [fault["fault"] for fault in report["faults"]] == [
        "api",
        "dispatcher",
        "worker",
        "redis",
        "postgres",
    ]
    for count in (
        "double_sold_seats",
        "orders_lost",
        "buyers_without_outcome",
        "paid_orders_without_tickets",
        "emails_missing",
        "server_errors",
    ):
        assert report[count] == 0, (count, report["errors_sample"])
    assert report["invariants"] == dict.fromkeys(report["invariants"], 0)
    assert sum(report["outcomes"].values()) == 300
    assert report["tickets_sold"] == report["seats_sold"] > 0
    assert report["sold_seats_without_exactly_one_ticket"] == 0
    # The killed processes came back (the supervisor), the dispatcher's standby too.
    restarted = {restart["process"] for restart in report["supervisor_restarts"]}
    assert {"worker", report["faults"][0]["process"], report["faults"][1]["process"]} <= restarted
    assert (out / "sales_over_time.png").stat().st_size > 1000
