"""open_show, the helper other contexts' tests start from, makes a sellable show."""

from __future__ import annotations

import httpx
import pytest

from boxoffice.catalog import service as catalog
from boxoffice.platform.runtime import Runtime
from tests.conftest import BACKENDS
from tests.support.api import API
from tests.support.catalog import open_show


@pytest.mark.parametrize("backend", BACKENDS)
async def test_open_show_makes_a_published_show_on_sale(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    setup = await open_show(client, runtime, rows=4, seats_per_row=5)
    assert len(setup.seat_ids) == 20
    assert setup.grade_prices == {"VIP": 165000, "R": 132000}

    async with runtime.uow() as uow:
        info = await catalog.show_sale_info(uow, setup.show_id, runtime=runtime)
        again = await catalog.show_sale_info(uow, setup.show_id)
    assert info is not None
    assert info == again
    assert info.event_id == setup.event_id
    assert info.seller_id == setup.seller.id
    assert info.grade_prices == setup.grade_prices
    assert info.hold_minutes == 7
    assert info.max_tickets_per_user == 4
    assert info.sale_open_at(runtime.clock.now())

    show = await client.get(f"{API}/shows/{setup.show_id}")
    assert show.status_code == 200, show.text
    assert show.json()["event_status"] == "published"
    assert show.json()["seat_count"] == 20
