"""``http_response``: answer the request with ``status`` and a JSON ``body``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.ir import Respond, Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.actions import Action
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class HttpResponse(NodeSpec):
    status: int
    body: JValue | None

    def expressions(self) -> Iterator[ExprUse]:
        if self.body is not None:
            yield ExprUse(self.body)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "http_response"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        return [Respond(node, self.status, lw.bind.boxed(self.body, node))]


def parse(r: ParamReader) -> HttpResponse:
    return HttpResponse(r.status("status") or 200, r.params.get("body"))


ACTION = Action(
    name="http_response",
    summary="answers the request",
    parameters=(
        ParamDoc("status", False, "the HTTP status, 200-599 (default 200)"),
        ParamDoc("body", False, "the JSON body; strings may hold `{{ }}` expressions"),
    ),
    parse=parse,
)
