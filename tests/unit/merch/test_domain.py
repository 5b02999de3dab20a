"""merch's plain rules: order lines, shown status, stock adjustments, limits, delivery."""

from __future__ import annotations

import pytest

from boxoffice.merch import domain
from boxoffice.merch.contracts import Delivery, DeliveryAddress, InvalidDelivery, ReservedItem
from boxoffice.merch.domain import ProductStatus

ADDRESS = {
    "recipient": "Kim Minji",
    "phone": "010-1234-5678",
    "postal_code": "04524",
    "address1": "Sejong-daero 110, Jung-gu, Seoul",
}


def test_order_lines_merge_duplicates_and_sort_by_sku() -> None:
    assert domain.order_lines([("TS-M", 1), ("LS-01", 2), ("TS-M", 2)]) == [
        ("LS-01", 2),
        ("TS-M", 3),
    ]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([("LS-01", 0)], "positive"),
        ([("LS-01", -1)], "positive"),
        ([("LS-01", True)], "positive"),
        ([("", 1)], "sku"),
        ([("LS-01", 60), ("LS-01", 41)], "at most 100"),
        ([(f"SKU-{i}", 1) for i in range(21)], "at most 20"),
    ],
)
def test_order_lines_refuse_bad_items(items: list[tuple[str, int]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        domain.order_lines(items)


def test_a_product_on_sale_without_stock_shows_as_sold_out() -> None:
    assert domain.shown_status("on_sale", [0, 0]) is ProductStatus.SOLD_OUT
    assert domain.shown_status("on_sale", [0, 3]) is ProductStatus.ON_SALE
    assert domain.shown_status("hidden", [5]) is ProductStatus.HIDDEN
    assert domain.shown_status("sold_out", [5]) is ProductStatus.SOLD_OUT


def test_stock_never_goes_below_zero() -> None:
    assert domain.stock_after(5, -5) == 0
    assert domain.stock_after(5, 10) == 15
    with pytest.raises(ValueError, match="only 5 in stock"):
        domain.stock_after(5, -6)
    with pytest.raises(ValueError, match="zero"):
        domain.stock_after(5, 0)


def test_per_user_limit() -> None:
    assert domain.within_limit(1, 1, 2)
    assert not domain.within_limit(1, 2, 2)
    assert domain.within_limit(1000, 1, None)


def test_reserved_item_amount() -> None:
    item = ReservedItem("r", "o", "LS-01", "p", "e", "Light stick", "", 3, 35000, "KRW", "reserved")
    assert item.amount == 105000


def test_delivery_defaults_to_pickup_at_the_venue() -> None:
    assert Delivery.from_dict(None) == Delivery("pickup", None)
    assert Delivery.from_dict({"method": "pickup"}).to_dict() == {
        "method": "pickup",
        "address": None,
    }


def test_delivery_to_an_address_round_trips() -> None:
    delivery = Delivery.from_dict(
        {"method": "delivery", "address": {**ADDRESS, "address2": " 3F "}}
    )
    assert delivery.address == DeliveryAddress(**ADDRESS, address2="3F")
    assert Delivery.from_dict(delivery.to_dict()) == delivery


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"method": "delivery"}, ["body", "delivery", "address"]),
        ({"method": "pickup", "address": ADDRESS}, ["body", "delivery", "address"]),
        ({"method": "drone"}, ["body", "delivery", "method"]),
        (
            {"method": "delivery", "address": {**ADDRESS, "phone": "call me"}},
            ["body", "delivery", "address", "phone"],
        ),
        (
            {"method": "delivery", "address": {**ADDRESS, "recipient": "  "}},
            ["body", "delivery", "address", "recipient"],
        ),
        (
            {"method": "delivery", "address": {**ADDRESS, "postal_code": "!"}},
            ["body", "delivery", "address", "postal_code"],
        ),
        (
            {"method": "delivery", "address": {**ADDRESS, "floor": 3}},
            ["body", "delivery", "address", "floor"],
        ),
        (
            {"method": "delivery", "address": {**ADDRESS, "address1": 7}},
            ["body", "delivery", "address", "address1"],
        ),
        ({"method": "delivery", "address": "Seoul"}, ["body", "delivery", "address"]),
        ({"method": "pickup", "when": "now"}, ["body", "delivery", "when"]),
    ],
)
def test_invalid_delivery_is_a_validation_error_naming_the_field(
    data: dict[str, object], loc: list[str]
) -> None:
    with pytest.raises(InvalidDelivery) as caught:
        Delivery.from_dict(data)
    assert caught.value.status == 422
    assert caught.value.code == "validation_error"
    assert caught.value.extra["errors"][0]["loc"] == loc


def test_the_constructor_checks_the_same_rules() -> None:
    with pytest.raises(InvalidDelivery):
        Delivery("delivery", None)
