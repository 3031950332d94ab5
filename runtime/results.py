"""What a generated handler returns; the server turns each into an HTTP response."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JsonResult:
    status: int
    body: object


@dataclass(frozen=True)
class StreamResult:
    """Answer with ``text/event-stream`` on ``channel``, first sending ``on_connect``."""

    channel: str
    on_connect: object
    retry_ms: int | None
    timeout_ms: int | None


@dataclass(frozen=True)
class OkResult:
    """A workflow that ends without a response: 200 ``{"ok": true, ...}``."""

    items: int | None = None


Result = JsonResult | StreamResult | OkResult
