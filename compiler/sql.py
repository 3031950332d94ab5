"""SQL text for entity operations and DDL, for SQLite and PostgreSQL.

Statements use named parameters (``:f_id``) only; values never enter SQL text. Filter
parameters are prefixed ``f_`` and data parameters ``d_`` so an update may filter and set the
same column. Table, column and index names enter only through
:func:`~compiler.escape.sql_identifier` (``q`` below): checked, and quoted when reserved.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from compiler.escape import sql_identifier as q
from compiler.model import Entity, EntityField

if TYPE_CHECKING:
    from compiler.ir import Param

_SQLITE_TYPES = {
    "string": "TEXT",
    "datetime": "TEXT",
    "boolean": "BOOLEAN",
    "integer": "INTEGER",
    "number": "REAL",
    "bigint": "INTEGER",
    "json": "TEXT",
}
_PG_TYPES = {
    "string": "TEXT",
    "datetime": "TEXT",
    "boolean": "BOOLEAN",
    "integer": "BIGINT",
    "number": "DOUBLE PRECISION",
    "bigint": "BIGINT",
    "json": "JSONB",
}


def columns(entity: Entity) -> str:
    return ", ".join(q(f.column) for f in entity.fields.values())


_PG_CASTS = {
    "string": "TEXT",
    "datetime": "TEXT",
    "boolean": "BOOLEAN",
    "integer": "BIGINT",
    "number": "DOUBLE PRECISION",
    "bigint": "BIGINT",
    "json": "JSONB",
}


def condition(entity: Entity, p: Param, dialect: str = "sqlite") -> str:
    """One filter parameter as SQL. ``$in`` binds the list as JSON text: SQLite reads it
    with ``json_each``, PostgreSQL with ``jsonb_array_elements_text`` and a cast to the
    column's type (so the same value binds on both)."""
    from compiler.ir import COMPARISONS, DYNAMIC

    if p.op == DYNAMIC:
        return "{filter}"
    col = q(p.column or "")
    if p.op == "$in":
        if dialect == "postgresql":
            f = entity.fields[p.field or ""]
            cast = _PG_CASTS[f.type]
            return (
                f"{col} IN (SELECT CAST(v AS {cast}) FROM "
                f"jsonb_array_elements_text(CAST(:{p.name} AS JSONB)) AS v)"
            )
        return f"{col} IN (SELECT value FROM json_each(:{p.name}))"
    return f"{col} {COMPARISONS[p.op]} :{p.name}"


def where(entity: Entity, filters: list[Param], dialect: str = "sqlite") -> str:
    return " AND ".join(condition(entity, p, dialect) for p in filters) or "1 = 1"


def dialect_differs(filters: list[Param]) -> bool:
    """Whether a statement with these filters has a PostgreSQL spelling of its own."""
    return any(p.op == "$in" for p in filters)


def order_clause(entity: Entity, sort: Sequence[tuple[str, int]] | None) -> str:
    """``ORDER BY`` the given (field, direction) keys, then the primary key (so pages are
    stable); ``None``: the keys are chosen at run time (``{order}``)."""
    pk = q(entity.fields[entity.primary_key].column)
    if sort is None:
        return f" ORDER BY {{order}}, {pk}"
    keys = [f"{q(entity.fields[f].column)} {'ASC' if d > 0 else 'DESC'}" for f, d in sort]
    if entity.primary_key not in [f for f, _ in sort]:
        keys.append(pk)
    return " ORDER BY " + ", ".join(keys)


def select(
    entity: Entity,
    filters: list[Param],
    *,
    lookup: bool,
    need_row: bool,
    limit: bool = False,
    skip: bool = False,
    sort: Sequence[tuple[str, int]] | None = (),
    dialect: str = "sqlite",
) -> str:
    cols = columns(entity) if need_row else "1 AS found"
    sql = f"SELECT {cols} FROM {q(entity.table)} WHERE {where(entity, filters, dialect)}"
    if lookup:
        return sql + " LIMIT 1"
    sql += order_clause(entity, sort)
    if limit or skip:
        sql += " LIMIT :limit"
    if skip:
        sql += " OFFSET :skip"
    return sql


def tenants_with_rows(entity: Entity, filters: list[Param]) -> str:
    """The tenants that have rows matching constant ``filters`` (a schedule runs for each)."""
    tenant = q(entity.fields["tenantId"].column)
    cond = where(entity, filters)
    return (
        f"SELECT DISTINCT {tenant} AS tenant FROM {q(entity.table)} WHERE {cond} ORDER BY {tenant}"
    )


def count(entity: Entity, filters: list[Param], dialect: str = "sqlite") -> str:
    return f"SELECT COUNT(*) AS n FROM {q(entity.table)} WHERE {where(entity, filters, dialect)}"


def aggregate(
    entity: Entity,
    filters: list[Param],
    group: str | None,
    values: list[tuple[str, str, str | None]],
    dialect: str = "sqlite",
) -> str:
    """``values``: (output name, function, field or None for COUNT(*)); the outputs are
    aliased ``a0, a1...`` and the group ``g``, so no name from the file enters the SQL."""
    cols: list[str] = []
    if group is not None:
        cols.append(f"{q(entity.fields[group].column)} AS g")
    for i, (_, fn, fld) in enumerate(values):
        arg = "*" if fld is None else q(entity.fields[fld].column)
        value = f"{fn}({arg})"
        if fn == "SUM":  # the sum of no rows is 0, as their count
            value = f"COALESCE({value}, 0)"
        cols.append(f"{value} AS a{i}")
    sql = (
        f"SELECT {', '.join(cols)} FROM {q(entity.table)} WHERE {where(entity, filters, dialect)}"
    )
    if group is not None:
        g = q(entity.fields[group].column)
        sql += f" GROUP BY {g} ORDER BY {g}"
    return sql


def insert(entity: Entity, fields: list[EntityField], owner: list[str] | None = None) -> str:
    """An insert that yields no row on a unique conflict.

    With ``owner`` (columns, the tenant's first) it also yields no row when the rows with the
    same owner values already number ``:max_rows`` (``staticData.maxSubscriptionsPerUser``):
    the count and the insert are one statement.
    """
    cols = ", ".join(q(f.column) for f in fields)
    vals = ", ".join(f":d_{f.column}" for f in fields)
    if not owner:
        source = f"VALUES ({vals})"
    else:
        same = " AND ".join(f"{q(c)} = :d_{c}" for c in [*owner[1:], owner[0]])
        source = (
            f"SELECT {vals} WHERE (SELECT COUNT(*) FROM {q(entity.table)} WHERE {same}) "
            "< :max_rows"
        )
    return (
        f"INSERT INTO {q(entity.table)} ({cols}) {source} "
        f"ON CONFLICT DO NOTHING RETURNING {columns(entity)}"
    )


def _returning(entity: Entity, mode: str) -> str:
    """``row``: the row's columns; ``key``: its primary key (a deleted row releases what it
    holds, such as open streams); ``found`` or ``count``: one ``1`` per affected row."""
    if mode == "row":
        return f" RETURNING {columns(entity)}"
    if mode == "key":
        return f" RETURNING {q(entity.fields[entity.primary_key].column)} AS key"
    return " RETURNING 1 AS found"


def update(
    entity: Entity,
    filters: list[Param],
    data: list[EntityField],
    returning: str,
    dialect: str = "sqlite",
) -> str:
    sets = ", ".join(f"{q(f.column)} = :d_{f.column}" for f in data)
    cond = where(entity, filters, dialect)
    return f"UPDATE {q(entity.table)} SET {sets} WHERE {cond}" + _returning(entity, returning)


def delete(entity: Entity, filters: list[Param], returning: str, dialect: str = "sqlite") -> str:
    cond = where(entity, filters, dialect)
    return f"DELETE FROM {q(entity.table)} WHERE {cond}" + _returning(entity, returning)


def _column_ddl(f: EntityField, types: dict[str, str], pk: bool) -> str:
    parts = [q(f.column), types[f.type]]
    if pk:
        parts.append("PRIMARY KEY")
    elif not f.nullable:
        parts.append("NOT NULL")
    if f.has_default and f.default not in ("uuid", "now", None):
        d = f.default
        if isinstance(d, bool):
            parts.append(f"DEFAULT {'TRUE' if d else 'FALSE'}")
        elif isinstance(d, (int, float)):
            parts.append(f"DEFAULT {d!r}")
        elif isinstance(d, str):
            parts.append("DEFAULT '" + d.replace("'", "''") + "'")
        elif isinstance(d, dict | list):  # a JSON column's default, as JSON text
            text = json.dumps(d, separators=(",", ":"), sort_keys=True)
            parts.append("DEFAULT '" + text.replace("'", "''") + "'")
    return " ".join(parts)


def ddl(entity: Entity, dialect: str) -> list[str]:
    """CREATE TABLE and CREATE INDEX statements, idempotent (IF NOT EXISTS)."""
    types = _SQLITE_TYPES if dialect == "sqlite" else _PG_TYPES
    cols = [_column_ddl(f, types, f.name == entity.primary_key) for f in entity.fields.values()]
    out = [f"CREATE TABLE IF NOT EXISTS {q(entity.table)} ({', '.join(cols)})"]
    for key in entity.unique:
        cs = ", ".join(q(entity.fields[k].column) for k in key.fields if k in entity.fields)
        out.append(f"CREATE UNIQUE INDEX IF NOT EXISTS {q(key.name)} ON {q(entity.table)} ({cs})")
    for key in entity.indexes:
        cs = ", ".join(q(entity.fields[k].column) for k in key.fields if k in entity.fields)
        out.append(f"CREATE INDEX IF NOT EXISTS {q(key.name)} ON {q(entity.table)} ({cs})")
    if dialect == "postgresql" and "tenantId" in entity.fields:
        out += row_level_security(entity)
    return out


def row_level_security(entity: Entity) -> list[str]:
    """The database's own tenant check, beside the compiler's: a role that does not own the
    table sees and writes only rows of the tenant its connection is bound to
    (``app.tenant_id``; runtime/database.py binds every connection before each use).
    ``app.tenant_scan`` lets the runtime list the tenants a schedule runs for, in a read-only
    transaction that reads nothing else."""
    t, col = q(entity.table), q(entity.fields["tenantId"].column)
    policy = q(f"{entity.table}_tenant_isolation")
    mine = f"{col} = current_setting('app.tenant_id', true)"
    scan = "current_setting('app.tenant_scan', true) = 'on'"
    return [
        f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {policy} ON {t}",
        f"CREATE POLICY {policy} ON {t} USING ({mine} OR {scan}) WITH CHECK ({mine})",
    ]


def tenant_select(entity: Entity) -> str:
    """The tenants that have rows in ``entity``'s table (a schedule with no query of its own
    runs for the union of these)."""
    return f"SELECT {q(entity.fields['tenantId'].column)} AS tenant FROM {q(entity.table)}"
