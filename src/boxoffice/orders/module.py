"""How orders plugs into the app: routes, the payment providers' clients, scheduled jobs,
the refunds of a cancelled event (a consumer)."""

from __future__ import annotations

from contextlib import AsyncExitStack

from boxoffice.orders import consumers, hot_routes, routes, seller_routes, service
from boxoffice.orders.payments.registry import build_providers
from boxoffice.platform.contexts import ContextModule
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.runtime import Runtime


async def startup(runtime: Runtime, stack: AsyncExitStack) -> None:
    providers = runtime.adapters.put(build_providers(runtime))
    stack.push_async_callback(providers.aclose)


JOBS = [
    JobSpec(
        name="orders.expire_orders",
        schedule="* * * * *",
        run=service.expire_orders,
        description="Pending orders past their hold's expiry expire; seats and stock go back.",
    ),
    JobSpec(
        name="orders.reconcile_payments",
        schedule="* * * * *",
        run=service.reconcile_payments,
        description="Unknown payment outcomes and pending refunds, settled by provider lookups.",
    ),
]

MODULE = ContextModule(
    "orders",
    routers=[routes.router, seller_routes.router],
    hot_routes=hot_routes.HOT_ROUTES,
    startup=startup,
    jobs=JOBS,
    consumers=consumers.CONSUMERS,
)
