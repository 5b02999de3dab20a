"""Shared fixtures: settings per backend, a migrated database per test, the app and a client.

Pick a backend with ``@pytest.mark.parametrize("backend", BACKENDS)`` and Redis with
``@pytest.mark.parametrize("use_redis", [True])``; the defaults are SQLite and memory.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from boxoffice.app import create_app
from boxoffice.migrations import upgrade_async
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Environment, Settings
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import generate_key_file
from tests.support import backends
from tests.support.messaging import SmtpServer
from tests.support.running import run_sync

BACKENDS = ["sqlite", "postgresql", "mariadb"]


@pytest.fixture(scope="session", autouse=True)
def _drop_worker_databases() -> Iterator[None]:
    yield
    backends.drop_prepared_databases()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per worker; each test gets a copy (cheaper than migrating)."""
    path = tmp_path_factory.mktemp("template") / "boxoffice.db"
    run_sync(upgrade_async(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def signing_key_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One RSA signing key per worker, copied into each test's data directory: a new
    2048-bit key costs ~50 ms, a copy nothing."""
    path = tmp_path_factory.mktemp("keys") / "jwt.pem"
    generate_key_file(path)
    return path


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def use_redis() -> bool | str:
    """True: the machine's Redis; ``"cluster"``: a three-master Redis Cluster; False: none."""
    return False


@pytest.fixture
def database_url(backend: str, tmp_path: Path, sqlite_template: Path) -> str:
    if backend == "sqlite":
        target = tmp_path / "boxoffice.db"
        shutil.copyfile(sqlite_template, target)
        return f"sqlite+aiosqlite:///{target}"
    backends.require_service(backend)
    url = backends.prepared_database(backend)
    run_sync(backends.clean_database(url))
    return url


@pytest.fixture
def redis_prefix() -> str:
    return f"bo-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_url(use_redis: bool | str, redis_prefix: str) -> Iterator[str | None]:
    if not use_redis:
        yield None
        return
    url = backends.redis_url_for("redis-cluster" if use_redis == "cluster" else "redis")
    yield url
    run_sync(backends.clean_redis(redis_prefix, url))


@pytest.fixture
def make_settings(
    tmp_path: Path,
    database_url: str,
    redis_url: str | None,
    redis_prefix: str,
    signing_key_template: Path,
) -> Callable[..., Settings]:
    dev_key = tmp_path / "keys" / "jwt-dev.pem"  # where dev and test runs look for their key
    if not dev_key.exists():
        dev_key.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(signing_key_template, dev_key)

    def factory(**overrides: Any) -> Settings:
        """Test settings; a section given as a dict (``batch={...}``) is laid over the
        test defaults of that section."""
        values: dict[str, Any] = {
            "environment": Environment.TEST,
            "data_dir": tmp_path,
            "database_url": database_url,
            "redis_url": redis_url,
            "redis_prefix": redis_prefix,
            # cheapest argon2id the library accepts: tests check behaviour, not hash cost
            "identity": {"argon2_time_cost": 1, "argon2_memory_kib": 8 * 1024},
            "log_json": False,
            "log_level": "WARNING",
            "seed_demo": False,
        }
        for name, value in overrides.items():
            default = values.get(name)
            both_dicts = isinstance(default, dict) and isinstance(value, dict)
            values[name] = {**default, **value} if both_dicts else value
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def clock() -> FrozenClock | None:
    """Override with a FrozenClock to control time."""
    return None


@pytest.fixture
def app(settings: Settings, clock: FrozenClock | None) -> FastAPI:
    return create_app(settings, clock=clock, background=False)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.fixture
def runtime(app: FastAPI, client: httpx.AsyncClient) -> Runtime:
    """The app's runtime (available once ``client`` has started the lifespan)."""
    result: Runtime = app.state.runtime
    return result


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a free port, its inbox readable (``smtp.settings()`` for the app)."""
    with SmtpServer() as server:
        yield server


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the servers this test process started for itself (tests/support/children.py)."""
    from tests.support.children import stop_all

    stop_all()
