"""``database_read``, decided by the filter and by how later nodes use the output:

- by a unique key: a lookup of one row (none is 404; or null, when an expression compares
  the output with null: `$steps.x.output !== null`);
- otherwise, when every later use reads a field of the row (``$steps.x.output.id``): a
  fan-out, and the nodes after it run once per row (n8n's item semantics);
- otherwise (the whole value, ``.length``, an array method, an index, or no use): the list of
  rows, at most ``limit`` of them (100 when the read gives none, as MetaBuilder's DBAL).

``sort`` orders by fields (then by the primary key, so pages are stable); a key or direction
from an expression is checked at run time against the entity's columns (sensitive and JSON
columns excluded) and never enters the SQL. ``limit`` and ``offset`` may be expressions:
see :func:`runtime.values.row_count` for their clamping.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from compiler import messages, sql
from compiler.escape import sql_identifier
from compiler.expressions.translate import TExpr
from compiler.expressions.types import NULL, ArrayOf, union
from compiler.ir import DynamicOrder, ForEach, Lookup, Param, Role, Rows
from compiler.load import JString
from compiler.model import Entity
from compiler.nodes.base import DbUse, Operation, SortKey, TenantBinding
from compiler.nodes.db.common import Bound, bind, statement
from compiler.suggest import did_you_mean, or_else

if TYPE_CHECKING:
    from compiler.plan.lower import Lowered, Lowering

DEFAULT_LIMIT = 100  # a list read without `limit`, as MetaBuilder's DBAL
NO_LIMIT = 10_000  # runtime.values.MAX_ROWS: a fan-out with an offset and no limit


def lower(lw: Lowering, use: DbUse) -> Lowered | None:
    b = bind(lw, use)
    if b is None:
        return None
    op = use.op
    paged = op.limit is not None or op.skip is not None
    if b.unique and not paged:
        key = f"{use.node.id}.tasks.{use.task}" if use.task else use.node.id
        maybe = b.read and key in lw.bind.null_tested  # `output !== null` decides, not a 404
        text = sql.select(b.entity, b.filters, lookup=True, need_row=b.read)
        stmt = Lookup(
            use.node,
            b.entity,
            lw.sql(use, text, b.filters),
            use.task,
            b.var if b.read else None,
            b.decoder if b.read else None,
            None if maybe else b.not_found,
        )
        if maybe:
            return stmt, TExpr(b.row.node, union(b.row.type, NULL))
        return stmt, b.row if b.read else None
    ordering = _order(lw, use, b.entity)
    if ordering is None:
        return None
    static, dynamic = ordering
    fan_out = _fans_out(lw, use, b)
    params = list(b.filters)
    default = NO_LIMIT if fan_out else DEFAULT_LIMIT
    limit = _count(lw, use, op.limit, "limit", default)
    skip = _count(lw, use, op.skip, "offset", 0)
    if limit is None and (skip is not None or not fan_out):
        limit = ast.Constant(default)
    if limit is not None:
        params.append(Param(Role.LIMIT, None, None, limit))
    if skip is not None:
        params.append(Param(Role.SKIP, None, None, skip))
    query = statement(
        lw,
        use,
        lambda d: sql.select(
            b.entity,
            b.filters,
            lookup=False,
            need_row=True,
            limit=limit is not None,
            skip=skip is not None,
            sort=static,
            dialect=d,
        ),
        params,
        dynamic,
        b.dynamic,
    )
    if fan_out:
        return ForEach(use.node, b.entity, query, use.task, b.var, b.decoder), b.row
    rows = TExpr(ast.Name(b.var, ast.Load()), ArrayOf(b.row.type))
    return Rows(use.node, b.entity, query, use.task, b.var, b.decoder), rows


def _fans_out(lw: Lowering, use: DbUse, b: Bound) -> bool:
    key = f"{use.node.id}.tasks.{use.task}" if use.task else use.node.id
    uses = lw.bind.output_uses.get(key, set())
    return bool(uses) and all(u is not None and u in b.entity.fields for u in uses)


def _count(
    lw: Lowering, use: DbUse, value: int | JString | None, name: str, default: int
) -> ast.expr | None:
    if value is None:
        return None
    if isinstance(value, int):
        return ast.Constant(value)
    t = lw.bind.value(value, use.node)
    if t is None:
        return ast.Constant(default)  # reported where it was translated
    boxed = lw.bind.translator_for(use.node).box(t)
    fn = ast.Name("row_count", ast.Load())
    return ast.Call(fn, [boxed, ast.Constant(name), ast.Constant(default)], [])


def sortable(ent: Entity) -> list[str]:
    """The fields a sort key from the request may name: not JSON, not sensitive."""
    return [f.name for f in ent.fields.values() if f.type != "json" and not f.sensitive]


def _order(
    lw: Lowering, use: DbUse, ent: Entity
) -> tuple[list[tuple[str, int]] | None, DynamicOrder | None] | None:
    """The static sort keys, or (None, the run-time order); None after an error."""
    keys: list[SortKey] = use.op.sort
    node = use.node
    ok = True
    for k in keys:
        if k.field is not None and k.field not in ent.fields:
            s = did_you_mean(k.field, ent.fields)
            lw.diags.add(
                messages.FIELD_NOT_DECLARED.format(ent.name, k.field),
                k.key_span,
                node_id=node.id,
                hint=or_else(s, messages.HINT__FIELDS.format(", ".join(ent.fields))),
            )
            ok = False
    if not ok:
        return None
    if all(k.field is not None and k.direction is not None for k in keys):
        return [(k.field or "", k.direction or 1) for k in keys], None
    if len(keys) > 1:
        lw.diags.add(
            messages.SORT_DYNAMIC_ONE_KEY.format(node.id),
            use.op.sort_span or use.op.span,
            node_id=node.id,
            hint=messages.HINT__SORT_DYNAMIC_ONE_KEY,
        )
        return None
    k = keys[0]
    tr = lw.bind.translator_for(node)
    if k.key is not None:
        t = lw.bind.value(k.key, node)
        if t is None:
            return None
        key: ast.expr = tr.box(t)
        allowed = sortable(ent)
    else:
        key = ast.Constant(k.field)
        allowed = [k.field or ""]
    if k.direction is not None:
        direction: ast.expr = ast.Constant(k.direction)
    else:
        d = lw.bind.value(k.direction_value, node)
        if d is None:
            return None
        direction = tr.box(d)
    columns = tuple((f, sql_identifier(ent.fields[f].column)) for f in allowed)
    name = lw.names.take(
        "SORT_" + (use.node.id if use.task is None else f"{use.node.id}_{use.task}").upper()
    )
    return None, DynamicOrder(name, columns, key, direction)


OPERATION = Operation(
    name="database_read",
    summary=(
        "reads one row by a unique key (404 when missing); otherwise rows one by one, or "
        "the list of rows, by how later nodes use them"
    ),
    writes=False,
    needs_filter=True,
    accepts_data=False,
    requires_data=False,
    lower=lower,
    tenant=TenantBinding.FILTER,
    pages=True,
)
