"""``database_create``: insert one row; a unique conflict returns the existing row (a client
that reconnects re-subscribes without error).

Columns the data omits are filled from their generators (``uuid``, ``now``) or defaults; a
required column with neither is an error. ``staticData.maxSubscriptionsPerUser`` bounds the
rows one owner holds: the owner is the tenant and the fields written from
``$context.user.id``, so the limit follows the workflow's own data, not a column's name.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from compiler import messages, sql
from compiler.ir import Insert, Param, PerOwnerLimit, Role, SqlText
from compiler.nodes.base import DbUse, Operation, TenantBinding
from compiler.nodes.db.common import bind
from compiler.plan.lower import unchecked

if TYPE_CHECKING:
    from compiler.plan.lower import Lowered, Lowering

_GENERATORS = {"uuid": "new_id", "now": "now_iso"}


def lower(lw: Lowering, use: DbUse) -> Lowered | None:
    b = bind(lw, use)
    if b is None:
        return None
    ent, node = b.entity, use.node
    data = list(b.data)
    for f in ent.fields.values():
        if f.name in b.data_keys:
            continue
        if f.has_default and isinstance(f.default, str) and f.default in _GENERATORS:
            # "now" in an epoch-milliseconds column is a number, elsewhere ISO text.
            make = "now_ms" if (f.default, f.type) == ("now", "bigint") else _GENERATORS[f.default]
            call = ast.Call(ast.Name(make, ast.Load()), [], [])
            data.append(Param(Role.DATA, f.name, f.column, call))
        elif not f.nullable and not f.has_default:
            lw.diags.add(
                messages.CREATE_WITHOUT_REQUIRED_FIELD.format(node.id, ent.name, f.name),
                use.op.data_span or use.op.span,
                node_id=node.id,
                hint=messages.HINT__ADD_TO_DATA_2.format(f.name),
            )
            return None
    order = list(ent.fields)
    data.sort(key=lambda p: order.index(p.field or ""))
    written = [ent.fields[p.field] for p in data if p.field is not None]
    limit = _owner_limit(lw, use, data)
    params = list(data)
    if limit is not None:
        params.append(Param(Role.MAX_ROWS, None, None, ast.Constant(limit.limit)))
    owner_columns = [p.column for p in limit.owner if p.column] if limit else None
    text = sql.insert(ent, written, owner_columns)
    lw.created.append((ent, b.var))
    # A create that hits a unique key returns the existing row (an idempotent subscribe).
    natural = next(
        (k for k in ent.unique_keys() if k != (ent.primary_key,) and set(k) <= set(b.data_keys)),
        None,
    )
    existing = None
    if natural is not None:
        keys = [
            Param(Role.FILTER, p.field, p.column, unchecked(p.value))
            for p in data
            if p.field in natural
        ]
        keys.sort(key=lambda p: natural.index(p.field or ""))
        if "tenantId" in ent.fields and "tenantId" not in natural:
            # A key unique across tenants: the row that conflicts may be another tenant's,
            # which is never returned (the create then answers 409).
            keys += [
                Param(Role.FILTER, p.field, p.column, unchecked(p.value))
                for p in data
                if p.field == "tenantId"
            ]
        lookup = sql.select(ent, keys, lookup=True, need_row=True)
        existing = SqlText(lw.sql_name(use) + "_EXISTING", lookup, tuple(keys))
    stmt = Insert(
        node, ent, lw.sql(use, text, params), use.task, b.var, b.decoder, existing, limit
    )
    return stmt, b.row


def _owner_limit(lw: Lowering, use: DbUse, data: list[Param]) -> PerOwnerLimit | None:
    limit = lw.wf.static_data.get("maxSubscriptionsPerUser", (None, None))[0]
    if not isinstance(limit, int) or isinstance(limit, bool):
        return None
    users = {e.key for e in use.op.data if lw.bind.is_context_user_id(e.value)}
    tenant = [p for p in data if p.field == "tenantId"]
    owner = [p for p in data if p.field in users]
    if not tenant or not owner:
        return None
    return PerOwnerLimit(limit, (*tenant, *owner))


OPERATION = Operation(
    name="database_create",
    summary="inserts one row; a unique conflict returns the existing row",
    writes=True,
    needs_filter=False,
    accepts_data=True,
    requires_data=True,
    lower=lower,
    tenant=TenantBinding.DATA,
)
