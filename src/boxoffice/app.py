"""The composition root: ``create_app(settings, contexts)`` wires the contexts into one app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI
from starlette.types import Receive, Scope, Send

from boxoffice import __version__
from boxoffice.platform import errors, health, messaging
from boxoffice.platform.clock import Clock
from boxoffice.platform.config import Settings
from boxoffice.platform.fastlane import FastLane, FastRoute
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.limits_mw import BodySizeLimitMiddleware
from boxoffice.platform.messaging import Consumer
from boxoffice.platform.observability import RequestContextMiddleware, configure_logging
from boxoffice.platform.runtime import Runtime, build_runtime
from boxoffice.web import NEEDS as SHOP_NEEDS
from boxoffice.web import apidocs

API_PREFIX = "/api/v1"
Startup = Callable[[Runtime, AsyncExitStack], Awaitable[None]]


class BoxOfficeApp(FastAPI):
    """The FastAPI app, with the fast lane in front of its middleware stack once it runs."""

    fast_lane: FastLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.fast_lane
        if lane is not None and scope["type"] == "http":
            matched = lane.match(scope)
            if matched is not None:
                await lane(matched, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


@dataclass
class ContextModule:
    """How a context plugs in: its routers and what it starts with the process."""

    name: str
    routers: list[APIRouter] = field(default_factory=list)
    root_routers: list[APIRouter] = field(default_factory=list)  # mounted outside /api/v1
    startup: Startup | None = None
    jobs: list[JobSpec] = field(default_factory=list)  # scheduled by batch
    consumers: list[Consumer] = field(default_factory=list)  # run by the worker / in-process
    # Hot routes also answered by the fast lane (each has a FastAPI twin in ``routers``).
    fast_routes: list[FastRoute] = field(default_factory=list)


def _identity() -> ContextModule:
    from boxoffice.identity import oauth_routes, routes

    return ContextModule(
        "identity", routers=[routes.router, oauth_routes.router], root_routers=[routes.wellknown]
    )


def _catalog() -> ContextModule:
    from boxoffice.catalog import adapters, jobs, routes
    from boxoffice.platform.storage import media_router

    return ContextModule(
        "catalog",
        routers=[routes.router],
        root_routers=[media_router],
        startup=adapters.startup,
        jobs=jobs.JOBS,
    )


def _waitroom() -> ContextModule:
    from boxoffice.waitroom import fast_routes, routes, service

    return ContextModule(
        "waitroom",
        routers=[routes.router],
        startup=service.startup,
        jobs=service.JOBS,
        fast_routes=fast_routes.routes(API_PREFIX),
    )


def _batch() -> ContextModule:
    from boxoffice.batch import jobs, routes, startup

    return ContextModule("batch", routers=[routes.router], startup=startup.startup, jobs=jobs.JOBS)


def _merch() -> ContextModule:
    from boxoffice.merch import module, routes

    return ContextModule("merch", routers=[routes.router], startup=module.startup, jobs=module.JOBS)


def _orders() -> ContextModule:
    from boxoffice.orders import module, routes

    return ContextModule(
        "orders", routers=[routes.router], startup=module.startup, jobs=module.JOBS
    )


def _tickets() -> ContextModule:
    from boxoffice.tickets import routes

    return ContextModule("tickets", routers=[routes.router])


def _seating() -> ContextModule:
    from boxoffice.seating import fast_routes, module, routes

    return ContextModule(
        "seating",
        routers=[routes.router],
        startup=module.startup,
        jobs=module.JOBS,
        fast_routes=fast_routes.routes(API_PREFIX),
    )


def _notifications() -> ContextModule:
    from boxoffice.notifications import consumers, routes

    return ContextModule(
        "notifications",
        routers=[routes.router],
        consumers=consumers.CONSUMERS,
        jobs=consumers.JOBS,
    )


CONTEXTS: dict[str, Callable[[], ContextModule]] = {
    "identity": _identity,
    "batch": _batch,
    "catalog": _catalog,
    "waitroom": _waitroom,
    "seating": _seating,
    "merch": _merch,
    "orders": _orders,
    "tickets": _tickets,
    "notifications": _notifications,
}


def create_app(
    settings: Settings | None = None,
    contexts: Iterable[str] | None = None,
    *,
    clock: Clock | None = None,
    background: bool = True,
) -> BoxOfficeApp:
    """Build the app with the chosen contexts (all by default).

    ``background=False`` leaves out in-process loops (sweepers, dispatchers) so tests can
    drive them by hand.
    """
    settings = settings or Settings()
    chosen = list(contexts) if contexts is not None else list(CONTEXTS)
    unknown = set(chosen) - set(CONTEXTS)
    if unknown:
        raise ValueError(f"unknown contexts: {', '.join(sorted(unknown))}")
    modules = [CONTEXTS[name]() for name in chosen]
    configure_logging(settings.log_level, settings.log_json)
    settings.refuse_unsafe_production()

    @asynccontextmanager
    async def lifespan(app: BoxOfficeApp) -> AsyncIterator[None]:
        runtime = build_runtime(settings, clock)
        runtime.background = background
        runtime.jobs = [job for module in modules for job in module.jobs]
        runtime.consumers = [c for module in modules for c in module.consumers]
        app.state.runtime = runtime
        async with AsyncExitStack() as stack:
            stack.push_async_callback(runtime.close)
            for module in modules:
                if module.startup is not None:
                    await module.startup(runtime, stack)
            await messaging.startup(runtime, stack)
            fast_routes = [route for module in modules for route in module.fast_routes]
            if settings.fast_lane and fast_routes:
                app.fast_lane = FastLane(runtime, fast_routes)
                stack.callback(setattr, app, "fast_lane", None)
            yield

    app = BoxOfficeApp(
        title="boxoffice",
        version=__version__,
        summary="Tickets and merchandise for concerts and performances.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # served from local files by web.apidocs (no CDN)
        redoc_url=None,
    )
    errors.install(app)
    app.include_router(health.router)
    apidocs.install(app)
    api = APIRouter(prefix=API_PREFIX)
    templates: dict[int, str] = {id(r): getattr(r, "path", "") for r in health.router.routes}
    for module in modules:
        for router in module.routers:
            api.include_router(router)
            templates.update({id(r): API_PREFIX + getattr(r, "path", "") for r in router.routes})
        for router in module.root_routers:
            app.include_router(router)
            templates.update({id(r): getattr(r, "path", "") for r in router.routes})
    app.include_router(api)
    if set(chosen) >= SHOP_NEEDS:  # the fans' pages, beside the API (web/, docs/web.md)
        from boxoffice.web import module as shop  # imported, like a context, only when used

        shop.install(app, settings)

    # Metrics need the runtime's registry, which exists only once the lifespan has run.
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_json=settings.max_json_body_bytes,
        max_upload=settings.max_upload_bytes,
    )
    app.add_middleware(_LazyRequestContext, fastapi_app=app, route_templates=templates)
    return app


@asynccontextmanager
async def open_runtime(
    settings: Settings, contexts: Iterable[str] | None = None, *, clock: Clock | None = None
) -> AsyncIterator[Runtime]:
    """The runtime of a standalone role (``boxoffice scheduler``): every context's
    start-up run with ``background=False`` (adapters attached, no loops) and every
    context's jobs on ``runtime.jobs``."""
    chosen = list(contexts) if contexts is not None else list(CONTEXTS)
    modules = [CONTEXTS[name]() for name in chosen]
    configure_logging(settings.log_level, settings.log_json)
    runtime = build_runtime(settings, clock)
    runtime.jobs = [job for module in modules for job in module.jobs]
    runtime.consumers = [c for module in modules for c in module.consumers]
    async with AsyncExitStack() as stack:
        stack.push_async_callback(runtime.close)
        for module in modules:
            if module.startup is not None:
                await module.startup(runtime, stack)
        yield runtime


class _LazyRequestContext:
    """RequestContextMiddleware bound to the runtime's metrics once the lifespan made them."""

    def __init__(
        self,
        app: Callable[..., Awaitable[None]],
        fastapi_app: FastAPI,
        route_templates: dict[int, str],
    ) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.route_templates = route_templates
        self._inner: RequestContextMiddleware | None = None

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:  # type: ignore[type-arg]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._inner is None:
            runtime: Runtime = self.fastapi_app.state.runtime
            self._inner = RequestContextMiddleware(self.app, runtime.metrics, self.route_templates)
        await self._inner(scope, receive, send)
