"""What every database operation does first: resolve the entity and bind the values."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import sql
from compiler.expressions.translate import TExpr
from compiler.expressions.types import NUM
from compiler.ir import Delete, DynamicOrder, NotFound, Param, Role, SqlText, Update
from compiler.model import Entity, snake_case
from compiler.nodes.base import DbUse
from compiler.plan.binding import row_type

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
    keys = {p.field for p in filters if p.equality}
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
    )


def statement(
    lw: Lowering,
    use: DbUse,
    build: Callable[[str], str],
    params: list[Param],
    order: DynamicOrder | None = None,
) -> SqlText:
    """An operation's SQL constant: ``build(dialect)`` for SQLite, and for PostgreSQL too
    where the filters spell differently there (``$in``)."""
    filters = [p for p in params if p.role is Role.FILTER]
    postgres = build("postgresql") if sql.dialect_differs(filters) else None
    return SqlText(lw.sql_name(use), build("sqlite"), tuple(params), postgres, order)


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
        statement(lw, use, build, params),
        use.task,
        b.var if b.read or not b.unique else None,
        b.decoder if b.unique and b.read else None,
        b.not_found if b.unique else None,
        release if b.unique else None,
    )
    if not b.unique:
        return stmt, TExpr(ast.Name(b.var, ast.Load()), NUM)
    return stmt, b.row if b.read else None
