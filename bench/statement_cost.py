"""What one database round trip costs the API process, by the way it is sent; prints JSON.

    .venv/bin/python bench/statement_cost.py                  # 5,000 statements a way
    .venv/bin/python bench/statement_cost.py --statements 200

A purchase is ~22 round trips to PostgreSQL (16 data statements, a BEGIN and a COMMIT per
transaction; tests/integration/budget), and the API's CPU per purchase is what limits the
checkout (docs/checkout.md). This measures the client's side of one round trip — the CPU
this process spends, not the wall time — for the same conditional ``UPDATE ... RETURNING``
by primary key that the hot writes are (``platform/db.RowUpdate``), sent:

- ``core_execute``: as the product sends it, a prebuilt SQLAlchemy Core statement through
  ``AsyncConnection.execute`` (a greenlet switch, the execution context, result rows);
- ``core_execute_batched``: the same, ten to a ``run_sync`` (one greenlet switch for ten);
- ``exec_driver_sql``: the SQL text through SQLAlchemy, without compiling;
- ``asyncpg_fetchrow``: the driver alone, on the same connection;

and a transaction's BEGIN and COMMIT pair through SQLAlchemy and through the driver. Each
way runs on one connection, one statement after another (no concurrency, so the machine's
other work hardly matters); every statement adds 1 to a counter, read back at the end (the
invariant: each way's counter equals the statements it sent).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, select, update
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import POSTGRES, finish, machine  # noqa: E402

KEYS = 100
WARM_UP = 50
WAYS = (
    "core_execute",
    "core_execute_batched",
    "exec_driver_sql",
    "asyncpg_fetchrow",
    "transaction_sqlalchemy",
    "transaction_asyncpg",
)


async def per_call_us(count: int, call: Callable[[int], Awaitable[Any]]) -> float:
    """CPU microseconds per ``call`` over ``count`` calls, after a warm-up."""
    for index in range(WARM_UP):
        await call(index)
    start = time.process_time()
    for index in range(count):
        await call(index)
    return round((time.process_time() - start) / count * 1e6, 1)


async def measure(url: str, statements: int) -> tuple[dict[str, float], dict[str, int]]:
    metadata = MetaData()
    name = f"bench_statement_cost_{uuid.uuid4().hex[:8]}"
    table = Table(name, metadata, Column("id", String(40), primary_key=True), Column("n", Integer))
    bump = (
        update(table)
        .where(table.c.id == bindparam("key"))
        .values(n=table.c.n + 1)
        .returning(table.c.n)
    )
    text = f"UPDATE {name} SET n = n + 1 WHERE id = $1 RETURNING n"  # noqa: S608 - our own name
    engine = create_async_engine(url)
    costs: dict[str, float] = {}
    try:
        async with engine.begin() as setup:
            await setup.run_sync(metadata.create_all)
            rows = [{"id": f"{way}-{k}", "n": 0} for way in WAYS for k in range(KEYS)]
            await setup.execute(table.insert(), rows)
        async with engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None

            async def core(i: int, way: str = "core_execute") -> None:
                (await conn.execute(bump, {"key": f"{way}-{i % KEYS}"})).first()

            def ten(sync_conn: Any, first: int) -> None:
                for i in range(first, first + 10):
                    params = {"key": f"core_execute_batched-{i % KEYS}"}
                    sync_conn.execute(bump, params).first()

            async def raw(i: int, way: str = "asyncpg_fetchrow") -> None:
                await driver.fetchrow(text, f"{way}-{i % KEYS}")

            async def core_transaction(i: int) -> None:
                async with conn.begin():
                    await core(i, "transaction_sqlalchemy")

            async def raw_transaction(i: int) -> None:
                async with driver.transaction():
                    await raw(i, "transaction_asyncpg")

            await conn.commit()  # the ways below each run in autocommit or their own transaction
            costs["core_execute"] = await per_call_us(statements, core)
            await conn.commit()
            batches = await per_call_us(
                max(1, statements // 10), lambda b: conn.run_sync(ten, b * 10)
            )
            costs["core_execute_batched"] = round(batches / 10, 1)
            await conn.commit()
            costs["exec_driver_sql"] = await per_call_us(
                statements,
                lambda i: conn.exec_driver_sql(text, (f"exec_driver_sql-{i % KEYS}",)),
            )
            await conn.commit()
            costs["asyncpg_fetchrow"] = await per_call_us(statements, raw)
            costs["transaction_sqlalchemy"] = await per_call_us(statements, core_transaction)
            costs["transaction_asyncpg"] = await per_call_us(statements, raw_transaction)
        async with engine.connect() as conn:
            counted = dict.fromkeys(WAYS, 0)
            for row_id, n in await conn.execute(select(table.c.id, table.c.n)):
                counted[row_id.rsplit("-", 1)[0]] += n
    finally:
        async with engine.begin() as teardown:
            await teardown.run_sync(metadata.drop_all)
        await engine.dispose()
    return costs, counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=5000, help="sent each way")
    parser.add_argument("--database-url", default=POSTGRES)
    args = parser.parse_args()
    report: dict[str, Any] = {"benchmark": "statement_cost", "machine": machine()}
    costs, counted = uvloop.run(measure(args.database_url, args.statements))
    report["statements_each_way"] = args.statements
    report["client_cpu_us_per_round_trip"] = costs
    report["counted"] = counted
    batches = max(1, args.statements // 10) + WARM_UP
    expected = {way: args.statements + WARM_UP for way in WAYS} | {
        "core_execute_batched": batches * 10
    }
    finish(report, {f"{way}_miscounted": abs(counted[way] - expected[way]) for way in WAYS})


if __name__ == "__main__":
    main()
