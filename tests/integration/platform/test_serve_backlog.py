"""`boxoffice serve` listens with a deep accept queue: a sale's arrival opens ~1,000
connections a second through the gateway, and behind uvicorn's default (2,048) the kernel
dropped their SYNs (bench/arrival.py, docs/waitroom.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from boxoffice.platform.config import Settings
from tests.support.processes import free_port, running_server, server_env


def test_serve_listens_with_a_backlog_of_4096_or_the_kernels_cap(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    cap = int(Path("/proc/sys/net/core/somaxconn").read_text())
    server = running_server(
        ["serve", "--port", str(port)], server_env(settings), port, log_path=tmp_path / "s.log"
    )
    with server:
        listing = subprocess.run(
            ["ss", "-lnt", f"sport = :{port}"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
    rows = [line.split() for line in listing[1:] if line.strip()]
    assert rows, listing
    assert {int(row[2]) for row in rows} == {min(4096, cap)}  # Send-Q: the listen backlog
