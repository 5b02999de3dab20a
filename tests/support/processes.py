"""Real server processes for tests: free ports, start, wait until healthy, stop."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import httpx

from boxoffice.platform.config import Settings
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import TokenUse

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_to_listen_on_later() -> int:
    """A free port below the kernel's ephemeral range, for a server that binds it only after
    a while (the topology's gateway, after migrations and the API processes): a port from
    ``free_port`` may meanwhile be given to one of the many outgoing connections made in
    between, and the server then fails with "Address already in use"."""
    ranges = Path("/proc/sys/net/ipv4/ip_local_port_range")
    first_ephemeral = int(ranges.read_text().split()[0]) if ranges.exists() else 32768
    for _ in range(100):
        port = random.randrange(20_000, max(first_ephemeral, 20_001))
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


def boxoffice_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "boxoffice", *args]


@contextmanager
def running_server(
    args: Sequence[str],
    env: dict[str, str],
    port: int,
    *,
    log_path: Path,
    startup_timeout: float = 60.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``boxoffice <args>`` and yield once ``/health`` answers; stop it afterwards."""
    full_env = {**os.environ, **env}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            boxoffice_command(*args), cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_healthy(f"http://127.0.0.1:{port}", process, startup_timeout, log_path)
            yield process
        finally:
            stop(process)


def wait_healthy(
    base_url: str, process: subprocess.Popen[bytes], timeout: float, log_path: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"server not healthy in {timeout}s:\n{log_path.read_text()}")


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The test's settings as a server process reads them: same database, Redis and keys.

    Pools on server databases stay small: PostgreSQL allows 100 connections and parallel
    test workers each run servers of their own.
    """
    env = {
        "BOXOFFICE_ENVIRONMENT": "test",
        "BOXOFFICE_DATA_DIR": str(settings.data_dir),  # the same signing key as the test
        "BOXOFFICE_DATABASE_URL": settings.database_url,
        "BOXOFFICE_REDIS_PREFIX": settings.redis_prefix,
        "BOXOFFICE_LOG_LEVEL": "WARNING",
        "BOXOFFICE_LOG_JSON": "true",
        "BOXOFFICE_SEED_DEMO": "false",
        "BOXOFFICE_ARGON2_TIME_COST": str(settings.identity.argon2_time_cost),
        "BOXOFFICE_ARGON2_MEMORY_KIB": str(settings.identity.argon2_memory_kib),
    }
    if not settings.database_url.startswith("sqlite"):
        env["BOXOFFICE_DATABASE_POOL_SIZE"] = "5"  # SQLite serialises writers itself
    if settings.redis_url:
        env["BOXOFFICE_REDIS_URL"] = settings.redis_url
    env.update(overrides)
    return env


@contextmanager
def servers(envs: list[dict[str, str]], logs: Path) -> Iterator[list[str]]:
    """One `boxoffice serve` per environment; yields their base URLs."""
    with ExitStack() as stack:
        urls = []
        for index, env in enumerate(envs):
            port = free_port()
            stack.enter_context(
                running_server(
                    ["serve", "--port", str(port)], env, port, log_path=logs / f"serve-{index}.log"
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        yield urls


def bearer_tokens(runtime: Runtime, count: int) -> list[str]:
    """Access tokens of ``count`` distinct customers (signed by the shared dev key)."""
    now = runtime.clock.now()
    return [
        runtime.keys.sign(
            {"sub": new_id(), "email": f"fan{i}@example.com", "role": "customer"},
            use=TokenUse.ACCESS,
            now=now,
            ttl=timedelta(hours=1),
        )
        for i in range(count)
    ]
