"""``jsonscript.forEach``: JSON Script's per-item loop. Output 0 (the ``mapItem`` node) runs
once per element of ``array``, reading the element as ``$item`` and the loop's own ``$json``
as ``$parentJson``; output 1 runs after the loop, with the loop's ``$json``."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.expressions.translate import TExpr
from compiler.expressions.types import ANY
from compiler.ir import Loop, Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class ForEachSpec(NodeSpec):
    array: JValue

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.array)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "for each item"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        items = lw.bind.value(self.array, node)
        var = lw.names.take(node.id + "_item")
        inner = [n for n in lw.wf.loops if lw.wf.loops[n] == node.id]
        for n in inner:
            lw.bind.roots[n] = {
                "$item": TExpr(ast.Name(var, ast.Load()), ANY),
                "$parentJson": lw.bind.json_of(node.id),
            }
        body = lw.branch(node, 0)
        boxed = (
            lw.bind.translator_for(node).box(items)
            if items is not None
            else ast.List([], ast.Load())
        )
        return [Loop(node, var, boxed, body), *lw.branch(node, 1)]


def parse(r: ParamReader) -> ForEachSpec | None:
    array = r.require("array", "the list: `{{ $json.messages }}`")
    return ForEachSpec(array) if array is not None else None


KIND = NodeKind(
    type="jsonscript.forEach",
    versions=(1,),
    summary="JSON Script's forEach: its mapItem node once per element ($item), then the rest",
    parameters=(ParamDoc("array", True, "the list"),),
    parse=parse,
    outputs=("each", "done"),
)
