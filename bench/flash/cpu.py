"""Where the machine's cores went: CPU seconds of each kind of process of the topology (and
of the load generator), read from /proc, once or every half second through a run."""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

from bench.purchase import cpu_seconds, descendants, pids_named


def process_cpu(topology: Any) -> dict[str, float]:
    """CPU seconds so far of each kind of server process: the API processes summed, nginx
    with its workers, each other role of the topology (dispatcher, worker, scheduler), and
    the machine's Redis and PostgreSQL."""
    roles: dict[str, list[int]] = {"api": []}
    for name, pid in topology.pids.items():
        if name.startswith("api-"):
            roles["api"].append(pid)
        elif name == "nginx":
            roles["nginx"] = descendants(pid)
        else:
            roles[name] = [pid]
    servers = pids_named("redis-server", "postgres")
    roles["redis"] = sorted(servers["redis-server"])
    roles["postgresql"] = sorted(servers["postgres"])
    return {role: cpu_seconds(pids) for role, pids in roles.items()}


class CpuTimeline(threading.Thread):
    """Every ``every`` seconds, each kind of process's CPU seconds so far, with the time
    since ``started_at`` (a ``time.time()``); the load generator is this process's
    multiprocessing children, each counted to its last reading (they end before the run)."""

    def __init__(self, topology: Any, started_at: float, every: float = 0.5) -> None:
        super().__init__(name="cpu-timeline", daemon=True)
        self.topology, self.started_at, self.every = topology, started_at, every
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._generator: dict[int, float] = {}
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.every):
            self.sample()

    def sample(self) -> None:
        cpu = process_cpu(self.topology)
        for child in multiprocessing.active_children():
            if child.pid is not None:
                seen = cpu_seconds([child.pid])
                self._generator[child.pid] = max(seen, self._generator.get(child.pid, 0.0))
        cpu["load_generator"] = sum(self._generator.values())
        self.samples.append((time.time() - self.started_at, cpu))

    def stop(self) -> None:
        self._done.set()
        self.join()

    def at(self, moment: float) -> dict[str, float]:
        """Each kind's CPU seconds at ``moment``, interpolated between the two samples."""
        before = [s for s in self.samples if s[0] <= moment]
        after = [s for s in self.samples if s[0] >= moment]
        if not before:
            return after[0][1]
        if not after:
            return before[-1][1]
        (t0, a), (t1, b) = before[-1], after[0]
        weight = (moment - t0) / (t1 - t0) if t1 > t0 else 0.0
        return {role: a[role] + (b.get(role, a[role]) - a[role]) * weight for role in a}

    def between(self, start: float, end: float, cores: int) -> dict[str, Any]:
        """The cores each kind of process used from ``start`` to ``end`` (seconds since
        ``started_at``), and the machine's share they add up to."""
        first, last = self.at(start), self.at(end)
        used = {role: round(last[role] - first[role], 1) for role in first}
        seconds = end - start
        return {
            "from_to_seconds": [round(start, 1), round(end, 1)],
            "cpu_seconds": used,
            "cores_in_use": {role: round(v / seconds, 2) for role, v in used.items()},
            "share_of_machine": round(sum(used.values()) / (seconds * cores), 3),
        }
