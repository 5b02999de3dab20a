"""The composition root: ``create_app(settings, contexts)`` wires the contexts into one app."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.types import Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from boxoffice import __version__
from boxoffice.batch import module as batch
from boxoffice.catalog import module as catalog
from boxoffice.identity import module as identity
from boxoffice.merch import module as merch
from boxoffice.notifications import module as notifications
from boxoffice.orders import module as orders
from boxoffice.platform import errors, health, messaging, openapi
from boxoffice.platform.clock import Clock
from boxoffice.platform.config import Settings
from boxoffice.platform.contexts import API_PREFIX, ContextModule
from boxoffice.platform.fastlane import FastLane
from boxoffice.platform.limits_mw import BodySizeLimitMiddleware
from boxoffice.platform.observability import RequestContextMiddleware, configure_logging
from boxoffice.platform.runtime import Runtime, build_runtime
from boxoffice.platform.text_guard import RequestTextGuard
from boxoffice.seating import module as seating
from boxoffice.tickets import module as tickets
from boxoffice.waitroom import module as waitroom
from boxoffice.web import NEEDS as SHOP_NEEDS
from boxoffice.web import apidocs


class BoxOfficeApp(FastAPI):
    """The FastAPI app, with the fast lane in front of its middleware stack once it runs."""

    fast_lane: FastLane | None = None
    # Forwarded headers applied from the configured gateways only, before the lane and the
    # stack alike (uvicorn's own proxy handling is off: one place decides, docs/security.md).
    proxy_headers: ProxyHeadersMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.proxy_headers is not None and scope["type"] == "http":
            await self.proxy_headers(scope, receive, send)  # type: ignore[arg-type]
            return
        await self._dispatch(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.fast_lane
        if lane is not None and scope["type"] == "http":
            matched = lane.match(scope)
            if matched is not None:
                await lane(matched, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


CONTEXTS: dict[str, ContextModule] = {
    module.name: module
    for module in (
        identity.MODULE,
        batch.MODULE,
        catalog.MODULE,
        waitroom.MODULE,
        seating.MODULE,
        merch.MODULE,
        orders.MODULE,
        tickets.MODULE,
        notifications.MODULE,
    )
}


def wire(runtime: Runtime) -> Runtime:
    """Fill every context's ports for the contexts below it (no I/O). Every process does
    this whatever contexts it serves: catalog creates shows through seating's port even
    where seating serves no route."""
    for module in CONTEXTS.values():
        if module.provide is not None:
            module.provide(runtime)
    return runtime


def create_app(
    settings: Settings | None = None,
    contexts: Iterable[str] | None = None,
    *,
    clock: Clock | None = None,
    background: bool = True,
) -> BoxOfficeApp:
    """Build the app with the chosen contexts (all by default); ``background=False`` leaves
    out in-process loops (sweepers, dispatchers) so tests can drive them by hand."""
    settings = settings or Settings()
    chosen = list(contexts) if contexts is not None else list(CONTEXTS)
    modules = _modules(chosen)
    configure_logging(settings.log_level, settings.log_json)
    settings.refuse_unsafe_production()
    limits = {"max_json": settings.max_json_body_bytes, "max_upload": settings.max_upload_bytes}

    @asynccontextmanager
    async def lifespan(app: BoxOfficeApp) -> AsyncIterator[None]:
        runtime = wire(build_runtime(settings, clock))
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
            _start_fast_lane(app, runtime, modules, limits, stack)
            _freeze_start_up(stack)
            yield

    app = BoxOfficeApp(
        title="boxoffice",
        version=__version__,
        summary="Tickets and merchandise for concerts and performances.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # served from local files by web.apidocs (no CDN)
        redoc_url=None,
        generate_unique_id_function=openapi.operation_id,
    )
    app.proxy_headers = ProxyHeadersMiddleware(app._dispatch, settings.trusted_proxies)  # type: ignore[arg-type]
    errors.install(app)
    openapi.install(app)
    app.include_router(health.router)
    apidocs.install(app)
    templates = _include_routes(app, modules)
    if set(chosen) >= SHOP_NEEDS:  # the fans' pages, beside the API (web/, docs/web.md)
        from boxoffice.web import module as shop  # imported, like a context, only when used

        shop.install(app, settings)

    # Metrics need the runtime's registry, which exists only once the lifespan has run.
    app.add_middleware(RequestTextGuard, json_only_under=API_PREFIX)
    app.add_middleware(BodySizeLimitMiddleware, **limits)
    app.add_middleware(_LazyRequestContext, fastapi_app=app, route_templates=templates)
    return app


def _start_fast_lane(
    app: BoxOfficeApp,
    runtime: Runtime,
    modules: list[ContextModule],
    limits: dict[str, int],
    stack: AsyncExitStack,
) -> None:
    """The hot routes' fast lane in front of the middleware stack (when configured)."""
    fast_routes = [r.fast_route(API_PREFIX) for m in modules for r in m.hot_routes]
    if runtime.settings.fast_lane and fast_routes:
        app.fast_lane = FastLane(runtime, fast_routes, limits)
        stack.callback(setattr, app, "fast_lane", None)


# Python's default is (700, 10, 10): a full collection is considered after every 10th
# middle one; here after every 1,000th. See _freeze_start_up.
COLLECTOR_THRESHOLDS = (700, 10, 1000)


def _freeze_start_up(stack: AsyncExitStack) -> None:
    """What start-up built lives as long as the process: frozen, no full collection walks it
    again (one took ~200 ms of an API worker's loop under the purchase bench); given back to
    the collector when the process's runtime closes.

    And full collections are considered after every 1,000th middle one, not every 10th
    (``COLLECTOR_THRESHOLDS``): a crowd's live streams grow the heap by a quarter again and
    again, and each time Python walked all of it. In the arrival bench (20,000 fans at
    1,000/s) each API process spent ~4 s in nine gen-2 collections of ~0.4 s, pauses every
    request in flight waited out; a full collection of that heap (0.6-0.8 s) found 40-120
    unreachable objects among ~700,000, and a whole run's young collections ~3,500
    (docs/waitroom.md). A full collection still comes after ~7 million allocations, so the
    little cyclic garbage that outlives the young ones is still freed.
    """
    gc.freeze()
    stack.callback(gc.unfreeze)
    stack.callback(gc.set_threshold, *gc.get_threshold())
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def _modules(chosen: list[str]) -> list[ContextModule]:
    unknown = set(chosen) - set(CONTEXTS)
    if unknown:
        raise ValueError(f"unknown contexts: {', '.join(sorted(unknown))}")
    return [CONTEXTS[name] for name in chosen]


def _include_routes(app: BoxOfficeApp, modules: list[ContextModule]) -> dict[int, str]:
    """Every context's routers on the app; returns each route's path template by route id
    (the metrics' and logs' label)."""
    api = APIRouter(prefix=API_PREFIX)
    templates: dict[int, str] = {id(r): getattr(r, "path", "") for r in health.router.routes}
    for module in modules:
        hot = APIRouter()  # a router of this app's own: the declarations are shared
        for route in module.hot_routes:
            route.add_to(hot)
        for router in [hot, *module.routers]:
            api.include_router(router)
            templates.update({id(r): API_PREFIX + getattr(r, "path", "") for r in router.routes})
        for router in module.root_routers:
            app.include_router(router)
            templates.update({id(r): getattr(r, "path", "") for r in router.routes})
    app.include_router(api)
    return templates


@asynccontextmanager
async def open_runtime(
    settings: Settings, contexts: Iterable[str] | None = None, *, clock: Clock | None = None
) -> AsyncIterator[Runtime]:
    """The runtime of a standalone role (``boxoffice scheduler``): every context's
    start-up run with ``background=False`` (adapters attached, no loops) and every
    context's jobs on ``runtime.jobs``."""
    chosen = list(contexts) if contexts is not None else list(CONTEXTS)
    modules = [CONTEXTS[name] for name in chosen]
    configure_logging(settings.log_level, settings.log_json)
    runtime = wire(build_runtime(settings, clock))
    runtime.jobs = [job for module in modules for job in module.jobs]
    runtime.consumers = [c for module in modules for c in module.consumers]
    async with AsyncExitStack() as stack:
        stack.push_async_callback(runtime.close)
        for module in modules:
            if module.startup is not None:
                await module.startup(runtime, stack)
        _freeze_start_up(stack)
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
