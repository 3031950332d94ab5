"""``database_read``: by a unique key, a lookup of one row (none is 404); otherwise the rows,
and the nodes after it run once per row."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from compiler import sql
from compiler.ir import ForEach, Lookup, Param, Role
from compiler.nodes.base import DbUse, Operation, TenantBinding
from compiler.nodes.db.common import bind

if TYPE_CHECKING:
    from compiler.plan.lower import Lowered, Lowering


def lower(lw: Lowering, use: DbUse) -> Lowered | None:
    b = bind(lw, use)
    if b is None:
        return None
    op = use.op
    if b.unique:
        text = sql.select(b.entity, b.filter_keys, lookup=True, need_row=b.read)
        stmt = Lookup(
            use.node,
            b.entity,
            lw.sql(use, text, b.filters),
            use.task,
            b.var if b.read else None,
            b.decoder if b.read else None,
            b.not_found,
        )
        return stmt, b.row if b.read else None
    params = list(b.filters)
    if op.limit is not None or op.skip is not None:
        value = op.limit if op.limit is not None else -1
        params.append(Param(Role.LIMIT, None, None, ast.Constant(value)))
    if op.skip is not None:
        params.append(Param(Role.SKIP, None, None, ast.Constant(op.skip)))
    text = sql.select(
        b.entity,
        b.filter_keys,
        lookup=False,
        need_row=True,
        limit=op.limit is not None or op.skip is not None,
        skip=op.skip is not None,
    )
    rows = ForEach(use.node, b.entity, lw.sql(use, text, params), use.task, b.var, b.decoder)
    return rows, b.row


OPERATION = Operation(
    name="database_read",
    summary="reads one row by a unique key (404 when missing), or rows one by one",
    writes=False,
    needs_filter=True,
    accepts_data=False,
    requires_data=False,
    lower=lower,
    tenant=TenantBinding.FILTER,
)
