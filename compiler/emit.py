"""The statement emitter: plan statements into the lines of a handler's body.

Dispatch is on the statement class and ends in ``assert_never``: a statement class without
a branch here is a mypy error, never a statement that silently vanishes from the handler.
Every node's lines start with a header comment naming its step (``# fetch_channel:
metabuilder.database (lookup StreamChannel)``, ``# update_counts.count_viewers: ...`` for a
task); :mod:`compiler.sourcemap` reads those headers back to trace a generated line to its
node.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import assert_never

from compiler.escape import comment
from compiler.ir import (
    DYNAMIC,
    Aggregate,
    CheckRules,
    Condition,
    Count,
    Delete,
    Effect,
    Emit,
    ForEach,
    Insert,
    Let,
    Log,
    Lookup,
    Loop,
    Parallel,
    Param,
    Queued,
    RequireUser,
    Respond,
    Reuse,
    Rows,
    RowWrite,
    RuleCheck,
    ScopeCheck,
    Sql,
    SqlStmt,
    Stmt,
    Stream,
    Update,
    Validate,
)  # fmt: skip
from compiler.model import Node


def py(e: ast.expr) -> str:
    """The Python spelling of an expression: ``ast.unparse``'s, with every conditional
    expression in parentheses (as black writes one it splits, so that the formatters agree
    on where it goes when it does not fit on its line)."""
    text: str = _Unparser().visit(ast.fix_missing_locations(e))
    return text


class _Unparser(ast._Unparser):  # type: ignore[name-defined,misc]
    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.set_precedence(ast._Precedence.TEST, node)  # type: ignore[attr-defined]
        with self.delimit("(", ")"):
            super().visit_IfExp(node)


def params(ps: tuple[Param, ...], extra: str | None = None) -> str:
    """The parameters of a statement as a dict display (``extra``: a dict merged in)."""
    items = [f"{p.name!r}: {py(p.value)}" for p in ps if p.op != DYNAMIC]
    if extra is not None:
        items.append(f"**{extra}")
    return "{" + ", ".join(items) + "}"


def header(label: str, node: Node, detail: str) -> str:
    text = f"{label}: {node.type}" + (f" ({detail})" if detail else "")
    return "# " + comment(text)


def query(s: Sql) -> str:
    """The SQL a statement runs: its constant, the PostgreSQL spelling where it has one, the
    order chosen at run time where it sorts by an expression."""
    q = s.query
    text = q.name if q.postgres is None else f"({q.name}_PG if ex.postgres else {q.name})"
    if q.order is not None:
        o = q.order
        text = f"order_by({text}, {o.name}, {py(o.key)}, {py(o.direction)})"
    return text


_DETAIL = {
    Lookup: "lookup",
    ForEach: "for each row",
    Rows: "rows",
    Count: "count",
    Aggregate: "aggregate",
    Insert: "create",
    Update: "update",
    Delete: "delete",
}


@dataclass
class Emitter:
    """Appends the lines of statements at an indentation ``depth``.

    ``counting``: the workflow answers with how many items its fan-out processed.
    ``log_errors``: ``errorHandler: log``; inside a fan-out (``recover``) a failed step is
    recorded and the loop goes on with the next item.
    """

    counting: bool
    log_errors: bool
    lines: list[str] = field(default_factory=list)

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def block(self, stmts: list[Stmt], depth: int, recover: bool = False) -> bool:
        """Emit ``stmts``; True when the block always ends by returning or raising."""
        for s in stmts:
            if recover and isinstance(s, Sql):
                self.recovering(s, depth)
            elif recover and isinstance(s, Parallel):
                self.line(depth, header(s.node.id, s.node, f"{len(s.tasks)} tasks"))
                for t in s.tasks:
                    if isinstance(t, Sql):
                        self.recovering(t, depth)
                    else:
                        self.block([t], depth)
            elif self.stmt(s, depth, recover):
                return True
        return False

    def recovering(self, s: SqlStmt, depth: int) -> None:
        """One step of a per-item loop under ``errorHandler: log``."""
        self.line(depth, f"async with ex.recover({s.step!r}) as attempt:")
        self.block([s], depth + 1)
        self.line(depth, "if attempt.failed:")
        self.line(depth + 1, "continue")

    def step(self, depth: int, name: str) -> None:
        self.line(depth, f"ex.step({name!r})")

    def stmt(self, s: Stmt, depth: int, recover: bool) -> bool:
        if isinstance(s, RequireUser):
            self.line(depth, header(s.node.id, s.node, "required"))
            self.step(depth, s.node.id)
            self.line(depth, 'user = ctx.get("user")')
            test = f" or not user[{s.attribute!r}]" if s.attribute else ""
            self.line(depth, f"if user is None{test}:")
            self.line(depth + 1, f"raise AuthRequired({s.message!r})")
        elif isinstance(s, Validate):
            self.line(depth, header(s.node.id, s.node, s.validator))
            self.step(depth, s.node.id)
            err = "AuthRequired" if s.auth else "ValidationFailed"
            extra = f", field={s.field!r}" if s.field and not s.auth else ""
            self.line(depth, f"if not check_value({s.validator!r}, {py(s.value)}):")
            self.line(depth + 1, f"raise {err}({s.message!r}{extra})")
        elif isinstance(s, CheckRules):
            self.line(depth, header(s.node.id, s.node, "rules"))
            self.step(depth, s.node.id)
            self.line(depth, f"{s.var} = {py(s.value)}")
            for f in s.fields:
                self.line(depth, f"{f.local} = js.get({s.var}, {f.field!r})")
                inner = depth
                if f.required is not None:
                    self.rule(f.field, f.required, depth)
                elif f.checks:  # other rules hold for a value that is there
                    self.line(depth, f"if not absent({f.local}):")
                    inner = depth + 1
                for c in f.checks:
                    self.rule(f.field, c, inner)
        elif isinstance(s, Lookup | ForEach | Rows | Count | Aggregate | Insert | Update | Delete):
            return self.sql(s, depth, recover)
        elif isinstance(s, Reuse):
            q = s.lookup
            label = q.step
            detail = f"lookup {q.entity.name}: the row `{s.source}` already holds"
            self.line(depth, header(label, q.node, detail))
            self.step(depth, q.step)
            if q.var is not None:
                self.line(depth, f"{q.var} = {s.source}")
        elif isinstance(s, Parallel):
            detail = f"{len(s.tasks)} tasks on the execution's connection"
            self.line(depth, header(s.node.id, s.node, detail))
            self.block(s.tasks, depth)
        elif isinstance(s, Condition):
            return self.condition(s, depth, recover)
        elif isinstance(s, ScopeCheck):
            if s.binds_user:
                self.line(depth, 'user = ctx.get("user")')
                self.line(depth, "if user is None:")
                self.line(depth + 1, "raise AuthRequired('User authentication required')")
            self.line(depth, f'if {s.scope!r} not in user["scopes"]:')
            self.line(depth + 1, f"raise missing_scope({s.scope!r})")
        elif isinstance(s, Emit):
            self.line(depth, header(s.node.id, s.node, f"emit {s.event}"))
            self.step(depth, s.node.id)
            self.line(depth, f"ex.emit({py(s.channel)}, {s.event!r}, {py(s.data)})")
        elif isinstance(s, Respond):
            self.line(depth, header(s.node.id, s.node, "http_response"))
            self.step(depth, s.node.id)
            if s.headers:
                pairs = ", ".join(f"({name!r}, {py(value)})" for name, value in s.headers)
                self.line(depth, f"return JsonResult({s.status}, {py(s.body)}, ({pairs},))")
            else:
                self.line(depth, f"return JsonResult({s.status}, {py(s.body)})")
            return True
        elif isinstance(s, Stream):
            self.line(depth, header(s.node.id, s.node, "sse_stream"))
            self.step(depth, s.node.id)
            held = f"({s.held_by[0]!r}, {py(s.held_by[1])})" if s.held_by else "None"
            self.line(
                depth,
                f"return StreamResult({py(s.channel)}, {py(s.on_connect)}, {s.retry_ms}, "
                f"{s.timeout_ms}, {held})",
            )
            return True
        elif isinstance(s, Log):
            self.line(depth, header(s.node.id, s.node, "log"))
            self.step(depth, s.node.id)
            level = "" if s.level == "info" else f", {s.level!r}"
            self.line(depth, f"ex.log({s.node.id!r}, {py(s.message)}{level})")
        elif isinstance(s, Let):
            self.line(depth, header(s.node.id, s.node, "transform"))
            self.step(depth, s.node.id)
            note = f": {s.annotation}" if s.annotation else ""
            self.line(depth, f"{s.var}{note} = {py(s.value)}")
        elif isinstance(s, Effect):
            self.line(depth, header(s.node.id, s.node, s.detail))
            self.step(depth, s.node.id)
            if s.detach:
                self.line(depth, "await ex.detach()  # nothing written yet: no transaction held")
            target = f"{s.var}{f': {s.annotation}' if s.annotation else ''} = " if s.var else ""
            self.line(depth, f"{target}{'await ' if s.awaits else ''}{py(s.call)}")
        elif isinstance(s, Loop):
            self.line(depth, header(s.node.id, s.node, "for each item"))
            self.step(depth, s.node.id)
            self.line(depth, f"for {s.var} in items_of({py(s.items)}, {s.node.id!r}):")
            self.block(s.body, depth + 1, recover=self.log_errors)
            if not s.body:
                self.line(depth + 1, "pass")
        elif isinstance(s, Queued):
            self.line(depth, header(s.node.id, s.node, s.detail + ", after the commit"))
            self.step(depth, s.node.id)
            target = f"{s.var} = " if s.var else ""
            self.line(depth, f"{target}await {py(s.call)}")
        else:
            assert_never(s)
        return False

    def rule(self, field: str, c: RuleCheck, depth: int) -> None:
        self.line(depth, f"if {py(c.fails)}:")
        self.line(
            depth + 1, f"raise ValidationFailed({c.message!r}, field={field!r}, rule={c.rule!r})"
        )

    def sql(self, s: SqlStmt, depth: int, recover: bool) -> bool:
        label = s.step
        if isinstance(s, RowWrite):
            for f in s.fused:
                detail = f"lookup {s.entity.name}: answered by the {_DETAIL[type(s)]} below"
                self.line(depth, header(f.id, f, detail))
                self.step(depth, f.id)
        self.line(depth, header(label, s.node, f"{_DETAIL[type(s)]} {s.entity.name}"))
        self.step(depth, s.step)
        call = params(s.params)
        name = query(s)
        dyn = s.query.filter
        if dyn is not None:  # the filter an expression built: its conditions, then the query
            tenant = 'ctx["tenantId"]'
            value = py(dyn.value)
            self.line(depth, f"fsql, fparams = filtered({name}, {dyn.name}, {value}, {tenant})")
            name, call = "fsql", params(s.params, "fparams")
        if isinstance(s, Rows):
            self.line(depth, f"rows = await ex.fetch_all({name}, {call})")
            self.line(depth, f"{s.var} = [{s.decoder}(r) for r in rows]")
        elif isinstance(s, Aggregate):
            self.aggregate(s, name, call, depth)
        elif isinstance(s, ForEach):
            self.line(depth, f"for item in await ex.fetch_all({name}, {call}):")
            self.line(depth + 1, f"{s.var} = {s.decoder}(item)")
            log = recover or self.log_errors
            if not self.block(s.body, depth + 1, recover=log) and self.counting:
                self.line(depth + 1, "items += 1")
        elif isinstance(s, Insert):
            existing = (
                f"{s.existing.name}, {params(s.existing.params)}" if s.existing else "None, {}"
            )
            if s.limit is not None:
                owner = ", ".join(py(p.value) for p in s.limit.owner)
                self.line(depth, f"await ex.serialize({s.entity.table!r}, {owner})")
            self.line(depth, f"row = await ex.create({name}, {call}, {existing})")
            self.line(depth, "if row is None:")
            code = s.entity.not_found_code.replace("_NOT_FOUND", "")
            if s.limit is not None:
                message = (
                    f"Limit reached: a user may hold at most {s.limit.limit} "
                    f"{s.entity.label.lower()}s"
                )
                self.line(
                    depth + 1,
                    f"raise Conflict({message!r}, {code + '_LIMIT_REACHED'!r}, "
                    f"limit={s.limit.limit})",
                )
            else:
                message = s.entity.label + " already exists"
                self.line(depth + 1, f"raise Conflict({message!r}, {code + '_CONFLICT'!r})")
            self.line(depth, f"{s.var} = {s.decoder}(row)")
        elif isinstance(s, Count):
            self.line(depth, f"row = await ex.fetch_one({name}, {call})")
            self.line(depth, f'{s.var} = db_number(row["n"]) if row is not None else 0.0')
        elif isinstance(s, RowWrite) and s.not_found is None:  # by a non-unique filter
            self.line(depth, f"{s.var} = float(len(await ex.fetch_all({name}, {call})))")
        elif isinstance(s, Lookup) and s.not_found is None:  # the row or null
            self.line(depth, f"row = await ex.fetch_one({name}, {call})")
            if s.var is not None and s.decoder is not None:
                self.line(depth, f"{s.var} = {s.decoder}(row) if row is not None else None")
        else:
            not_found = s.not_found
            assert not_found is not None
            self.line(depth, f"row = await ex.fetch_one({name}, {call})")
            self.line(depth, "if row is None:")
            self.line(depth + 1, f"raise NotFound({not_found.message!r}, {not_found.code!r})")
            if isinstance(s, RowWrite) and s.release is not None:
                self.line(depth, f"ex.release({s.entity.table!r}, row[{s.release!r}])")
            if s.var is not None and s.decoder is not None:
                self.line(depth, f"{s.var} = {s.decoder}(row)")
        return False

    def aggregate(self, s: Aggregate, name: str, call: str, depth: int) -> None:
        def value(i: int, kind: str) -> str:
            conv = "db_number_or_none" if kind == "number|null" else "db_number"
            return f"{conv}(r[{f'a{i}'!r}])"

        fields = ", ".join(f"{out!r}: {value(i, kind)}" for i, (out, kind) in enumerate(s.values))
        if s.group is not None:
            decode = s.group_decoder
            self.line(depth, f"rows = await ex.fetch_all({name}, {call})")
            self.line(
                depth,
                f"{s.var}: list[dict[str, object]] = "
                f"[{{{s.group!r}: {decode}(r['g']), {fields}}} for r in rows]",
            )
        else:
            self.line(depth, f"r = await ex.fetch_one({name}, {call})")
            self.line(depth, "assert r is not None  # an aggregate without GROUP BY: one row")
            self.line(depth, f"{s.var}: dict[str, object] = {{{fields}}}")

    def condition(self, s: Condition, depth: int, recover: bool) -> bool:
        self.line(depth, header(s.node.id, s.node, ""))
        self.step(depth, s.node.id)
        test = py(s.test)
        if s.otherwise is None:
            self.line(depth, f"if not ({test}):")
            if s.required_level is not None:
                level = py(s.user_level)
                self.line(depth + 1, f"raise insufficient_level({s.required_level}, {level})")
            elif s.refusal is not None:
                r = s.refusal
                self.line(
                    depth + 1,
                    f"raise Refused({r.message!r}, {r.code!r}, {r.status}, node={s.node.id!r})",
                )
            else:
                message = f"Condition {s.node.id} is not met"
                self.line(depth + 1, f"raise Forbidden({message!r}, 'CONDITION_FAILED')")
            return self.block(s.then, depth, recover)
        self.line(depth, f"if {test}:")
        if not s.then:
            self.line(depth + 1, "pass")
        then_ends = self.block(s.then, depth + 1, recover)
        self.line(depth, "else:")
        return self.block(s.otherwise, depth + 1, recover) and then_ends
