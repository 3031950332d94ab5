"""The event bus across workers and machines: one Redis stream (``EVENTS_URL=redis://...``).

Every event, and every "close the streams this deleted row holds" notice, is appended to one
fan-out stream, trimmed to about ``fanout_size`` entries. Each worker reads it from where it
last read and hands entries to its own subscribers, so an event emitted on one worker reaches
every worker, in one order.

Each tenant channel also has a stream of its own (trimmed to about ``buffer_size`` entries,
expiring a day after its last event), appended in the same script: an event's id is its id
in that stream, so ids say nothing about other tenants' traffic, and a client may reconnect
to any worker with ``Last-Event-ID`` and get what it missed on its channel (``XRANGE``), or a
``gap`` notice when that part has been trimmed or lost.

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
from redis.exceptions import RedisError, ResponseError

from runtime.events import Event, Replay, Streams, Subscriber, is_count

log = logging.getLogger("runtime.events")

STREAM = "streamcast:events"
CHANNEL = "streamcast:channel:"
LEASE = "streamcast:lease:"
CHANNEL_TTL_MS = 24 * 3600 * 1000
EMPTY = "0-0"  # the position on a channel that has had no event
STOP_TIMEOUT_S = 3.0

# Append an event to its channel's stream, then (with that id) to the fan-out stream.
_PUBLISH = """
local id = redis.call('xadd', KEYS[1], 'maxlen', '~', ARGV[1], '*', 'n', ARGV[5], 'd', ARGV[6])
redis.call('pexpire', KEYS[1], ARGV[2])
redis.call('xadd', KEYS[2], 'maxlen', '~', ARGV[3], '*',
  'k', 'event', 't', ARGV[4], 'c', ARGV[7], 'n', ARGV[5], 'd', ARGV[6], 'i', id)
return id
"""

# Renew the lease only if this worker still holds it.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


def channel_key(tenant: str, channel: str) -> str:
    """The Redis key of a tenant channel's stream; the tenant's length keeps ``a:b``+``c``
    and ``a``+``b:c`` apart."""
    return f"{CHANNEL}{len(tenant)}:{tenant}:{channel}"


def _parse_id(event_id: str) -> tuple[int, int] | None:
    ms, sep, seq = event_id.partition("-")
    if not sep or not is_count(ms) or not is_count(seq):
        return None
    return int(ms), int(seq)


class RedisBus:
    def __init__(
        self, url: str, buffer_size: int = 1000, queue_size: int = 1000, fanout_size: int = 10_000
    ) -> None:
        self.url = url
        self.buffer_size = max(buffer_size, 10)
        self.maxlen = max(fanout_size, 100)
        self.local = Streams(queue_size)
        self._worker = secrets.token_hex(8)
        # redis-py types its replies as unions of every shape a command may return; the
        # replies are decoded strings here (decode_responses=True), converted where read.
        self.redis: Any = aioredis.from_url(
            url, decode_responses=True, socket_timeout=5, health_check_interval=10
        )
        self.last_id = "0-0"
        self._reader: asyncio.Task[None] | None = None
        # Sent once, then run by digest (EVALSHA): a publish does not carry the script.
        self._publish = self.redis.register_script(_PUBLISH)
        self._renew = self.redis.register_script(_RENEW)
        self._stopping = False
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
        # redis-py may absorb a cancellation that lands inside a blocking XREAD and carry on;
        # the flag ends the loop at the latest when that read returns (within a second).
        self._stopping = True
        if self._reader is not None:
            self._reader.cancel()
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._reader
            except TimeoutError:
                log.warning("the Redis reader did not stop within %s s", STOP_TIMEOUT_S)
        self.local.close_all("shutdown")
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await self.redis.aclose()
        except TimeoutError:
            log.warning("closing the Redis connections took over %s s", STOP_TIMEOUT_S)

    # ------------------------------------------------------------------ publishing

    async def publish(self, tenant: str, channel: str, name: str, data: str) -> Event:
        try:
            event_id = await self._publish(
                keys=[channel_key(tenant, channel), STREAM],
                args=[
                    str(self.buffer_size),
                    str(CHANNEL_TTL_MS),
                    str(self.maxlen),
                    tenant,
                    name,
                    data,
                    channel,
                ],
            )
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return Event("", name, data)
        return Event(str(event_id), name, data)

    async def release(self, tenant: str, table: str, key: str) -> None:
        fields = {"k": "release", "t": tenant, "c": table, "n": key, "d": ""}
        try:
            await self.redis.xadd(STREAM, fields, maxlen=self.maxlen, approximate=True)
        except (RedisError, OSError) as exc:
            self._lost(exc)

    def _lost(self, exc: Exception) -> None:
        log.error("publishing to Redis failed (%s); subscribers are told of the gap", exc)
        self.report_gap("the event bus was unavailable; some events were not delivered")

    # ------------------------------------------------------------------ reading

    async def _read(self) -> None:
        backoff = 0.1
        while not self._stopping:
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
            event = Event(fields.get("i", ""), fields.get("n", ""), fields.get("d", ""))
            self.local.deliver((tenant, channel), event)

    # ------------------------------------------------------------------ subscribers

    async def subscribe(
        self, tenant: str, channel: str, held_by: tuple[str, str] | None
    ) -> Subscriber:
        sub = self.local.add(tenant, channel, held_by, "")
        try:
            newest = await self.redis.xrevrange(channel_key(tenant, channel), count=1)
        except (RedisError, OSError):
            return sub  # no position: a reconnect with no Last-Event-ID starts afresh
        sub.position = newest[0][0] if newest else EMPTY
        return sub

    async def unsubscribe(self, sub: Subscriber) -> None:
        self.local.remove(sub)

    async def replay(self, sub: Subscriber, last_event_id: str) -> Replay:
        if _parse_id(last_event_id) is None:
            return Replay([], complete=False)
        key = channel_key(sub.tenant, sub.channel)
        try:
            entries = await self.redis.xrange(key, min=last_event_id, max="+")
            trimmed = await self._trimmed(key) if last_event_id == EMPTY else False
        except (RedisError, OSError):
            return Replay([], complete=False)
        events = [Event(i, f.get("n", ""), f.get("d", "")) for i, f in entries]
        if last_event_id == EMPTY:
            # The client connected before the channel's first event: complete unless the
            # stream has been trimmed since.
            return Replay(events, complete=not trimmed)
        # Complete when the client's last event is still in the stream (trimming removes the
        # oldest entries first, so everything after it is there too).
        if events and events[0].id == last_event_id:
            return Replay(events[1:], complete=True)
        return Replay(events, complete=False)

    async def _trimmed(self, key: str) -> bool:
        try:
            info = await self.redis.xinfo_stream(key)
        except ResponseError:  # no such key: nothing was ever published, or it expired
            return False
        return int(info["entries-added"]) > int(info["length"])

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
            return bool(await self._renew(keys=[key], args=[self._worker, str(ttl_ms)]))
        except (RedisError, OSError):
            return False
