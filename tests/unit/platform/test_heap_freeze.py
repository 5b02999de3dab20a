"""The app freezes what its start-up built (no full collection walks it again while it
serves) and gives it back to the collector when it stops."""

from __future__ import annotations

import gc

from asgi_lifespan import LifespanManager
from fastapi import FastAPI


async def test_start_up_is_frozen_while_serving_and_unfrozen_after(app: FastAPI) -> None:
    gc.unfreeze()
    async with LifespanManager(app):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
