"""The event bus across workers and machines: one Redis stream (``EVENTS_URL=redis://...``).

Every event, and every "close the streams this deleted row holds" notice, is appended to one
Redis stream, trimmed to about ``buffer_size`` entries. Each worker reads the stream from
where it last read and hands entries to its own subscribers, so an event emitted on one
worker reaches every worker, in one order. Event ids are the stream's ids: a client may
reconnect to any worker with ``Last-Event-ID`` and get what it missed (``XRANGE``), or a
``gap`` notice when that part of the stream has been trimmed or lost.

When Redis goes away the server keeps answering; the reader retries with backoff, and on
reconnecting tells its subscribers that events may have been missed. Publishing while
Redis is down reports a gap to this worker's subscribers instead of failing the request:
its writes are already committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from runtime.events import Event, Replay, Streams, Subscriber, is_count

log = logging.getLogger("runtime.events")

STREAM = "streamcast:events"
LEASE = "streamcast:lease:"

# Renew the lease only if this worker still holds it.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


def _parse_id(event_id: str) -> tuple[int, int] | None:
    ms, sep, seq = event_id.partition("-")
    if not sep or not is_count(ms) or not is_count(seq):
        return None
    return int(ms), int(seq)


class RedisBus:
    def __init__(self, url: str, buffer_size: int = 10_000, queue_size: int = 1000) -> None:
        self.url = url
        self.maxlen = max(buffer_size, 100)
        self.local = Streams(queue_size)
        self._worker = secrets.token_hex(8)
        # redis-py types its replies as unions of every shape a command may return; the
        # replies are decoded strings here (decode_responses=True), converted where read.
        self.redis: Any = aioredis.from_url(
            url, decode_responses=True, socket_timeout=5, health_check_interval=10
        )
        self.last_id = "0-0"
        self._reader: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    @property
    def worker(self) -> str:
        return self._worker

    async def start(self) -> None:
        try:
            newest = await self.redis.xrevrange(STREAM, count=1)
            self.last_id = newest[0][0] if newest else "0-0"
            self.connected.set()
        except (RedisError, OSError) as exc:
            log.warning(
                "Redis at %s is unavailable (%s); retrying in the background", self.url, exc
            )
            self.last_id = "$"
        self._reader = asyncio.create_task(self._read(), name="redis-events")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self.local.close_all("shutdown")
        await self.redis.aclose()

    # ------------------------------------------------------------------ publishing

    async def publish(self, tenant: str, channel: str, name: str, data: str) -> Event:
        fields = {"k": "event", "t": tenant, "c": channel, "n": name, "d": data}
        event_id = await self._append(fields)
        return Event(event_id, name, data)

    async def release(self, tenant: str, table: str, key: str) -> None:
        await self._append({"k": "release", "t": tenant, "c": table, "n": key, "d": ""})

    async def _append(self, fields: dict[str, str]) -> str:
        try:
            return str(await self.redis.xadd(STREAM, fields, maxlen=self.maxlen, approximate=True))
        except (RedisError, OSError) as exc:
            log.error("publishing to Redis failed (%s); subscribers are told of the gap", exc)
            self.report_gap("the event bus was unavailable; some events were not delivered")
            return ""

    # ------------------------------------------------------------------ reading

    async def _read(self) -> None:
        backoff = 0.1
        while True:
            try:
                if self.last_id == "$":  # started while Redis was down
                    newest = await self.redis.xrevrange(STREAM, count=1)
                    self.last_id = newest[0][0] if newest else "0-0"
                if not self.connected.is_set():
                    self.connected.set()
                    self.report_gap("the event bus reconnected; some events may be missing")
                    log.info("Redis is back; reading from %s", self.last_id)
                response = await self.redis.xread({STREAM: self.last_id}, count=1000, block=1000)
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self.connected.is_set():
                    log.warning("lost Redis (%s); retrying", exc)
                    self.connected.clear()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            for _stream, entries in response or ():
                for entry_id, fields in entries:
                    self.last_id = entry_id
                    self._dispatch(entry_id, fields)

    def _dispatch(self, entry_id: str, fields: dict[str, Any]) -> None:
        tenant, channel = fields.get("t", ""), fields.get("c", "")
        if fields.get("k") == "release":
            self.local.close_held(tenant, channel, fields.get("n", ""))
        else:
            event = Event(entry_id, fields.get("n", ""), fields.get("d", ""))
            self.local.deliver((tenant, channel), event)

    # ------------------------------------------------------------------ subscribers

    async def subscribe(
        self, tenant: str, channel: str, held_by: tuple[str, str] | None
    ) -> Subscriber:
        position = self.last_id if _parse_id(self.last_id) else ""
        return self.local.add(tenant, channel, held_by, position)

    async def unsubscribe(self, sub: Subscriber) -> None:
        self.local.remove(sub)

    async def replay(self, sub: Subscriber, last_event_id: str) -> Replay:
        start = _parse_id(last_event_id)
        if start is None:
            return Replay([], complete=False)
        try:
            oldest = await self.redis.xrange(STREAM, count=1)
            entries = await self.redis.xrange(STREAM, min=f"({last_event_id}", max="+")
        except (RedisError, OSError):
            return Replay([], complete=False)
        missed = [
            Event(entry_id, fields.get("n", ""), fields.get("d", ""))
            for entry_id, fields in entries
            if fields.get("k") == "event"
            and fields.get("t") == sub.tenant
            and fields.get("c") == sub.channel
        ]
        # Complete when the stream still reaches back to the client's last event.
        first = _parse_id(oldest[0][0]) if oldest else None
        complete = first is not None and first <= start
        return Replay(missed, complete)

    def subscriber_count(self) -> int:
        return self.local.count()

    def report_gap(self, reason: str) -> None:
        self.local.report_gap(reason)

    # ------------------------------------------------------------------ leadership

    async def lead(self, name: str, ttl_ms: int) -> bool:
        key = LEASE + name
        try:
            if await self.redis.set(key, self._worker, nx=True, px=ttl_ms):
                return True
            return bool(await self.redis.eval(_RENEW, 1, key, self._worker, str(ttl_ms)))
        except (RedisError, OSError):
            return False
