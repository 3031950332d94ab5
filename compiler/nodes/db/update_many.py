"""``database_update_many``: updates every row that matches the filter (the output is how
many), never a 404."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.nodes.base import DbUse, Operation, TenantBinding
from compiler.nodes.db import update

if TYPE_CHECKING:
    from compiler.plan.lower import Lowered, Lowering


def lower(lw: Lowering, use: DbUse) -> Lowered | None:
    return update.lower(lw, use, many=True)


OPERATION = Operation(
    name="database_update_many",
    summary="updates every row that matches the filter (the output is how many)",
    writes=True,
    needs_filter=True,
    accepts_data=True,
    requires_data=True,
    lower=lower,
    tenant=TenantBinding.FILTER,
)
