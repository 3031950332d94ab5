"""``database_aggregate``: ``aggregations`` (``{"total": "count", "likes": "sum(likes)"}``)
over the rows that match the filter; with ``groupBy`` one object per group (the group's
value under the field's name, in the group's order), else one object.

Functions: ``count``, ``sum(f)``, ``avg(f)``, ``min(f)``, ``max(f)``. ``sum`` of no rows is 0
(as ``count``); ``avg``, ``min`` and ``max`` of no rows are null. Output names and fields are
checked here; SQL aliases are generated (``a0``, ``g``), so no name from the file enters it.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from compiler import messages, sql
from compiler.expressions.translate import TExpr
from compiler.expressions.types import ANY, ArrayOf, MapOf
from compiler.ir import Aggregate
from compiler.load import JString
from compiler.nodes.base import DbUse, Operation, TenantBinding
from compiler.nodes.db.common import bind, statement
from compiler.suggest import did_you_mean, or_else

if TYPE_CHECKING:
    from compiler.plan.lower import Lowered, Lowering

_FORM = re.compile(r"\s*(count|sum|avg|min|max)\s*(?:\(\s*([A-Za-z_][A-Za-z0-9_]*)?\s*\))?\s*")
_NUMERIC = ("integer", "number", "bigint")
_DECODE = {"boolean": "db_bool", "integer": "db_number", "number": "db_number"}


def lower(lw: Lowering, use: DbUse) -> Lowered | None:
    b = bind(lw, use)
    if b is None:
        return None
    ent, node, op = b.entity, use.node, use.op
    values: list[tuple[str, str, str | None]] = []
    kinds: list[tuple[str, str]] = []
    ok = True
    for e in op.aggregations:
        text = e.value.value if isinstance(e.value, JString) else None
        m = _FORM.fullmatch(text or "")
        if m is None or (m.group(1) != "count" and m.group(2) is None):
            lw.diags.add(
                messages.AGGREGATION_INVALID.format(e.key, node.id, text or "?"),
                e.value.span,
                node_id=node.id,
                hint=messages.HINT__AGGREGATION,
            )
            ok = False
            continue
        fn, fld = m.group(1), m.group(2)
        if fld is not None and fld not in ent.fields:
            s = did_you_mean(fld, ent.fields)
            lw.diags.add(
                messages.FIELD_NOT_DECLARED.format(ent.name, fld),
                e.value.span,
                node_id=node.id,
                hint=or_else(s, messages.HINT__FIELDS.format(", ".join(ent.fields))),
            )
            ok = False
            continue
        if fld is not None and fn != "count" and ent.fields[fld].type not in _NUMERIC:
            lw.diags.add(
                messages.AGGREGATION_NOT_NUMERIC.format(
                    e.key, node.id, ent.name, fld, ent.fields[fld].type
                ),
                e.value.span,
                node_id=node.id,
                hint=messages.HINT__AGGREGATE_NUMBER_FIELD,
            )
            ok = False
            continue
        sql_fn = fn.upper()
        values.append((e.key, sql_fn, None if fn == "count" else fld))
        kinds.append((e.key, "number" if fn in ("count", "sum") else "number|null"))
    group: str | None = None
    if op.group is not None:
        group = op.group[0]
        if group not in ent.fields:
            s = did_you_mean(group, ent.fields)
            lw.diags.add(
                messages.FIELD_NOT_DECLARED.format(ent.name, group),
                op.group[1],
                node_id=node.id,
                hint=or_else(s, messages.HINT__FIELDS.format(", ".join(ent.fields))),
            )
            ok = False
        elif ent.fields[group].type == "json":
            lw.diags.add(
                messages.AGGREGATE_GROUP_JSON.format(node.id, ent.name, group),
                op.group[1],
                node_id=node.id,
                hint=messages.HINT__AGGREGATE_GROUP_JSON,
            )
            ok = False
    if not ok:
        return None
    decoder = None if group is None else _DECODE.get(ent.fields[group].type, "db_text")
    if group is not None and ent.fields[group].nullable:
        decoder = (decoder or "db_text") + "_or_none"
    query = statement(
        lw,
        use,
        lambda d: sql.aggregate(ent, b.filters, group, values, d),
        b.filters,
        dynamic=b.dynamic,
    )
    stmt = Aggregate(node, ent, query, use.task, b.var, group, decoder, tuple(kinds))
    out_type = ArrayOf(MapOf(ANY)) if group is not None else MapOf(ANY)
    return stmt, TExpr(ast.Name(b.var, ast.Load()), out_type)


OPERATION = Operation(
    name="database_aggregate",
    summary="count, sum, avg, min or max over the rows that match, per group or in all",
    writes=False,
    needs_filter=True,
    accepts_data=False,
    requires_data=False,
    lower=lower,
    tenant=TenantBinding.FILTER,
    aggregates=True,
)
