"""Plan passes: rewrites of the statement tree that keep its meaning and save round trips.

Each pass walks nested blocks through :meth:`Stmt.map_blocks`, so it needs no knowledge of
which statement classes nest; it decides only on the classes it rewrites.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import replace

from compiler.ir import (
    Condition,
    Effect,
    ForEach,
    Lookup,
    Loop,
    Parallel,
    Reuse,
    RowWrite,
    Sql,
    Stmt,
    binds_context_tenant,
    same,
    walk,
)  # fmt: skip
from compiler.model import Entity


def reuse_rows(stmts: list[Stmt]) -> list[Stmt]:
    """Replace a lookup by primary key and tenant of a row already held with that row.

    Every read is filtered on the request's tenant (checked at compile time) and runs in the
    execution's transaction, so the held row is the row the lookup would return; it saves
    one query per item of a fan-out. A fan-out's row is held only inside its body; the tasks
    of an operation node run in order, so what one task holds the next may reuse.
    """
    return _reuse(stmts, {})[0]


def _reuse(stmts: list[Stmt], held: dict[str, Entity]) -> tuple[list[Stmt], dict[str, Entity]]:
    rows = dict(held)
    out: list[Stmt] = []
    for s in stmts:
        if isinstance(s, Lookup) and (source := held_row(s, rows)) is not None:
            out.append(Reuse(s.node, s, source))
            continue
        if isinstance(s, ForEach):
            s = s.map_blocks(_within({**rows, s.var: s.entity} if s.var else rows))
        elif isinstance(s, Parallel):
            tasks, rows = _reuse(s.tasks, rows)  # the tasks run in order, in this scope
            s = replace(s, tasks=tasks)
        else:
            s = s.map_blocks(_within(rows))
        if isinstance(s, Sql) and not isinstance(s, ForEach) and s.var and _decodes(s):
            rows[s.var] = s.entity
        out.append(s)
    return out, rows


def _within(rows: dict[str, Entity]) -> Callable[[list[Stmt]], list[Stmt]]:
    """A nested block's rewrite: it sees the rows held so far; what it learns stays inside."""
    return lambda b: _reuse(b, rows)[0]


def _decodes(s: Sql) -> bool:
    return getattr(s, "decoder", None) is not None


def held_row(q: Lookup, rows: dict[str, Entity]) -> str | None:
    """The local holding the row ``q`` looks up: ``q`` filters exactly on the primary key,
    read off a held row of the same entity, and on the context tenant."""
    pk = q.entity.primary_key
    filters = q.filters()
    if len(filters) != 2 or not all(p.equality for p in filters):
        return None
    if not any(binds_context_tenant(p) for p in filters):
        return None
    key = next((p for p in filters if p.field == pk), None)
    if key is None:
        return None
    for var, ent in rows.items():
        held_key = ast.Subscript(ast.Name(var, ast.Load()), ast.Constant(pk), ast.Load())
        if ent is q.entity and same(key.value, held_key):
            return var
    return None


def fuse_lookups(stmts: list[Stmt]) -> list[Stmt]:
    """Drop an existence lookup directly followed by an update or delete of the same row.

    Both filter the same entity on the same parameters and answer the same 404, and nothing
    runs between them, so the update's ``RETURNING`` already proves the row exists.
    """
    out: list[Stmt] = []
    fused: list[Lookup] = []
    for i, s in enumerate(stmts):
        nxt = stmts[i + 1] if i + 1 < len(stmts) else None
        if (
            isinstance(s, Lookup)
            and s.var is None
            and isinstance(nxt, RowWrite)
            and _answers(nxt, s)
        ):
            fused.append(s)
            continue
        if isinstance(s, RowWrite) and fused:
            s = replace(s, fused=[*s.fused, *(f.node for f in fused)])
            fused = []
        out.append(s.map_blocks(fuse_lookups))
    return out


def _answers(write: RowWrite, lookup: Lookup) -> bool:
    """Whether ``write`` answers the same 404 for the same row as ``lookup``."""
    a, b = write.filters(), lookup.filters()
    return (
        write.not_found == lookup.not_found
        and write.entity is lookup.entity
        and len(a) == len(b)
        and all(
            x.field == y.field and x.op == y.op and same(x.value, y.value)
            for x, y in zip(a, b, strict=True)
        )
    )


def place_effects(stmts: list[Stmt], written: bool = False) -> tuple[list[Stmt], bool]:
    """Mark each effect that waits on I/O and follows no write on any path to it: the
    execution ends its (read-only) transaction before it, so neither a connection nor
    SQLite's write lock is held across the call. An effect after a write stays inside the
    transaction (the ``effect-in-transaction`` warning). Returns whether the statements may
    have written."""
    out: list[Stmt] = []
    for s in stmts:
        if isinstance(s, Effect) and s.outside and not written:
            s = replace(s, detach=True)
        if isinstance(s, Condition):
            then, w1 = place_effects(s.then, written)
            other, w2 = (
                place_effects(s.otherwise, written) if s.otherwise is not None else (None, written)
            )
            s = replace(s, then=then, otherwise=other)
            written = w1 or w2
        elif isinstance(s, ForEach | Parallel | Loop):
            # A loop's second round follows the first's writes: decide with them counted.
            inner = s.tasks if isinstance(s, Parallel) else s.body
            body_writes = any(x.writes for x in walk(inner))
            placed, w = place_effects(inner, written or body_writes)
            s = replace(s, tasks=placed) if isinstance(s, Parallel) else replace(s, body=placed)
            written = written or w or body_writes
        else:
            written = written or any(x.writes for x in walk([s]))
        out.append(s)
    return out, written
