"""What a generated handler returns; the server turns each into an HTTP response."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JsonResult:
    """Answer with ``status`` and ``body`` as JSON; with a ``Content-Type`` among ``headers``
    a string body is sent as it is, in that type."""

    status: int
    body: object
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StreamResult:
    """Answer with ``text/event-stream`` on ``channel``, first sending ``on_connect``.

    ``held_by`` is the (table, key) of the row the stream belongs to: deleting that row, in
    any workflow, closes the stream.
    """

    channel: str
    on_connect: object
    retry_ms: int | None
    timeout_ms: int | None
    held_by: tuple[str, object] | None = None


@dataclass(frozen=True)
class OkResult:
    """A workflow that ends without a response: 200 ``{"ok": true, ...}``."""

    items: int | None = None


Result = JsonResult | StreamResult | OkResult
