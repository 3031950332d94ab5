"""The event bus: events by tenant and channel, streams that subscribe to them.

Every key starts with the tenant, so two tenants with the same channel name never hear each
other. Each channel keeps a bounded buffer of recent events; an SSE client that reconnects
with ``Last-Event-ID`` gets what it missed from it, or a ``gap`` notice when the buffer no
longer reaches back that far (or the id is from before a restart).
"""

from __future__ import annotations

import json
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from websockets.frames import Frame, Opcode

from runtime.fanout import Target, write_all

K = TypeVar("K")


class Event:
    """One event. Its wire forms (the SSE frame, the WebSocket message) are made once, by the
    first stream that sends it, and shared by every other."""

    __slots__ = ("_chunk", "_frame", "_message", "_ws_frame", "data", "id", "name")

    def __init__(self, id: str, name: str, data: str) -> None:
        self.id = id
        self.name = name
        self.data = data  # JSON text
        self._frame: bytes | None = None
        self._chunk: bytes | None = None
        self._message: str | None = None
        self._ws_frame: bytes | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return (self.id, self.name, self.data) == (other.id, other.name, other.data)

    def __hash__(self) -> int:
        return hash((self.id, self.name, self.data))

    def __repr__(self) -> str:
        return f"Event(id={self.id!r}, name={self.name!r}, data={self.data!r})"

    @property
    def frame(self) -> bytes:
        """The event as server-sent events spell it."""
        if self._frame is None:
            self._frame = sse_frame(self.data, self.name, self.id or None)
        return self._frame

    @property
    def chunk(self) -> bytes:
        """The SSE frame as one chunk of an HTTP/1.1 chunked body, as the server frames it."""
        if self._chunk is None:
            self._chunk = http_chunk(self.frame)
        return self._chunk

    @property
    def ws_frame(self) -> bytes:
        """The WebSocket message as one unmasked text frame, as the server frames it."""
        if self._ws_frame is None:
            self._ws_frame = ws_frame(self.message)
        return self._ws_frame

    @property
    def message(self) -> str:
        """The event as a WebSocket text message: ``{"id", "event", "data"}``."""
        if self._message is None:
            self._message = ws_message(self.data, self.name, self.id or None)
        return self._message


def sse_frame(
    data: str, event: str | None = None, id: str | None = None, retry: int | None = None
) -> bytes:
    """One server-sent event: ``id``, ``event``, one ``data`` line per line, ``retry``."""
    lines = []
    if id is not None:
        lines.append(f"id: {_one_line(id)}")
    if event is not None:
        lines.append(f"event: {_one_line(event)}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    if retry is not None:
        lines.append(f"retry: {retry}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def http_chunk(data: bytes) -> bytes:
    """``data`` as one chunk of an HTTP/1.1 chunked body."""
    return b"%x\r\n%b\r\n" % (len(data), data)


def ws_frame(text: str) -> bytes:
    """A server's WebSocket text frame (unmasked, no extension)."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


def ws_message(data: str, event: str | None, id: str | None) -> str:
    """One event as a WebSocket text message; ``data`` (JSON text) is embedded as it is."""
    head = json.dumps({"id": id, "event": event}, separators=(",", ":"))
    return f'{head[:-1]},"data":{data}}}'


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


class Sink(Protocol):
    """Where a subscriber's events go once its stream is open (runtime/sse.py)."""

    def offer(self, event: Event) -> None: ...

    def direct(self, event: Event) -> Target | None:
        """Where ``event`` may be written straight to the socket, with the bytes to write,
        when it is to be sent and nothing is waiting to be written before it (runtime/fanout.py
        writes it, with the channel's other streams, before the loop runs anything else)."""
        ...

    def spill(self, rest: bytes) -> None:
        """What the socket did not take of a direct write, to the connection's own writes."""
        ...

    def end(self) -> None: ...


class Subscriber:
    """One open stream: where its events go and why it was closed, if it was.

    Until its stream is attached (``attach``) events wait in a bounded backlog; after, each
    event is handed to the sink at once: no task and no queue per stream. While nothing
    stands between an event and the stream's socket, the sink says so here (``fd``): a
    broadcast then reads one object a stream to find the sockets it writes, not the several
    the sink's own checks would read (on a machine whose caches the clients' traffic has
    flushed, each is a trip to memory: about 7.5 ms for 5,000 streams, against 2.5)."""

    __slots__ = (
        "backlog",
        "channel",
        "closed",
        "fd",
        "held_by",
        "limit",
        "position",
        "sink",
        "tenant",
    )

    def __init__(
        self,
        tenant: str,
        channel: str,
        held_by: tuple[str, str] | None,
        limit: int,
        position: str = "",
    ) -> None:
        self.tenant = tenant
        self.channel = channel
        self.held_by = held_by
        self.limit = limit  # events a stream may hold back before it is dropped
        self.position = position  # the id of the last event published before it subscribed
        self.closed: str | None = None  # "released", "overflow", "shutdown" or "gone"
        self.backlog: list[Event] | None = None  # made when an event waits
        self.sink: Sink | None = None
        self.fd = -1  # the socket its events may be written to as `Event.chunk`, now; or -1

    def offer(self, event: Event) -> None:
        if self.closed is not None:
            return
        if self.sink is not None:
            self.sink.offer(event)
            return
        if self.backlog is None:
            self.backlog = []
        if len(self.backlog) >= self.limit:
            self.backlog = None  # a client this far behind reconnects and resumes
            self.close("overflow")
        else:
            self.backlog.append(event)

    def direct(self, event: Event) -> Target | None:
        sink = self.sink
        return None if self.closed is not None or sink is None else sink.direct(event)

    def spill(self, rest: bytes) -> None:
        if self.sink is not None:
            self.sink.spill(rest)

    def attach(self, sink: Sink) -> list[Event]:
        """Send to ``sink`` from now on; returns the events that waited, in order."""
        waiting, self.backlog = self.backlog or [], None
        self.sink = sink
        return waiting

    def close(self, reason: str) -> None:
        if self.closed is None:
            self.closed = reason
            self.fd = -1
            if self.sink is not None:
                self.sink.end()


@dataclass(frozen=True)
class Replay:
    events: list[Event]
    complete: bool  # False: events after the client's last id were lost


class EventBus(Protocol):
    @property
    def worker(self) -> str:
        """This worker's id (the holder of a lease, in /healthz)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, tenant: str, channel: str, name: str, data: str) -> Event: ...

    async def release(self, tenant: str, table: str, key: str) -> None:
        """Close the streams held by the row ``key`` of ``table`` (it was deleted)."""
        ...

    async def subscribe(
        self, tenant: str, channel: str, held_by: tuple[str, str] | None
    ) -> Subscriber: ...

    async def unsubscribe(self, sub: Subscriber) -> None: ...

    async def replay(self, sub: Subscriber, last_event_id: str) -> Replay: ...

    def subscriber_count(self) -> int: ...

    def report_gap(self, reason: str) -> None:
        """Tell this worker's open streams that events may have been lost."""
        ...

    async def lead(self, name: str, ttl_ms: int) -> bool:
        """Hold (or renew) the lease ``name`` for ``ttl_ms``; False while another worker
        holds it. Schedules run only on the worker that leads."""
        ...


GAP = "gap"


@dataclass
class Streams:
    """This worker's open streams by tenant and channel (and by the row that holds them),
    and the hand-off of an event to each; both buses deliver through it."""

    queue_size: int = 1000
    _subscribers: dict[tuple[str, str], set[Subscriber]] = field(default_factory=dict)
    _holders: dict[tuple[str, str, str], set[Subscriber]] = field(default_factory=dict)

    def add(
        self, tenant: str, channel: str, held_by: tuple[str, str] | None, position: str
    ) -> Subscriber:
        sub = Subscriber(tenant, channel, held_by, self.queue_size, position=position)
        self._subscribers.setdefault((tenant, channel), set()).add(sub)
        if held_by is not None:
            self._holders.setdefault((tenant, *held_by), set()).add(sub)
        return sub

    def remove(self, sub: Subscriber) -> None:
        _discard(self._subscribers, (sub.tenant, sub.channel), sub)
        if sub.held_by is not None:
            _discard(self._holders, (sub.tenant, *sub.held_by), sub)

    def deliver(self, key: tuple[str, str], event: Event) -> None:
        """Hand ``event`` to every stream of the channel, in this call: its one encoding is
        written to every connection that can take it at once, together (runtime/fanout.py);
        each other stream is offered it (runtime/sse.py)."""
        subs = self._subscribers.get(key)
        if not subs:
            return
        chunk = event.chunk

        def target(sub: Subscriber) -> Target | None:
            fd = sub.fd
            return (fd, chunk, sub.spill) if fd >= 0 else sub.direct(event)

        for sub in write_all(subs, target):
            sub.offer(event)

    def close_held(self, tenant: str, table: str, key: str) -> None:
        for sub in list(self._holders.get((tenant, table, key), ())):
            sub.close("released")

    def report_gap(self, reason: str) -> None:
        notice = Event("", GAP, json.dumps({"reason": reason}, separators=(",", ":")))
        for key in list(self._subscribers):
            self.deliver(key, notice)

    def close_all(self, reason: str) -> None:
        for subs in list(self._subscribers.values()):
            for sub in list(subs):
                sub.close(reason)

    def count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())


@dataclass
class LocalBus:
    """The in-process bus for one worker (``EVENTS_URL`` unset): ids ``<epoch>-<n>``, ``n``
    counting the events of one tenant channel (so an id tells a tenant nothing about other
    channels' traffic), and a bounded buffer per channel for ``Last-Event-ID``."""

    buffer_size: int = 1000
    queue_size: int = 1000
    epoch: str = field(default_factory=lambda: secrets.token_hex(4))
    _seqs: dict[tuple[str, str], int] = field(default_factory=dict)
    _buffers: dict[tuple[str, str], deque[Event]] = field(default_factory=dict)
    _evicted: dict[tuple[str, str], int] = field(default_factory=dict)  # newest seq dropped
    streams: Streams = field(init=False)

    def __post_init__(self) -> None:
        self.streams = Streams(self.queue_size)

    @property
    def worker(self) -> str:
        return self.epoch

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.streams.close_all("shutdown")

    def subscriber_count(self) -> int:
        return self.streams.count()

    def report_gap(self, reason: str) -> None:
        self.streams.report_gap(reason)

    async def lead(self, name: str, ttl_ms: int) -> bool:
        return True  # one process: it always leads

    async def publish(self, tenant: str, channel: str, name: str, data: str) -> Event:
        key = (tenant, channel)
        seq = self._seqs[key] = self._seqs.get(key, 0) + 1
        event = Event(f"{self.epoch}-{seq}", name, data)
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = deque(maxlen=self.buffer_size)
        if buffer.maxlen is not None and len(buffer) == buffer.maxlen:
            self._evicted[key] = _seq(buffer[0].id)
        buffer.append(event)
        self.streams.deliver(key, event)
        return event

    async def release(self, tenant: str, table: str, key: str) -> None:
        self.streams.close_held(tenant, table, key)

    async def subscribe(
        self, tenant: str, channel: str, held_by: tuple[str, str] | None
    ) -> Subscriber:
        position = f"{self.epoch}-{self._seqs.get((tenant, channel), 0)}"
        return self.streams.add(tenant, channel, held_by, position)

    async def unsubscribe(self, sub: Subscriber) -> None:
        self.streams.remove(sub)

    async def replay(self, sub: Subscriber, last_event_id: str) -> Replay:
        key = (sub.tenant, sub.channel)
        buffer = self._buffers.get(key, deque())
        epoch, _, seq_text = last_event_id.partition("-")
        if epoch != self.epoch or not is_count(seq_text):
            # An id from before a restart (or not ours): whatever happened since is unknown.
            return Replay(list(buffer), complete=False)
        seq = int(seq_text)
        missed = [e for e in buffer if _seq(e.id) > seq]
        # Complete unless an event newer than the client's last one has left the buffer.
        return Replay(missed, complete=self._evicted.get(key, 0) <= seq)


def is_count(text: str) -> bool:
    """ASCII digits, at most 20 of them (an event id's part; a client's ``Last-Event-ID`` may
    hold anything: ``²`` is a digit to ``str.isdigit`` and 4,400 digits exceed ``int``)."""
    return 0 < len(text) <= 20 and text.isascii() and text.isdigit()


def _seq(event_id: str) -> int:
    return int(event_id.rpartition("-")[2])


def newer(event_id: str, than: str) -> bool:
    """Whether ``event_id`` comes after ``than`` on the same bus. Ids are ``<epoch>-<n>``
    (in-process) or Redis stream ids ``<ms>-<n>``; ids that cannot be ordered count as newer,
    so an event is never withheld because of an id from another bus or an older process."""
    head, _, seq = event_id.rpartition("-")
    other_head, _, other_seq = than.rpartition("-")
    if not (is_count(seq) and is_count(other_seq)):
        return True
    if head == other_head:
        return int(seq) > int(other_seq)
    if is_count(head) and is_count(other_head):
        return (int(head), int(seq)) > (int(other_head), int(other_seq))
    return True


def _discard(index: dict[K, set[Subscriber]], key: K, sub: Subscriber) -> None:
    subs = index.get(key)
    if subs is not None:
        subs.discard(sub)
        if not subs:
            del index[key]
