"""``metabuilder.condition``: a boolean expression with two outputs, ``main[0]`` (true) and
``main[1]`` (false). Without a false branch it is a guard: false refuses the request (403
``AUTH_INSUFFICIENT_LEVEL`` with the levels when the workflow sets
``meta.permissions.minimumUserLevel``, else 403 ``CONDITION_FAILED``)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.expressions.translate import TExpr
from compiler.expressions.types import BOOL
from compiler.ir import Condition, Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class ConditionSpec(NodeSpec):
    condition: JValue

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.condition)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return ""

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        test = lw.bind.truthy(self.condition, node)
        bound = lw.user_bound_at(node)
        lw.bind.set_output(node, TExpr(ast.Constant(True), BOOL))
        then: list[Stmt] = []
        if node.id == lw.scope_anchor and lw.wf.permissions_required:
            then.append(lw.scope_check(node))
        then += lw.branch(node, 0)
        otherwise = lw.branch(node, 1) if lw.has_branch(node, 1) else None
        level = 'user["level"]' if bound else 'ctx["user"]["level"] if "user" in ctx else None'
        return [
            Condition(
                node,
                test,
                then,
                otherwise,
                lw.wf.minimum_user_level,
                ast.parse(level, mode="eval").body,
            )
        ]


def parse(r: ParamReader) -> ConditionSpec | None:
    cond = r.require("condition", "a boolean expression")
    return ConditionSpec(cond) if cond is not None else None


KIND = NodeKind(
    type="metabuilder.condition",
    versions=(1,),
    summary="routes on a boolean expression: main[0] when true, main[1] when false",
    parameters=(
        ParamDoc("operation", False, "`condition` (decorative)"),
        ParamDoc("condition", True, "a `{{ }}` expression, taken by JavaScript truthiness"),
    ),
    parse=parse,
    outputs=("true", "false"),
)
