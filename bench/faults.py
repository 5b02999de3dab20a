"""What the chaos runs (bench/chaos.py) break, and the servers of their own they break it on.

The machine's PostgreSQL (5432) and Redis (6379) serve everyone else's tests, so a run
that restarts them starts its own: a PostgreSQL cluster made with ``initdb`` in a
temporary directory and a ``redis-server`` without persistence, each on a free port.

Faults, one per run, at a moment chosen by the caller:

- ``api``: ``kill -9`` of one API process; the topology's supervisor starts it again.
- ``dispatcher``: ``kill -9`` of the dispatcher holding the leader lease; the standby
  takes the lease when it expires (and the supervisor starts a new standby).
- ``worker``: ``kill -9`` of the worker (outbox relay and consumers); restarted.
- ``redis``: Redis killed and started again on the same port: from its append-only file
  (``--redis-empty``: empty, as a Redis without persistence would).
- ``postgres``: PostgreSQL stopped in ``immediate`` mode (no shutdown checkpoint: a crash,
  recovered from the WAL at start) and started again on the same port.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

FAULTS = ("api", "dispatcher", "worker", "redis", "postgres")
PG_BIN = Path(os.environ.get("BOXOFFICE_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def binary(path: Path | str) -> str:
    """The binary's path, or SystemExit naming it (a chaos run cannot do without it)."""
    found = shutil.which(str(path)) or (str(path) if Path(path).exists() else None)
    if found is None:
        raise SystemExit(f"{path} is not installed; the chaos runs need it")
    return found


class PrivateRedis:
    """``redis-server`` on a port of its own. ``durable`` (the default): as a deployment
    that uses Redis Streams as its broker must run it, with an append-only file synced on
    every write, so a killed Redis comes back with its streams, groups and queues. Without
    it, a restart comes back empty: the events relayed but not yet consumed are gone with
    it (what the first full-size Redis run showed: e-mails missing)."""

    def __init__(self, directory: Path, *, durable: bool = True) -> None:
        self.binary = binary("redis-server")
        self.directory = directory
        self.durable = durable
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "yes" if self.durable else "no", "--appendfsync", "always"),
                *("--dir", str(self.directory), "--maxclients", "10000"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while not _answers(self.port):
            if time.monotonic() > deadline:
                raise SystemExit(f"redis-server on {self.port} did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


class PrivatePostgres:
    """A PostgreSQL cluster of its own (``initdb`` in ``directory``, trust auth). PostgreSQL
    refuses to run as root: as root, the cluster is run as the ``postgres`` user."""

    def __init__(self, directory: Path) -> None:
        self.pg_ctl = binary(PG_BIN / "pg_ctl")
        self.initdb = binary(PG_BIN / "initdb")
        self.home = directory / "postgres"
        self.data = self.home / "pgdata"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            import pwd

            owner = pwd.getpwnam("postgres")
            self.home.mkdir(mode=0o700)
            os.chown(self.home, owner.pw_uid, owner.pw_gid)
            os.chmod(directory, 0o711)  # noqa: S103 (postgres must traverse it, not list it)
            self.as_user = [binary("runuser"), "-u", "postgres", "--"]
        else:
            self.home.mkdir(mode=0o700)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/boxoffice_chaos"

    def init(self) -> None:
        subprocess.run(
            [*self.as_user, self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust"],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            "-c max_connections=300 -c shared_buffers=128MB"
        )
        subprocess.run(
            [
                *(*self.as_user, self.pg_ctl, "-D", str(self.data)),
                *("-l", str(self.home / "postgres.log")),
                *("-o", options, "-w", "-t", "60", "start"),
            ],
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            [*self.as_user, self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop"],
            check=False,
            capture_output=True,
        )


def dispatcher_leader(redis_url: str, prefix: str, pids: dict[str, int]) -> str | None:
    """The topology's name of the dispatcher holding the lease (the holder is host:pid)."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    try:
        holder = client.get(f"{prefix}:lease:{{waitroom-dispatcher}}")  # platform/lease.py
    finally:
        client.close()
    if holder is None:
        return None
    pid = int(holder.decode().rsplit(":", 1)[1])
    return next((name for name, known in pids.items() if known == pid), None)


def inject(
    fault: str,
    *,
    topology: Any,
    redis_server: PrivateRedis,
    postgres: PrivatePostgres,
    prefix: str,
    outage_seconds: float,
) -> dict[str, Any]:
    """Break ``fault`` now; returns what was done, with the moments (time.time())."""
    started = time.time()
    done: dict[str, Any] = {"fault": fault, "at": started}
    if fault in ("api", "worker", "dispatcher"):
        if fault == "api":
            names = sorted(n for n in topology.pids if n.startswith("api-"))
            name = names[int(started * 1000) % len(names)]
        elif fault == "worker":
            name = "worker"
        else:
            name = dispatcher_leader(redis_server.url, prefix, topology.pids) or "dispatcher"
        os.kill(topology.pids[name], signal.SIGKILL)
        done.update(process=name, pid=topology.pids[name], signal="SIGKILL")
    elif fault == "redis":
        redis_server.kill()
        time.sleep(outage_seconds)
        redis_server.start()
        done.update(down_seconds=round(time.time() - started, 2))
    elif fault == "postgres":
        postgres.stop("immediate")
        time.sleep(outage_seconds)
        postgres.start()
        done.update(down_seconds=round(time.time() - started, 2), stop_mode="immediate")
    else:
        raise ValueError(f"unknown fault {fault!r}")
    done["back_at"] = time.time()
    return done
