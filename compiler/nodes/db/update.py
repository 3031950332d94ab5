"""``database_update``: by a unique key, one row (none is 404; the output is the updated row
when a later node reads it); by another filter, every match (the output is how many)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import sql
from compiler.ir import Update
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
    returning = ("row" if b.read else "found") if b.unique else "count"
    data = [b.entity.fields[k] for k in b.data_keys]
    return row_write(
        Update,
        lw,
        use,
        b,
        lambda d: sql.update(b.entity, b.filters, data, returning, d),
        [*b.filters, *b.data],
    )


OPERATION = Operation(
    name="database_update",
    summary="updates one row by a unique key (404 when missing), or every row that matches",
    writes=True,
    needs_filter=True,
    accepts_data=True,
    requires_data=True,
    lower=lower,
    tenant=TenantBinding.FILTER,
)
