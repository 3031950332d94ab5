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

from compiler import codes, messages
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
            codes.INTERNAL_ERROR,
            messages.INTERNAL_ERROR__OPERATION_DECLARES_NO_TENANT.format(
                op.operation.name, node.id
            ),
            op.operation_span,
            node_id=node.id,
            hint=messages.HINT__DECLARE_TENANT_ON_THE_OPERATION.format(op.operation.name),
        )
        return
    if binding is TenantBinding.DATA:
        entry = next((e for e in op.data if e.key == "tenantId"), None)
        if entry is None:
            diags.add(
                codes.TENANT_DATA_MISSING,
                messages.TENANT_DATA_MISSING__CREATES_A_ROW_WITHOUT.format(where),
                op.data_span or op.span,
                node_id=node.id,
                hint=messages.HINT__ADD_TO_DATA.format(_FIX),
            )
        elif not bind.is_context_tenant(entry.value):
            diags.add(
                codes.TENANT_DATA_NOT_CONTEXT,
                messages.TENANT_DATA_NOT_CONTEXT__WRITES_TENANTID_FROM_SOMETHING.format(where),
                entry.value.span,
                node_id=node.id,
                hint=messages.HINT__WRITE.format(_FIX),
            )
        return
    entry = next((e for e in op.filter if e.key == "tenantId"), None)
    if entry is None:
        diags.add(
            codes.TENANT_FILTER_MISSING,
            messages.TENANT_FILTER_MISSING__OF_DOES_NOT_FILTER.format(
                where, op.operation.verb, op.entity
            ),
            op.filter_span or op.span,
            node_id=node.id,
            hint=messages.HINT__ADD_TO_FILTER_WITHOUT.format(_FIX),
        )
    elif not bind.is_context_tenant(entry.value):
        diags.add(
            codes.TENANT_FILTER_NOT_CONTEXT,
            messages.TENANT_FILTER_NOT_CONTEXT__FILTERS_TENANTID_ON_SOMETHING.format(where),
            entry.value.span,
            node_id=node.id,
            hint=messages.HINT__WRITE_THE_TENANT_COMES.format(_FIX),
        )
    moved = next((e for e in op.data if e.key == "tenantId"), None)
    if moved is not None and not bind.is_context_tenant(moved.value):
        diags.add(
            codes.TENANT_DATA_NOT_CONTEXT,
            messages.TENANT_DATA_NOT_CONTEXT__WOULD_MOVE_ROWS_TO.format(where),
            moved.value.span,
            node_id=node.id,
            hint=messages.HINT__REMOVE_TENANTID_FROM_DATA,
        )
