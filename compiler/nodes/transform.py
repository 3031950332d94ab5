"""``metabuilder.transform``: computes a value for later nodes, ``$steps.<id>.output``.

``output`` is the value: an object whose strings may hold ``{{ }}`` expressions, or one
expression. ``input`` is decorative (upstream's workflows repeat inside ``output`` whatever
they name there; none reads a rebound ``$json``), so it is read for documentation only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.expressions.translate import TExpr
from compiler.ir import Let, Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class TransformSpec(NodeSpec):
    output: JValue

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.output)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "transform"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        value = lw.bind.value(self.output, node)
        if value is None:
            return []  # reported where it is; no `$steps` entry, so no cascade downstream
        var = lw.names.take(node.id)
        lw.bind.set_output(node, TExpr(ast.Name(var, ast.Load()), value.type))
        return [Let(node, var, value.node)]


def parse(r: ParamReader) -> TransformSpec | None:
    r.params.get("input")  # decorative: read, never evaluated
    output = r.require("output", "the value: an object or a `{{ }}` expression")
    return TransformSpec(output) if output is not None else None


KIND = NodeKind(
    type="metabuilder.transform",
    versions=(1,),
    summary="computes a value (an object or an expression) that later nodes read as its output",
    parameters=(
        ParamDoc("operation", False, "`transform_data` (decorative)"),
        ParamDoc("output", True, "the value: an object whose strings may hold `{{ }}`, or one"),
        ParamDoc("input", False, "decorative: documents what `output` reads; not evaluated"),
    ),
    parse=parse,
)
