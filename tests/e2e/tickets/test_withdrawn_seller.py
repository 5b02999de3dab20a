"""A seller whose approval was withdrawn can no longer check tickets in (issue 16, defect 1),
though their access token was issued while they were a seller."""

from __future__ import annotations

import httpx

from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from boxoffice.tickets.schemas import CheckIn
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, assert_problem, user_with_role
from tests.support.catalog import ShowSetup
from tests.support.orders import new_order, pay


async def test_a_withdrawn_seller_cannot_check_tickets_in(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await new_order(client, fan, show, seats=1)
    paid = await pay(client, fan, order, toss, kakaopay)
    assert paid.status_code == 200, paid.text
    ticket_id = paid.json()["ticket_ids"][0]
    code = (await client.get(f"{API}/tickets/{ticket_id}", headers=fan.headers)).json()["code"]
    body = {"code": code}
    if "show_id" in CheckIn.model_fields:  # check-in names the show the door scans for
        body["show_id"] = show.show_id
    admin = await user_with_role(client, runtime, Role.ADMIN)
    withdrawn = await client.patch(
        f"{API}/admin/users/{show.seller.id}",
        json={"seller_status": "rejected"},
        headers=admin.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    refused = await client.post(f"{API}/checkin", json=body, headers=show.seller.headers)
    assert_problem(refused, 403, "forbidden")
    ticket = await client.get(f"{API}/tickets/{ticket_id}", headers=fan.headers)
    assert ticket.json()["status"] == "valid"
