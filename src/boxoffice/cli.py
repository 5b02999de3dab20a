"""The ``boxoffice`` command: run, serve, migrate, demo (and later roles as they become real)."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated, Any

import typer
import uvicorn

from boxoffice import migrations
from boxoffice.platform.config import Settings

cli = typer.Typer(no_args_is_help=True, add_completion=False, help="boxoffice ticket commerce.")
CONTEXTS_ENV = "BOXOFFICE_SERVE_CONTEXTS"
# `run` is every role in one process; `serve` is the HTTP API alone, and the dispatcher,
# worker and scheduler run as roles of their own (DESIGN.md §1).
IN_PROCESS_ROLES_ENV = "BOXOFFICE_SERVE_IN_PROCESS_ROLES"
# How ``serve`` and ``run`` both hand the app to uvicorn: built by its factory, with the
# proxy headers and the access log left to the app.
_APP = "boxoffice.cli:app_from_env"
_UVICORN_OPTIONS: dict[str, Any] = {
    "factory": True,
    "proxy_headers": False,  # the app applies them from BOXOFFICE_TRUSTED_PROXIES only
    "log_level": "warning",
    "access_log": False,
    # Connections waiting to be accepted. In a sale's arrival the gateway opens an upstream
    # connection for every fan's stream (~1,000 a second); behind uvicorn's default of
    # 2,048 the kernel dropped their SYNs, and each drop cost a retransmission (1 s, 3 s)
    # or the gateway's 5-s connect timeout (a 503). The kernel caps it at somaxconn.
    "backlog": 4096,
}


def _settings() -> Settings:
    settings = Settings()
    settings.refuse_unsafe_production()
    return settings


def _serving_at(settings: Settings, host: str, port: int) -> Settings:
    """Without BOXOFFICE_PUBLIC_URL, links (images, e-mails, payment returns) name the
    address this process serves at, not the default port's: a shop run with ``--port``
    would otherwise draw broken posters. A wildcard bind is reached at the loopback. The
    app uvicorn builds reads it from the environment."""
    if "public_url" in settings.model_fields_set:
        return settings
    reachable = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104 - compared, not bound
    if ":" in reachable:
        reachable = f"[{reachable}]"
    os.environ["BOXOFFICE_PUBLIC_URL"] = url = f"http://{reachable}:{port}"
    return settings.model_copy(update={"public_url": url})


@cli.command()
def migrate() -> None:
    """Apply every database migration (Alembic upgrade to heads)."""
    settings = _settings()
    migrations.upgrade(settings.database_url)
    typer.echo("database is at the newest schema")


@cli.command()
def demo() -> None:
    """Seed demo users (and demo catalog data) and print their credentials. Safe to re-run."""
    settings = _settings()
    typer.echo(asyncio.run(_seed(settings)))


async def _seed(settings: Settings) -> str:
    from boxoffice import demo as demo_data
    from boxoffice.app import open_runtime

    # Every context started (no loops): the demo sells a show out through seating and orders.
    async with open_runtime(settings) as runtime:
        return demo_data.describe(await demo_data.seed(runtime))


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to bind")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    contexts: Annotated[
        str | None, typer.Option(help="comma-separated contexts (default: all)")
    ] = None,
    stream_port: Annotated[
        int | None,
        typer.Option(help="a second port, for the gateway's queue streams (docs/waitroom.md)"),
    ] = None,
) -> None:
    """Serve the HTTP API (the database must already be migrated)."""
    _serving_at(_settings(), host, port)
    if contexts:
        os.environ[CONTEXTS_ENV] = contexts
    os.environ[IN_PROCESS_ROLES_ENV] = "0"
    if stream_port is None:
        uvicorn.run(_APP, host=host, port=port, workers=workers, **_UVICORN_OPTIONS)
        return
    _serve_two_sockets(host, port, stream_port, workers)


def _serve_two_sockets(host: str, port: int, stream_port: int, workers: int) -> None:
    """The same app on two listening sockets: a sale's arrival opens a connection for every
    fan's stream, and on the gateway's own port the joins' connections waited in the
    kernel's accept queue behind thousands of them (timed out connecting, or reset)."""
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(_APP, host=host, port=port, workers=workers, **_UVICORN_OPTIONS)
    streams = uvicorn.Config(_APP, host=host, port=stream_port, **_UVICORN_OPTIONS)
    sockets = [config.bind_socket(), streams.bind_socket()]
    if workers > 1:
        Multiprocess(config, sockets=sockets).run()
        return
    server = uvicorn.Server(config)
    server.run(sockets=sockets)
    if not server.started:
        raise typer.Exit(3)  # uvicorn's own exit code for a failed start


@cli.command()
def run(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to bind")] = 8000,
    seed_demo: Annotated[bool, typer.Option("--demo/--no-demo", help="seed demo data")] = True,
) -> None:
    """Everything in one process, embedded by default: migrate, seed demo data, serve."""
    settings = _serving_at(_settings(), host, port)
    if not settings.is_production and "log_json" not in settings.model_fields_set:
        # A person reads this terminal: readable lines unless JSON was asked for.
        os.environ["BOXOFFICE_LOG_JSON"] = "false"
    migrations.upgrade(settings.database_url)
    if seed_demo and not settings.is_production:
        typer.echo(asyncio.run(_seed(settings)))
    os.environ[IN_PROCESS_ROLES_ENV] = "1"
    config = uvicorn.Config(_APP, host=host, port=port, **_UVICORN_OPTIONS)
    asyncio.run(_serve_announced(uvicorn.Server(config), f"http://{host}:{port}"))


async def _serve_announced(server: uvicorn.Server, base: str) -> None:
    """Serve, and say where everything is once the server really answers."""
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn offers a flag only
        await asyncio.sleep(0.05)
    if server.started:
        app = server.config.loaded_app
        while app is not None and not hasattr(app, "routes"):  # under uvicorn's middleware
            app = getattr(app, "app", None)
        paths = {getattr(route, "path", "") for route in getattr(app, "routes", [])}
        lines = [f"boxoffice is up:  the shop  {base}/"]
        if any(path.startswith("/console") for path in paths):
            lines.append(f"                  console   {base}/console")
        lines.append(f"                  API docs  {base}/docs")
        typer.echo("\n".join(lines))
    await serving


@cli.command()
def scheduler(
    grace: Annotated[
        float, typer.Option(help="seconds running jobs get to finish on SIGTERM")
    ] = 30.0,
) -> None:
    """Run the batch jobs on their schedules: one instance is active, others stand by."""
    settings = _settings()
    asyncio.run(_run_scheduler(settings, grace))


def _stop_on_signals() -> asyncio.Event:
    """Set by SIGINT or SIGTERM: a role finishes what it is doing, then stops."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _run_scheduler(settings: Settings, grace: float) -> None:
    from boxoffice.app import open_runtime
    from boxoffice.batch.scheduler import Scheduler

    async with open_runtime(settings) as runtime:
        role = Scheduler(runtime)
        stop = _stop_on_signals()
        typer.echo(f"scheduler {role.holder} is running {len(role.jobs)} jobs")
        await role.run(stop, grace=grace)


@cli.command()
def dispatcher() -> None:
    """Admit people from the shows' waiting rooms at each show's rate (BOXOFFICE_REDIS_URL).

    Run two or more: a leader lease in Redis lets one admit while the others stand by and
    take over within a few seconds when it dies.
    """
    settings = _settings()
    if not settings.redis_url:
        typer.echo(
            "BOXOFFICE_REDIS_URL is not set: the queues live in Redis "
            "(without it, `boxoffice run` dispatches in-process)"
        )
        raise typer.Exit(2)
    from boxoffice.app import wire
    from boxoffice.platform.runtime import build_runtime
    from boxoffice.waitroom import runner

    asyncio.run(runner.run_standalone(wire(build_runtime(settings))))


@cli.command()
def worker(
    relay: Annotated[bool, typer.Option("--relay/--no-relay", help="relay the outbox")] = True,
    consume: Annotated[
        bool, typer.Option("--consume/--no-consume", help="run the event consumers")
    ] = True,
) -> None:
    """Relay the outbox to the broker (BOXOFFICE_BROKER_URL) and run the event consumers.

    Any number may run at once: rows are claimed, consumers are idempotent.
    """
    settings = _settings()
    if not settings.broker_url:
        typer.echo("BOXOFFICE_BROKER_URL is not set (redis://, nats://, amqp:// or kafka://)")
        raise typer.Exit(2)
    asyncio.run(_run_worker(settings, relay=relay, consume=consume))


async def _run_worker(settings: Settings, *, relay: bool, consume: bool) -> None:
    from boxoffice.app import open_runtime
    from boxoffice.platform.messaging import registered_consumers
    from boxoffice.platform.messaging.worker import BrokerWorker

    async with open_runtime(settings) as runtime:
        consumers = registered_consumers(runtime)
        stop = _stop_on_signals()
        role = BrokerWorker(runtime, consumers, relay=relay, consume=consume)
        typer.echo(f"worker: {role.broker.kind} broker, {len(consumers)} consumers")
        await role.run(stop)


@cli.command("flush-views")
def flush_views() -> None:
    """Move event view counts from Redis into the database (batch runs it every minute)."""
    settings = _settings()
    typer.echo(f"{asyncio.run(_flush_views(settings))} views written to the database")


async def _flush_views(settings: Settings) -> int:
    from boxoffice.catalog import service as catalog
    from boxoffice.platform.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        return await catalog.flush_view_counts(runtime)
    finally:
        await runtime.close()


def app_from_env():  # type: ignore[no-untyped-def]
    """uvicorn factory: the app with the contexts named in BOXOFFICE_SERVE_CONTEXTS (or all)."""
    from boxoffice.app import create_app

    names = os.environ.get(CONTEXTS_ENV)
    return create_app(
        Settings(),
        [n.strip() for n in names.split(",")] if names else None,
        background=os.environ.get(IN_PROCESS_ROLES_ENV) == "1",
    )


def main() -> None:
    cli()
