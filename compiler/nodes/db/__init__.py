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
from compiler.load import JNumber, JObject, JString
from compiler.nodes.base import DbOp, Operation, ParamReader, SortKey, discover


@functools.cache
def _operations() -> dict[str, Operation]:
    return {op.name: op for op in discover(__name__, "OPERATION", Operation)}


def __getattr__(name: str) -> object:
    if name == "OPERATIONS":  # built on first use, once every stage has loaded
        return _operations()
    raise AttributeError(name)


OPERATIONS: dict[str, Operation]
ARGUMENTS = (
    "filter",
    "data",
    "sort",
    "limit",
    "offset",
    "skip",
    "groupBy",
    "aggregations",
    "output",
)
PAGING = ("sort", "limit", "offset", "skip")


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
    fv = args.get("filter")
    filter_expr = fv if isinstance(fv, JString) and "{{" in fv.value else None
    filt, fspan = r.entries("filter", args) if filter_expr is None else ([], filter_expr.span)
    data, dspan = r.entries("data", args)
    limit = r.row_count("limit", args)
    skip = _offset(r, args)
    sort, sort_span = _sort(r, args)
    group = r.string("groupBy", "the field to group by", required=False, obj=args)
    aggregations, aspan = r.entries("aggregations", args)
    label = args.get("output")
    if label is not None and not isinstance(label, JString):
        r.diags.add(
            messages.PARAMETER_NOT_A_STRING.format("output", r.node),
            label.span,
            node_id=r.node,
            hint=messages.HINT__WRITE_AS_A_STRING.format("a label"),
        )
    if name is None or ent is None:
        return None
    op = operations[name[0]]
    if op.aggregates and not aggregations:
        r.require("aggregations", "the values to compute", obj=args)
    if not op.aggregates:
        for key in ("groupBy", "aggregations"):
            v = args.get(key)
            if v is not None:
                r.diags.add(
                    messages.AGGREGATE_ONLY.format(r.node, op.name, key),
                    v.span,
                    node_id=r.node,
                    hint=messages.HINT__REMOVE_KEY.format(key),
                )
    if not op.pages:
        for key in PAGING:
            v = args.get(key)
            if v is not None:
                r.diags.add(
                    messages.PAGING_NOT_ACCEPTED.format(r.node, op.name, key),
                    v.span,
                    node_id=r.node,
                    hint=messages.HINT__REMOVE_KEY.format(key),
                )
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
    return DbOp(
        op,
        name[1],
        ent[0],
        ent[1],
        filt,
        fspan,
        data,
        dspan,
        limit,
        skip,
        span,
        sort,
        sort_span,
        group,
        aggregations,
        aspan,
        filter_expr,
    )


def _offset(r: ParamReader, args: JObject) -> int | JString | None:
    """``offset`` (MetaBuilder's name) or ``skip`` (the spec's): one of them."""
    offset, skip = args.get("offset"), args.get("skip")
    if offset is not None and skip is not None:
        r.diags.add(
            messages.OFFSET_TWICE.format(r.node),
            skip.span,
            node_id=r.node,
            hint=messages.HINT__KEEP_ONE_OF_THE_KEYS.format("offset"),
        )
    return r.row_count("offset" if offset is not None else "skip", args)


def _sort(r: ParamReader, args: JObject) -> tuple[list[SortKey], Span | None]:
    entries, span = r.entries("sort", args)
    keys: list[SortKey] = []
    for e in entries:
        expr = "{{" in e.key
        key = JString(e.key, e.key_span, ()) if expr else None
        v = e.value
        direction: int | None = None
        if isinstance(v, JNumber) and v.value in (1, -1):
            direction = int(v.value)
        elif isinstance(v, JString) and v.value.lower() in SORT_WORDS:
            direction = SORT_WORDS[v.value.lower()]
        elif not (isinstance(v, JString) and "{{" in v.value):
            r.diags.add(
                messages.SORT_DIRECTION_INVALID.format(e.key, r.node),
                v.span,
                node_id=r.node,
                hint=messages.HINT__SORT_DIRECTION,
            )
            continue
        keys.append(SortKey(None if expr else e.key, key, e.key_span, direction, v))
    return keys, span


SORT_WORDS = {"asc": 1, "ascending": 1, "desc": -1, "descending": -1}
