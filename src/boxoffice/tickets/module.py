"""How tickets plugs into the app: its routes (tickets, QR codes, check-in) and the
day-before reminder job."""

from __future__ import annotations

from boxoffice.platform.contexts import ContextModule
from boxoffice.platform.jobs import JobSpec
from boxoffice.tickets import reminders, routes, seller_routes

MODULE = ContextModule(
    "tickets",
    routers=[routes.router, seller_routes.router],
    jobs=[
        JobSpec(
            "tickets.send_show_reminders",
            "*/10 * * * *",
            reminders.send_reminders,
            "E-mail each holder of a show starting within a day, once",
        )
    ],
)
