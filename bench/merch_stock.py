"""Benchmark: merch stock reservations on one hot SKU, in-process; prints JSON.

    .venv/bin/python bench/merch_stock.py                          # SQLite
    .venv/bin/python bench/merch_stock.py --backend postgresql --backend mariadb
    .venv/bin/python bench/merch_stock.py --orders 2000 --concurrency 64

Each reservation is what ``POST /orders`` does for one goods line: its own unit of work,
``merch.reserve_items`` (the per-user counter, the conditional stock decrement, the
reservation row), commit. Every attempt goes for the same SKU — the worst case, as all of
them queue on one row lock. The stock is half the attempts, so the second half measures
refusals (``out_of_stock``). Then every order is released. Counts are checked against the
database at the end; the JSON says which machine ran it and how loaded it was.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from tests.support import backends  # noqa: E402

from bench.common import finish, machine, percentile  # noqa: E402
from boxoffice.app import wire  # noqa: E402
from boxoffice.catalog.demo import ensure_demo_catalog  # noqa: E402
from boxoffice.identity import service as identity  # noqa: E402
from boxoffice.merch import service as merch  # noqa: E402
from boxoffice.merch.demo import ensure_demo_goods  # noqa: E402
from boxoffice.merch.errors import OutOfStock  # noqa: E402
from boxoffice.merch.models import Product, Reservation, Variant  # noqa: E402
from boxoffice.merch.schemas import StockAdjust  # noqa: E402
from boxoffice.migrations import upgrade_async  # noqa: E402
from boxoffice.platform.config import Environment, IdentitySettings, Settings  # noqa: E402
from boxoffice.platform.ids import new_id  # noqa: E402
from boxoffice.platform.runtime import Runtime, build_runtime  # noqa: E402
from boxoffice.platform.security import Principal, Role  # noqa: E402

SKU = "DEMO-LS-2"


async def prepare(runtime: Runtime, stock: int) -> None:
    """The demo event and goods, with the light stick's stock set to ``stock``."""
    async with runtime.uow() as uow:
        seller, _ = await identity.ensure_user(
            uow,
            runtime,
            email="bench-seller@example.com",
            password="bench-password-1",
            name="Bench",
            role=Role.SELLER,
            seller_business="Bench Co.",
        )
        seller_id = seller.id
    demo = await ensure_demo_catalog(runtime, seller_id)
    await ensure_demo_goods(runtime, seller_id, demo.event_id)
    admin = Principal(id=new_id(), email="bench@example.com", role=Role.ADMIN)
    async with runtime.uow() as uow:
        variant = (await uow.session.scalars(select(Variant).where(Variant.sku == SKU))).one()
        product = await uow.session.get(Product, variant.product_id)
        assert product is not None
        product.max_per_user = None
        await uow.commit()
        delta = stock - variant.stock
    if delta:
        async with runtime.uow() as uow:
            await merch.adjust_stock(
                uow, admin, variant.product_id, SKU, StockAdjust(delta=delta, reason="bench")
            )


async def phase(
    runtime: Runtime, attempts: int, concurrency: int
) -> tuple[dict[str, Any], list[str]]:
    latencies: list[float] = []
    reserved: list[str] = []
    refused = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(attempts):
        queue.put_nowait(index)

    async def worker() -> None:
        nonlocal refused
        while True:
            try:
                queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            order_id = new_id()
            began = time.perf_counter()
            async with runtime.uow() as uow:
                try:
                    await merch.reserve_items(
                        uow, runtime, order_id=order_id, user_id=new_id(), items=[(SKU, 1)]
                    )
                    await uow.commit()
                    reserved.append(order_id)
                except OutOfStock:
                    refused += 1
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return {
        "attempts": attempts,
        "reserved": len(reserved),
        "refused_out_of_stock": refused,
        "seconds": round(elapsed, 3),
        "per_second": round(attempts / elapsed, 1),
        "latency_ms_p50": round(statistics.median(latencies) * 1000, 2),
        "latency_ms_p99": round(percentile(latencies, 0.99) * 1000, 2),
    }, reserved


async def release_all(runtime: Runtime, order_ids: list[str], concurrency: int) -> dict[str, Any]:
    pending = list(order_ids)

    async def worker() -> None:
        while pending:
            order_id = pending.pop()
            async with runtime.uow() as uow:
                await merch.release_items(uow, runtime, order_id=order_id)
                await uow.commit()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return {"orders": len(order_ids), "seconds": round(elapsed, 3)}


async def measure(backend: str, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{scratch / 'bench.db'}"
        await upgrade_async(url)
    else:
        url = await asyncio.to_thread(backends.prepared_database, backend)
        await backends.clean_database(url)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        environment=Environment.TEST,
        data_dir=scratch,
        database_url=url,
        database_pool_size=args.pool,
        seed_demo=False,
        log_json=False,
        log_level="WARNING",
        identity=IdentitySettings(argon2_time_cost=1, argon2_memory_kib=8 * 1024),
    )
    runtime = wire(build_runtime(settings))
    try:
        stock = args.orders // 2
        await prepare(runtime, stock)
        result, reserved = await phase(runtime, args.orders, args.concurrency)
        released = await release_all(runtime, reserved, args.concurrency)
        async with runtime.uow() as uow:
            left = await uow.session.scalar(select(Variant.stock).where(Variant.sku == SKU))
            statuses = dict(
                (
                    await uow.session.execute(
                        select(Reservation.status, func.sum(Reservation.quantity))
                        .where(Reservation.sku == SKU)
                        .group_by(Reservation.status)
                    )
                ).all()
            )
        return {
            "backend": backend,
            "stock": stock,
            "reserve": result,
            "release": released,
            "checked_in_database": {
                "stock_after_release": left,
                "units_by_status": {k: int(v) for k, v in statuses.items()},
                "never_oversold": result["reserved"] == stock and left == stock,
            },
        }
    finally:
        await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql", "mariadb"])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pool", type=int, default=10)
    args = parser.parse_args()
    report: dict[str, Any] = {
        "benchmark": "merch.reserve_items on one hot SKU (in-process, one unit of work each)",
        "machine": machine(),
        "orders": args.orders,
        "concurrency": args.concurrency,
        "pool_size": args.pool,
        "results": [],
    }
    try:
        for backend in args.backend or ["sqlite"]:
            with tempfile.TemporaryDirectory(prefix="bo-bench-merch-") as scratch:
                report["results"].append(asyncio.run(measure(backend, args, Path(scratch))))
    finally:
        backends.drop_prepared_databases()
    checked = [result["checked_in_database"] for result in report["results"]]
    finish(report, {"oversold_runs": sum(1 for c in checked if not c["never_oversold"])})


if __name__ == "__main__":
    main()
