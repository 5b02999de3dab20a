"""``GET /users/me/export``: everything boxoffice keeps of the caller, as one JSON document.

It lives in orders because orders is the highest context holding the person's data and
may read the ones below it (identity's profile and seller application, tickets' tickets
and transfers); each part comes through its context's service, as any other reader's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from boxoffice.identity import service as identity
from boxoffice.orders import views
from boxoffice.orders.models import Order
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork
from boxoffice.tickets import service as tickets

FORMAT = "boxoffice-account-export/1"


async def export_account(uow: UnitOfWork, user: Principal) -> dict[str, Any]:
    """The caller's profile, seller application, orders (with lines, payment and refunds as
    the API shows them), tickets and transfers. Read-only."""
    person = await identity.get_user(uow, user.id)
    seller = await identity.seller_profile(uow, user.id)
    orders = (
        await uow.session.execute(select(Order).where(Order.user_id == user.id).order_by(Order.id))
    ).scalars()
    return {
        "format": FORMAT,
        "exported_at": uow.clock.now(),
        "profile": {
            "id": person.id,
            "email": person.email,
            "email_verified": person.email_verified,
            "name": person.name,
            "phone": person.phone,
            "role": person.role,
            "locale": person.locale,
            "created_at": person.created_at,
        },
        "seller_application": None
        if seller is None
        else {
            "business_name": seller.business_name,
            "business_number": seller.business_number,
            "status": seller.status,
        },
        "orders": [
            (await views.order_view(uow, order)).model_dump(mode="json") for order in orders
        ],
        **await tickets.export_of(uow, user),
    }
