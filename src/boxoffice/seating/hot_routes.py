"""seating's hot route on the platform's fast lane (``platform/fastlane.py``).

``POST /shows/{id}/holds`` is what a sale's crowd does once admitted, thousands of times a
second, and most attempts are refused by the seat board in one Redis call: through
FastAPI, its routing and dependency solving were most of such an attempt's CPU. This is
the same use case as the FastAPI twin in ``routes.py`` (which documents it in OpenAPI and
answers when the lane is off), with the same answers.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints, TypeAdapter

from boxoffice.platform.fastlane import FastRequest, FastResponse, FastRoute
from boxoffice.seating import service
from boxoffice.seating.schemas import HoldCreate, HoldRead

# As the twin's ``ShowId`` path parameter.
_SHOW_ID = TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=64)])


async def hold_seats(request: FastRequest) -> FastResponse:
    user = request.user()  # first, as FastAPI resolves CurrentUser before the parameters
    show_id = request.param("show_id", _SHOW_ID)
    body = await request.model(HoldCreate)
    runtime = request.runtime
    held = await service.hold_seats(
        runtime,
        show_id=show_id,
        user=user,
        seat_ids=body.seat_ids,
        admission_token=request.header(b"x-admission-token"),
    )
    read = HoldRead.of(held)
    read.suggested_products = await service.goods_to_offer(runtime, held)
    return FastResponse(201, read.model_dump_json().encode())


def routes(prefix: str) -> list[FastRoute]:
    return [FastRoute("POST", f"{prefix}/shows/{{show_id}}/holds", hold_seats)]
