"""The API's schema tells the truth: schemathesis generates requests for every operation in
/openapi.json and sends them to a real `boxoffice serve`, as anonymous, customer, seller and
admin. No answer may be a server error, or have a status, content type or body the schema
does not declare."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from boxoffice.app import open_runtime
from boxoffice.identity import service as identity
from boxoffice.platform.config import Environment, IdentitySettings, Settings
from boxoffice.platform.security import Role
from tests.support import backends
from tests.support.api import API, PASSWORD
from tests.support.processes import free_port, running_server, server_env
from tests.support.running import run_sync

ROLES = ["anonymous", "customer", "seller", "admin"]
EXAMPLES = 4  # per operation, each sent as every role: 1-2 minutes a run on two cores
HEALTH_REPORTS = {"ready", "batch_health"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class RunningApi:
    base: str
    tokens: dict[str, str]


async def _users(settings: Settings) -> dict[str, str]:
    emails = {}
    async with open_runtime(settings) as runtime:
        for role in (Role.CUSTOMER, Role.SELLER, Role.ADMIN):
            email = f"schema-{role.value}@example.com"
            async with runtime.uow() as uow:
                await identity.ensure_user(
                    uow,
                    runtime,
                    email=email,
                    password=PASSWORD,
                    name=role.value.title(),
                    role=role,
                    seller_business="Schema Live Co." if role is Role.SELLER else None,
                )
            emails[role.value] = email
    return emails


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def running_api(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    signing_key_template: Path,
) -> Iterator[RunningApi]:
    root = tmp_path_factory.mktemp("schemathesis")
    database_url = f"sqlite+aiosqlite:///{root / 'boxoffice.db'}"
    if request.param == "sqlite":
        shutil.copyfile(sqlite_template, root / "boxoffice.db")
    else:
        backends.require_service(request.param)
        database_url = backends.prepared_database(request.param)
        run_sync(backends.clean_database(database_url))
    (root / "keys").mkdir()
    shutil.copyfile(signing_key_template, root / "keys" / "jwt-dev.pem")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        environment=Environment.TEST,
        data_dir=root,
        database_url=database_url,
        identity=IdentitySettings(argon2_time_cost=1, argon2_memory_kib=8 * 1024),
        seed_demo=False,
    )
    emails = run_sync(_users(settings))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env(
        settings, BOXOFFICE_PUBLIC_URL=base, BOXOFFICE_SIGNUP_PER_ADDRESS_PER_HOUR="100000"
    )
    with running_server(["serve", "--port", str(port)], env, port, log_path=root / "serve.log"):
        tokens = {}
        for role, email in emails.items():
            login = httpx.post(
                f"{base}{API}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
            )
            assert login.status_code == 200, login.text
            tokens[role] = login.json()["access_token"]
        yield RunningApi(base, tokens)


def _operation_failures(operation: APIOperation, api: RunningApi, mode: GenerationMode) -> str:
    """What schemathesis found wrong with one operation ('' when nothing)."""
    # A health report's 503 is its documented answer (no scheduler, a backend down), not
    # a server error; every other check still applies to it.
    health = operation.definition.raw.get("operationId") in HEALTH_REPORTS
    checks = [c for c in CHECKS if c is not not_a_server_error] if health else CHECKS

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def each_request_as_each_role(case: schemathesis.Case) -> None:
        for role in ROLES:
            token = api.tokens.get(role)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            case.call_and_validate(base_url=api.base, headers=headers, checks=checks, timeout=30)

    try:
        each_request_as_each_role()
    except Unsatisfiable:
        return ""  # nothing in the operation can be made invalid (no input, free strings)
    except BaseException as failure:  # one report per operation, every operation run
        if isinstance(failure, KeyboardInterrupt):
            raise
        return f"{operation.label} [{mode.value}]: {failure}"
    return ""


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(
    running_api: RunningApi, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(f"{running_api.base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    failures = [_operation_failures(op, running_api, mode) for op in operations]
    found = [failure for failure in failures if failure]
    assert not found, f"{len(found)} operations:\n" + "\n\n".join(found)
