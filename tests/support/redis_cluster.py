"""A three-master Redis Cluster of the tests' own, started once per test process.

``redis-server --cluster-enabled yes`` on three free ports (no persistence), joined by
``redis-cli --cluster create ... --cluster-replicas 0``; stopped when the process exits.
Its URL, ``redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/0``, is what a
deployment sets as ``BOXOFFICE_REDIS_URL`` to run on a cluster (docs/redis.md).
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

from tests.support.backends import services_required
from tests.support.children import stop_at_end
from tests.support.redis_server import redis_server_binary

MASTERS = 3
_cluster: dict[str, str] = {}


def _redis_cli() -> str:
    found = shutil.which("redis-cli")
    if found:
        return found
    message = "redis-cli is not installed (it creates the test Redis Cluster)"
    if services_required():
        pytest.fail(f"{message}; BOXOFFICE_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(message)


def redis_cluster_url() -> str:
    """The URL of this test process's Redis Cluster, started at the first call."""
    if "url" in _cluster:
        return _cluster["url"]
    server, cli = redis_server_binary(), _redis_cli()
    directory = Path(tempfile.mkdtemp(prefix="bo-redis-cluster-"))
    ports = _cluster_ports(MASTERS)
    processes = []
    for port in ports:
        node = directory / str(port)
        node.mkdir()
        log = (node / "redis.log").open("ab")
        options = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
        options += ["--cluster-node-timeout", "2000", "--save", "", "--appendonly", "no"]
        processes.append(
            subprocess.Popen(
                [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(node), *options],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    stop_at_end(lambda: _stop(processes, directory))
    for port in ports:
        _wait(lambda port=port: redis.Redis(port=port, socket_timeout=0.5).ping(), port)
    nodes = [f"127.0.0.1:{port}" for port in ports]
    created = subprocess.run(
        [cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if created.returncode != 0:
        pytest.fail(f"redis-cli --cluster create failed: {created.stdout}{created.stderr}")
    for port in ports:
        _wait(lambda port=port: _cluster_ok(port), port)
    _cluster["url"] = "redis+cluster://" + ",".join(nodes) + "/0"
    return _cluster["url"]


def _cluster_ports(count: int) -> list[int]:
    """Free ports whose cluster bus port (port + 10000) is free and valid too."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randrange(20_000, 45_000)
        if port not in ports and _bindable(port) and _bindable(port + 10_000):
            ports.append(port)
    return ports


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _cluster_ok(port: int) -> bool:
    info = redis.Redis(port=port, socket_timeout=0.5).cluster("info")
    return bool(info.get("cluster_state") == "ok")


def _wait(ready: object, port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if ready():  # type: ignore[operator]
                return
        except redis.RedisError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the Redis Cluster node on {port} did not come up", pytrace=False)


def _stop(processes: list[subprocess.Popen[bytes]], directory: Path) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
    shutil.rmtree(directory, ignore_errors=True)
