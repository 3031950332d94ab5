"""``emit_event``: publish ``event`` with ``data`` on the tenant's ``channel`` once the
execution's transaction commits (nothing is published for a rolled-back execution).

Without a ``channel``, in an internal workflow (no trigger: a sub-workflow), the event is the
workflow's result: it ends with ``data`` as its answer. Anywhere else a channel is required."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import messages
from compiler.diagnostics import Span
from compiler.expressions.types import STR
from compiler.ir import Emit, Respond, Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.actions import Action
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class EmitEvent(NodeSpec):
    event: str
    channel: JValue | None
    data: JValue | None
    span: Span

    def expressions(self) -> Iterator[ExprUse]:
        if self.channel is not None:
            yield ExprUse(self.channel, STR)
        if self.data is not None:
            yield ExprUse(self.data)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "emit_event"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        data = lw.bind.boxed(self.data, node)
        lw.bind.set_output(node, None)
        if self.channel is None:
            if lw.wf.triggers:
                lw.diags.add(
                    messages.PARAMETER_MISSING.format(node.id, "channel", "the event channel"),
                    self.span,
                    node_id=node.id,
                    hint=messages.HINT__CHANNEL_OR_INTERNAL,
                )
                return []
            return [Respond(node, 200, data)]  # a sub-workflow's result
        channel = lw.bind.text(self.channel, node)
        return [Emit(node, channel, self.event, data)]


def parse(r: ParamReader) -> EmitEvent | None:
    event = r.string("event", "the event name")
    if event is None:
        return None
    span = Span(r.params.span.path, r.params.span.start, r.params.span.start)
    return EmitEvent(event[0], r.params.get("channel"), r.params.get("data"), span)


ACTION = Action(
    name="emit_event",
    summary="publishes an event on a channel of the tenant after the commit",
    parameters=(
        ParamDoc("event", True, "the event name"),
        ParamDoc(
            "channel",
            False,
            "the channel, a string expression (none: an internal " "workflow's result)",
        ),
        ParamDoc("data", False, "the event's JSON data"),
    ),
    parse=parse,
)
