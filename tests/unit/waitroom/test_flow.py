"""Flow control: the dispatcher's share of the admit rate follows the checkout's pressure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import WaitroomSettings
from boxoffice.platform.kv import MemoryStore
from boxoffice.platform.pressure import CheckoutGauge, Pressure
from boxoffice.waitroom.dispatcher import Dispatcher
from boxoffice.waitroom.flow import JUDGE_LAG_SECONDS, Flow
from boxoffice.waitroom.store import MemoryQueueStore
from tests.support.waitroom import Shows, sale_info

START = datetime(2026, 12, 24, 20, 0, tzinfo=UTC)
STRAINED = Pressure(served=40, strained=20)
CALM = Pressure(served=40, strained=2)
UNSTRAINED = Pressure(served=40, strained=0)


def test_strained_seconds_cut_the_share_down_to_the_floor_and_calm_ones_grow_it_back() -> None:
    flow = Flow(WaitroomSettings(flow_cut=0.5, flow_step=0.1, flow_floor=0.2))
    assert [flow.judge(second, STRAINED) for second in (1, 2, 3)] == [0.5, 0.25, 0.2]
    shares = [round(flow.judge(second, CALM), 3) for second in range(4, 14)]
    assert shares == [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0]


def test_a_second_without_any_strain_grows_the_share_half_the_way_back() -> None:
    # Strain cuts for as long as the crowd let in before it drains; once not one request
    # is strained the checkout has room, and the line should not trickle in at the floor.
    # Too few requests to judge (a checkout so jammed that hardly anything is answered
    # looks like this too) and some strain under the threshold grow it by the step only.
    flow = Flow(WaitroomSettings(flow_cut=0.5, flow_step=0.05, flow_floor=0.1), share=0.1)
    few = Pressure(served=4, strained=0)
    seconds = [UNSTRAINED, few, CALM, UNSTRAINED]
    shares = [round(flow.judge(s, p), 4) for s, p in enumerate(seconds, 1)]
    assert shares == [0.55, 0.6, 0.65, 0.825]
    flow.share = 0.92
    assert flow.judge(5, UNSTRAINED) == pytest.approx(0.97)  # at least the step
    assert flow.judge(6, UNSTRAINED) == 1.0  # never past the full rate


def test_a_second_with_few_requests_or_a_share_at_the_threshold_is_calm() -> None:
    flow = Flow(WaitroomSettings(flow_strained_share=0.25), share=0.5)
    assert flow.judge(1, Pressure(served=4, strained=4)) == pytest.approx(0.55)  # too few
    assert flow.judge(2, Pressure(served=40, strained=10)) == pytest.approx(0.6)  # at it
    assert flow.judge(3, Pressure(served=40, strained=11)) == pytest.approx(0.6 * 0.75)


def test_each_second_is_judged_once_and_late() -> None:
    flow = Flow(WaitroomSettings())
    assert flow.due(100) == 100 - JUDGE_LAG_SECONDS
    flow.judge(100 - JUDGE_LAG_SECONDS, CALM)
    assert flow.due(100) is None
    assert flow.due(101) == 101 - JUDGE_LAG_SECONDS


async def admitted_per_second(run: Dispatcher, clock: FrozenClock, show_id: str) -> int:
    admitted = 0
    for _ in range(4):
        result = (await run.tick()).get(show_id)
        admitted += len(result.admitted) if result else 0
        clock.advance(timedelta(milliseconds=250))
    return admitted


@dataclass
class Sale:
    """A dispatcher with ``people`` in one show's line, and the API processes' gauge."""

    run: Dispatcher
    clock: FrozenClock
    gauge: CheckoutGauge
    show_id: str

    @classmethod
    async def open(cls, *, admit: int, max_active: int, people: int, **flow: Any) -> Sale:
        clock, kv = FrozenClock(START), MemoryStore()
        info = sale_info(now=START, admit_per_second=admit, max_active=max_active)
        settings = WaitroomSettings(admission_ttl_seconds=600, **flow)
        run = Dispatcher(MemoryQueueStore(), Shows(info), settings, clock, pressure=kv)
        for i in range(people):
            await run.store.join(info.show_id, f"u{i}", entry_id=f"e{i}", now_ms=0, pre_queue=False)
        return cls(run, clock, CheckoutGauge(kv, clock, slow_seconds=5.0), info.show_id)

    async def second(self, *, strained: bool) -> int:
        """Ten checkout requests this second (all slower than the bound, or none), then how
        many the dispatcher admitted in it."""
        for _ in range(10):
            self.gauge.observe(self.clock.now().timestamp(), strained=strained)
        await self.gauge.flush()
        return await admitted_per_second(self.run, self.clock, self.show_id)


async def test_the_dispatcher_admits_at_the_share_a_strained_checkout_leaves() -> None:
    sale = await Sale.open(
        admit=40, max_active=100_000, people=2_000, flow_cut=0.5, flow_floor=0.25
    )
    per_second = [
        await sale.second(strained=strained) for strained in [False] * 3 + [True] * 4 + [False] * 6
    ]
    # Calm: the full 40 a second. Strained from the 4th second, judged two seconds late:
    # halved each second down to the floor (10); then not one request strained: half of
    # the way back to the full rate each second.
    assert per_second[:5] == [30, 40, 40, 40, 40]  # the first tick starts the clock
    assert per_second[5:9] == [20, 10, 10, 10]
    assert per_second[9:] == pytest.approx([25, 32.5, 36.25, 38.1], abs=1)  # fractions carry
    assert sale.run.flow.share < 1.0


async def test_a_strained_checkout_also_bounds_how_many_admitted_are_active() -> None:
    # Admitted people keep asking the checkout until they are done: with the share cut, the
    # crowd inside is bounded too, and admitting goes on only as its people finish.
    sale = await Sale.open(admit=1_000, max_active=200, people=1_000, flow_cut=0.5, flow_floor=0.25)
    # Strained from the start: judged two seconds late, halved, then at the floor.
    admitted = [await sale.second(strained=True) for _ in range(5)]
    assert admitted == [200, 0, 0, 0, 0]  # 200 active at once, none of them done
    assert sale.run.flow.share == 0.25
    for user in [f"u{i}" for i in range(160)]:  # 160 of them paid: 40 are still inside
        await sale.run.store.finish(sale.show_id, user)
    assert await sale.second(strained=True) == 200 // 4 - 40


async def test_without_flow_control_a_strained_checkout_changes_nothing() -> None:
    sale = await Sale.open(admit=40, max_active=100_000, people=400, flow_control=False)
    assert [await sale.second(strained=True) for _ in range(5)] == [30, 40, 40, 40, 40]
