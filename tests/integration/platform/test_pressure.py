"""The checkout's pressure: counted per process, summed in the key-value store (memory, real
Redis, a Redis Cluster), and counted by the checkout's hot routes themselves."""

from __future__ import annotations

import asyncio
import time

import pytest

from boxoffice.platform.clock import SystemClock
from boxoffice.platform.errors import Conflict, ServiceUnavailable
from boxoffice.platform.fastlane import FastRequest, FastResponse
from boxoffice.platform.hotroutes import HotRoute
from boxoffice.platform.kv import KeyValueStore, MemoryStore
from boxoffice.platform.pressure import CheckoutGauge, Pressure, checkout_gauge, read_pressure
from boxoffice.platform.runtime import Runtime


async def test_every_process_adds_its_seconds_to_the_same_counters(store: KeyValueStore) -> None:
    first, second = (
        CheckoutGauge(store, SystemClock(), 5.0),
        CheckoutGauge(store, SystemClock(), 5.0),
    )
    now = int(time.time())
    for gauge, strained in ((first, [True, False, False]), (second, [True, True])):
        for flag in strained:
            gauge.observe(now + 0.1, strained=flag)
        gauge.observe(now + 1.2, strained=False)  # the next second hands the first on
    await first.flush()
    await second.flush()
    assert await read_pressure(store, [now]) == Pressure(served=5, strained=3)
    assert await read_pressure(store, [now + 1]) == Pressure(served=2, strained=0)
    assert await read_pressure(store, [now - 1, now, now + 1]) == Pressure(7, 3)
    assert await read_pressure(store, [now + 2]) == Pressure()


async def test_a_busy_refusal_or_a_slow_answer_is_strain_a_buyers_refusal_is_not() -> None:
    store = MemoryStore()
    gauge = CheckoutGauge(store, SystemClock(), slow_seconds=0.05)

    async def answer(after: float, error: Exception | None = None) -> str:
        await asyncio.sleep(after)
        if error is not None:
            raise error
        return "ok"

    assert await gauge.measure(answer(0)) == "ok"
    assert await gauge.measure(answer(0.08)) == "ok"  # slower than the bound
    with pytest.raises(ServiceUnavailable):
        await gauge.measure(answer(0, ServiceUnavailable("busy")))
    with pytest.raises(Conflict):
        await gauge.measure(answer(0, Conflict("the seat was taken")))
    with pytest.raises(RuntimeError):
        await gauge.measure(answer(0, RuntimeError("unexpected")))
    await gauge.flush()
    seconds = int(time.time())
    assert await read_pressure(store, [seconds - 1, seconds]) == Pressure(served=5, strained=3)


async def test_a_checkout_route_is_counted_on_both_entries_and_others_are_not(
    runtime: Runtime,
) -> None:
    async def refuse(request: FastRequest) -> FastResponse:
        raise ServiceUnavailable("The pool had no connection to give.")

    checkout = HotRoute("POST", "/x", refuse, "refuse", ["t"], checkout=True)
    other = HotRoute("POST", "/y", refuse, "other", ["t"])
    assert other.answering() is refuse
    request = FastRequest(runtime, {}, {"type": "http"}, _no_body)
    for _ in range(3):
        with pytest.raises(ServiceUnavailable):
            await checkout.answering()(request)
        with pytest.raises(ServiceUnavailable):
            await checkout.fast_route("/api").handler(request)
    gauge = checkout_gauge(runtime)
    await gauge.flush()
    seconds = int(time.time())
    assert await read_pressure(runtime.kv, [seconds - 1, seconds]) == Pressure(6, 6)


async def _no_body() -> dict[str, object]:
    return {"type": "http.request", "body": b""}
