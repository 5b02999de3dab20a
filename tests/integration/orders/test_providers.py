"""The real Toss and KakaoPay clients against the local stand-ins (real HTTP on loopback)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import cast

import pytest

from boxoffice.orders.payments.base import (
    ConfirmRequest,
    PaymentAlreadyProcessed,
    PaymentOutcomeUnknown,
    PaymentRejected,
    PaymentRequest,
    PaymentState,
)
from boxoffice.orders.payments.internal import InternalProvider
from boxoffice.orders.payments.kakaopay import KakaoPayProvider
from boxoffice.orders.payments.toss import TossProvider
from boxoffice.platform.clock import SystemClock
from boxoffice.platform.ids import new_id
from boxoffice.platform.kv import KeyValueStore, MemoryStore, RedisStore
from tests.stubs.kakaopay import TEST_CID, KakaoPayStandIn
from tests.stubs.kakaopay import TEST_SECRET_KEY as KAKAO_KEY
from tests.stubs.toss import TEST_CLIENT_KEY, TEST_SECRET_KEY, TossStandIn


def _toss(url: str, *, secret: str = TEST_SECRET_KEY, timeout: float = 2.0) -> TossProvider:
    return TossProvider(
        secret_key=secret,
        client_key=TEST_CLIENT_KEY,
        base_url=url,
        success_url="https://shop.example/api/v1/payments/toss/success",
        fail_url="https://shop.example/api/v1/payments/toss/fail",
        timeout=timeout,
        connect_timeout=1.0,
    )


@pytest.fixture
async def toss_client(toss: TossStandIn) -> AsyncIterator[TossProvider]:
    provider = _toss(toss.server.url, timeout=5.0)
    yield provider
    await provider.aclose()


def _kakao(url: str, *, timeout: float = 5.0) -> KakaoPayProvider:
    return KakaoPayProvider(
        secret_key=KAKAO_KEY,
        cid=TEST_CID,
        base_url=url,
        approval_url="https://shop.example/api/v1/payments/kakaopay/approve",
        cancel_url="https://shop.example/api/v1/payments/kakaopay/cancel",
        fail_url="https://shop.example/api/v1/payments/kakaopay/fail",
        redirect_key=b"k" * 32,
        timeout=timeout,
        connect_timeout=1.0,
    )


@pytest.fixture
async def kakao_client(kakaopay: KakaoPayStandIn) -> AsyncIterator[KakaoPayProvider]:
    provider = _kakao(kakaopay.server.url)
    yield provider
    await provider.aclose()


def _confirm(order_id: str, key: str, amount: int) -> ConfirmRequest:
    return ConfirmRequest(order_id, amount, "user-1", key, idempotency_key=f"confirm-{key}")


# --- Toss ----------------------------------------------------------------------------------


async def test_toss_confirm_cancel_lookup(toss: TossStandIn, toss_client: TossProvider) -> None:
    order_id = new_id()
    checkout = await toss_client.prepare(PaymentRequest(order_id, "VIP x2", 330_000, "KRW", "u1"))
    assert checkout.params["amount"] == 330_000
    assert checkout.params["client_key"] == TEST_CLIENT_KEY
    key = toss.authorize(order_id, 330_000)

    paid = await toss_client.confirm(_confirm(order_id, key, 330_000))
    assert (paid.state, paid.captured_amount, paid.order_id) == (
        PaymentState.CAPTURED,
        330_000,
        order_id,
    )
    method, path, headers = toss.requests[-1]
    assert (method, path) == ("POST", "/v1/payments/confirm")
    assert (
        headers["authorization"]
        == "Basic " + base64.b64encode(f"{TEST_SECRET_KEY}:".encode()).decode()
    )
    assert headers["idempotency-key"] == f"confirm-{key}"

    part = await toss_client.cancel(
        reference=key, order_id=order_id, amount=30_000, reason="fee", idempotency_key="r1"
    )
    assert (part.state, part.refunded_amount) == (PaymentState.PARTIALLY_CANCELLED, 30_000)
    # The same idempotency key replays the first answer: refunded once.
    again = await toss_client.cancel(
        reference=key, order_id=order_id, amount=30_000, reason="fee", idempotency_key="r1"
    )
    assert again.refunded_amount == 30_000
    assert toss.refunded == 30_000
    rest = await toss_client.cancel(
        reference=key, order_id=order_id, amount=300_000, reason="x", idempotency_key="r2"
    )
    assert rest.state is PaymentState.CANCELLED
    with pytest.raises(PaymentAlreadyProcessed):
        await toss_client.cancel(
            reference=key, order_id=order_id, amount=1, reason="x", idempotency_key="r3"
        )

    by_key = await toss_client.lookup(reference=key, order_id=order_id)
    by_order = await toss_client.lookup(reference=None, order_id=order_id)
    assert by_key == by_order
    assert by_key is not None
    assert (by_key.captured_amount, by_key.refunded_amount, by_key.kept_amount) == (
        330_000,
        330_000,
        0,
    )
    assert await toss_client.lookup(reference="tgen_unknown", order_id=order_id) is None
    assert (toss.captured, toss.refunded) == (330_000, 330_000)


@pytest.mark.parametrize(
    "code", ["REJECT_CARD_PAYMENT", "REJECT_CARD_COMPANY", "BELOW_MINIMUM_AMOUNT"]
)
async def test_toss_refusals_are_rejections(
    toss: TossStandIn, toss_client: TossProvider, code: str
) -> None:
    order_id = new_id()
    key = toss.authorize(order_id, 10_000)
    toss_client.test_code = code
    with pytest.raises(PaymentRejected) as refused:
        await toss_client.confirm(_confirm(order_id, key, 10_000))
    assert not isinstance(refused.value, PaymentOutcomeUnknown)
    assert refused.value.code == code
    assert toss.captured == 0


@pytest.mark.parametrize(
    "code", ["FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING", "UNKNOWN_PAYMENT_ERROR"]
)
async def test_toss_500_is_an_unknown_outcome(
    toss: TossStandIn, toss_client: TossProvider, code: str
) -> None:
    order_id = new_id()
    key = toss.authorize(order_id, 10_000)
    toss_client.test_code = code
    with pytest.raises(PaymentOutcomeUnknown) as unknown:
        await toss_client.confirm(_confirm(order_id, key, 10_000))
    assert (unknown.value.code, unknown.value.status) == (code, 500)


async def test_toss_timeout_is_unknown_and_lookup_finds_the_capture(
    toss: TossStandIn, toss_client: TossProvider
) -> None:
    order_id = new_id()
    key = toss.authorize(order_id, 10_000)
    toss.confirm_delay = 2.0
    impatient = _toss(toss.server.url, timeout=0.5)
    try:
        with pytest.raises(PaymentOutcomeUnknown) as unknown:
            await impatient.confirm(_confirm(order_id, key, 10_000))
    finally:
        await impatient.aclose()
    assert unknown.value.code == "TIMEOUT"
    found = await toss_client.lookup(reference=key, order_id=order_id)
    assert found is not None
    assert (found.state, found.captured_amount) == (PaymentState.CAPTURED, 10_000)


async def test_toss_idempotency_replays_and_reports_running_requests(
    toss: TossStandIn, toss_client: TossProvider
) -> None:
    order_id = new_id()
    key = toss.authorize(order_id, 10_000)
    toss.confirm_delay = 0.3
    slow = _toss(toss.server.url, timeout=5.0)
    try:
        first = asyncio.create_task(slow.confirm(_confirm(order_id, key, 10_000)))
        await asyncio.sleep(0.1)
        with pytest.raises(PaymentOutcomeUnknown) as running:
            await toss_client.confirm(_confirm(order_id, key, 10_000))
        assert running.value.code == "IDEMPOTENT_REQUEST_PROCESSING"
        assert running.value.status == 409
        assert (await first).state is PaymentState.CAPTURED
        replay = await toss_client.confirm(_confirm(order_id, key, 10_000))
        assert replay.state is PaymentState.CAPTURED  # the first answer, not ALREADY_PROCESSED
        # A new key for the same payment is a new request: Toss says it is already done.
        with pytest.raises(PaymentAlreadyProcessed):
            await toss_client.confirm(
                ConfirmRequest(order_id, 10_000, "u", key, idempotency_key="another")
            )
    finally:
        await slow.aclose()
    assert toss.captured == 10_000


async def test_toss_wrong_amount_or_key_is_refused(
    toss: TossStandIn, toss_client: TossProvider
) -> None:
    order_id = new_id()
    key = toss.authorize(order_id, 10_000)
    with pytest.raises(PaymentRejected) as wrong:
        await toss_client.confirm(_confirm(order_id, key, 9_000))
    assert wrong.value.code == "INVALID_REQUEST"
    bad_key = _toss(toss.server.url, secret="test_sk_wrong")
    try:
        with pytest.raises(PaymentRejected) as unauthorised:
            await bad_key.confirm(_confirm(order_id, key, 10_000))
        assert (unauthorised.value.code, unauthorised.value.status) == ("UNAUTHORIZED_KEY", 401)
    finally:
        await bad_key.aclose()
    assert toss.captured == 0


async def test_toss_unreachable_is_unknown() -> None:
    provider = _toss("http://127.0.0.1:9", timeout=0.5)
    try:
        with pytest.raises(PaymentOutcomeUnknown):
            await provider.lookup(reference="x", order_id="order-1")
    finally:
        await provider.aclose()


# --- KakaoPay ------------------------------------------------------------------------------


async def test_kakaopay_ready_approve_cancel_order(
    kakaopay: KakaoPayStandIn, kakao_client: KakaoPayProvider
) -> None:
    order_id = new_id()
    checkout = await kakao_client.prepare(PaymentRequest(order_id, "R석 x1", 99_000, "KRW", "u1"))
    tid = checkout.reference
    assert tid is not None
    assert checkout.params["tid"] == tid
    assert checkout.params["redirect_url"].endswith(tid)
    assert kakaopay.payments[tid]["approval_url"].endswith(f"?order_id={order_id}")
    ready = await kakao_client.lookup(reference=tid, order_id=order_id)
    assert ready is not None
    assert (ready.state, ready.captured_amount) == (PaymentState.PENDING, 0)

    token = kakaopay.authorize(tid)
    paid = await kakao_client.confirm(ConfirmRequest(order_id, 99_000, "u1", tid, "k", token=token))
    assert (paid.state, paid.captured_amount) == (PaymentState.CAPTURED, 99_000)
    with pytest.raises(PaymentRejected):  # approving twice is refused by KakaoPay
        await kakao_client.confirm(ConfirmRequest(order_id, 99_000, "u1", tid, "k", token=token))

    part = await kakao_client.cancel(
        reference=tid, order_id=order_id, amount=9_900, reason="fee", idempotency_key="-"
    )
    assert (part.state, part.refunded_amount) == (PaymentState.PARTIALLY_CANCELLED, 9_900)
    with pytest.raises(PaymentRejected):
        await kakao_client.cancel(
            reference=tid, order_id=order_id, amount=99_000, reason="x", idempotency_key="-"
        )
    done = await kakao_client.cancel(
        reference=tid, order_id=order_id, amount=89_100, reason="x", idempotency_key="-"
    )
    assert (done.state, done.kept_amount) == (PaymentState.CANCELLED, 0)
    assert (kakaopay.captured, kakaopay.refunded) == (99_000, 99_000)


async def test_kakaopay_refusals_500_timeout_and_unknown_tid(
    kakaopay: KakaoPayStandIn, kakao_client: KakaoPayProvider
) -> None:
    order_id = new_id()
    checkout = await kakao_client.prepare(PaymentRequest(order_id, "S석", 50_000, "KRW", "u1"))
    tid = str(checkout.reference)
    with pytest.raises(PaymentRejected) as wrong_token:
        await kakao_client.confirm(ConfirmRequest(order_id, 50_000, "u1", tid, "k", token="forged"))
    assert wrong_token.value.code == "-780"

    token = kakaopay.authorize(tid)
    kakaopay.fail_next["approve"] = (500, -9999, "internal error")
    with pytest.raises(PaymentOutcomeUnknown):
        await kakao_client.confirm(ConfirmRequest(order_id, 50_000, "u1", tid, "k", token=token))
    kakaopay.delay_next["approve"] = 2.0
    impatient = _kakao(kakaopay.server.url, timeout=0.5)
    try:
        with pytest.raises(PaymentOutcomeUnknown) as timed_out:
            await impatient.confirm(ConfirmRequest(order_id, 50_000, "u1", tid, "k", token=token))
    finally:
        await impatient.aclose()
    assert timed_out.value.code == "TIMEOUT"
    found = await kakao_client.lookup(reference=tid, order_id=order_id)
    assert found is not None
    assert (found.state, found.captured_amount) == (PaymentState.CAPTURED, 50_000)
    assert await kakao_client.lookup(reference="Tunknown", order_id=order_id) is None

    quitted = await kakao_client.prepare(PaymentRequest(new_id(), "S석", 50_000, "KRW", "u1"))
    kakaopay.quit(str(quitted.reference))
    gone = await kakao_client.lookup(reference=quitted.reference, order_id="x")
    assert gone is not None
    assert gone.state is PaymentState.FAILED


# --- internal ------------------------------------------------------------------------------


async def test_internal_switch_succeeds_fails_or_times_out() -> None:
    provider = InternalProvider(SystemClock())
    ok = await provider.confirm(ConfirmRequest("o1", 1000, "u", "p1", "k"))
    assert ok.state is PaymentState.CAPTURED
    provider.mode = "fail"
    with pytest.raises(PaymentRejected):
        await provider.confirm(ConfirmRequest("o2", 1000, "u", "p2", "k"))
    provider.mode = "timeout"
    with pytest.raises(PaymentOutcomeUnknown):
        await provider.confirm(ConfirmRequest("o3", 1000, "u", "p3", "k"))
    looked = await provider.lookup(reference="p3", order_id="o3")
    assert looked is not None
    assert looked.captured_amount == 1000
    assert await provider.lookup(reference="p2", order_id="o2") is None
    await provider.cancel(
        reference="p1", order_id="o1", amount=400, reason="x", idempotency_key="k"
    )
    with pytest.raises(PaymentRejected):
        await provider.cancel(
            reference="p1", order_id="o1", amount=601, reason="x", idempotency_key="k"
        )
    assert await provider.totals() == (2000, 400)


async def test_toss_replays_a_refusal_for_the_same_key(
    toss: TossStandIn, toss_client: TossProvider
) -> None:
    """Why each confirm attempt gets its own key: a key's first answer, even a refusal,
    is what Toss gives back for that key afterwards."""
    order_id = new_id()
    key = toss.authorize(order_id, 10_000)
    first = ConfirmRequest(order_id, 9_000, "u", key, idempotency_key="attempt-1")
    with pytest.raises(PaymentRejected):
        await toss_client.confirm(first)
    with pytest.raises(PaymentRejected):  # the same key, now with the right amount: replayed
        await toss_client.confirm(
            ConfirmRequest(order_id, 10_000, "u", key, idempotency_key="attempt-1")
        )
    fresh = ConfirmRequest(order_id, 10_000, "u", key, idempotency_key="attempt-2")
    assert (await toss_client.confirm(fresh)).state is PaymentState.CAPTURED


@pytest.mark.parametrize("use_redis", [True])
async def test_internal_ledger_is_shared_by_replicas(redis_url: str, redis_prefix: str) -> None:
    """Captured on one API replica, refunded on another; racing confirms capture once."""
    stores = [RedisStore(redis_url, redis_prefix), RedisStore(redis_url, redis_prefix)]
    one, two = (InternalProvider(SystemClock(), store) for store in stores)
    try:
        racing = await asyncio.gather(
            *(
                replica.confirm(ConfirmRequest("o9", 5000, "u", "p9", "k"))
                for replica in (one, two, one, two)
            ),
            return_exceptions=True,
        )
        assert sum(not isinstance(r, Exception) for r in racing) == 1
        refunded = await two.cancel(
            reference="p9", order_id="o9", amount=5000, reason="x", idempotency_key="k"
        )
        assert refunded.state is PaymentState.CANCELLED
        seen = await one.lookup(reference=None, order_id="o9")
        assert seen is not None
        assert seen.state is PaymentState.CANCELLED
        assert await one.totals() == await two.totals() == (5000, 5000)
    finally:
        for store in stores:
            await store.close()


class _RetriedSets:
    """A real store whose every set-if-absent reaches it twice, the caller seeing the second
    answer: what a client shows when the first reply was lost with its connection and the
    command was sent again."""

    def __init__(self, store: KeyValueStore) -> None:
        self._store = store
        self.prefix = store.prefix

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    async def set(
        self, key: str, value: str, *, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool:
        await self._store.set(key, value, ttl=ttl, only_if_absent=only_if_absent)
        return await self._store.set(key, value, ttl=ttl, only_if_absent=only_if_absent)


@pytest.mark.parametrize("use_redis", [False, True])
async def test_internal_ledger_survives_a_retried_set_if_absent(
    use_redis: bool, redis_url: str, redis_prefix: str
) -> None:
    """A capture or a refund lock whose SET NX was retried is still its caller's, while a
    second confirm of the same payment is still refused."""
    store: KeyValueStore = RedisStore(redis_url, redis_prefix) if use_redis else MemoryStore()
    provider = InternalProvider(SystemClock(), cast(KeyValueStore, _RetriedSets(store)))
    try:
        paid = await provider.confirm(ConfirmRequest("o7", 3000, "u", "p7", "k"))
        assert paid.state is PaymentState.CAPTURED
        with pytest.raises(PaymentAlreadyProcessed):
            await provider.confirm(ConfirmRequest("o7", 3000, "u", "p7", "k2"))
        refunded = await provider.cancel(
            reference="p7", order_id="o7", amount=1000, reason="x", idempotency_key="k"
        )
        assert refunded.state is PaymentState.PARTIALLY_CANCELLED
        assert await provider.totals() == (3000, 1000)
    finally:
        await store.close()
