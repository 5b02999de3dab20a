"""How tickets plugs into the app: its routes (tickets, QR codes, check-in) and the
day-before reminder job."""

from __future__ import annotations

from boxoffice.catalog.events import ShowRescheduled
from boxoffice.identity.contracts import DeletionGuards
from boxoffice.platform.contexts import ContextModule
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.messaging import Consumer
from boxoffice.platform.runtime import Runtime
from boxoffice.tickets import reminders, routes, seller_routes, service, show_moves


def provide(runtime: Runtime) -> None:
    """An account holding a valid ticket for a show to come is not deleted (identity asks)."""
    runtime.adapters.ensure(DeletionGuards, DeletionGuards).guards.append(
        service.upcoming_tickets_guard
    )


MODULE = ContextModule(
    "tickets",
    routers=[routes.router, seller_routes.router],
    provide=provide,
    consumers=[Consumer("tickets.follow_show", ShowRescheduled, show_moves.follow_show)],
    jobs=[
        JobSpec(
            "tickets.send_show_reminders",
            "*/10 * * * *",
            reminders.send_reminders,
            "E-mail each holder of a show starting within a day, once",
        )
    ],
)
