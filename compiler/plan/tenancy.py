"""The tenant check: one place, over every database operation of every node.

Each node kind reports its operations through :meth:`NodeSpec.operations`; each operation
declares how it binds the tenant (:class:`TenantBinding`). The check is closed by default:
an operation that declares no binding is refused (an internal error naming the node: the
operation's module is incomplete), never passed on its filter alone.

- ``FILTER``: ``filter.tenantId`` must be exactly ``{{ $context.tenantId }}``, and the data
  (if the operation takes any) may write ``tenantId`` only as the same value. Without a
  ``tenantId`` filter the context tenant is added, as MetaBuilder's DBAL does on its own, and
  a warning at the node says so (reviewers see every implied filter).
- ``DATA``: ``data.tenantId`` must be exactly ``{{ $context.tenantId }}``.

An entity without a ``tenantId`` field is not tenant-scoped: its operations bind no tenant.
"""

from __future__ import annotations

from compiler import messages
from compiler.diagnostics import Diagnostics, Position, Span
from compiler.load import JString
from compiler.model import Node
from compiler.nodes.base import DbUse, Entry, TenantBinding
from compiler.plan.binding import Binder

CONTEXT_TENANT = "{{ $context.tenantId }}"
_FIX = f'"tenantId": "{CONTEXT_TENANT}"'


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
    entity = bind.entities.get(op.entity)
    if entity is not None and "tenantId" not in entity.fields:
        return  # not tenant-scoped (an unknown entity is reported where it is lowered)
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
        span = op.filter_span or op.span
        diags.add(
            messages.FILTER_WITHOUT_TENANT.format(where, op.operation.verb, op.entity),
            span,
            node_id=node.id,
            hint=messages.HINT__ADD_TO_FILTER_WITHOUT.format(_FIX),
        )
        # The filter the compiler adds: the context tenant, like a written one. Its string
        # starts at a negative offset: parsed templates are keyed by offset, and no string of
        # the file (a filter given as an expression starts where this span does) has one.
        synthetic = Span(span.path, Position(span.start.line, span.start.column, -1), span.end)
        op.filter.append(Entry("tenantId", span, JString(CONTEXT_TENANT, synthetic, ())))
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
