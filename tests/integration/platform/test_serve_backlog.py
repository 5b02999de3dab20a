"""`boxoffice serve` listens with a deep accept queue: a sale's arrival opens ~1,000
connections a second through the gateway, and behind uvicorn's default (2,048) the kernel
dropped their SYNs (bench/arrival.py, docs/waitroom.md). With ``--stream-port`` it listens on
a second port as deep, where the gateway sends the queue's streams: a join's connection then
never waits behind thousands of them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from boxoffice.platform.config import Settings
from tests.support.processes import free_port, running_server, server_env


def backlog_of(port: int) -> set[int]:
    listing = subprocess.run(
        ["ss", "-lnt", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    rows = [line.split() for line in listing[1:] if line.strip()]
    assert rows, listing
    return {int(row[2]) for row in rows}  # Send-Q: the listen backlog


def test_serve_listens_with_a_backlog_of_4096_or_the_kernels_cap(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    cap = int(Path("/proc/sys/net/core/somaxconn").read_text())
    server = running_server(
        ["serve", "--port", str(port)], server_env(settings), port, log_path=tmp_path / "s.log"
    )
    with server:
        assert backlog_of(port) == {min(4096, cap)}


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_on_its_stream_port_too_with_the_same_backlog(
    settings: Settings, tmp_path: Path, workers: int
) -> None:
    port, stream_port = free_port(), free_port()
    cap = int(Path("/proc/sys/net/core/somaxconn").read_text())
    args = ["serve", "--port", str(port), "--stream-port", str(stream_port)]
    with running_server(
        [*args, "--workers", str(workers)],
        server_env(settings),
        port,
        log_path=tmp_path / "s.log",
    ):
        assert backlog_of(port) == backlog_of(stream_port) == {min(4096, cap)}
        for each in (port, stream_port):
            answer = httpx.get(f"http://127.0.0.1:{each}/health", timeout=10)
            assert answer.status_code == 200, answer.text
