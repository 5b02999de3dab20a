"""deploy/local.py's processes as the operating system sees them."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

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
