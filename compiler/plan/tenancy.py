"""The tenant check: one place, over every database operation of every node.

Each node kind reports its operations through :meth:`NodeSpec.operations`; each operation
declares how it binds the tenant (:class:`TenantBinding`). The check is closed by default:
an operation that declares no binding is refused (an internal error naming the node: the
operation's module is incomplete), never passed on its filter alone.

- ``FILTER``: ``filter.tenantId`` must be exactly ``{{ $context.tenantId }}``, and the data
  (if the operation takes any) may write ``tenantId`` only as the same value.
- ``DATA``: ``data.tenantId`` must be exactly ``{{ $context.tenantId }}``.
"""

from __future__ import annotations

from compiler import messages
from compiler.diagnostics import Diagnostics
from compiler.model import Node
from compiler.nodes.base import DbUse, TenantBinding
from compiler.plan.binding import Binder

_FIX = '"tenantId": "{{ $context.tenantId }}"'


def check_tenancy(nodes: list[Node], bind: Binder, diags: Diagnostics) -> None:
    for node in nodes:
        assert node.spec is not None
        for use in node.spec.operations(node):
            check_operation(use, bind, diags)


def check_operation(use: DbUse, bind: Binder, diags: Diagnostics) -> None:
    op, node, where = use.op, use.node, use.where
    binding = op.operation.tenant
    if binding is None:
        diags.add(
            messages.OPERATION_WITHOUT_TENANT_BINDING.format(op.operation.name, node.id),
            op.operation_span,
            node_id=node.id,
            hint=messages.HINT__DECLARE_TENANT_ON_THE_OPERATION.format(op.operation.name),
        )
        return
    if binding is TenantBinding.DATA:
        entry = next((e for e in op.data if e.key == "tenantId"), None)
        if entry is None:
            diags.add(
                messages.CREATE_WITHOUT_TENANT.format(where),
                op.data_span or op.span,
                node_id=node.id,
                hint=messages.HINT__ADD_TO_DATA.format(_FIX),
            )
        elif not bind.is_context_tenant(entry.value):
            diags.add(
                messages.WRITES_TENANT_NOT_CONTEXT.format(where),
                entry.value.span,
                node_id=node.id,
                hint=messages.HINT__WRITE.format(_FIX),
            )
        return
    entry = next((e for e in op.filter if e.key == "tenantId"), None)
    if entry is None:
        diags.add(
            messages.FILTER_WITHOUT_TENANT.format(where, op.operation.verb, op.entity),
            op.filter_span or op.span,
            node_id=node.id,
            hint=messages.HINT__ADD_TO_FILTER_WITHOUT.format(_FIX),
        )
    elif not bind.is_context_tenant(entry.value):
        diags.add(
            messages.FILTER_TENANT_NOT_CONTEXT.format(where),
            entry.value.span,
            node_id=node.id,
            hint=messages.HINT__WRITE_THE_TENANT_COMES.format(_FIX),
        )
    moved = next((e for e in op.data if e.key == "tenantId"), None)
    if moved is not None and not bind.is_context_tenant(moved.value):
        diags.add(
            messages.UPDATE_MOVES_ROWS_ACROSS_TENANTS.format(where),
            moved.value.span,
            node_id=node.id,
            hint=messages.HINT__REMOVE_TENANTID_FROM_DATA,
        )
