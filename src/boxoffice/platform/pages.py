"""How a list route answers a keyset page: its items and the cursor of the next page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def page_answer(listed: tuple[Sequence[Any], str | None], **beside: Any) -> dict[str, Any]:
    """A page's body from what a service's listing returns (the items, the ``next_cursor``,
    None on the last page), with what the page model has ``beside`` them (a door count)."""
    items, next_cursor = listed
    return {"items": items, "next_cursor": next_cursor, **beside}
