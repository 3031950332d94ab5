"""What every database operation does first: resolve the entity and bind the values."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import messages, sql
from compiler.diagnostics import Span
from compiler.escape import sql_identifier
from compiler.expressions import ast as jsast
from compiler.expressions.translate import TExpr
from compiler.expressions.types import NUM
from compiler.ir import (
    DYNAMIC,
    Delete,
    DynamicFilter,
    DynamicOrder,
    NotFound,
    Param,
    Role,
    SqlText,
    Update,
)  # fmt: skip
from compiler.load import JObject, JString
from compiler.model import Entity, snake_case
from compiler.nodes.base import DbUse
from compiler.plan.binding import output_of, row_type
from compiler.suggest import did_you_mean, or_else

if TYPE_CHECKING:
    from compiler.plan.lower import Lowered, Lowering


@dataclass
class Bound:
    """One use of an operation with its entity resolved and its values bound."""

    entity: Entity
    filters: list[Param]
    data: list[Param]
    read: bool  # a later node reads the output
    unique: bool  # the filter covers the primary key or a unique key
    decoder: str
    not_found: NotFound
    row: TExpr
    var: str  # the local that holds the output
    dynamic: DynamicFilter | None = None  # a filter an expression built

    @property
    def data_keys(self) -> list[str]:
        return [p.field for p in self.data if p.field is not None]


def bind(lw: Lowering, use: DbUse) -> Bound | None:
    ent = lw.entity(use)
    if ent is None:
        return None
    filters = lw.params(use.op.filter, Role.FILTER, ent, use.node)
    data = lw.params(use.op.data, Role.DATA, ent, use.node)
    if filters is None or data is None:
        return None
    dynamic = None
    if use.op.filter_expr is not None:
        dynamic = dynamic_filter(lw, use, ent, use.op.filter_expr)
        if dynamic is None:
            return None
        filters.append(Param(Role.FILTER, None, None, ast.Constant(None), DYNAMIC))
    keys = {p.field for p in filters if p.equality} if dynamic is None else set()
    var = lw.var(use)
    return Bound(
        ent,
        filters,
        data,
        lw.is_read(use),
        any(set(k) <= keys for k in ent.unique_keys()),
        f"{snake_case(ent.name)}_row",
        NotFound(f"{ent.label} not found", ent.not_found_code),
        TExpr(ast.Name(var, ast.Load()), row_type(ent)),
        var,
        dynamic,
    )


def statement(
    lw: Lowering,
    use: DbUse,
    build: Callable[[str], str],
    params: list[Param],
    order: DynamicOrder | None = None,
    dynamic: DynamicFilter | None = None,
) -> SqlText:
    """An operation's SQL constant: ``build(dialect)`` for SQLite, and for PostgreSQL too
    where the filters spell differently there (``$in``)."""
    filters = [p for p in params if p.role is Role.FILTER]
    postgres = build("postgresql") if sql.dialect_differs(filters) else None
    return SqlText(lw.sql_name(use), build("sqlite"), tuple(params), postgres, order, dynamic)


_KINDS = {"string": "text", "datetime": "text", "boolean": "boolean", "json": "json"}


def dynamic_filter(lw: Lowering, use: DbUse, ent: Entity, expr: JString) -> DynamicFilter | None:
    """A filter given as an expression. Its keys must be known here: the object a transform
    builds (``"filter": "{{ $steps.build_filter.output }}"``), or a subset of one
    (``Object.entries($steps.build_filter.output).reduce(...)``, dropping null keys). Each
    key is checked against the entity; at run time the keys present, with values that are
    neither null nor undefined, become conditions (see :func:`runtime.values.filtered`)."""
    node = use.node
    keys = _source_keys(lw, expr)
    if keys is None:
        lw.diags.add(
            messages.FILTER_KEYS_UNKNOWN.format(node.id),
            expr.span,
            node_id=node.id,
            hint=messages.HINT__FILTER_KEYS_UNKNOWN,
        )
        return None
    ok = True
    for key, span in keys:
        if key not in ent.fields:
            s = did_you_mean(key, ent.fields)
            lw.diags.add(
                messages.FIELD_NOT_DECLARED.format(ent.name, key),
                span,
                node_id=node.id,
                hint=or_else(s, messages.HINT__FIELDS.format(", ".join(ent.fields))),
            )
            ok = False
    value = lw.bind.value(expr, node)
    if not ok or value is None:
        return None
    columns = tuple(
        (k, sql_identifier(ent.fields[k].column), _KINDS.get(ent.fields[k].type, "number"))
        for k, _ in keys
    )
    key = use.node.id if use.task is None else f"{use.node.id}_{use.task}"
    name = lw.names.take("FILTER_" + key.upper())
    return DynamicFilter(name, columns, lw.bind.translator_for(node).box(value))


def _source_keys(lw: Lowering, expr: JString) -> list[tuple[str, Span]] | None:
    """The keys an expression's object can have: those of the object output of the
    transform it reads, directly or through ``Object.entries(...)``."""
    from compiler.nodes.transform import TransformSpec

    whole = lw.bind.whole_expression(expr)
    seen: set[str] = set()
    while whole is not None:
        step = output_of(whole)
        if step is None or step in seen:
            return None
        seen.add(step)
        n = lw.wf.node(step)
        spec = n.spec if n is not None else None
        if not isinstance(spec, TransformSpec):
            return None
        if isinstance(spec.output, JObject):
            return [(k.value, k.span) for k, _ in spec.output.entries]
        inner = lw.bind.whole_expression(spec.output)
        whole = _entries_source(inner) if inner is not None else None
    return None


def _entries_source(e: jsast.Expr) -> jsast.Expr | None:
    """The argument of the one ``Object.entries(...)`` call in ``e`` (the object a reduce
    over its entries copies a subset of)."""
    found: list[jsast.Expr] = []
    for x in jsast.walk(e):
        if (
            isinstance(x, jsast.Call)
            and isinstance(x.callee, jsast.Member)
            and x.callee.name == "entries"
            and isinstance(x.callee.obj, jsast.Ident)
            and x.callee.obj.name == "Object"
            and len(x.args) == 1
        ):
            found.append(x.args[0])
    return found[0] if len(found) == 1 else None


def row_write(
    cls: type[Update] | type[Delete],
    lw: Lowering,
    use: DbUse,
    b: Bound,
    build: Callable[[str], str],
    params: list[Param],
    release: str | None = None,
) -> Lowered:
    """An update or delete: by a unique key one row (404 when missing; the row is the output
    when a later node reads it), by another filter every match (the output is how many)."""
    stmt = cls(
        use.node,
        b.entity,
        statement(lw, use, build, params, dynamic=b.dynamic),
        use.task,
        b.var if b.read or not b.unique else None,
        b.decoder if b.unique and b.read else None,
        b.not_found if b.unique else None,
        release if b.unique else None,
    )
    if not b.unique:
        return stmt, TExpr(ast.Name(b.var, ast.Load()), NUM)
    return stmt, b.row if b.read else None
