"""``log``: record a message in the execution history (and the server log)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.ir import Log, Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.actions import Action
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class LogSpec(NodeSpec):
    message: JValue | None
    level: str = "info"

    def expressions(self) -> Iterator[ExprUse]:
        if self.message is not None:
            yield ExprUse(self.message)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "log"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        if self.message is None:
            return [Log(node, ast.Constant(node.name), self.level)]
        return [Log(node, lw.bind.text(self.message, node), self.level)]


LEVELS = ("debug", "info", "warn", "warning", "error")


def parse(r: ParamReader) -> LogSpec:
    level = r.choice("level", LEVELS) if r.params.get("level") is not None else None
    return LogSpec(r.params.get("message"), level[0] if level else "info")


ACTION = Action(
    name="log",
    summary="records a message in the execution history",
    parameters=(
        ParamDoc("message", False, "the text (default: the node's name)"),
        ParamDoc("level", False, "debug, info (the default), warn or error"),
    ),
    parse=parse,
)
