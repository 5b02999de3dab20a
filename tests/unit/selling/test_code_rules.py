"""Presale codes' and vouchers' rules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from boxoffice.seating import code_rules
from boxoffice.seating.code_rules import CodeInfo, CodeRefused

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def code(**fields: object) -> CodeInfo:
    return CodeInfo("c", "e", "FANCLUB", **fields)  # type: ignore[arg-type]


def test_a_batch_is_unique_unambiguous_and_prefixed() -> None:
    made = code_rules.generate(500, prefix="iu")
    assert len(set(made)) == 500
    assert all(c.startswith("IU") and len(c) == 12 for c in made)
    assert not set("".join(c[2:] for c in made)) & set("01OIL")
    assert code_rules.normalise("  fanClub ") == "FANCLUB"


def test_a_code_is_usable_only_inside_its_window_and_while_active() -> None:
    window = code(valid_from=NOW, valid_until=NOW + timedelta(days=1))
    code_rules.check_usable(window, NOW)
    with pytest.raises(CodeRefused, match="not valid yet"):
        code_rules.check_usable(window, NOW - timedelta(seconds=1))
    with pytest.raises(CodeRefused, match="expired"):
        code_rules.check_usable(window, NOW + timedelta(days=1))
    with pytest.raises(CodeRefused, match="no longer valid"):
        code_rules.check_usable(code(active=False), NOW)


def test_a_presale_code_opens_the_sale_earlier_never_later() -> None:
    public = NOW + timedelta(days=2)
    assert code_rules.opens_sale_at(None, public) == public
    assert code_rules.opens_sale_at(code(presale_opens_at=NOW), public) == NOW
    assert code_rules.opens_sale_at(code(presale_opens_at=public + timedelta(1)), public) == public


def test_discounts_round_in_the_buyers_favour_and_never_go_below_zero() -> None:
    assert code_rules.discounted([165_000, 99_999], None) == [165_000, 99_999]
    assert code_rules.discounted([165_000, 99_999], code(percent_off=10)) == [148_500, 89_999]
    assert code_rules.discounted([10_000, 30_000], code(amount_off=25_000)) == [0, 15_000]
    assert code_rules.discounted([10_000], code(amount_off=50_000)) == [0]
    assert code_rules.discounted([10_000], code(percent_off=100)) == [0]


def test_uses_within_limits() -> None:
    assert code_rules.within_uses(49, 50)
    assert not code_rules.within_uses(50, 50)
    assert code_rules.within_uses(10**6, None)
