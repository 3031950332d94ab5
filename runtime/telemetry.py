"""What the server tells its operator: Prometheus metrics, request log lines, and a tap of
recent executions and events for the console.

The request path only adds to plain numbers (a count per histogram bucket, per workflow and
status); what is state anyway (open streams, the pool, the history's backlog, events dropped)
is read where it lives. A collector turns both into Prometheus' metrics when scraped, and
prometheus-client is imported only then. Per-node durations come from the history writer,
off the request path.
"""

from __future__ import annotations

import bisect
import collections
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runtime.sse import WsStream

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric

    from runtime.app import Services

requests_log = logging.getLogger("runtime.requests")

DURATION_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    10.0,
)
RECENT_EVENTS = 200  # events kept for the console's tail when it opens


@dataclass(slots=True)
class EventSeen:
    """An event published by this worker, as the console shows it."""

    at: float
    tenant: str
    channel: str
    name: str
    data: str


class Timings:
    """Durations by label pair, in the fixed buckets of a Prometheus histogram: a list of
    counts per key, summed into cumulative buckets only when scraped."""

    __slots__ = ("series",)

    def __init__(self) -> None:
        self.series: dict[tuple[str, str], list[float]] = {}  # counts..., +Inf, sum

    def observe(self, key: tuple[str, str], seconds: float) -> None:
        counts = self.series.get(key)
        if counts is None:
            counts = self.series[key] = [0.0] * (len(DURATION_BUCKETS) + 2)
        counts[bisect.bisect_left(DURATION_BUCKETS, seconds)] += 1
        counts[-1] += seconds

    def buckets(self, key: tuple[str, str]) -> tuple[list[tuple[str, float]], float]:
        counts = self.series[key]
        out, running = [], 0.0
        for bound, n in zip([*map(str, DURATION_BUCKETS), "+Inf"], counts[:-1], strict=True):
            running += n
            out.append((bound, running))
        return out, counts[-1]


@dataclass
class Telemetry:
    """This worker's request counts and durations, its request log, and the console's tap of
    events. Plain numbers on the request path; prometheus-client is imported at the first
    scrape, which reads them (:meth:`registry`)."""

    log_requests: bool = False
    events: collections.deque[EventSeen] = field(
        default_factory=lambda: collections.deque(maxlen=RECENT_EVENTS)
    )
    listeners: set[Callable[[EventSeen], None]] = field(default_factory=set)
    published: int = 0
    rate_limited: dict[str, int] = field(default_factory=dict)
    requests: Timings = field(default_factory=Timings)  # (workflow, status)
    nodes: Timings = field(default_factory=Timings)  # (workflow, node)
    services: Services | None = None
    _registry: CollectorRegistry | None = None

    def attach(self, services: Services) -> None:
        self.services = services

    def registry(self) -> CollectorRegistry:
        """The Prometheus registry that reads this worker's state (made at the first scrape)."""
        if self._registry is None:
            from prometheus_client import CollectorRegistry

            registry = CollectorRegistry(auto_describe=False)
            assert self.services is not None
            registry.register(_StateCollector(self.services, self))
            self._registry = registry
        return self._registry

    # ------------------------------------------------------------------ the request path

    def answered(
        self,
        workflow: str,
        status: int,
        started: float,
        tenant: str | None,
        code: str | None = None,
        request_id: str | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        """One request answered: counted, timed, and logged when request logs are on."""
        seconds = time.perf_counter() - started
        self.requests.observe((workflow, str(status)), seconds)
        if code == "RATE_LIMITED":
            self.rate_limited[workflow] = self.rate_limited.get(workflow, 0) + 1
        if self.log_requests:
            requests_log.info(
                "%s %s %d %.2f ms",
                method,
                path[:200],
                status,
                seconds * 1000,
                extra={
                    "request_id": request_id,
                    "tenant": tenant,
                    "workflow": workflow,
                    "status": status,
                    "code": code,
                    "duration_ms": round(seconds * 1000, 3),
                    "method": method,
                    "path": path[:200],
                },
            )

    def event(self, tenant: str, channel: str, name: str, data: str) -> None:
        """An event this worker published: counted, and shown to open console tails."""
        self.published += 1
        seen = EventSeen(time.time(), tenant, channel, name, data)
        self.events.append(seen)
        for listener in list(self.listeners):
            listener(seen)

    # ------------------------------------------------------------------ off the request path

    def node_times(self, workflow: str, timings: list[tuple[str, float, int]]) -> None:
        """Per-node durations of one recorded execution (from the history writer): (node,
        milliseconds, runs), observed as the mean of a node's runs."""
        observe = self.nodes.observe
        for node, ms, runs in timings:
            observe((workflow, node), ms / 1000 / runs)


class _StateCollector:
    """Gauges and counters read from the worker's state at scrape time."""

    def __init__(self, services: Services, telemetry: Telemetry) -> None:
        self.services = services
        self.telemetry = telemetry

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        t = self.telemetry
        requests = CounterMetricFamily(
            "workflow_requests",
            "Requests answered by a workflow route, by workflow and HTTP status",
            labels=("workflow", "status"),
        )
        durations = HistogramMetricFamily(
            "workflow_request_duration_seconds",
            "Time from the request to its answer (a stream: until it opened)",
            labels=("workflow", "status"),
        )
        for key in sorted(t.requests.series):
            buckets, total = t.requests.buckets(key)
            requests.add_metric(key, buckets[-1][1])
            durations.add_metric(key, buckets, total)
        yield requests
        yield durations
        nodes = HistogramMetricFamily(
            "workflow_node_duration_seconds",
            "Time each node took (workflows that save their progress)",
            labels=("workflow", "node"),
        )
        for key in sorted(t.nodes.series):
            buckets, total = t.nodes.buckets(key)
            nodes.add_metric(key, buckets, total)
        yield nodes
        s = self.services
        streams = GaugeMetricFamily(
            "workflow_open_streams", "Open event streams on this worker", labels=("transport",)
        )
        counts = collections.Counter(
            "websocket" if isinstance(st, WsStream) else "sse" for st in s.open_streams.streams
        )
        for transport in ("sse", "websocket"):
            streams.add_metric((transport,), counts.get(transport, 0))
        yield streams
        yield CounterMetricFamily(
            "workflow_events_published",
            "Events published by this worker's executions",
            value=self.telemetry.published,
        )
        dropped = CounterMetricFamily(
            "workflow_stream_clients_dropped",
            "Streams ended because their client fell behind (slow reader, full queue)",
            labels=("reason",),
        )
        for reason, n in sorted(s.open_streams.dropped.items()):
            dropped.add_metric((reason,), n)
        yield dropped
        pool = GaugeMetricFamily(
            "workflow_db_pool_connections", "Database connections by state", labels=("state",)
        )
        size, idle = s.store.pool_usage()
        pool.add_metric(("in_use",), size - idle)
        pool.add_metric(("idle",), idle)
        yield pool
        history = s.history
        yield GaugeMetricFamily(
            "workflow_history_backlog",
            "Execution records waiting to be written",
            value=history.pending if history is not None else 0,
        )
        yield CounterMetricFamily(
            "workflow_history_dropped",
            "Execution records dropped because the backlog was full",
            value=history.dropped if history is not None else 0,
        )
        limited = CounterMetricFamily(
            "workflow_rate_limit_rejections",
            "Requests refused by a rateLimit node (429 RATE_LIMITED)",
            labels=("workflow",),
        )
        for workflow, n in sorted(self.telemetry.rate_limited.items()):
            limited.add_metric((workflow,), n)
        yield limited
        yield GaugeMetricFamily(
            "workflow_stream_subscribers",
            "Subscribers of the event bus on this worker",
            value=s.bus.subscriber_count(),
        )
