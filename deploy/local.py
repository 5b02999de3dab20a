"""A production-like topology on one machine: `make topology` (or `python deploy/local.py up`).

Starts, on the machine's PostgreSQL and Redis: N API processes (`boxoffice serve`), the
dispatcher, a worker, the scheduler, and nginx in front as the gateway (installed from
Debian's packages when missing). `down` stops everything it started; `status` shows it.

    python deploy/local.py up [--api 3] [--port 8080] [--database-url URL] [--redis-url URL]
    python deploy/local.py down
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
DEFAULT_STATE_DIR = ROOT / "var" / "topology"
DEFAULT_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/boxoffice_topology"
ROLES = ("dispatcher", "worker", "scheduler")
# With --api-base-port: API process N's streams listen on its port plus this.
STREAM_PORT_OFFSET = 100
# Work that can wait while people buy (e-mails, webhooks, the outbox's relay, scheduled jobs)
# runs at a lower CPU priority when it shares a machine with the API (docs/decisions.md).
BACKGROUND_ROLES = ("worker", "scheduler")


@dataclass
class Topology:
    state_dir: str
    gateway_url: str
    database_url: str
    redis_url: str
    api_ports: list[int]
    # The API processes the gateway sends only the checkout (seats, holds, orders) to; none:
    # every API process serves everything.
    checkout_ports: list[int] = field(default_factory=list)
    # Each API process's second port, for the queue's streams (as api_ports, in order).
    stream_ports: list[int] = field(default_factory=list)
    pids: dict[str, int] = field(default_factory=dict)
    # How each process was started (argv, and the BOXOFFICE_* settings), so a supervisor can
    # start a dead one again exactly as it was.
    commands: dict[str, list[str]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    niceness: dict[str, int] = field(default_factory=dict)  # by process; absent: 0

    def save(self) -> None:
        Path(self.state_dir, "topology.json").write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, state_dir: Path) -> Topology | None:
        path = state_dir / "topology.json"
        return cls(**json.loads(path.read_text())) if path.exists() else None


def nginx_binary() -> str:
    subprocess.run(["bash", str(DEPLOY / "ensure-nginx.sh")], check=True)
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        raise SystemExit("nginx is not available")
    return found


def render_gateway(
    listen: int,
    api_ports: list[int],
    rate: str,
    burst: int,
    sse_per_address: int,
    checkout_ports: list[int] | None = None,
    stream_ports: list[int] | None = None,
) -> str:
    """nginx's server block: the checkout's own ports and the streams' where given, else
    every API port."""
    values = {
        "BOXOFFICE_SSE_PER_ADDRESS": str(sse_per_address),
        "BOXOFFICE_LISTEN": f"127.0.0.1:{listen}",
        "BOXOFFICE_UPSTREAMS": _servers(api_ports),
        "BOXOFFICE_CHECKOUT_UPSTREAMS": _servers(checkout_ports or api_ports),
        "BOXOFFICE_STREAM_UPSTREAMS": _servers(stream_ports or api_ports),
        "BOXOFFICE_RATE": rate,
        "BOXOFFICE_BURST": str(burst),
    }
    template = (DEPLOY / "nginx" / "boxoffice.conf.template").read_text()
    return re.sub(r"\$\{(BOXOFFICE_[A-Z_]+)\}", lambda m: values[m.group(1)], template)


def _servers(ports: list[int]) -> str:
    return " ".join(f"server 127.0.0.1:{p} max_fails=0;" for p in ports)


def nginx_workers_for(streams: int) -> int:
    """Gateway workers for ``streams`` long-lived client connections: each proxied stream
    holds two descriptors of one worker (its 16,384 connections, 18,000 files), so a worker
    carries about 7,000 streams with room for the short requests beside them."""
    return max(2, math.ceil(streams / 7000))


def nginx_main_config(prefix: Path, workers: int) -> str:
    # Each proxied stream holds two descriptors; several workers share the load of many streams.
    return f"""worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/logs/nginx-error.log warn;
events {{ worker_connections 16384; }}
worker_rlimit_nofile 18000;
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body; proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi; uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/boxoffice.conf;
}}
"""


def _create_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it does not exist."""
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )

    async def create() -> None:
        conn = await asyncpg.connect(admin)
        try:
            exists = await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname=$1", parsed.database
            )
            if not exists:
                await conn.execute(f'CREATE DATABASE "{parsed.database}"')
        finally:
            await conn.close()

    asyncio.run(create())


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(url: str, topology: Topology, name: str | None = None, timeout: float = 120.0) -> None:
    """Wait until ``url`` answers 200; stop the topology and say why when it does not (process
    ``name`` died — its log's end — or the time ran out on a machine too loaded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if name is not None and not _pid_alive(topology.pids[name]):
            break
        time.sleep(0.3)
    log = Path(topology.state_dir, "logs", f"{name}.log") if name else None
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    down(argparse.Namespace(state_dir=topology.state_dir))
    raise SystemExit(f"{url} did not answer in {timeout:.0f}s ({name or 'gateway'}):\n{tail}")


def up(args: argparse.Namespace) -> Topology:
    state_dir = Path(args.state_dir)
    if (existing := Topology.load(state_dir)) and _alive(existing):
        raise SystemExit(
            f"a topology is already running (gateway {existing.gateway_url}); run down"
        )
    if not 0 <= args.checkout_api < args.api:
        raise SystemExit("--checkout-api leaves no API process for the rest (0 <= N < --api)")
    for sub in ("logs", "tmp", "data"):
        (state_dir / sub).mkdir(parents=True, exist_ok=True)
    nginx = nginx_binary()
    env = {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": args.database_url,
        "BOXOFFICE_REDIS_URL": args.redis_url,
        "BOXOFFICE_REDIS_PREFIX": args.redis_prefix,
        "BOXOFFICE_DATA_DIR": str(state_dir / "data"),
        "BOXOFFICE_LOG_LEVEL": "WARNING",
        "BOXOFFICE_PUBLIC_URL": f"http://127.0.0.1:{args.port}",
    }
    # A crowd far back in a line hears its place every 15 s, not every tick (docs/waitroom.md:
    # against every 5 s, half the stream events and a sale sold out ~15 % sooner).
    env.setdefault("BOXOFFICE_WAITROOM_STREAM_DISTANT_POSITION", "500")
    env.setdefault("BOXOFFICE_WAITROOM_STREAM_DISTANT_EVERY_SECONDS", "15")
    # The worker relays the outbox through a broker: Redis Streams on the same Redis by default.
    env["BOXOFFICE_BROKER_URL"] = args.broker_url or args.redis_url
    _create_database(args.database_url)
    python = sys.executable
    quiet = {"stdout": sys.stderr}  # the caller's stdout stays theirs (benchmarks print JSON)
    subprocess.run([python, "-m", "boxoffice", "migrate"], env=env, cwd=ROOT, check=True, **quiet)
    if args.demo:
        subprocess.run([python, "-m", "boxoffice", "demo"], env=env, cwd=ROOT, check=True, **quiet)

    # --api-base-port 0: ports the system says are free (runs side by side, as tests do).
    api_ports = [
        args.api_base_port + i if args.api_base_port else _free_port() for i in range(args.api)
    ]
    stream_ports = [
        port + STREAM_PORT_OFFSET if args.api_base_port else _free_port() for port in api_ports
    ]
    topology = Topology(
        state_dir=str(state_dir),
        gateway_url=f"http://127.0.0.1:{args.port}",
        database_url=args.database_url,
        redis_url=args.redis_url,
        api_ports=api_ports,
        checkout_ports=api_ports[args.api - args.checkout_api :],  # the last N; none for 0
        stream_ports=stream_ports,
    )
    topology.env = {k: v for k, v in env.items() if k.startswith("BOXOFFICE_")}
    for port, stream_port in zip(api_ports, stream_ports, strict=True):
        topology.commands[f"api-{port}"] = [
            *(python, "-m", "boxoffice", "serve"),
            *("--port", str(port), "--stream-port", str(stream_port)),
        ]
        if topology.checkout_ports and port not in topology.checkout_ports and args.front_nice:
            topology.niceness[f"api-{port}"] = args.front_nice
    for role in ROLES:
        topology.commands[role] = [python, "-m", "boxoffice", role]
        if role in BACKGROUND_ROLES and args.background_nice:
            topology.niceness[role] = args.background_nice
    for standby in range(2, args.dispatchers + 1):  # the standbys wait for the leader lease
        topology.commands[f"dispatcher-{standby}"] = [python, "-m", "boxoffice", "dispatcher"]
    for name in topology.commands:
        topology.pids[name] = respawn(topology, name).pid
    topology.save()
    try:  # a start that fails half-way (a port taken, a role dead) leaves nothing running
        _open_gateway(args, topology, state_dir, nginx)
    except BaseException:
        down(argparse.Namespace(state_dir=str(state_dir)))
        raise
    return topology


def _open_gateway(
    args: argparse.Namespace, topology: Topology, state_dir: Path, nginx: str
) -> None:
    """Once the API processes answer: nginx in front of them, and every role still alive."""
    for port in topology.api_ports:
        _wait(f"http://127.0.0.1:{port}/ready", topology, f"api-{port}")
    front = [p for p in topology.api_ports if p not in topology.checkout_ports]
    ports = zip(topology.api_ports, topology.stream_ports, strict=True)
    streams = [stream for port, stream in ports if port in front]
    (state_dir / "boxoffice.conf").write_text(
        render_gateway(
            args.port,
            front,
            args.rate,
            args.burst,
            args.sse_per_address,
            topology.checkout_ports,
            streams,
        )
    )
    (state_dir / "nginx.conf").write_text(nginx_main_config(state_dir, args.nginx_workers))
    subprocess.run(
        [nginx, "-t", "-q", "-p", str(state_dir), "-c", str(state_dir / "nginx.conf")], check=True
    )
    subprocess.run([nginx, "-p", str(state_dir), "-c", str(state_dir / "nginx.conf")], check=True)
    topology.pids["nginx"] = int((state_dir / "nginx.pid").read_text().strip())
    topology.save()
    _wait(f"{topology.gateway_url}/ready", topology)
    for role in topology.commands:  # a role that died at start-up is a failed start
        if not _pid_alive(topology.pids[role]):
            log = (state_dir / "logs" / f"{role}.log").read_text()[-2000:]
            raise SystemExit(f"{role} exited at start-up:\n{log}")


def respawn(topology: Topology, name: str) -> subprocess.Popen[bytes]:
    """Start process ``name`` of the topology (again) with its command and settings."""
    env = {**os.environ, **topology.env}
    command, niceness = topology.commands[name], topology.niceness.get(name, 0)
    if niceness:
        command = ["nice", "-n", str(niceness), *command]
    process = _spawn(command, env, Path(topology.state_dir, "logs", f"{name}.log"))
    if niceness:
        _lower_session_priority(process.pid, niceness)
    return process


def _lower_session_priority(pid: int, niceness: int) -> None:
    """Each process runs in its own session, and Linux shares the CPU between sessions
    (autogroups) before it looks at a process's nice value: the session's own niceness is
    what makes a background role yield to the API. Nothing to do where there is none."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/autogroup").write_text(str(niceness))


class Supervisor(threading.Thread):
    """Starts again any process of the topology that died (nginx aside), as systemd's
    ``Restart=always`` or a Kubernetes Deployment would: checked every ``interval`` seconds.
    ``restarts`` lists (time.time(), name, new pid)."""

    def __init__(self, topology: Topology, interval: float = 0.5) -> None:
        super().__init__(name="topology-supervisor", daemon=True)
        self.topology = topology
        self.interval = interval
        self.restarts: list[tuple[float, str, int]] = []
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            for name in list(self.topology.commands):
                if not _pid_alive(self.topology.pids[name]):
                    process = respawn(self.topology, name)
                    self.topology.pids[name] = process.pid
                    self.topology.save()
                    self.restarts.append((time.time(), name, process.pid))

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)


def _pid_alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap our own exited children, or they look alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(topology: Topology) -> bool:
    return any(_pid_alive(pid) for pid in topology.pids.values())


def down(args: argparse.Namespace) -> None:
    state_dir = Path(args.state_dir)
    topology = Topology.load(state_dir)
    if topology is None:
        return
    for name, pid in topology.pids.items():
        if not _pid_alive(pid):
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if name == "nginx":
                os.kill(pid, signal.SIGQUIT)  # graceful: finish open requests
            else:
                os.killpg(pid, signal.SIGTERM)  # the process and anything it started
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _alive(topology):
        time.sleep(0.2)
    for pid in topology.pids.values():
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    (state_dir / "topology.json").unlink(missing_ok=True)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="boxoffice's production-like topology on one machine")
    sub = p.add_subparsers(dest="command", required=True)
    start = sub.add_parser("up", help="start the topology")
    start.add_argument("--api", type=int, default=3, help="API processes")
    start.add_argument(
        "--checkout-api",
        type=int,
        default=0,
        help="of the API processes, how many serve only the checkout (0: all serve everything)",
    )
    start.add_argument(
        "--front-nice",
        type=int,
        default=0,
        help="with --checkout-api: niceness of the other API processes (queue, streams, catalog)",
    )
    start.add_argument("--port", type=int, default=8080, help="gateway port")
    start.add_argument("--api-base-port", type=int, default=8101, help="0: free ports")
    start.add_argument(
        "--database-url", default=os.environ.get("BOXOFFICE_DATABASE_URL", DEFAULT_DATABASE)
    )
    start.add_argument(
        "--redis-url", default=os.environ.get("BOXOFFICE_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    start.add_argument("--redis-prefix", default="bo-topology")
    start.add_argument("--broker-url", default=os.environ.get("BOXOFFICE_BROKER_URL"))
    start.add_argument("--rate", default="2000r/s", help="gateway limit per client address")
    start.add_argument("--burst", type=int, default=4000)
    start.add_argument("--sse-per-address", type=int, default=20, help="queue streams per address")
    start.add_argument("--nginx-workers", type=int, default=2)
    start.add_argument(
        "--dispatchers", type=int, default=1, help="dispatcher processes (1 leader, standbys)"
    )
    start.add_argument(
        "--background-nice",
        type=int,
        default=10,
        help="niceness of the worker and the scheduler (0: the API's priority)",
    )
    start.add_argument("--demo", action=argparse.BooleanOptionalAction, default=True)
    supervise = sub.add_parser("supervise", help="restart dead processes until interrupted")
    for command in (
        start,
        sub.add_parser("down", help="stop it"),
        sub.add_parser("status"),
        supervise,
    ):
        command.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR))
    return p


def main() -> None:
    args = parser().parse_args()
    if args.command == "up":
        topology = up(args)
        print(json.dumps({"gateway": topology.gateway_url, "processes": topology.pids}, indent=2))
    elif args.command == "down":
        down(args)
    elif args.command == "supervise":
        running = Topology.load(Path(args.state_dir))
        if running is None:
            raise SystemExit("no topology is running")
        supervisor = Supervisor(running)
        supervisor.start()
        with contextlib.suppress(KeyboardInterrupt):
            supervisor.join()
    else:
        topology = Topology.load(Path(args.state_dir))
        print(json.dumps(asdict(topology) if topology else {"running": False}, indent=2))


if __name__ == "__main__":
    main()
