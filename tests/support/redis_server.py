"""A Redis server of the test's own, on a free port, that the test may stop and restart.

The shared Redis on 6379 serves every test worker (and other runs on the machine), so a
test that restarts Redis runs its own: ``redis-server`` from the machine's packages, no
persistence, like the shared one.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.support.backends import services_required
from tests.support.processes import free_port


def redis_server_binary() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found:
        return found
    message = "redis-server is not installed"
    if services_required():
        pytest.fail(f"{message}; BOXOFFICE_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(message)


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        self.binary = redis_server_binary()
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.directory / f"redis-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise TimeoutError(f"redis-server on {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client_list(self) -> list[dict[str, str]]:
        clients: list[dict[str, str]] = redis.Redis(port=self.port).client_list()
        return clients

    def subscribers(self) -> int:
        """Connections subscribed to channels (``P`` flag: pub/sub)."""
        return sum(1 for client in self.client_list() if "P" in client.get("flags", ""))


@contextmanager
def private_redis(directory: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
