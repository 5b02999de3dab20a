"""One simulated buyer, and a process that runs thousands of them.

A buyer joins the show's queue, waits on the SSE stream until admitted, looks at the
seat map, picks seats the way fans do (most want the front sections), holds them,
orders, pays with the internal provider, and sometimes cancels. Every step is timed;
every buyer ends with exactly one outcome, or is counted as left without one.

With ``retry_unavailable`` (the chaos runs, bench/chaos.py) a buyer behaves as a
well-made client does while a part of the system is down: an answer of 502/503/504 or a
dropped connection is retried after its ``Retry-After`` (1 s when none) with the same
Idempotency-Key, and a place in line the waiting room no longer knows is joined again.
Every such answer is recorded in ``problems``; a 500 is recorded and never retried.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
import urllib.parse
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import uvloop

from bench.common import collector_paused
from bench.flash import waitlist
from bench.flash.client import Client
from bench.flash.http import PlaceLost, call, wait_for_admission

API = "/api/v1"
OUTCOMES = (
    "bought",
    "bought_then_cancelled",
    "sold_out",
    "queue_expired",
    "bought_from_waitlist",
    "waitlist_gave_up",
)
SECTION_WEIGHTS = {0: 8.0, 1: 4.0, 2: 2.0, 3: 1.0}  # by section rank: front is most wanted


@dataclass
class BuyerResult:
    user_id: str
    outcome: str | None = None
    error: str | None = None
    seats: list[str] = field(default_factory=list)
    order_id: str | None = None
    paid: bool = False
    cancelled: bool = False
    joined_at: float = 0.0
    admitted_at: float | None = None
    paid_at: float | None = None
    cancelled_at: float | None = None
    steps: dict[str, list[float]] = field(default_factory=dict)
    # Failed answers seen on the way: [seconds since the sale opened, step, status (0: the
    # connection failed), whether it carried Retry-After].
    problems: list[tuple[float, str, int, bool]] = field(default_factory=list)
    places_lost: int = 0  # joins made again because the waiting room forgot the place
    waitlisted: bool = False  # joined the sold-out show's waitlist (--waitlist)
    offers: list[str] = field(default_factory=list)  # holds the waitlist offered them
    stream_events: int = 0  # SSE events received while waiting (heartbeats excluded)
    seat_offers: list[bool] = field(default_factory=list)  # a refusal's offer held? (each)
    best_available: list[bool] = field(default_factory=list)  # a best-available hold won?

    def timed(self, step: str, seconds: float) -> None:
        self.steps.setdefault(step, []).append(seconds)

    def saw(self, plan: Plan, step: str, status: int = 0, retry_after: str | None = None) -> None:
        """A failed answer on the way (status 0: the connection failed or dropped)."""
        self.problems.append((time.time() - plan.started_at, step, status, retry_after is not None))


@dataclass
class Plan:
    base_url: str
    show_id: str
    section_rank: dict[str, int]
    cancel_rate: float
    max_tickets: int
    arrival_seconds: float
    started_at: float  # wall clock (time.time()) when the sale opened
    retry_unavailable: bool = False  # retry 502/503/504 and dropped connections (chaos)
    retry_for_seconds: float = 240.0  # ... for at most this long per request
    waitlist: bool = False  # told "sold out", some join the waitlist; cancels wait for it
    waitlist_share: float = 0.5  # of the buyers told "sold out"
    waitlist_wait_seconds: float = 180.0
    section_grades: dict[str, str] = field(default_factory=dict)
    best_available_share: float = 0.0  # of the buyers: the shop chooses their seats


class SeatMap:
    """This process's view of the seat map, refreshed with If-None-Match.

    Shared by the process's buyers: a view younger than 0.25 s is used as it is; otherwise
    the one fetch in flight is awaited by everyone who needs it (single flight), or started.
    A lock around the fetch, as this was before, made a convoy: the waiters went through
    one at a time, only those of the next 0.25 s passed without fetching again, and while
    the API was slow (a crowd arriving) admitted buyers sat in this process for tens of
    seconds before their hold — time that no step measured.
    """

    def __init__(self) -> None:
        self.etag: str | None = None
        self.available: list[dict[str, Any]] = []
        self.fetched_at = 0.0
        self._fetching: asyncio.Future[None] | None = None
        self._weighed: list[dict[str, Any]] | None = None  # the `available` weighed last
        self._cumulative: list[float] = []

    def cumulative_weights(self, plan: Plan) -> list[float]:
        """``available``'s section weights, summed as ``random.choices`` takes them: computed
        once per version of the list, not by every buyer (a fifth of this process's CPU)."""
        if self._weighed is not self.available:
            self._cumulative = list(
                itertools.accumulate(
                    SECTION_WEIGHTS.get(plan.section_rank.get(s["section"], 3), 1.0)
                    for s in self.available
                )
            )
            self._weighed = self.available
        return self._cumulative

    async def refresh(self, client: Client, plan: Plan, result: BuyerResult) -> None:
        if time.monotonic() - self.fetched_at < 0.25:
            return
        if self._fetching is None:
            self._fetching = asyncio.ensure_future(self._fetch(client, plan, result))
            self._fetching.add_done_callback(self._fetched)
        await asyncio.shield(self._fetching)

    def _fetched(self, _: asyncio.Future[None]) -> None:
        self._fetching = None

    async def _fetch(self, client: Client, plan: Plan, result: BuyerResult) -> None:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        started = time.monotonic()
        url = f"{API}/shows/{plan.show_id}/seats"
        status, body, answer = await call(
            client, plan, result, "seat_map", "GET", url, headers=headers
        )
        if status == 200:
            self.etag = answer.get("etag")
            self.available = [s for s in body["seats"] if s["status"] == "available"]
        elif status != 304:
            raise RuntimeError(f"seat map answered {status}")
        result.timed("seat_map", time.monotonic() - started)
        self.fetched_at = time.monotonic()


def how_many(rng: random.Random) -> int:
    """Most fans want two seats; some want one, three or four."""
    return rng.choices([1, 2, 3, 4], weights=[2, 6, 1, 1])[0]


def best_available_asks(plan: Plan, rng: random.Random) -> list[dict[str, Any]]:
    """What a fan who lets the shop choose asks, in turn: as many seats as they want of the
    grade of a section they pick as the map-pickers do (front ones most), then of any grade."""
    quantity = min(how_many(rng), plan.max_tickets)
    sections = list(plan.section_grades)
    weights = [SECTION_WEIGHTS.get(plan.section_rank.get(s, 3), 1.0) for s in sections]
    grade = plan.section_grades[rng.choices(sections, weights=weights)[0]]
    return [{"quantity": quantity, "grade": grade}, {"quantity": quantity}]


def choose_seats(seat_map: SeatMap, plan: Plan, rng: random.Random) -> list[str]:
    """Most fans want two seats in the front sections; some want one, three or four."""
    available = seat_map.available
    if not available:
        return []
    wanted = how_many(rng)
    wanted = min(wanted, plan.max_tickets, len(available))
    cumulative = seat_map.cumulative_weights(plan)
    first = rng.choices(range(len(available)), cum_weights=cumulative)[0]
    anchor = available[first]
    # Neighbours in the same row, as people sit together.
    same_row = [
        s for s in available if s["section"] == anchor["section"] and s["row"] == anchor["row"]
    ]
    same_row.sort(
        key=lambda s: (
            abs(int(s["number"]) - int(anchor["number"])) if str(s["number"]).isdigit() else 0
        )
    )
    chosen = same_row[:wanted]
    return [s["id"] for s in chosen]


async def buy(
    client: Client,
    plan: Plan,
    token: str,
    user_id: str,
    seat_map: SeatMap,
    rng: random.Random,
) -> BuyerResult:
    result = BuyerResult(user_id=user_id)
    auth = {"Authorization": f"Bearer {token}"}
    await asyncio.sleep(rng.uniform(0, plan.arrival_seconds))
    try:
        await _buy(client, plan, auth, seat_map, rng, result)
        if plan.waitlist and result.outcome == "sold_out" and rng.random() < plan.waitlist_share:
            await waitlist.try_waitlist(client, plan, auth, result, rng)
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"[:300]
        # A step that failed after an outcome (a cancel the gateway answered 503 after
        # its read timeout, which the API then did) leaves the buyer not knowing what
        # became of its order: without an outcome, not "bought" against a refunded order.
        result.outcome = None
    return result


async def _buy(
    client: Client,
    plan: Plan,
    auth: dict[str, str],
    seat_map: SeatMap,
    rng: random.Random,
    result: BuyerResult,
) -> None:
    result.joined_at = time.time() - plan.started_at
    join_url = f"{API}/shows/{plan.show_id}/queue"
    for _join in range(5):
        started = time.monotonic()
        status, entry, _ = await call(client, plan, result, "join", "POST", join_url, headers=auth)
        if status == 422 and entry.get("sold_out"):  # arrived after the line was told
            result.timed("join", time.monotonic() - started)
            result.outcome = "sold_out"
            return
        if status not in (200, 201):
            raise RuntimeError(f"join answered {status} {entry}")
        result.timed("join", time.monotonic() - started)
        try:
            await _shop(client, plan, auth, seat_map, rng, result, entry)
            return
        except PlaceLost:
            result.places_lost += 1  # the line forgot this place: join again
        finally:
            if not result.paid:
                # A fan who gives up closes the page: the place (and admission slot) is given up.
                leave = f"{API}/queue/{entry['entry_id']}"
                await call(client, plan, result, "leave", "DELETE", leave, headers=auth)
    raise RuntimeError("the waiting room lost this buyer's place five times")


async def _shop(
    client: Client,
    plan: Plan,
    auth: dict[str, str],
    seat_map: SeatMap,
    rng: random.Random,
    result: BuyerResult,
    entry: dict[str, Any],
) -> None:
    started = time.monotonic()
    admission: str | None = entry.get("admission_token")
    if entry.get("status") != "admitted" or not admission:
        admission, state = await wait_for_admission(client, plan, entry["entry_id"], auth, result)
        if state == "expired":
            result.outcome = "queue_expired"
            return
        if state == "sold_out":  # the waiting room said so: no seat is left
            result.outcome = "sold_out"
            return
    result.admitted_at = time.time() - plan.started_at
    result.timed("wait", time.monotonic() - started)
    headers = dict(auth, **{"X-Admission-Token": admission or ""})

    hold: dict[str, Any] | None = None
    offered: list[str] = []
    # A fan who lets the shop choose asks that first; told no run is free, picks on the map.
    asks = best_available_asks(plan, rng) if rng.random() < plan.best_available_share else []
    for _attempt in range(8):
        on_offer, best = bool(offered), bool(asks)
        if best:
            seats, ask = [], {"best_available": asks.pop(0)}
        elif on_offer:  # the shop chose the refusal's offer for the fan, who presses again
            seats, offered = offered, []
        else:
            await seat_map.refresh(client, plan, result)
            seats = choose_seats(seat_map, plan, rng)
        if not best:
            ask = {"seat_ids": seats}
        if not seats and not best:
            result.outcome = "sold_out"
            return
        started = time.monotonic()
        status, body, _ = await call(
            client,
            plan,
            result,
            "hold",
            "POST",
            f"{API}/shows/{plan.show_id}/holds",
            json=ask,
            headers=headers,
        )
        result.timed("hold", time.monotonic() - started)
        if on_offer:
            result.seat_offers.append(status == 201)
        if best:
            result.best_available.append(status == 201)
        if status == 201:
            hold = body
            break
        if status == 409:
            taken = set(body.get("seat_ids", seats))
            seat_map.available = [s for s in seat_map.available if s["id"] not in taken]
            offered = list(body.get("suggested_seat_ids") or [])
            continue
        raise RuntimeError(f"hold answered {status} {body}")
    if hold is None:
        result.outcome = "sold_out"
        return
    result.seats = list(hold["seat_ids"])

    started = time.monotonic()
    order_headers = dict(auth, **{"Idempotency-Key": str(uuid.uuid4())})
    order_body = {"hold_id": hold["hold_id"], "items": [], "payment_provider": "internal"}
    status, order, _ = await call(
        client,
        plan,
        result,
        "order",
        "POST",
        f"{API}/orders",
        json=order_body,
        headers=order_headers,
    )
    if status != 201 and not (status == 200 and plan.retry_unavailable):  # 200: a replay
        raise RuntimeError(f"order answered {status} {order}")
    result.order_id = order["id"]
    result.timed("order", time.monotonic() - started)

    started = time.monotonic()
    pay_url = f"{API}/orders/{order['id']}/pay"
    status, paid, _ = await call(client, plan, result, "pay", "POST", pay_url, headers=auth)
    deadline = time.monotonic() + plan.retry_for_seconds
    while plan.retry_unavailable and status == 409 and paid.get("code") == "conflict":
        # "A payment for this order is in progress": the confirm whose answer was lost (its
        # process was killed) is settled by the payments reconciliation job; ask again.
        result.saw(plan, "pay", 409)
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(5)
        status, paid, _ = await call(client, plan, result, "pay", "POST", pay_url, headers=auth)
    if plan.retry_unavailable and status in (409, 422) and paid.get("refunded") is True:
        # The confirm a fault cut was settled after the hold had lapsed: the shop refunded
        # the money and said so. An outcome (money back), not a buyer left without one.
        result.outcome = "refunded_after_fault"
        return
    if status != 200 or paid.get("status") != "paid":
        raise RuntimeError(f"pay answered {status} {paid}")
    result.paid = True
    result.paid_at = time.time() - plan.started_at
    result.timed("pay", time.monotonic() - started)
    result.outcome = "bought"

    if rng.random() < plan.cancel_rate:
        if plan.waitlist:  # their seats come back to a sold-out show: the waitlist's case
            await waitlist.wait_for_sell_out(client, plan, seat_map, result, rng)
        started = time.monotonic()
        status, cancelled, _ = await call(
            client,
            plan,
            result,
            "cancel",
            "POST",
            f"{API}/orders/{order['id']}/cancel",
            json={"reason": "changed my mind"},
            headers=auth,
        )
        if status != 200:
            raise RuntimeError(f"cancel answered {status} {cancelled}")
        result.cancelled = True
        result.cancelled_at = time.time() - plan.started_at
        result.timed("cancel", time.monotonic() - started)
        result.outcome = "bought_then_cancelled"


async def run_buyers(
    plan: Plan, buyers: list[tuple[str, str, str]], seed: int, progress: Any
) -> list[BuyerResult]:
    """Run ``buyers`` (user id, token, source address) at once; one client per address."""
    rng = random.Random(seed)
    gateway = urllib.parse.urlsplit(plan.base_url)
    seat_map = SeatMap()
    clients: dict[str, Client] = {}

    def client_for(address: str) -> Client:
        # Fans come from many addresses: each simulated household connects from its own
        # loopback address (all of 127.0.0.0/8 is local), as the gateway and limits see it.
        if address not in clients:
            clients[address] = Client(gateway.hostname or "127.0.0.1", gateway.port or 80, address)
        return clients[address]

    async def one(user_id: str, token: str, address: str) -> BuyerResult:
        result = await buy(
            client_for(address), plan, token, user_id, seat_map, random.Random(rng.random())
        )
        if progress is not None:
            with progress.get_lock():
                progress.value += 1
        return result

    try:
        return await asyncio.gather(*(one(uid, tok, addr) for uid, tok, addr in buyers))
    finally:
        for client in clients.values():
            client.close()


def process_main(
    plan_dict: dict[str, Any],
    buyers: list[tuple[str, str, str]],
    seed: int,
    out_path: str,
    progress: Any,
) -> None:
    """Entry point of one load-generator process: results go to ``out_path`` as JSON."""
    plan = Plan(**plan_dict)
    # uvloop, as the servers use: the fans' own machines would not share these two cores.
    with collector_paused():
        results = uvloop.run(run_buyers(plan, buyers, seed, progress))
    with open(out_path, "w") as handle:
        json.dump([asdict(r) for r in results], handle)
