"""Database operations: every module of this package that defines ``OPERATION``.

A module defines ``OPERATION``, an :class:`~compiler.nodes.base.Operation` that declares what
the operation does (writes, needs a filter, accepts or requires data, binds the tenant) and
lowers one use of it into a plan statement. :func:`parse_op` reads an operation's parameters
the same way for a ``metabuilder.database`` node and for a task of ``metabuilder.operation``.
"""

from __future__ import annotations

import functools

from compiler import messages
from compiler.diagnostics import Span
from compiler.load import JObject
from compiler.nodes.base import DbOp, Operation, ParamReader, discover


@functools.cache
def _operations() -> dict[str, Operation]:
    return {op.name: op for op in discover(__name__, "OPERATION", Operation)}


def __getattr__(name: str) -> object:
    if name == "OPERATIONS":  # built on first use, once every stage has loaded
        return _operations()
    raise AttributeError(name)


OPERATIONS: dict[str, Operation]
ARGUMENTS = ("filter", "data", "limit", "skip")


def parse_op(r: ParamReader, head: JObject, args: JObject, op_key: str, span: Span) -> DbOp | None:
    """A database operation. ``head`` holds the operation and entity; ``args`` the filter,
    data, limit and skip: the same object for a database node, ``params`` for a task."""
    if args is head:
        r.unknown_keys(head, (op_key, "entity", *ARGUMENTS), "parameters")
    else:
        r.unknown_keys(head, ("id", op_key, "entity", "params"), "a task")
        r.unknown_keys(args, ARGUMENTS, "a task's params")
    operations = _operations()
    name = r.choice(op_key, tuple(operations), obj=head)
    ent = r.string("entity", "the entity name", obj=head)
    filt, fspan = r.entries("filter", args)
    data, dspan = r.entries("data", args)
    limit = r.count("limit", args)
    skip = r.count("skip", args)
    if name is None or ent is None:
        return None
    op = operations[name[0]]
    if op.requires_data and not data:
        r.diags.add(
            messages.OPERATION_WITHOUT_DATA.format(r.node, op.name),
            name[1],
            node_id=r.node,
            hint=messages.HINT__ADD_DATA_FIELD_VALUE.format(),
        )
    if op.needs_filter and fspan is None:
        r.diags.add(
            messages.OPERATION_WITHOUT_FILTER.format(r.node, op.name),
            name[1],
            node_id=r.node,
            hint=messages.HINT__ADD_FILTER_TENANTID_CONTEXT.format(),
        )
    if not op.needs_filter and fspan is not None:
        r.diags.add(
            messages.CREATE_WITH_FILTER.format(r.node),
            fspan,
            node_id=r.node,
            hint=messages.HINT__REMOVE_FILTER_THE_ROW,
        )
    if not op.accepts_data and dspan is not None:
        r.diags.add(
            messages.DATA_NOT_ACCEPTED.format(r.node, op.name),
            dspan,
            node_id=r.node,
            hint=messages.HINT__REMOVE_DATA,
        )
    return DbOp(op, name[1], ent[0], ent[1], filt, fspan, data, dspan, limit, skip, span)
