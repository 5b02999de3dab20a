"""How tickets plugs into the app: its routes (tickets, QR codes, check-in)."""

from __future__ import annotations

from boxoffice.platform.contexts import ContextModule
from boxoffice.tickets import routes, seller_routes

MODULE = ContextModule("tickets", routers=[routes.router, seller_routes.router])
