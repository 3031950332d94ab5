"""Server-sent events for a workflow that ends in ``sse_stream``."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.sse import SendTimeoutError
from starlette.types import Receive, Scope, Send

from runtime import js
from runtime.config import Config
from runtime.errors import TooManyStreams
from runtime.events import EventBus, K, Replay, Subscriber, newer
from runtime.results import StreamResult

log = logging.getLogger("runtime.sse")

CLOSE_REASONS = {
    "released": "unsubscribed",
    "overflow": "the client fell too far behind; reconnect to resume",
    "shutdown": "the server is shutting down; reconnect to resume",
}


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


def _closed(reason: str) -> ServerSentEvent:
    return ServerSentEvent(json.dumps({"reason": reason}, separators=(",", ":")), event="closed")


async def open_stream(
    config: Config,
    bus: EventBus,
    tenant: str,
    result: StreamResult,
    last_event_id: str | None,
    headers: dict[str, str],
    lease: Lease | None = None,
) -> EventStream:
    """Subscribe first, so nothing published from here on is missed, then answer with the
    ``connected`` event, what the client missed (``Last-Event-ID``), and live events."""
    held = (result.held_by[0], str(result.held_by[1])) if result.held_by else None
    sub = await bus.subscribe(tenant, result.channel, held)
    try:
        replay = await bus.replay(sub, last_event_id) if last_event_id else None
    except BaseException:
        await bus.unsubscribe(sub)
        raise
    return EventStream(
        _events(bus, sub, result, replay, last_event_id),
        bus=bus,
        sub=sub,
        lease=lease,
        ping=config.heartbeat_s,
        headers={"Cache-Control": "no-store", **headers},
        send_timeout=config.send_timeout_s,
        shutdown_event=anyio.Event(),
        shutdown_grace_period=SHUTDOWN_GRACE_S,
    )


SHUTDOWN_GRACE_S = 2.0  # for the `closed` event to reach clients when the server stops


class EventStream(EventSourceResponse):
    """An SSE response that always lets go of what it holds (its subscription and its place
    under the stream caps), however it ends: the events ran out, the client left, a client
    that stopped reading was dropped after the send timeout (one log line), or the server
    is stopping (the client gets a `closed` event first)."""

    def __init__(
        self,
        content: AsyncIterator[ServerSentEvent],
        *,
        bus: EventBus,
        sub: Subscriber,
        lease: Lease | None,
        shutdown_event: anyio.Event,
        **kwargs: Any,
    ) -> None:
        super().__init__(content, shutdown_event=shutdown_event, **kwargs)
        self.bus, self.sub, self.lease = bus, sub, lease
        self.stopping = shutdown_event

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher = asyncio.create_task(self._close_on_shutdown())
        try:
            await super().__call__(scope, receive, send)
        except SendTimeoutError:
            client = scope.get("client") or ("?", 0)
            log.info(
                "dropped a stream on channel %r to %s:%s: the client read nothing for %s s",
                self.sub.channel,
                *client,
                self.send_timeout,
            )
        except OSError as exc:  # the connection broke under a send
            log.info("a stream on channel %r ended: %s", self.sub.channel, exc)
        finally:
            watcher.cancel()
            await self.bus.unsubscribe(self.sub)
            if self.lease is not None:
                self.lease.release()

    async def _close_on_shutdown(self) -> None:
        await self.stopping.wait()
        self.sub.close("shutdown")


async def _events(
    bus: EventBus,
    sub: Subscriber,
    result: StreamResult,
    replay: Replay | None,
    last_event_id: str | None = None,
) -> AsyncIterator[ServerSentEvent]:
    try:
        yield ServerSentEvent(
            js.to_json_text(result.on_connect),
            event="connected",
            id=sub.position,
            retry=result.retry_ms,
        )
        seen: set[str] = set()
        floor = last_event_id or ""
        if replay is not None:
            if not replay.complete:
                yield ServerSentEvent(
                    json.dumps(
                        {"reason": "some events since Last-Event-ID are no longer available"},
                        separators=(",", ":"),
                    ),
                    event="gap",
                )
            for e in replay.events:
                seen.add(e.id)
                yield ServerSentEvent(e.data, event=e.name, id=e.id)
        loop = asyncio.get_running_loop()
        deadline = None if result.timeout_ms is None else loop.time() + result.timeout_ms / 1000
        while True:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                yield _closed("subscriptionTimeout reached")
                return
            try:
                event = await asyncio.wait_for(sub.queue.get(), remaining)
            except TimeoutError:
                continue
            if event is None:
                yield _closed(CLOSE_REASONS.get(sub.closed or "", sub.closed or "closed"))
                return
            if event.id and (event.id in seen or (floor and not newer(event.id, floor))):
                continue  # replayed already, or the client had it before reconnecting
            # A notice without an id (a gap) must not reset the client's Last-Event-ID.
            yield ServerSentEvent(event.data, event=event.name, id=event.id or None)
    finally:
        await bus.unsubscribe(sub)
