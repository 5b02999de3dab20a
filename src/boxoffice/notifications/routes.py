"""notifications' HTTP routes: the admin's dead-letter desk."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from boxoffice.notifications import service
from boxoffice.notifications.schemas import DeadLetterPage, DeadLetterQuery, DeadLetterRead
from boxoffice.platform.deps import AdminUser, UoW
from boxoffice.platform.openapi import ADMIN_RESPONSES, problems
from boxoffice.platform.pages import page_answer

router = APIRouter(tags=["operations"])


@router.get("/admin/dead-letters", response_model=DeadLetterPage, responses=ADMIN_RESPONSES)
async def list_dead_letters(
    uow: UoW, admin: AdminUser, query: Annotated[DeadLetterQuery, Query()]
) -> Any:
    """Events and e-mails that failed for good (``status=dead``), newest first."""
    return page_answer(await service.dead_letters(uow, query))


@router.post(
    "/admin/dead-letters/{dead_letter_id}/retry",
    status_code=202,
    response_model=DeadLetterRead,
    responses=ADMIN_RESPONSES | problems({404: "no such dead letter", 409: "not dead"}),
)
async def retry_dead_letter(dead_letter_id: str, uow: UoW, admin: AdminUser) -> Any:
    """Deliver it again through the retry topic, with a fresh set of retries."""
    return await service.retry_dead_letter(uow, dead_letter_id, admin_id=admin.id)
