"""deploy/local.py's processes as the operating system sees them."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from bench.common import drop_postgres_database

from tests.support import backends
from tests.support.processes import free_port_to_listen_on_later

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def _local() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_local", DEPLOY / "local.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def _until_it_runs(pid: int, program: str) -> None:
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] != program.encode():
        assert time.monotonic() < deadline, f"{pid} never ran {program}"
        time.sleep(0.01)


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="no session autogroups")
def test_a_background_role_runs_niced_in_a_niced_session(tmp_path: Path) -> None:
    local = _local()
    (tmp_path / "logs").mkdir()
    topology = local.Topology(
        state_dir=str(tmp_path),
        gateway_url="http://127.0.0.1:1",
        database_url="",
        redis_url="",
        api_ports=[],
        commands={"worker": ["sleep", "30"], "api-1": ["sleep", "30"]},
        niceness={"worker": 10},
    )
    worker = local.respawn(topology, "worker")
    api = local.respawn(topology, "api-1")
    try:
        for process, niceness in ((worker, 10), (api, 0)):
            _until_it_runs(process.pid, "sleep")  # `nice` sets the value, then execs
            assert os.getpriority(os.PRIO_PROCESS, process.pid) == niceness + os.nice(0)
            # Its own session: the CPU is shared between sessions before a process's nice
            # counts, so the session carries the niceness too.
            assert os.getsid(process.pid) == process.pid
            group = Path(f"/proc/{process.pid}/autogroup").read_text()
            assert group.split()[-1] == str(niceness), group
    finally:
        for process in (worker, api):
            process.kill()
            process.wait()


@pytest.mark.timeout(300)
def test_a_start_that_fails_half_way_leaves_nothing_running(tmp_path: Path) -> None:
    """The gateway's port is taken: nginx cannot bind it after the API processes and the
    background roles started, and ``up`` takes all of them down before the error rises
    (a failed start once left them running for hours)."""
    backends.require_service("postgresql")
    backends.require_service("redis")
    backends.require_nginx()
    local = _local()
    database_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/bo_up_fails_{os.getpid()}"
    taken = socket.socket()
    taken.bind(("127.0.0.1", free_port_to_listen_on_later()))
    taken.listen()
    state_dir = tmp_path / "topology"
    gateway = ["--port", str(taken.getsockname()[1]), "--api", "1", "--api-base-port", "0"]
    data = ["--state-dir", str(state_dir), "--database-url", database_url, "--no-demo"]
    redis = ["--redis-prefix", f"bo-up-fails-{os.getpid()}", "--background-nice", "0"]
    args = local.parser().parse_args(["up", *gateway, *data, *redis])
    try:
        with pytest.raises((SystemExit, subprocess.CalledProcessError)):
            local.up(args)
        # Every role had started (each writes its log); none of them runs now, nor nginx.
        started = {path.stem for path in (state_dir / "logs").iterdir()}
        assert {"worker", "dispatcher", "scheduler"} <= started, started
        assert any(name.startswith("api-") for name in started), started
        assert _processes_with(f"BOXOFFICE_REDIS_PREFIX={args.redis_prefix}") == []
        nginx = subprocess.run(["pgrep", "-f", str(state_dir)], capture_output=True, text=True)
        assert nginx.stdout.split() == []
    finally:
        taken.close()
        local.down(local.parser().parse_args(["down", "--state-dir", str(state_dir)]))
        asyncio.run(drop_postgres_database(database_url))


def _processes_with(variable: str) -> list[int]:
    """The processes whose environment holds ``variable`` (``NAME=value``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # gone, or not ours to read
            continue
        if variable.encode() in environment:
            found.append(int(entry.name))
    return found


def test_the_checkout_cannot_take_every_api_process(tmp_path: Path) -> None:
    """``--checkout-api`` as large as ``--api`` would leave the gateway's other upstream
    empty (nginx refuses it): refused before anything starts."""
    local = _local()
    for wanted in ("3", "-1"):
        args = local.parser().parse_args(
            ["up", "--api", "3", "--checkout-api", wanted, "--state-dir", str(tmp_path)]
        )
        with pytest.raises(SystemExit, match="checkout-api"):
            local.up(args)
    assert list(tmp_path.iterdir()) == []
