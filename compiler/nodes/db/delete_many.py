"""``database_delete_many``: deletes every row that matches the filter (the output is how
many), never a 404."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.nodes.base import DbUse, Operation, TenantBinding
from compiler.nodes.db import delete

if TYPE_CHECKING:
    from compiler.plan.lower import Lowered, Lowering


def lower(lw: Lowering, use: DbUse) -> Lowered | None:
    return delete.lower(lw, use, many=True)


OPERATION = Operation(
    name="database_delete_many",
    summary="deletes every row that matches the filter (the output is how many)",
    writes=True,
    needs_filter=True,
    accepts_data=False,
    requires_data=False,
    lower=lower,
    tenant=TenantBinding.FILTER,
)
