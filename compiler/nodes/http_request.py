"""``n8n-nodes-base.httpRequest``: one outbound HTTP call (httpx).

When a later node reads its output (``$steps.x.output.status``, ``.body``), the call runs
where it stands, outside any transaction when nothing was written before it, and its answer
is data: ``{status, headers, body}`` whatever the status. When nobody reads it, the call is
fire-and-forget: queued in the outbox and made after the commit (retried on a network error or
a 5xx). A relative URL calls this server itself; absolute ones pass the destination check.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.expressions.types import ANY, NUM, STR, Field, MapOf, Record
from compiler.ir import Stmt
from compiler.load import JObject, JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import call, const, ex, queued, read_by_later_nodes, result, value

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
RESPONSE = Record(
    "HttpResponse",
    "an HTTP response",
    (Field("status", NUM), Field("headers", MapOf(STR)), Field("body", ANY)),
)


@dataclass
class HttpSpec(NodeSpec):
    url: JValue
    method: str
    headers: JValue | None
    query: JValue | None
    body: JValue | None
    timeout_ms: int | None

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.url)
        for v in (self.headers, self.query, self.body):
            if v is not None:
                yield ExprUse(v)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return f"HTTP {self.method}"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        def mapping(v: JValue | None) -> ast.expr:
            return value(lw, node, v) if isinstance(v, JObject) else ast.Dict([], [])

        args = (
            ex(),
            const(self.method),
            value(lw, node, self.url),
            mapping(self.headers),
            mapping(self.query),
            value(lw, node, self.body),
            const(self.timeout_ms),
        )
        if not read_by_later_nodes(lw, node):
            return queued(lw, node, self.label(), call("defer_http", *args), None)
        return result(lw, node, self.label(), call("http_request", *args), RESPONSE, outside=True)


def parse(r: ParamReader) -> HttpSpec | None:
    if r.params.get("operation") is not None:
        r.choice("operation", ("http_request",))
    url = r.require("url", "the URL: `https://...`, or `/api/...` on this server")
    method = r.choice("method", METHODS) if r.params.get("method") is not None else ("GET", None)
    for key in ("headers", "queryParameters"):
        r.entries(key, r.params)  # reports a value that is not an object
    timeout = r.bounded("timeout", 1, 300_000, 0) if r.params.get("timeout") is not None else None
    if url is None or method is None:
        return None
    return HttpSpec(
        url,
        method[0],
        r.params.get("headers"),
        r.params.get("queryParameters"),
        r.params.get("body"),
        timeout or None,
    )


KIND = NodeKind(
    type="n8n-nodes-base.httpRequest",
    versions=(1, 2, 3, 4),
    summary="an outbound HTTP call: its answer as data, or fire-and-forget after the commit",
    parameters=(
        ParamDoc("operation", False, "`http_request` (decorative)"),
        ParamDoc(
            "url", True, "absolute (checked against HTTP_ALLOW_HOSTS), or relative: this server"
        ),
        ParamDoc("method", False, "GET (the default), POST, PUT, PATCH, DELETE, HEAD or OPTIONS"),
        ParamDoc("headers", False, "an object of header values"),
        ParamDoc("queryParameters", False, "an object of query parameters"),
        ParamDoc("body", False, "sent as JSON (a string as text)"),
        ParamDoc("timeout", False, "milliseconds (default HTTP_TIMEOUT_MS, 10000)"),
    ),
    parse=parse,
)
