"""One HTTP trigger of a compiled workflow as an ASGI application, and the router that
reaches it without Starlette's middleware and request objects.

Each request to a workflow passes here: the tenant and the token are checked before the
body is read, the body is read with a size cap and a deadline, parsed as JSON, merged with
the path parameters, and the engine runs the workflow; its answer is encoded once and sent
with two ASGI messages. Everything else (the health check, unknown paths, a method a route
does not serve) goes to the Starlette application behind the router.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.responses import Response

from runtime import js
from runtime.auth import verify_token
from runtime.context import Context, User
from runtime.errors import (
    AuthRequired,
    InvalidJson,
    InvalidToken,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    ValidationFailed,
    WorkflowError,
)
from runtime.results import JsonResult, OkResult, StreamResult
from runtime.sse import Lease, Opening, Stream, open_stream
from runtime.uvicorn_cycle import body_in_hand, send_whole
from runtime.workflow import CompiledWorkflow

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from runtime.app import Services

log = logging.getLogger("runtime.app")

TENANT_PARAM = "tenant"
WS_TOKEN = "access_token"  # query parameters a WebSocket client may use for its headers
WS_RESUME = "lastEventId"
JSON_TYPES = ("application/json",)
INTERNAL_KEY_HEADER = "x-internal-key"
HIDDEN_HEADERS = frozenset(
    {b"authorization", b"cookie", b"proxy-authorization", INTERNAL_KEY_HEADER.encode()}
)
MAX_TENANT_CHARS = 128
MAX_BODY_DEPTH = 64  # nested objects and arrays in a request body

JSON_TYPE = b"application/json"
INTERNAL_ERROR = b'{"error":"Internal server error","code":"INTERNAL_ERROR"}'


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete HTTP answer: status, headers (names in lower case; the length is added
    when sent) and body."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ((b"content-type", JSON_TYPE),)

    def header(self, name: str) -> str | None:
        key = name.lower().encode("latin-1")
        return next((v.decode("latin-1") for k, v in self.headers if k == key), None)

    async def send(self, send: Send) -> None:
        """Head and body, in one write where uvicorn serves the request (runtime.uvicorn_cycle)."""
        await send_whole(
            send,
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [*self.headers, (b"content-length", b"%d" % len(self.body))],
            },
            {"type": "http.response.body", "body": self.body},
        )


def _headers(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in pairs)


def error_reply(err: WorkflowError, headers: dict[str, str] | None = None) -> Reply:
    extra = {**err.headers, **(headers or {})}
    return Reply(
        err.status,
        js.to_json_text(err.body()).encode(),
        ((b"content-type", JSON_TYPE), *_headers(extra.items())),
    )


def error_response(err: WorkflowError, headers: dict[str, str] | None = None) -> Response:
    """:func:`error_reply` as a Starlette response (routes outside the workflow shortcut)."""
    reply = error_reply(err, headers)
    return Response(
        reply.body,
        status_code=reply.status,
        headers={k.decode("latin-1"): v.decode("latin-1") for k, v in reply.headers},
    )


def json_result(result: JsonResult) -> Reply:
    """The answer of a workflow's ``JsonResult``: JSON, or a string body as it is under the
    ``Content-Type`` the workflow declares (text types in UTF-8)."""
    declared = next((v for k, v in result.headers if k.lower() == "content-type"), None)
    others = _headers((k, v) for k, v in result.headers if k.lower() != "content-type")
    if declared is not None and isinstance(result.body, str):
        body = result.body
    else:
        body = js.to_json_text(result.body)
    ctype = declared or "application/json"
    if ctype.startswith("text/") and "charset=" not in ctype.lower():
        ctype += "; charset=utf-8"
    return Reply(
        result.status, body.encode(), ((b"content-type", ctype.encode("latin-1")), *others)
    )


class ClientGone(WorkflowError):
    """The client went away mid-request: nobody reads the answer; one log line."""

    status = 400
    code = "CLIENT_DISCONNECTED"


def short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."


def _no_constant(name: str) -> object:
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (Python's reader accepts them)."""
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_int=float)


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


def parse_body(content_type: str | None, body: bytes) -> dict[str, object]:
    """The JSON object a request carries ({} for an empty body)."""
    if not body.strip():
        return {}
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype not in JSON_TYPES and not ctype.endswith("+json"):
        raise UnsupportedMediaType(
            "The body must be JSON (Content-Type: application/json)",
            contentType=ctype or None,
        )
    try:
        # Numbers are JavaScript's doubles from the start: no second walk to convert them.
        value = _DECODER.decode(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidJson(f"The body is not valid JSON: {short(exc)}") from None
    if not isinstance(value, dict):
        raise InvalidJson("The body must be a JSON object", "INVALID_BODY")
    # Only a `\u` escape can spell a lone surrogate (UTF-8 cannot), and a body nests no
    # deeper than its brackets and braces: most bodies need no walk at all.
    if b"\\u" in body or body.count(b"[") + body.count(b"{") > MAX_BODY_DEPTH:
        _check_values(value)
    return value


async def read_body(receive: Receive, declared: str | None, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes before reading them all."""
    if declared is not None:
        if not declared.isdigit():
            raise ValidationFailed("Content-Length is not a number", "BAD_REQUEST")
        if int(declared) > limit:
            raise PayloadTooLarge(f"The body exceeds {limit} bytes", limit=limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone("The client disconnected before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body exceeds {limit} bytes", limit=limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class WorkflowEndpoint:
    """The ASGI application of one HTTP trigger (and, for a stream, of the same route over a
    WebSocket): reached through :class:`WorkflowApp`'s shortcut (path parameters matched
    there) or as a Starlette route's endpoint."""

    def __init__(self, services: Services, wf: CompiledWorkflow) -> None:
        self.services = services
        self.config = services.config
        self.wf = wf
        info = wf.info
        self.not_found = info.not_found or ("Not found", "NOT_FOUND")
        # A route the compiler flags as unauthenticated (no check of the user), guarded when
        # OPEN_ROUTES=protect (the default in production): a token or the internal key.
        self.guarded = not info.checks_user and self.config.open_routes == "protect"
        self.streams = info.streams
        self.telemetry = services.telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.websocket(scope, receive, send)
            return
        started = time.perf_counter()
        code: str | None = None
        try:
            reply = await self.handle(scope, receive, send)
            if isinstance(reply, Opened):
                self._answered(scope, 200, started, None)
                # The stream runs here, in a frame that keeps none of the request's state.
                stream, opening = reply.stream, reply.opening
                del reply
                await stream.run(receive, opening)
                return
        except ClientGone as gone:
            log.info("%s %s: %s", scope["method"], scope["path"][:200], gone)
            reply, code = error_reply(gone), gone.code
        except WorkflowError as err:
            reply, code = error_reply(err), err.code
        except Exception:
            log.exception("internal error on %s %s", scope["method"], scope["path"][:200])
            reply, code = Reply(500, INTERNAL_ERROR), "INTERNAL_ERROR"
        await reply.send(send)
        self._answered(scope, reply.status, started, code)

    def _answered(self, scope: Scope, status: int, started: float, code: str | None) -> None:
        telemetry = self.telemetry
        request_id = None
        if telemetry.log_requests:
            given = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
            text = given.decode("latin-1")[:128] if given is not None else ""
            request_id = text if text.isprintable() and text else uuid.uuid4().hex
        telemetry.answered(
            self.wf.info.id,
            status,
            started,
            scope["path_params"].get(TENANT_PARAM),
            code,
            request_id,
            scope.get("method", "WEBSOCKET"),
            scope["path"],
        )

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> Reply | Opened:
        params: dict[str, str] = scope["path_params"]
        tenant = params[TENANT_PARAM]
        if len(tenant) > MAX_TENANT_CHARS:
            raise ValidationFailed(
                f"The tenant id is longer than {MAX_TENANT_CHARS} characters", "INVALID_TENANT"
            )
        auth = ctype = length = host = last_event_id = internal = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value
            elif name == b"content-type":
                ctype = value
            elif name == b"content-length":
                length = value
            elif name == b"host":
                host = value
            elif name == b"last-event-id":
                last_event_id = value
            elif name == b"x-internal-key":
                internal = value
        query: dict[str, object] | None = None  # a WebSocket's input
        if scope["type"] == "websocket":
            # A browser cannot set headers on a WebSocket: the token and the resume point may
            # come in the query string instead; the rest of it is the subscription's input.
            query = {}
            for k, v in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
                if k == WS_TOKEN:
                    auth = auth or b"Bearer " + v.encode("latin-1", "replace")
                elif k == WS_RESUME:
                    last_event_id = last_event_id or v.encode("latin-1", "replace")
                else:
                    query[k] = v
            # The server logs a WebSocket's path and query (uvicorn's access log, when on):
            # the token leaves the scope before anything can write it down.
            scope["query_string"] = urlencode(query).encode("latin-1", "replace")
        user: User | None = None
        session: tuple[str, str] | None = None  # the bearer token and its session id
        if auth is not None:
            scheme, _, token = auth.decode("latin-1").partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise InvalidToken("The Authorization header must be `Bearer <token>`")
            token_tenant, user, sid = verify_token(self.config, token)
            session = (token, sid)
            if token_tenant != tenant:
                # Another tenant's path looks exactly like a missing row.
                raise NotFound(*self.not_found)
        if user is None:
            if self.wf.info.auth_required is not None:
                # Authenticate first: no body is read, validated or recorded for a request the
                # workflow refuses without a user anyway.
                raise AuthRequired(self.wf.info.auth_required)
            if self.guarded and not self._internal_caller(internal):
                raise AuthRequired(
                    "This route requires a token or the internal key (X-Internal-Key)"
                )
        lease = (
            self.services.streams.reserve(tenant, user["id"] if user else None)
            if self.streams
            else None
        )
        try:
            return await self._run(
                scope,
                receive,
                send,
                tenant,
                user,
                lease,
                session,
                (ctype, length, host, last_event_id),
                query,
            )
        except BaseException:
            if lease is not None:
                lease.release()
            raise

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The same subscription over a WebSocket: the same checks, workflow and events, one
        JSON message per event (``{"id", "event", "data"}``). A refusal is accepted, told
        (``{"error", "code"}``) and closed with 4000 + the HTTP status."""
        if (await receive())["type"] != "websocket.connect":
            return
        try:
            outcome = await self.handle(scope, receive, send)
        except WorkflowError as err:
            await _ws_refuse(send, error_reply(err).body, 4000 + err.status)
            return
        except Exception:
            log.exception("internal error on WebSocket %s", scope["path"][:200])
            await _ws_refuse(send, INTERNAL_ERROR, 1011)
            return
        if isinstance(outcome, Opened):
            stream, opening = outcome.stream, outcome.opening
            del outcome
            await stream.run(receive, opening)
        else:  # the workflow answered without a stream: that answer, then close
            await _ws_refuse(
                send, outcome.body, 1000 if outcome.status < 400 else 4000 + outcome.status
            )

    def _internal_caller(self, given: bytes | None) -> bool:
        """Whether the request carries the configured internal key (constant-time compare)."""
        key = self.config.internal_key
        if key is None or given is None:
            return False
        return hmac.compare_digest(given, key.encode())

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        tenant: str,
        user: User | None,
        lease: Lease | None,
        session: tuple[str, str] | None,
        headers: tuple[bytes | None, bytes | None, bytes | None, bytes | None],
        query: dict[str, object] | None,
    ) -> Reply | Opened:
        ctype, length, host, last_event_id = headers
        config = self.config
        method: str = scope.get("method", "GET")
        raw: dict[str, object]
        if query is not None:  # a WebSocket: the query string, as a GET's
            raw = query
        else:
            declared = None if length is None else length.decode("latin-1")
            reading = read_body(receive, declared, config.max_body_bytes)
            if body_in_hand(receive):  # nothing to wait for: no timer
                payload = await reading
            else:
                try:
                    async with asyncio.timeout(config.body_timeout_s):
                        payload = await reading
                except TimeoutError:
                    raise RequestTimeout(
                        f"The body did not arrive within {config.body_timeout_s:g} s"
                    ) from None
            raw = (
                # A GET carries its input in the query string (values are strings, as in n8n).
                dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
                if method == "GET"
                else parse_body(None if ctype is None else ctype.decode("latin-1"), payload)
            )
        for name, value in scope["path_params"].items():
            if name == TENANT_PARAM:
                continue
            if name in raw and raw[name] != value:
                raise ValidationFailed(f"`{name}` in the body differs from the path", field=name)
            raw[name] = value
        ctx: Context = {
            "tenantId": tenant,
            "request": {
                "method": method,
                "headers": {
                    k.decode("latin-1"): v.decode("latin-1")
                    for k, v in scope["headers"]
                    if k not in HIDDEN_HEADERS
                },
                "path": scope["path"],
            },
        }
        if user is not None:
            ctx["user"] = user
        if session is not None:
            ctx["token"], ctx["sessionId"] = session
        done = await self.services.engine.run(self.wf, ctx, raw, origin=_origin(scope, host))
        result = done.result
        if isinstance(result, JsonResult):
            return json_result(result)
        if isinstance(result, OkResult):
            body: dict[str, object] = {"ok": True, "executionId": done.execution_id}
            if result.items is not None:
                body["items"] = result.items
            return Reply(200, js.to_json_text(body).encode())
        assert isinstance(result, StreamResult)
        stream, opening = await open_stream(
            send,
            config,
            self.services.bus,
            self.services.open_streams,
            tenant,
            result,
            None if last_event_id is None else last_event_id.decode("latin-1"),
            lease,
            done.execution_id,
            websocket=scope["type"] == "websocket",
        )
        return Opened(stream, opening)


@dataclass(frozen=True, slots=True)
class Opened:
    """A stream subscribed and ready to send (the workflow answered with ``sse_stream``)."""

    stream: Stream
    opening: Opening


async def _ws_refuse(send: Send, body: bytes, code: int) -> None:
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": body.decode()})
    await send({"type": "websocket.close", "code": code})


def _origin(scope: Scope, host: bytes | None) -> str:
    """``scheme://host[:port]`` the request came in on (its Host header, else the socket)."""
    scheme = scope.get("scheme", "http")
    if host is not None:
        return f"{scheme}://{host.decode('latin-1')}"
    server = scope.get("server")
    if server is None:
        return f"{scheme}://localhost"
    name, port = server
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{name}" if port == default else f"{scheme}://{name}:{port}"


_PARAM = re.compile(r"\{([A-Za-z_]\w*)\}")


def path_pattern(template: str) -> re.Pattern[str]:
    """A route template's pattern: each ``{name}`` matches one path segment (as Starlette)."""
    parts: list[str] = []
    last = 0
    for m in _PARAM.finditer(template):
        parts.append(re.escape(template[last : m.start()]))
        parts.append(f"(?P<{m.group(1)}>[^/]+)")
        last = m.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts) + r"\Z")


class WorkflowApp(Starlette):
    """The Starlette application with a shortcut in front: a workflow's route goes straight to
    its endpoint (one pattern match, by method and segment count), past the middleware and
    the router; anything else (the health check, a 404, a 405) takes Starlette's way, where
    the same endpoints are mounted too."""

    def __init__(self, fast: Sequence[tuple[str, str, WorkflowEndpoint]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fast: dict[tuple[str, int], list[tuple[re.Pattern[str], WorkflowEndpoint]]] = {}
        for method, template, endpoint in fast:
            key = (method, template.count("/"))
            self._fast.setdefault(key, []).append((path_pattern(template), endpoint))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            method = scope.get("method", "WEBSOCKET")
            for pattern, endpoint in self._fast.get((method, path.count("/")), ()):
                m = pattern.match(path)
                if m is not None:
                    scope["path_params"] = m.groupdict()
                    await endpoint(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)
