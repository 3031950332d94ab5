"""The Starlette application: one route per HTTP trigger of the compiled workflows."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runtime import js
from runtime.auth import verify_token
from runtime.config import Config, ConfigError
from runtime.context import Context, User
from runtime.database import Store, is_database_failure
from runtime.effects import Effects
from runtime.engine import Engine
from runtime.errors import (
    AuthRequired,
    InvalidJson,
    InvalidToken,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
    WorkflowError,
)
from runtime.events import EventBus, LocalBus
from runtime.history import History
from runtime.outbox import Outbox
from runtime.results import JsonResult, OkResult, StreamResult
from runtime.scheduler import Scheduler
from runtime.sse import Lease, StreamLimits, open_stream
from runtime.workflow import CompiledWorkflow, HttpTrigger

log = logging.getLogger("runtime.app")

Endpoint = Callable[[Request], Awaitable[Response]]

TENANT_PARAM = "tenant"
JSON_TYPES = ("application/json",)
INTERNAL_KEY_HEADER = "x-internal-key"
HIDDEN_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", INTERNAL_KEY_HEADER})
MAX_TENANT_CHARS = 128


def error_response(err: WorkflowError, headers: dict[str, str] | None = None) -> Response:
    return Response(
        js.to_json_text(err.body()),
        status_code=err.status,
        media_type="application/json",
        headers={**err.headers, **(headers or {})},
    )


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
) -> Starlette:
    """Mount every active workflow's HTTP triggers (all of them with ``include_inactive``)
    and run its schedule triggers while the app is up."""
    store = Store(config)
    bus = make_bus(config)
    history = History(store) if config.history else None
    effects = Effects(config)
    outbox = Outbox(store, effects)
    engine = Engine(store, bus, history, effects, outbox)
    mounted = [wf for wf in workflows if wf.info.active or include_inactive]
    scheduler = Scheduler(engine, store, bus, mounted if schedule else [], tenant_selects)
    limits = StreamLimits(config.streams_per_user, config.streams_per_tenant)
    services = Services(config, store, bus, history, engine, scheduler, limits, effects, outbox)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.start()
        await bus.start()
        await effects.start()
        if history is not None:
            await history.start()
        await outbox.start()
        await scheduler.start()
        try:
            yield
        finally:
            await scheduler.stop()
            await outbox.stop()
            await effects.stop()
            await bus.stop()
            if history is not None:
                await history.stop()
            await store.stop()

    routes: list[Route] = [Route("/healthz", _health(services), methods=["GET"])]
    claimed: dict[tuple[str, str], str] = {}
    for wf in mounted:
        for trigger in wf.info.triggers:
            if not isinstance(trigger, HttpTrigger):
                continue
            key = (trigger.method, trigger.path)
            if key in claimed:  # the compiler rejects this; a hand-edited registry might not
                raise ValueError(f"{trigger.method} {trigger.path} is claimed by {claimed[key]}")
            claimed[key] = wf.info.id
            routes.append(Route(trigger.path, _endpoint(services, wf), methods=[trigger.method]))

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
    )
    app.state.services = services
    return app


def app_from_env() -> Starlette:
    """The app as configured by the environment, for ``uvicorn --factory`` and ``--workers``:
    ``RUNTIME_GENERATED`` (default ``generated``) and ``RUNTIME_INCLUDE_INACTIVE``."""
    from runtime import config as configuration
    from runtime.loader import load_registry

    registry = load_registry(os.environ.get("RUNTIME_GENERATED") or "generated")
    return create_app(
        configuration.load(),
        registry.workflows,
        tenant_selects=registry.tenant_selects,
        include_inactive=bool(os.environ.get("RUNTIME_INCLUDE_INACTIVE")),
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


def _health(services: Services) -> Endpoint:
    async def health(request: Request) -> Response:
        try:
            await services.store.check_writable(services.bus.worker)
        except Exception as exc:
            if not is_database_failure(exc):
                raise
            log.warning("health check: the database cannot be written: %s", exc)
            return error_response(
                ServiceUnavailable(f"The database cannot be written: {_short(exc)}")
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


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes before reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ValidationFailed("Content-Length is not a number", "BAD_REQUEST")
        if int(declared) > limit:
            raise PayloadTooLarge(f"The body exceeds {limit} bytes", limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body exceeds {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


MAX_BODY_DEPTH = 64  # nested objects and arrays in a request body


def _no_constant(name: str) -> object:
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (Python's reader accepts them)."""
    raise ValueError(f"{name} is not a JSON value")


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."


def _check_values(value: object) -> None:
    """A body nests at most ``MAX_BODY_DEPTH`` levels and its strings are Unicode text (a
    lone surrogate, which JSON's ``\\ud800`` can spell, cannot be stored or sent back)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_BODY_DEPTH:
                raise InvalidJson(f"The body nests more than {MAX_BODY_DEPTH} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children)
        elif isinstance(item, str) and not _is_text(item):
            raise InvalidJson("The body holds a string that is not valid Unicode", "INVALID_BODY")


def _is_text(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_body(request: Request, body: bytes) -> dict[str, object]:
    """The JSON object a request carries ({} for an empty body)."""
    if not body.strip():
        return {}
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype not in JSON_TYPES and not ctype.endswith("+json"):
        raise UnsupportedMediaType(
            "The body must be JSON (Content-Type: application/json)",
            contentType=ctype or None,
        )
    try:
        # Numbers are JavaScript's doubles from the start: no second walk to convert them.
        value = json.loads(body, parse_constant=_no_constant, parse_int=float)
    except (ValueError, RecursionError) as exc:
        raise InvalidJson(f"The body is not valid JSON: {_short(exc)}") from None
    if not isinstance(value, dict):
        raise InvalidJson("The body must be a JSON object", "INVALID_BODY")
    _check_values(value)
    return value


class ClientGone(WorkflowError):
    """The client went away mid-request: nobody reads the answer; one log line."""

    status = 400
    code = "CLIENT_DISCONNECTED"


def json_result(result: JsonResult) -> Response:
    """The response of a workflow's answer: JSON, or a string body as it is under the
    ``Content-Type`` the workflow declares."""
    declared = next((v for k, v in result.headers if k.lower() == "content-type"), None)
    others = {k: v for k, v in result.headers if k.lower() != "content-type"}
    raw = declared is not None and isinstance(result.body, str)
    return Response(
        result.body if raw else js.to_json_text(result.body),
        status_code=result.status,
        media_type=declared or "application/json",
        headers=others,
    )


def _internal_caller(config: Config, request: Request) -> bool:
    """Whether the request carries the configured internal key (compared in constant time)."""
    given = request.headers.get(INTERNAL_KEY_HEADER)
    if config.internal_key is None or given is None:
        return False
    return hmac.compare_digest(given.encode(), config.internal_key.encode())


def _endpoint(services: Services, wf: CompiledWorkflow) -> Endpoint:
    config = services.config
    not_found = wf.info.not_found or ("Not found", "NOT_FOUND")
    # A route the compiler flags as unauthenticated (no check of the user), guarded when
    # OPEN_ROUTES=protect (the default in production): a token or the internal key.
    guarded = not wf.info.checks_user and config.open_routes == "protect"
    streams = wf.info.streams

    async def endpoint(request: Request) -> Response:
        try:
            return await _handle(request)
        except ClientGone as gone:
            log.info("%s %s: %s", request.method, request.url.path[:200], gone)
            return error_response(gone)
        except WorkflowError as err:
            return error_response(err)

    async def _handle(request: Request) -> Response:
        tenant = request.path_params[TENANT_PARAM]
        if len(tenant) > MAX_TENANT_CHARS:
            raise ValidationFailed(
                f"The tenant id is longer than {MAX_TENANT_CHARS} characters", "INVALID_TENANT"
            )
        user = None
        session: tuple[str, str] | None = None  # the bearer token and its session id
        auth = request.headers.get("authorization")
        if auth is not None:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise InvalidToken("The Authorization header must be `Bearer <token>`")
            token_tenant, user, sid = verify_token(config, token.strip())
            session = (token.strip(), sid)
            if token_tenant != tenant:
                # Another tenant's path looks exactly like a missing row.
                raise NotFound(*not_found)
        if user is None:
            if wf.info.auth_required is not None:
                # Authenticate first: no body is read, validated or recorded for a request the
                # workflow refuses without a user anyway.
                raise AuthRequired(wf.info.auth_required)
            if guarded and not _internal_caller(config, request):
                raise AuthRequired(
                    "This route requires a token or the internal key (X-Internal-Key)"
                )
        lease = services.streams.reserve(tenant, user["id"] if user else None) if streams else None
        try:
            return await _run(request, tenant, user, lease, session)
        except BaseException:
            if lease is not None:
                lease.release()
            raise

    async def _run(
        request: Request,
        tenant: str,
        user: User | None,
        lease: Lease | None,
        session: tuple[str, str] | None,
    ) -> Response:
        try:
            async with asyncio.timeout(config.body_timeout_s):
                payload = await read_body(request, config.max_body_bytes)
        except TimeoutError:
            raise RequestTimeout(
                f"The body did not arrive within {config.body_timeout_s:g} s"
            ) from None
        except ClientDisconnect:
            raise ClientGone("The client disconnected before sending the whole body") from None
        raw = (
            # A GET carries its input in the query string (values are strings, as in n8n).
            dict[str, object](request.query_params.items())
            if request.method == "GET"
            else parse_body(request, payload)
        )
        for name, value in request.path_params.items():
            if name == TENANT_PARAM:
                continue
            if name in raw and raw[name] != value:
                raise ValidationFailed(f"`{name}` in the body differs from the path", field=name)
            raw[name] = value
        ctx: Context = {
            "tenantId": tenant,
            "request": {
                "method": request.method,
                "headers": {
                    k: v for k, v in request.headers.items() if k.lower() not in HIDDEN_HEADERS
                },
                "path": request.url.path,
            },
        }
        if user is not None:
            ctx["user"] = user
        if session is not None:
            ctx["token"], ctx["sessionId"] = session
        origin = f"{request.url.scheme}://{request.url.netloc}"
        done = await services.engine.run(wf, ctx, raw, origin=origin)
        result = done.result
        if isinstance(result, JsonResult):
            return json_result(result)
        if isinstance(result, OkResult):
            body: dict[str, object] = {"ok": True, "executionId": done.execution_id}
            if result.items is not None:
                body["items"] = result.items
            return JSONResponse(body)
        assert isinstance(result, StreamResult)
        return await open_stream(
            config,
            services.bus,
            tenant,
            result,
            request.headers.get("last-event-id"),
            {"X-Execution-Id": done.execution_id},
            lease,
        )

    return endpoint
