"""``database_delete``: by a unique key, one row (none is 404), and the streams that row
holds close after the commit; by another filter, every match (the output is how many)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import sql
from compiler.ir import Delete
from compiler.nodes.base import DbUse, Operation, TenantBinding
from compiler.nodes.db.common import bind, row_write

if TYPE_CHECKING:
    from compiler.plan.lower import Lowered, Lowering


def lower(lw: Lowering, use: DbUse, many: bool = False) -> Lowered | None:
    b = bind(lw, use)
    if b is None:
        return None
    if many:  # every match, even by a unique key: the output is how many
        b.unique = False
    returning = ("row" if b.read else "key") if b.unique else "count"
    pk = b.entity.fields[b.entity.primary_key].column
    return row_write(
        Delete,
        lw,
        use,
        b,
        lambda d: sql.delete(b.entity, b.filters, returning, d),
        b.filters,
        pk if b.read else "key",
    )


OPERATION = Operation(
    name="database_delete",
    summary="deletes one row by a unique key (404 when missing), or every row that matches",
    writes=True,
    needs_filter=True,
    accepts_data=False,
    requires_data=False,
    lower=lower,
    tenant=TenantBinding.FILTER,
)
