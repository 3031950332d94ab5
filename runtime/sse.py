"""Server-sent events for a workflow that ends in ``sse_stream``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent

from runtime import js
from runtime.config import Config
from runtime.events import EventBus, Replay, Subscriber, newer
from runtime.results import StreamResult

CLOSE_REASONS = {
    "released": "unsubscribed",
    "overflow": "the client fell too far behind; reconnect to resume",
    "shutdown": "the server is shutting down; reconnect to resume",
}


def _closed(reason: str) -> ServerSentEvent:
    return ServerSentEvent(json.dumps({"reason": reason}, separators=(",", ":")), event="closed")


async def open_stream(
    config: Config,
    bus: EventBus,
    tenant: str,
    result: StreamResult,
    last_event_id: str | None,
    headers: dict[str, str],
) -> EventSourceResponse:
    """Subscribe first, so nothing published from here on is missed, then answer with the
    ``connected`` event, what the client missed (``Last-Event-ID``), and live events."""
    held = (result.held_by[0], str(result.held_by[1])) if result.held_by else None
    sub = await bus.subscribe(tenant, result.channel, held)
    try:
        replay = await bus.replay(sub, last_event_id) if last_event_id else None
    except BaseException:
        await bus.unsubscribe(sub)
        raise
    return EventSourceResponse(
        _events(bus, sub, result, replay, last_event_id),
        ping=config.heartbeat_s,
        headers={"Cache-Control": "no-store", **headers},
        send_timeout=30,
    )


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
