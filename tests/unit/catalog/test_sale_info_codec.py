"""A show's sale info as catalog's cache keeps it: what is written is what is read back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from boxoffice.catalog.contracts import CancellationPolicy, QueueSettings
from boxoffice.catalog.domain import queue_of
from boxoffice.catalog.sale_info import from_json, to_json
from tests.support.seating import sale_info


def test_every_field_survives_the_cache() -> None:
    seoul = timezone(timedelta(hours=9))
    info = replace(
        sale_info("show", "event"),
        grade_prices={"VIP": 150_000, "R": 120_000},
        queue=QueueSettings(True, 250.5, 3000, 30, True),
        cancellation=CancellationPolicy(3, 2000, 12, ((10, 5), (3, 50))),
        limit_scope="event",
        transfers_allowed=False,
        transfer_cutoff_hours=48,
        requires_verified_email=True,
        starts_at=datetime(2027, 1, 2, 19, 30, tzinfo=seoul),
        free_refund_until=datetime(2026, 12, 31, 23, 59, 59, 123456, tzinfo=UTC),
    )
    back = from_json(to_json(info))
    assert back == info
    assert back.starts_at.utcoffset() == timedelta(hours=9)
    assert back.cancellation.tiers == ((10, 5), (3, 50))  # tuples, as the policy compares them
    assert from_json(to_json(replace(info, free_refund_until=None))).free_refund_until is None


def test_an_entry_of_another_shape_is_refused_not_misread() -> None:
    # The hand-written form before (queue as a list) lives under another key; were one met,
    # it must fail loudly rather than come back with defaults.
    old = to_json(sale_info("show", "event")).replace(
        '"queue":{"enabled":false,"admit_per_second":50.0,"max_active":1000,'
        '"pre_queue_minutes":0,"paused":false}',
        '"queue":[false,50.0,1000,0]',
    )
    assert '"queue":[' in old
    with pytest.raises(ValidationError):
        from_json(old)


def test_the_queue_settings_are_read_from_the_event_columns_by_name() -> None:
    class Row:
        queue_enabled, queue_admit_per_second, queue_max_active = True, 80.0, 500
        queue_pre_queue_minutes, queue_paused = 15, False

    assert queue_of(Row()) == QueueSettings(True, 80.0, 500, 15, False)
