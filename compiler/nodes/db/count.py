"""``database_count``: how many rows match the filter (a number)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from compiler import sql
from compiler.expressions.translate import TExpr
from compiler.expressions.types import NUM
from compiler.ir import Count
from compiler.nodes.base import DbUse, Operation, TenantBinding
from compiler.nodes.db.common import bind, statement

if TYPE_CHECKING:
    from compiler.plan.lower import Lowered, Lowering


def lower(lw: Lowering, use: DbUse) -> Lowered | None:
    b = bind(lw, use)
    if b is None:
        return None
    query = statement(
        lw, use, lambda d: sql.count(b.entity, b.filters, d), b.filters, dynamic=b.dynamic
    )
    stmt = Count(use.node, b.entity, query, use.task, b.var)
    return stmt, TExpr(ast.Name(b.var, ast.Load()), NUM)


OPERATION = Operation(
    name="database_count",
    summary="counts the rows that match the filter",
    writes=False,
    needs_filter=True,
    accepts_data=False,
    requires_data=False,
    lower=lower,
    tenant=TenantBinding.FILTER,
)
