"""``metabuilder.rateLimit``: counts executions per key in a fixed window and refuses past the
limit with 429 ``RATE_LIMITED`` and ``Retry-After``.

The key is the workflow's expression, always inside the request's tenant and this node (two
nodes keyed by the same e-mail address count apart). Counters live in the worker, or in
Redis when ``RATE_LIMIT_URL`` (or ``EVENTS_URL``) points there, so every worker shares them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.ir import Effect, Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import call, const, ex, value

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class RateLimitSpec(NodeSpec):
    key: JValue
    limit: int
    window_ms: int
    message: str | None

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.key)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return f"rate limit {self.limit} per {self.window_ms} ms"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        fn = call(
            "rate_limit",
            ex(),
            const(f"{lw.wf.id}/{node.id}"),
            value(lw, node, self.key),
            const(self.limit),
            const(self.window_ms),
            const(self.message),
        )
        return [Effect(node, self.label(), fn, None)]


def parse(r: ParamReader) -> RateLimitSpec | None:
    if r.params.get("operation") is not None:
        r.choice("operation", ("rate_limit",))
    key = r.require("key", "what is counted: `{{ $json.email }}`")
    limit = r.bounded("limit", 1, 1_000_000, 10)
    window = r.bounded("window", 100, 31 * 24 * 3600 * 1000, 60_000)
    message = r.string("errorMessage", "the 429's message", required=False)
    if key is None:
        return None
    return RateLimitSpec(key, limit, window, message[0] if message else None)


KIND = NodeKind(
    type="metabuilder.rateLimit",
    versions=(1,),
    summary="counts executions per key (in the tenant) in a fixed window; 429 past the limit",
    parameters=(
        ParamDoc("operation", False, "`rate_limit` (decorative)"),
        ParamDoc("key", True, "what is counted, e.g. `{{ $json.email }}`"),
        ParamDoc("limit", False, "executions allowed per window (default 10)"),
        ParamDoc("window", False, "the window in milliseconds (default 60000)"),
        ParamDoc("errorMessage", False, 'the 429\'s message (default "Too many requests")'),
    ),
    parse=parse,
)
