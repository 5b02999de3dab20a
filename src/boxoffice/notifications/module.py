"""How notifications plugs into the app: the dead-letter routes, the e-mail consumers and
the pruning of processed event ids."""

from __future__ import annotations

from boxoffice.notifications import consumers, routes, webhook_routes
from boxoffice.platform.contexts import ContextModule

MODULE = ContextModule(
    "notifications",
    routers=[routes.router, webhook_routes.router],
    consumers=consumers.CONSUMERS,
    jobs=consumers.JOBS,
)
