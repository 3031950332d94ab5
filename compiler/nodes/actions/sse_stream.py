"""``sse_stream``: answer with ``text/event-stream`` on the tenant's ``channel``: a first
event carrying ``onConnect``, then every event emitted there. The row this execution created
last (the subscription) holds the stream: deleting it, in any workflow, closes the stream.
``staticData.reconnectInterval`` is the ``retry:`` and ``subscriptionTimeout`` closes it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.expressions.types import STR
from compiler.ir import Stmt, Stream
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.actions import Action
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class SseStream(NodeSpec):
    channel: JValue
    on_connect: JValue | None

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.channel, STR)
        if self.on_connect is not None:
            yield ExprUse(self.on_connect)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "sse_stream"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        channel = lw.bind.text(self.channel, node)
        on_connect = lw.bind.boxed(self.on_connect, node)
        held_by = None
        if lw.created:
            ent, var = lw.created[-1]
            key = ast.Subscript(ast.Name(var, ast.Load()), ast.Constant(ent.primary_key))
            held_by = (ent.table, key)
        retry = lw.wf.static_data.get("reconnectInterval", (None, None))[0]
        timeout = lw.wf.static_data.get("subscriptionTimeout", (None, None))[0]
        return [
            Stream(
                node,
                channel,
                on_connect,
                retry if isinstance(retry, int) else None,
                timeout if isinstance(timeout, int) else None,
                held_by,
            )
        ]


def parse(r: ParamReader) -> SseStream | None:
    channel = r.require("channel", "the event channel")
    if channel is None:
        return None
    return SseStream(channel, r.params.get("onConnect"))


ACTION = Action(
    name="sse_stream",
    summary="answers with a server-sent event stream of a channel of the tenant",
    parameters=(
        ParamDoc("channel", True, "the channel, a string expression"),
        ParamDoc("onConnect", False, "the data of the first event"),
    ),
    parse=parse,
)
