"""``emit_event``: publish ``event`` with ``data`` on the tenant's ``channel`` once the
execution's transaction commits (nothing is published for a rolled-back execution)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.expressions.types import STR
from compiler.ir import Emit, Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.actions import Action
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class EmitEvent(NodeSpec):
    event: str
    channel: JValue
    data: JValue | None

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.channel, STR)
        if self.data is not None:
            yield ExprUse(self.data)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "emit_event"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        channel = lw.bind.text(self.channel, node)
        data = lw.bind.boxed(self.data, node)
        lw.bind.set_output(node, None)
        return [Emit(node, channel, self.event, data)]


def parse(r: ParamReader) -> EmitEvent | None:
    event = r.string("event", "the event name")
    channel = r.require("channel", "the event channel")
    if event is None or channel is None:
        return None
    return EmitEvent(event[0], channel, r.params.get("data"))


ACTION = Action(
    name="emit_event",
    summary="publishes an event on a channel of the tenant after the commit",
    parameters=(
        ParamDoc("event", True, "the event name"),
        ParamDoc("channel", True, "the channel, a string expression"),
        ParamDoc("data", False, "the event's JSON data"),
    ),
    parse=parse,
)
