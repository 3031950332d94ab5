"""Live streams for a workflow that ends in ``sse_stream``: server-sent events, or the same
events over a WebSocket.

A stream costs its connection and little else: no task, queue or timer of its own while it
is idle. It subscribes, sends the ``connected`` event and what the client missed
(``Last-Event-ID``), then waits on the connection alone, to notice the client leaving. An
SSE stream served by uvicorn's httptools protocol (what ``serve`` runs) takes its connection
over from there on (``Held``), as uvicorn hands an upgraded connection to its WebSocket
protocol: the request's parser, task and scope are freed, and an idle stream is its socket's
transport and a few small objects (about 5 KiB). An event published on its channel is
encoded once (``Event.frame``, ``Event.message``) and written to every stream of the channel
in the publisher's own call. A held stream, or a WebSocket served by uvicorn's websockets
sans-I/O protocol without an extension, whose connection has nothing queued takes the event
straight on its socket, as the bytes uvicorn would have written, together with the channel's
other such streams (runtime/fanout.py: the system calls shared among threads). Every other
write drives the stream's ``send`` to completion at once, which it does unless the client
stopped reading and its socket buffer is full; then that stream's writes wait, in order, in a
task of their own, and a client that reads nothing for ``SSE_SEND_TIMEOUT_MS`` is dropped
(one log line). One task per worker sends the heartbeat to every open stream, the same way.
A stream ends with a ``closed`` event when its subscription times out, its row is deleted,
it falls too far behind, or the server stops (the worker's SIGTERM handler tells every
stream before uvicorn's own runs; the lifespan's shutdown waits for the held ones).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import signal
from collections import Counter, deque
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from starlette.types import Receive, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle as HttpToolsResponse
from uvicorn.protocols.websockets.websockets_sansio_impl import (
    WebSocketsSansIOProtocol as WebSocketsResponse,
)
from websockets.protocol import State

from runtime import js
from runtime.config import Config
from runtime.errors import TooManyStreams
from runtime.events import (
    Event,
    EventBus,
    K,
    Subscriber,
    http_chunk,
    newer,
    sse_frame,
    ws_frame,
    ws_message,
)
from runtime.fanout import Target, write_all
from runtime.results import StreamResult
from runtime.uvicorn_cycle import cycle_of

log = logging.getLogger("runtime.sse")

CLOSE_REASONS = {
    "released": "unsubscribed",
    "overflow": "the client fell too far behind; reconnect to resume",
    "shutdown": "the server is shutting down; reconnect to resume",
}
PING = b": ping\r\n\r\n"
PING_CHUNK = http_chunk(PING)
WS_PING = '{"id":null,"event":"ping","data":null}'
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
]


@dataclass
class StreamLimits:
    """The open streams of this worker by tenant and by user, capped: a stream is reserved
    before its workflow runs, so a refusal (429) writes nothing, and released when it ends."""

    per_user: int = 20  # 0: no cap
    per_tenant: int = 2000
    _tenants: Counter[str] = field(default_factory=Counter)
    _users: Counter[tuple[str, str]] = field(default_factory=Counter)

    def reserve(self, tenant: str, user: str | None) -> Lease:
        if self.per_tenant and self._tenants[tenant] >= self.per_tenant:
            raise TooManyStreams(
                "This tenant holds the most open streams allowed", limit=self.per_tenant
            )
        if user is not None and self.per_user and self._users[(tenant, user)] >= self.per_user:
            raise TooManyStreams(
                "This user holds the most open streams allowed; close one first",
                limit=self.per_user,
            )
        self._tenants[tenant] += 1
        if user is not None:
            self._users[(tenant, user)] += 1
        return Lease(self, tenant, user)

    def _release(self, tenant: str, user: str | None) -> None:
        _decrement(self._tenants, tenant)
        if user is not None:
            _decrement(self._users, (tenant, user))


def _decrement(counts: Counter[K], key: K) -> None:
    counts[key] -= 1
    if counts[key] <= 0:
        del counts[key]  # tenants and users come and go: keep no zero entries


@dataclass(eq=False)
class Lease:
    limits: StreamLimits
    tenant: str
    user: str | None
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.limits._release(self.tenant, self.user)


def _reason(text: str) -> str:
    return json.dumps({"reason": text}, separators=(",", ":"))


class OpenStreams:
    """This worker's open streams: the heartbeat that keeps idle ones alive through proxies,
    and the word to all of them when the server stops."""

    def __init__(self, heartbeat_s: float) -> None:
        self.heartbeat_s = heartbeat_s
        self.streams: set[Stream] = set()
        self._ending: set[asyncio.Task[None]] = set()  # held streams writing their last event
        self.dropped: collections.Counter[str] = collections.Counter()  # clients given up, why
        self._task: asyncio.Task[None] | None = None
        self._previous: Any = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._beat(), name="stream-heartbeat")
        # uvicorn finishes open requests before it runs the lifespan's shutdown: streams
        # learn of a SIGTERM here, first, and end with `closed`; uvicorn's handler runs next.
        loop = asyncio.get_running_loop()
        previous = signal.getsignal(signal.SIGTERM)
        if callable(previous):

            def on_term(signum: int, frame: FrameType | None) -> None:
                loop.call_soon_threadsafe(self.close_all)
                previous(signum, frame)

            try:
                signal.signal(signal.SIGTERM, on_term)
            except ValueError:  # not the main thread (an app driven by a test): no signals
                return
            self._previous = previous

    async def stop(self) -> None:
        if self._previous is not None:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGTERM, self._previous)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.close_all()
        if self._ending:  # each within twice the send timeout: its queued writes, its last
            await asyncio.wait(list(self._ending))

    def ending(self, task: asyncio.Task[None]) -> None:
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    def close_all(self) -> None:
        for stream in list(self.streams):
            stream.sub.close("shutdown")

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            for stream in write_all(list(self.streams), Stream.beat):
                stream.ping()


class Stream:
    """One open stream (SSE or WebSocket): the sink its subscriber writes events into."""

    __slots__ = (
        "blocked",
        "bus",
        "config",
        "dropped",
        "execution_id",
        "fd",
        "floor",
        "lease",
        "open",
        "pending",
        "seen",
        "send",
        "server",
        "sub",
        "timer",
    )

    def __init__(
        self,
        send: Send,
        sub: Subscriber,
        bus: EventBus,
        lease: Lease | None,
        open_streams: OpenStreams,
        config: Config,
        floor: str,
        execution_id: str,
    ) -> None:
        self.send = send
        self.sub = sub
        self.bus = bus
        self.lease = lease
        self.open = open_streams
        self.config = config  # SSE_SEND_TIMEOUT_MS, STREAM_QUEUE
        self.floor = floor  # Last-Event-ID: events up to it are not sent again
        self.execution_id = execution_id
        self.seen: set[str] | None = None  # ids already replayed
        self.pending: deque[Any] | None = None  # writes waiting behind a held-up one
        self.blocked: asyncio.Task[None] | None = None  # a write waiting for the client
        self.timer: asyncio.Timeout | None = None
        self.dropped = False
        self.server: Any = None  # the server's connection, when its socket may be written
        self.fd = -1  # ...and that socket

    # -- what each transport says differently

    _leave = ""  # the ASGI message of a client that left

    def _event(self, event: Event) -> Any:
        raise NotImplementedError

    def _message(
        self, data: str, name: str, id: str | None = None, retry: int | None = None
    ) -> Any:
        raise NotImplementedError

    def ping(self) -> None:
        raise NotImplementedError

    _heartbeat = b""  # the heartbeat as it goes on the wire

    def _wire(self, event: Event) -> bytes:
        """The event as it goes on the wire."""
        raise NotImplementedError

    def _writable(self) -> bool:
        """Whether the server's connection would write a message now, as it is."""
        raise NotImplementedError

    async def _opening(self, first: list[Any]) -> None:
        raise NotImplementedError

    async def _closing(self, last: Any) -> None:
        raise NotImplementedError

    # -- shared

    def offer(self, event: Event) -> None:
        if self._wants(event):
            self.write(self._event(event))

    def _wants(self, event: Event) -> bool:
        """False for an event replayed already, or one the client had before reconnecting."""
        return not (
            self.floor
            and event.id
            and ((self.seen and event.id in self.seen) or not newer(event.id, self.floor))
        )

    def direct(self, event: Event) -> Target | None:
        return self._ready(self._wire(event)) if self._wants(event) else None

    def beat(self) -> Target | None:
        fd = self.sub.fd
        return (fd, self._heartbeat, self.spill) if fd >= 0 else self._ready(self._heartbeat)

    def _ready(self, payload: bytes) -> Target | None:
        """The socket, with ``payload``, when the server would write to it now and nothing
        of the server's or the stream's is queued (else it goes the ASGI way, behind them)."""
        server = self.server
        if server is None or self.blocked is not None or self.dropped or not self._writable():
            return None
        transport = server.transport
        # A transport marks itself closing before it closes its socket: while it is not, the
        # descriptor is still this connection's, never one the system has handed on.
        if transport.get_write_buffer_size() or transport.is_closing():
            return None
        return (self.fd, payload, self.spill)

    def spill(self, rest: bytes) -> None:
        self.server.transport.write(rest)

    def _settle(self) -> None:
        """Tell the subscriber whether events may be written straight to the socket without
        asking (``Subscriber.fd``): while the connection is held (``Held``: its transport
        says when its buffer fills and empties, and when it is lost), not ending, nothing of
        the stream's waits, and every event is one the client is to get (no ``floor``)."""
        held = self.server
        sub = self.sub
        sub.fd = (
            self.fd
            if type(held) is Held
            and not (held.paused or held.lost or held.ending)
            and self.blocked is None
            and not self.dropped
            and not self.floor
            and sub.closed is None
            and sub.sink is self
            else -1
        )

    def _direct_to(self, server: Any) -> None:
        """Write to ``server``'s socket directly from now on, where it has one."""
        socket = server.transport.get_extra_info("socket")
        if socket is not None:
            self.server, self.fd = server, socket.fileno()

    def end(self) -> None:
        if type(self.server) is Held:
            self.server.end()
        elif self.timer is not None:
            self.timer.reschedule(asyncio.get_running_loop().time())

    def write(self, message: Any) -> None:
        """Send ``message`` now; behind a write still waiting for the client, wait too."""
        if self.dropped:
            return
        if self.blocked is not None:
            if self.pending is None:
                self.pending = deque()
            if len(self.pending) >= self.config.stream_queue:
                self.pending = None
                self.sub.close("overflow")
            else:
                self.pending.append(message)
            return
        sending = self.send(message)
        if not isinstance(sending, Coroutine):
            self.blocked = asyncio.ensure_future(self._drain(sending, None))
            self._settle()
            return
        try:
            waiting = sending.send(None)  # the server writes to the socket: done, mostly
        except StopIteration:
            return
        except Exception as exc:  # the connection broke under the write
            self._drop("broken", "a stream on channel %r ended: %s", exc)
            return
        self.blocked = asyncio.ensure_future(self._drain(_finish(sending, waiting), sending))
        self._settle()

    async def _drain(
        self, rest: Awaitable[None], started: Coroutine[Any, Any, None] | None
    ) -> None:
        """Finish a write the client holds up, then the writes queued behind it."""
        timeout = self.config.send_timeout_s
        try:
            async with asyncio.timeout(timeout):
                await rest
                while self.pending:
                    await self.send(self.pending.popleft())
                self.pending = None
        except TimeoutError:
            self._drop(
                "slow_client", "dropped a stream on channel %r: the client read nothing for %s s",
                timeout,
            )  # fmt: skip
        except Exception as exc:
            self._drop("broken", "a stream on channel %r ended: %s", exc)
        finally:
            if started is not None:
                started.close()
            self.blocked = None
            self._settle()

    def _drop(self, reason: str, why: str, detail: object) -> None:
        """Give up on the client (one log line): the stream ends without its last event."""
        log.info(why, self.sub.channel, detail)
        self.open.dropped[reason] += 1
        self.dropped = True
        self._settle()
        self.end()

    async def run(self, receive: Receive, opening: Opening) -> None:
        """Open, send what comes first and what waited, then wait for the client to leave
        or the stream to end (``end()``, the deadline); close with the reason. An SSE stream
        whose connection it took over (``Held``) lives on without this task."""
        handed = False
        try:
            await self._opening(opening.first)
            for event in opening.waiting:
                self.offer(event)
            deadline, leave = opening.deadline, self._leave
            del opening  # nothing of the request is kept while the stream is open
            self.open.streams.add(self)
            if type(self.server) is Held:
                self.server.start(deadline)
                handed = True
                return
            reason: str | None = None
            try:
                async with asyncio.timeout_at(deadline) as self.timer:
                    if self.sub.closed is not None or self.dropped:
                        self.end()
                    while (await receive())["type"] != leave:
                        pass  # what a client sends on an open stream is not read
                    self.sub.closed = self.sub.closed or "gone"
                    return
            except TimeoutError:
                reason = self._why()
            self.timer = None
            if self.blocked is not None:
                with contextlib.suppress(Exception):
                    await self.blocked
            if self.dropped:
                return
            assert reason is not None
            await self._closing(self._message(_reason(reason), "closed"))
        finally:
            if not handed:
                await self._release()

    def _why(self) -> str:
        """Why the stream ends, as its ``closed`` event says."""
        if self.sub.closed is None:
            return "subscriptionTimeout reached"
        return CLOSE_REASONS.get(self.sub.closed, self.sub.closed)

    async def _release(self) -> None:
        """What the open stream held: its place among the open ones, its subscription, its
        lease."""
        self.open.streams.discard(self)
        if self.sub.closed == "overflow":
            self.open.dropped["overflow"] += 1
        if self.blocked is not None:
            self.blocked.cancel()
        await self.bus.unsubscribe(self.sub)
        if self.lease is not None:
            self.lease.release()


class Held(asyncio.Protocol):
    """An SSE stream's connection once its response is under way, taken over from uvicorn
    as uvicorn itself hands an upgraded connection to its WebSocket protocol. The request's
    parser, task, scope and buffers are freed; what is left is the transport and this: the
    stream writes its chunks here, learns here that the client left or reads slowly, and
    ends here, when its subscription does or its deadline comes (``end``: a task of its
    own writes the ``closed`` event and closes the connection)."""

    __slots__ = ("ending", "lost", "paused", "stream", "timer", "transport", "waiter")

    def __init__(self, stream: Stream, transport: asyncio.Transport, paused: bool) -> None:
        self.stream = stream
        self.transport = transport
        self.paused = paused  # the transport holds bytes it has not written yet
        self.lost = False
        self.waiter: asyncio.Future[None] | None = None  # a write waiting for `resume_writing`
        self.timer: asyncio.TimerHandle | None = None  # the subscription's deadline
        self.ending: asyncio.Task[None] | None = None

    # -- the transport's calls

    def data_received(self, data: bytes) -> None:
        pass  # what a client sends on an open stream is not read

    def eof_received(self) -> None:
        return None  # the client is done: the transport closes

    def pause_writing(self) -> None:
        self.paused = True
        self.stream._settle()

    def resume_writing(self) -> None:
        self.paused = False
        self.stream._settle()
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.paused = False
        self.stream._settle()  # before the transport closes the socket, which it does next
        self._wake()
        self.stream.sub.closed = self.stream.sub.closed or "gone"
        self.end()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
        self.waiter = None

    # -- the stream's

    async def send(self, message: Any) -> None:
        """An ``http.response.body`` message, as uvicorn would write it (one chunk)."""
        if self.paused:
            if self.waiter is None or self.waiter.done():  # (one a timeout cancelled)
                self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        if self.lost or self.transport.is_closing():
            return
        body = message.get("body", b"")
        data = http_chunk(body) if body else b""
        if message.get("more_body", False):
            self.transport.write(data)
        else:
            self.transport.write(data + b"0\r\n\r\n")
            self.transport.close()

    def start(self, deadline: float | None) -> None:
        if deadline is not None:
            self.timer = asyncio.get_running_loop().call_at(deadline, self.end)
        if self.stream.sub.closed is not None or self.stream.dropped:
            self.end()

    def end(self) -> None:
        if self.ending is None:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            self.ending = asyncio.get_running_loop().create_task(self._end())
            self.stream._settle()
            self.stream.open.ending(self.ending)

    async def _end(self) -> None:
        stream = self.stream
        try:
            if stream.blocked is not None:
                with contextlib.suppress(Exception):
                    await stream.blocked
            if not (stream.dropped or self.lost):
                closed = stream._message(_reason(stream._why()), "closed")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(stream.config.send_timeout_s):
                        await stream._closing(closed)
            if not self.transport.is_closing() or stream.dropped:
                self.transport.abort()  # a client that read nothing for the send timeout
        finally:
            await stream._release()


@dataclass(slots=True)
class Opening:
    """What a stream sends first (``connected``, a gap notice, what the client missed), the
    events that arrived meanwhile, and when it ends (loop time; None: never)."""

    first: list[Any]
    waiting: list[Event]
    deadline: float | None


async def _finish(coro: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drive a coroutine that was started by hand to its end, awaiting what it waits on."""
    while True:
        if waiting is None:
            await asyncio.sleep(0)
        else:
            await asyncio.wait((waiting,))
        try:
            waiting = coro.send(None)
        except StopIteration:
            return


class SseStream(Stream):
    __slots__ = ()
    _leave = "http.disconnect"
    _heartbeat = PING_CHUNK

    def _wire(self, event: Event) -> bytes:
        return event.chunk

    def _writable(self) -> bool:
        return not self.server.paused  # the connection is held (`Held`)

    def _event(self, event: Event) -> Any:
        return {"type": "http.response.body", "body": event.frame, "more_body": True}

    def _message(
        self, data: str, name: str, id: str | None = None, retry: int | None = None
    ) -> Any:
        frame = sse_frame(data, name, id, retry)
        return {"type": "http.response.body", "body": frame, "more_body": True}

    def ping(self) -> None:
        self.write({"type": "http.response.body", "body": PING, "more_body": True})

    async def _opening(self, first: list[Any]) -> None:
        headers = [*SSE_HEADERS, (b"x-execution-id", self.execution_id.encode())]
        await self.send({"type": "http.response.start", "status": 200, "headers": headers})
        await self.send(
            {
                "type": "http.response.body",
                "body": b"".join(m["body"] for m in first),
                "more_body": True,
            }
        )
        response = cycle_of(self.send)
        if response is not None and response.chunked_encoding:
            self._hold(response)

    def _hold(self, response: HttpToolsResponse) -> None:
        """Take the connection over from uvicorn (``Held``), where uvicorn serves it alone
        and has nothing else of it in hand: no request behind this one, nothing closing."""
        transport = response.transport
        protocol = transport.get_protocol()
        socket = transport.get_extra_info("socket")
        if (
            type(protocol) is not HttpToolsProtocol
            or protocol.cycle is not response
            or protocol.pipeline
            or response.disconnected
            or response.response_complete
            or transport.is_closing()
            or socket is None
        ):
            return
        held = Held(self, transport, response.flow.write_paused)
        # uvicorn's side, as it leaves a connection it upgraded: not among its connections
        # (it neither waits for this one at shutdown nor counts it against a limit), and the
        # request's response complete, so its task ends quietly when the endpoint returns.
        protocol.connections.discard(protocol)
        protocol._unset_keepalive_if_required()
        protocol.server_state.total_requests += 1
        response.response_complete = True
        if response.flow.read_paused:
            transport.resume_reading()
        transport.set_protocol(held)
        # Told of every byte the transport holds back (`pause_writing`) and of its buffer
        # empty again (`resume_writing`, at low water 0), the stream knows, without asking,
        # when its socket may be written straight away.
        transport.set_write_buffer_limits(high=0)
        self.send = held.send
        self.server, self.fd = held, socket.fileno()
        self._settle()

    async def _closing(self, last: Any) -> None:
        await self.send({**last, "more_body": False})


class WsStream(Stream):
    __slots__ = ()
    _leave = "websocket.disconnect"
    _heartbeat = ws_frame(WS_PING)

    def _wire(self, event: Event) -> bytes:
        return event.ws_frame

    def _writable(self) -> bool:
        server = self.server  # uvicorn's WebSocketsSansIOProtocol
        conn = server.conn  # websockets' ServerProtocol
        return (
            server.writable.is_set()
            and not (server.disconnected or server.close_sent)
            and conn.state is State.OPEN
            and not (conn.expect_continuation_frame or conn.writes)
        )

    def _event(self, event: Event) -> Any:
        return {"type": "websocket.send", "text": event.message}

    def _message(
        self, data: str, name: str, id: str | None = None, retry: int | None = None
    ) -> Any:
        return {"type": "websocket.send", "text": ws_message(data, name, id)}  # no retry

    def ping(self) -> None:
        self.write({"type": "websocket.send", "text": WS_PING})

    async def _opening(self, first: list[Any]) -> None:
        await self.send({"type": "websocket.accept"})
        for message in first:
            await self.send(message)
        server = getattr(self.send, "__self__", None)
        if type(server) is WebSocketsResponse and not server.conn.extensions:
            self._direct_to(server)  # frames as websockets writes them: no extension to apply

    async def _closing(self, last: Any) -> None:
        await self.send(last)
        await self.send({"type": "websocket.close", "code": 1000})


async def open_stream(
    send: Send,
    config: Config,
    bus: EventBus,
    open_streams: OpenStreams,
    tenant: str,
    result: StreamResult,
    last_event_id: str | None,
    lease: Lease | None,
    execution_id: str,
    websocket: bool = False,
) -> tuple[Stream, Opening]:
    """Subscribe first, so nothing published from here on is missed; then the stream, what
    it sends first (``connected``, a ``gap`` notice, what the client missed) and the events
    that arrived meanwhile."""
    held = (result.held_by[0], str(result.held_by[1])) if result.held_by else None
    sub = await bus.subscribe(tenant, result.channel, held)
    try:
        replay = await bus.replay(sub, last_event_id) if last_event_id else None
    except BaseException:
        await bus.unsubscribe(sub)
        raise
    kind = WsStream if websocket else SseStream
    stream = kind(send, sub, bus, lease, open_streams, config, last_event_id or "", execution_id)
    connected = js.to_json_text(result.on_connect)
    first = [stream._message(connected, "connected", sub.position, result.retry_ms)]
    if replay is not None:
        if not replay.complete:
            gap = "some events since Last-Event-ID are no longer available"
            first.append(stream._message(_reason(gap), "gap"))
        stream.seen = {e.id for e in replay.events}
        first += [stream._event(e) for e in replay.events]
    waiting = sub.attach(stream)
    loop = asyncio.get_running_loop()
    deadline = None if result.timeout_ms is None else loop.time() + result.timeout_ms / 1000
    return stream, Opening(first, waiting, deadline)
