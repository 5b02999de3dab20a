"""Liveness, readiness and metrics routes (outside /api/v1)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from boxoffice.platform.deps import RuntimeDep
from boxoffice.platform.errors import problem
from boxoffice.platform.runtime import Runtime

router = APIRouter(tags=["operations"])
Check = Callable[[], Awaitable[object]]
CHECK_TIMEOUT_SECONDS = 2.0


def readiness_checks(runtime: Runtime) -> dict[str, Check]:
    async def database() -> None:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    checks: dict[str, Check] = {"database": database}
    if runtime.settings.redis_url:
        checks["redis"] = runtime.kv.ping
    checks.update(runtime.readiness)
    return checks


async def _passes(check: Check) -> bool:
    try:
        result = await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except Exception:
        return False
    return result is not False


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is alive (it does not look at backends)."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "a backend is down"}})
async def ready(runtime: RuntimeDep) -> Response:
    """Every configured backend answers; otherwise 503 naming the ones that failed."""
    checks = readiness_checks(runtime)
    results = await asyncio.gather(*(_passes(check) for check in checks.values()))
    status = dict(zip(checks, results, strict=True))
    failed = [name for name, ok in status.items() if not ok]
    if failed:
        return problem(
            503,
            "service_unavailable",
            "Service unavailable",
            f"Not reachable: {', '.join(failed)}.",
            headers={"Retry-After": "5"},
            failed=failed,
            checks={name: ("ok" if ok else "failed") for name, ok in status.items()},
        )
    return Response(
        content=b'{"status":"ready","checks":{'
        + b",".join(f'"{n}":"ok"'.encode() for n in status)
        + b"}}",
        media_type="application/json",
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
