"""The Starlette application: one route per HTTP trigger of the compiled workflows."""

from __future__ import annotations

import functools
import gc
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from runtime import operator
from runtime.auth import check_algorithm
from runtime.config import Config, ConfigError
from runtime.database import Store, is_database_failure
from runtime.effects import Effects
from runtime.endpoint import WorkflowApp, WorkflowEndpoint, error_response, short
from runtime.engine import Engine
from runtime.errors import ServiceUnavailable, WorkflowError
from runtime.events import EventBus, LocalBus
from runtime.history import History
from runtime.outbox import Outbox
from runtime.scheduler import Scheduler
from runtime.sse import OpenStreams, StreamLimits
from runtime.telemetry import Telemetry
from runtime.workflow import CompiledWorkflow, HttpTrigger

log = logging.getLogger("runtime.app")

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass
class Services:
    config: Config
    store: Store
    bus: EventBus
    history: History | None
    engine: Engine
    scheduler: Scheduler
    streams: StreamLimits
    effects: Effects
    outbox: Outbox
    open_streams: OpenStreams
    telemetry: Telemetry


def make_bus(config: Config) -> EventBus:
    if config.events_url.startswith("memory://"):
        return LocalBus(buffer_size=config.event_buffer, queue_size=config.stream_queue)
    if config.events_url.startswith(("redis://", "rediss://")):
        from runtime.redis_bus import RedisBus

        return RedisBus(config.events_url, config.event_buffer, config.stream_queue)
    raise ConfigError(f"EVENTS_URL {config.events_url!r}: no event bus for this scheme")


def create_app(
    config: Config,
    workflows: Sequence[CompiledWorkflow],
    *,
    tenant_selects: Sequence[str] = (),
    include_inactive: bool = False,
    schedule: bool = True,
    openapi: Path | None = None,
) -> WorkflowApp:
    """Mount every active workflow's HTTP triggers (all of them with ``include_inactive``)
    and run its schedule triggers while the app is up."""
    check_algorithm(config)
    store = Store(config)
    bus = make_bus(config)
    history = History(store) if config.history else None
    effects = Effects(config)
    outbox = Outbox(store, effects)
    telemetry = Telemetry(log_requests=config.log_requests)
    if history is not None:
        history.on_written = telemetry.node_times
    engine = Engine(store, bus, history, effects, outbox, telemetry)
    mounted = [wf for wf in workflows if wf.info.active or include_inactive]
    scheduler = Scheduler(engine, store, bus, mounted if schedule else [], tenant_selects)
    limits = StreamLimits(config.streams_per_user, config.streams_per_tenant)
    open_streams = OpenStreams(config.heartbeat_s)
    services = Services(
        config,
        store,
        bus,
        history,
        engine,
        scheduler,
        limits,
        effects,
        outbox,
        open_streams,
        telemetry,
    )
    telemetry.attach(services)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.start()
        await bus.start()
        await effects.start()
        if history is not None:
            await history.start()
        await outbox.start()
        await scheduler.start()
        await open_streams.start()
        exporter = _metrics_port(config, telemetry)
        # What is loaded by now (modules, workflows, pools) lives as long as the worker: the
        # collector's full passes skip it from here on and walk only what requests made.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            if exporter is not None:
                exporter.shutdown()
            await open_streams.stop()
            await scheduler.stop()
            await outbox.stop()
            await effects.stop()
            await bus.stop()
            if history is not None:
                await history.stop()
            await store.stop()

    routes: list[BaseRoute] = [
        Route("/healthz", _health(services), methods=["GET"]),
        *operator.routes(services, openapi, mounted),
        *_console_routes(services, mounted),
    ]
    fast: list[tuple[str, str, WorkflowEndpoint]] = []
    claimed: dict[tuple[str, str], str] = {}
    for wf in mounted:
        for trigger in wf.info.triggers:
            if not isinstance(trigger, HttpTrigger):
                continue
            key = (trigger.method, trigger.path)
            if key in claimed:  # the compiler rejects this; a hand-edited registry might not
                raise ValueError(f"{trigger.method} {trigger.path} is claimed by {claimed[key]}")
            claimed[key] = wf.info.id
            endpoint = WorkflowEndpoint(services, wf)
            fast.append((trigger.method, trigger.path, endpoint))
            routes.append(Route(trigger.path, endpoint, methods=[trigger.method]))
            if wf.info.streams:  # the same subscription over a WebSocket
                fast.append(("WEBSOCKET", trigger.path, endpoint))
                routes.append(WebSocketRoute(trigger.path, endpoint))

    app = WorkflowApp(
        fast,
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
    )
    app.state.services = services
    return app


def app_from_env() -> WorkflowApp:
    """The app as configured by the environment, for ``uvicorn --factory`` and ``--workers``:
    ``RUNTIME_GENERATED`` (default ``generated``) and ``RUNTIME_INCLUDE_INACTIVE``."""
    from runtime import config as configuration
    from runtime import logs
    from runtime.loader import load_registry

    logs.configure()  # each worker process sets up its own logging

    registry = load_registry(os.environ.get("RUNTIME_GENERATED") or "generated")
    return create_app(
        configuration.load(),
        registry.workflows,
        tenant_selects=registry.tenant_selects,
        include_inactive=bool(os.environ.get("RUNTIME_INCLUDE_INACTIVE")),
        openapi=registry.openapi,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
    messages = {404: "No workflow is served at this path", 405: "Method not allowed"}
    err = WorkflowError(
        messages.get(exc.status_code, str(exc.detail)),
        codes.get(exc.status_code, "HTTP_ERROR"),
    )
    err.status = exc.status_code
    return error_response(err, dict(exc.headers or {}))


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        '{"error":"Internal server error","code":"INTERNAL_ERROR"}',
        status_code=500,
        media_type="application/json",
    )


def _console_routes(services: Services, mounted: list[CompiledWorkflow]) -> list[BaseRoute]:
    """``/console``: its module (templates, views) is loaded at the first request to it."""
    if services.config.console == "off":
        return []

    @functools.cache
    def pages() -> dict[str, Endpoint]:
        from runtime import console

        return console.endpoints(services, mounted)

    def lazy(name: str) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            return await pages()[name](request)

        return endpoint

    static = Path(__file__).resolve().parent / "static"
    return [
        Route("/console", lazy("page"), methods=["GET"]),
        Route("/console/executions", lazy("executions"), methods=["GET"]),
        Route("/console/events", lazy("events"), methods=["GET"]),
        Route("/console/login", lazy("login"), methods=["POST"]),
        Route("/console/logout", lazy("logout"), methods=["POST"]),
        Mount("/console/static", StaticFiles(directory=static), name="console-static"),
    ]


def _metrics_port(config: Config, telemetry: Telemetry) -> Any:
    """The metrics on a port of their own (``METRICS_PORT``, on ``METRICS_HOST``)."""
    if config.metrics_port is None or config.metrics == "off":
        return None
    from prometheus_client import start_http_server

    server, _ = start_http_server(
        config.metrics_port, addr=os.environ.get("METRICS_HOST") or "127.0.0.1",
        registry=telemetry.registry(),
    )  # fmt: skip
    return server


def _health(services: Services) -> Endpoint:
    async def health(request: Request) -> Response:
        try:
            await services.store.check_writable(services.bus.worker)
        except Exception as exc:
            if not is_database_failure(exc):
                raise
            log.warning("health check: the database cannot be written: %s", exc)
            return error_response(
                ServiceUnavailable(f"The database cannot be written: {short(exc)}")
            )
        history = services.history
        return JSONResponse(
            {
                "ok": True,
                "worker": services.bus.worker,
                "subscribers": services.bus.subscriber_count(),
                "scheduledRuns": services.scheduler.runs,
                "history": (
                    None
                    if history is None
                    else {
                        "written": history.written,
                        "pending": history.pending,
                        "dropped": history.dropped,
                    }
                ),
            }
        )

    return health
