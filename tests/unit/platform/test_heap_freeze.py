"""The app and the standalone roles freeze what their start-up built (no full collection
walks it again while they run), consider full collections less often, and give both back
to the collector when they stop."""

from __future__ import annotations

import gc

from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from boxoffice.app import COLLECTOR_THRESHOLDS, open_runtime
from boxoffice.platform.config import Settings


async def test_the_apps_start_up_is_frozen_while_serving_and_unfrozen_after(app: FastAPI) -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    async with LifespanManager(app):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == COLLECTOR_THRESHOLDS != before
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


async def test_a_roles_start_up_is_frozen_while_running_and_unfrozen_after(
    settings: Settings,
) -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    async with open_runtime(settings):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == COLLECTOR_THRESHOLDS
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
