"""Real backends for tests: availability, per-worker databases, cleaning between tests.

With ``BOXOFFICE_REQUIRE_SERVICES=1`` (CI) a missing service fails the test; without it
the test is skipped with a reason that names the service and how it was looked for.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from urllib.parse import urlsplit

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from boxoffice.migrations import upgrade_async
from boxoffice.platform.db import backend_name, create_engine
from tests.support.running import run_sync

POSTGRES_ADMIN_URL = os.environ.get(
    "BOXOFFICE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
MARIADB_ADMIN_URL = os.environ.get(
    "BOXOFFICE_TEST_MARIADB_URL", "mysql+asyncmy://root@127.0.0.1:3306/test"
)
REDIS_URL = os.environ.get("BOXOFFICE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

RABBITMQ_URL = os.environ.get("BOXOFFICE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
NATS_URL = os.environ.get("BOXOFFICE_TEST_NATS_URL", "nats://127.0.0.1:4222")

SERVICE_URLS = {
    "postgresql": POSTGRES_ADMIN_URL,
    "mariadb": MARIADB_ADMIN_URL,
    "redis": REDIS_URL,
    "rabbitmq": RABBITMQ_URL,
    "nats": NATS_URL,
}


def services_required() -> bool:
    return os.environ.get("BOXOFFICE_REQUIRE_SERVICES", "") not in ("", "0", "false", "no")


@cache
def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.5):
            return True
    except OSError:
        return False


def require_service(name: str) -> None:
    """Skip (or, under BOXOFFICE_REQUIRE_SERVICES=1, fail) unless ``name`` answers."""
    url = SERVICE_URLS[name]
    parts = urlsplit(url.replace("+asyncpg", "").replace("+asyncmy", ""))
    host, port = parts.hostname or "127.0.0.1", parts.port or 0
    if _reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port} ({url})"
    if services_required():
        pytest.fail(f"{message}; BOXOFFICE_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(f"{message}; set BOXOFFICE_REQUIRE_SERVICES=1 to make this a failure")


def worker_suffix() -> str:
    """Unique per pytest run and worker: concurrent runs on one machine never share a database."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:8] or str(os.getpid())
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{run}"


def worker_database_url(backend: str) -> str:
    """This worker's own database on ``backend`` (dropped and recreated once per session)."""
    admin = POSTGRES_ADMIN_URL if backend == "postgresql" else MARIADB_ADMIN_URL
    name = f"bo_test_{worker_suffix()}"
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


async def _recreate(backend: str) -> str:
    admin_url = POSTGRES_ADMIN_URL if backend == "postgresql" else MARIADB_ADMIN_URL
    url = worker_database_url(backend)
    name = make_url(url).database
    engine = create_engine(admin_url, pool_size=1)
    try:
        if backend == "postgresql":
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        else:
            async with engine.begin() as conn:
                await conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
                await conn.execute(
                    text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
                )
    finally:
        await engine.dispose()
    await upgrade_async(url)
    return url


_prepared: dict[str, str] = {}


async def _drop(backend: str, url: str) -> None:
    admin_url = POSTGRES_ADMIN_URL if backend == "postgresql" else MARIADB_ADMIN_URL
    name = make_url(url).database
    engine = create_engine(admin_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            if backend == "postgresql":
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                await conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        await engine.dispose()


def drop_prepared_databases() -> None:
    """Drop this worker's databases at the end of the session."""
    for backend, url in list(_prepared.items()):
        run_sync(_drop(backend, url))
        del _prepared[backend]


def prepared_database(backend: str) -> str:
    """A migrated database for this worker on ``backend`` (postgresql or mariadb)."""
    if backend not in _prepared:
        _prepared[backend] = run_sync(_recreate(backend))
    return _prepared[backend]


async def clean_database(url: str) -> None:
    """Empty every table but Alembic's, so each test starts from a fresh schema."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            tables = [t for t in tables if t != "alembic_version"]
            if not tables:
                return
            if backend_name(url) == "postgresql":
                joined = ", ".join(f'"{t}"' for t in tables)
                await conn.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
            else:
                await conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
                for table in tables:
                    await conn.execute(text(f"DELETE FROM `{table}`"))
                await conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    finally:
        await engine.dispose()


def redis_url_for(kind: str) -> str:
    """``redis``: the machine's Redis (skip/fail when away); ``redis-cluster``: this test
    process's own three-master Redis Cluster (``tests/support/redis_cluster.py``)."""
    if kind == "redis-cluster":
        from tests.support.redis_cluster import redis_cluster_url

        return redis_cluster_url()
    require_service("redis")
    return REDIS_URL


async def clean_redis(prefix: str, url: str = REDIS_URL) -> None:
    """Delete the keys with ``prefix`` in them (on every node of a cluster)."""
    from boxoffice.platform.redisconn import command_client

    client = command_client(url, max_connections=4)
    try:
        keys = [k async for k in client.scan_iter(match=f"*{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def require_nginx() -> str:
    """nginx's path. Under BOXOFFICE_REQUIRE_SERVICES=1 (CI) a missing nginx is installed from
    Debian's packages, as `make topology` does; elsewhere the test skips rather than install."""
    import shutil
    import subprocess
    from pathlib import Path

    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found:
        return found
    if not services_required():
        pytest.skip("nginx is not installed; BOXOFFICE_REQUIRE_SERVICES=1 installs it (CI)")
    script = Path(__file__).resolve().parents[2] / "deploy" / "ensure-nginx.sh"
    if subprocess.run(["bash", str(script)], check=False).returncode != 0:
        pytest.fail("nginx is missing and deploy/ensure-nginx.sh could not install it")
    return "/usr/sbin/nginx"
