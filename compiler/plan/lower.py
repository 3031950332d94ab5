"""Lowering: walk the checked graph and ask each node's kind for its statements.

The lowering knows nothing of any particular kind: a node's spec lowers itself
(:meth:`NodeSpec.lower`), a database operation lowers through its module's ``lower``, and
what follows a node is appended here (inside a fan-out's body, n8n's item semantics) unless
the kind routes its own branches (a condition).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from compiler import messages
from compiler.diagnostics import Diagnostics, Span
from compiler.expressions.translate import TExpr
from compiler.expressions.types import (
    ANY,
    BOOL,
    DATE,
    NULL,
    NUM,
    STR,
    UNDEF,
    ArrayOf,
    Record,
    Type,
    UnionT,
    members,
)  # fmt: skip
from compiler.graph import Graph
from compiler.ir import COMPARISONS, MEMBERSHIP, ForEach, Param, Role, ScopeCheck, SqlText, Stmt
from compiler.load import JObject, JValue
from compiler.model import Entity, Node, Workflow
from compiler.names import Allocator
from compiler.nodes.base import DbUse, Entry
from compiler.plan.binding import Binder, column_type
from compiler.suggest import did_you_mean, or_else

Lowered = tuple[Stmt, TExpr | None]  # a statement and the output later nodes may read


@dataclass
class Lowering:
    wf: Workflow
    graph: Graph
    entities: dict[str, Entity]
    diags: Diagnostics
    bind: Binder
    scope_anchor: str | None = None  # the node after which meta.permissions is checked
    created: list[tuple[Entity, str]] = field(default_factory=list)  # (entity, local)
    records: list[Record] = field(default_factory=list)  # TypedDicts the module declares
    constants: list[tuple[str, object]] = field(default_factory=list)  # (name, literal value)
    names: Allocator = field(default_factory=Allocator)
    _locals: dict[tuple[str, str | None], str] = field(default_factory=dict)
    _sql: dict[tuple[str, str | None], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names.taken.update(self.entities)  # the entities' TypedDicts may be imported

    # ------------------------------------------------------------------ graph

    def chain(self, node_id: str) -> list[Stmt]:
        """The statements of ``node_id`` followed by everything downstream of it.

        A run of nodes with one successor each is followed in a loop, not by recursion, so a
        long chain costs no stack; recursion happens only where the graph branches."""
        result: list[Stmt] = []
        sink = result  # where the next node's statements go
        current: str | None = node_id
        while current is not None:
            node = self.wf.node(current)
            assert node is not None
            if node.spec is None or node.kind is None:  # reported where it was parsed
                outputs = self.graph.outputs.get(node.id, [])
                targets = [t for branch in outputs for t in branch]
                if len(targets) == 1:
                    current = targets[0]
                    continue
                for t in targets:
                    sink.extend(self.chain(t))
                break
            stmts = node.spec.lower(node, self)
            if len(node.kind.outputs) > 1:
                sink.extend(stmts)  # the kind lowered its branches itself
                break
            if node.id == self.scope_anchor and self.wf.permissions_required:
                stmts.append(self.scope_check(node))
            sink.extend(stmts)
            if stmts and isinstance(stmts[-1], ForEach):
                sink = stmts[-1].body  # n8n runs downstream nodes once per item
            outputs = self.graph.outputs.get(node.id, [])
            targets = outputs[0] if outputs else []
            if len(targets) == 1:
                current = targets[0]
                continue
            for t in targets:
                sink.extend(self.chain(t))
            current = None
        return result

    def branch(self, node: Node, index: int) -> list[Stmt]:
        """The statements of the nodes on output ``index`` of ``node``."""
        outputs = self.graph.outputs.get(node.id, [])
        targets = outputs[index] if index < len(outputs) else []
        return [s for t in targets for s in self.chain(t)]

    def has_branch(self, node: Node, index: int) -> bool:
        outputs = self.graph.outputs.get(node.id, [])
        return index < len(outputs) and bool(outputs[index])

    def user_bound_at(self, node: Node) -> bool:
        """Whether the local ``user`` is bound once ``node`` has run."""
        by = self.bind.user_bound_by
        return by is not None and (by == node.id or self.graph.is_upstream(by, node.id))

    def scope_check(self, node: Node) -> ScopeCheck:
        """``meta.permissions.required`` checked once ``node`` has run."""
        assert self.wf.permissions_required is not None
        return ScopeCheck(node, self.wf.permissions_required, not self.user_bound_at(node))

    # ------------------------------------------------------------------ database

    def operation(self, use: DbUse) -> Lowered | None:
        """The statement of one database operation, through its module."""
        return use.op.operation.lower(self, use)

    def entity(self, use: DbUse) -> Entity | None:
        """The operation's entity, with every filter and data key checked against it."""
        op, node = use.op, use.node
        ent = self.entities.get(op.entity)
        if ent is None:
            s = did_you_mean(op.entity, self.entities)
            self.diags.add(
                messages.ENTITY_NOT_DECLARED.format(op.entity),
                op.entity_span,
                node_id=node.id,
                hint=or_else(
                    s,
                    (
                        messages.HINT__DECLARED.format(", ".join(sorted(self.entities)))
                        if self.entities
                        else messages.HINT__DECLARE_THE_ENTITY
                    ),
                ),
            )
            return None
        ok = True
        for e in (*op.filter, *op.data):
            if e.key not in ent.fields:
                s = did_you_mean(e.key, ent.fields)
                self.diags.add(
                    messages.FIELD_NOT_DECLARED.format(ent.name, e.key),
                    e.key_span,
                    node_id=node.id,
                    hint=(or_else(s, messages.HINT__FIELDS.format(", ".join(ent.fields)))),
                )
                ok = False
        return ent if ok else None

    def params(
        self, entries: list[Entry], role: Role, ent: Entity, node: Node
    ) -> list[Param] | None:
        """Filter or data values as typed SQL parameters; None after an error. A filter value
        may be an object of operators (``{"$gte": a, "$lt": b}``): one parameter each."""
        tr = self.bind.translator_for(node)
        out: list[Param] = []
        ok = True
        for e in entries:
            col = ent.fields[e.key]
            want = column_type(ent, e.key)
            pairs = operators(e.value) if role is Role.FILTER else None
            if pairs is None:
                pairs = [("$eq", e.key_span, e.value)]
            for op, op_span, value in pairs:
                if op not in COMPARISONS and op not in MEMBERSHIP:
                    s = did_you_mean(op, (*COMPARISONS, *MEMBERSHIP))
                    self.diags.add(
                        messages.FILTER_OPERATOR_UNKNOWN.format(op, e.key, node.id),
                        op_span,
                        node_id=node.id,
                        hint=or_else(
                            s, messages.HINT__USE_ONE_OF_2.format(", ".join(OPERATOR_NAMES))
                        ),
                    )
                    ok = False
                    continue
                t = self.bind.value(value, node)
                if t is None:
                    ok = False
                    continue
                if op == "$in":
                    elem = t.type.elem if isinstance(t.type, ArrayOf) else ANY
                    if t.type != ANY and not isinstance(t.type, ArrayOf):
                        self.diags.add(
                            messages.FILTER_IN_NOT_A_LIST.format(e.key, node.id, t.type),
                            value.span,
                            node_id=node.id,
                            hint=messages.HINT__FILTER_IN_LIST,
                        )
                        ok = False
                        continue
                    if not _fits(elem, want, False):
                        self.diags.add(
                            messages.VALUE_DOES_NOT_FIT_COLUMN.format(
                                ent.name, e.key, col.type, t.type
                            ),
                            value.span,
                            node_id=node.id,
                            hint=messages.HINT__GIVE_A_VALUE.format(col.type + " list", ""),
                        )
                        ok = False
                        continue
                    boxed = tr.box(t)
                    fn = ast.Name("sql_list", ast.Load())
                    kinds: dict[Type, str] = {NUM: "number", BOOL: "boolean", STR: "string"}
                    kind = kinds.get(want, "any")
                    args = [boxed, ast.Constant(e.key), ast.Constant(kind)]
                    listed = ast.Call(fn, args, [])
                    out.append(Param(role, e.key, col.column, listed, op))
                    continue
                if not _fits(t.type, want, col.nullable):
                    self.diags.add(
                        messages.VALUE_DOES_NOT_FIT_COLUMN.format(
                            ent.name, e.key, col.type, t.type
                        ),
                        value.span,
                        node_id=node.id,
                        hint=messages.HINT__GIVE_A_VALUE.format(
                            col.type,
                            hint_for(col.type, t.type, want),
                        ),
                    )
                    ok = False
                    continue
                bound = param_value(t, want, tr.box(t))
                checks = col.checks
                if role is Role.DATA and not col.nullable and _may_be_absent(t.type):
                    # An untyped value (a plugin's output, JSON) into a NOT NULL column: a 400
                    # naming the field when it is null or undefined, not a database error.
                    checks = (("required", True), *checks)
                if role is Role.DATA and checks:  # the declaration's constraints
                    bound = _checked(bound, e.key, checks)
                out.append(Param(role, e.key, col.column, bound, op))
        return out if ok else None

    def var(self, use: DbUse) -> str:
        """The local that holds an operation's output: the node id (``node__task`` for a
        task), from the module's allocator, once per operation."""
        key = (use.node.id, use.task)
        if key not in self._locals:
            preferred = use.node.id if use.task is None else f"{use.node.id}__{use.task}"
            self._locals[key] = self.names.take(preferred)
        return self._locals[key]

    def sql_name(self, use: DbUse) -> str:
        """The SQL constant of an operation: ``SQL_<NODE>`` or ``SQL_<NODE>_<TASK>``."""
        key = (use.node.id, use.task)
        if key not in self._sql:
            preferred = use.node.id if use.task is None else f"{use.node.id}_{use.task}"
            self._sql[key] = self.names.take("SQL_" + preferred.upper())
        return self._sql[key]

    def sql(self, use: DbUse, text: str, params: list[Param]) -> SqlText:
        return SqlText(self.sql_name(use), text, tuple(params))

    def is_read(self, use: DbUse) -> bool:
        """Whether a later node reads this operation's output through ``$steps``."""
        key = f"{use.node.id}.tasks.{use.task}" if use.task else use.node.id
        return key in self.bind.step_reads


OPERATOR_NAMES = (*COMPARISONS, *MEMBERSHIP)


def operators(value: JValue) -> list[tuple[str, Span, JValue]] | None:
    """A filter value's operators, when it is an object of ``$`` keys; else None."""
    if not isinstance(value, JObject) or not value.entries:
        return None
    if not all(k.value.startswith("$") for k, _ in value.entries):
        return None
    return [(k.value, k.span, v) for k, v in value.entries]


def hint_for(column: str, got: Type, want: Type) -> str:
    """The end of a does-not-fit hint: a literal without quotes, or ``Date.now()`` where an
    ISO date string meets an epoch-millisecond column."""
    if column == "bigint" and got in (STR, DATE):
        return " (epoch milliseconds: `Date.now()`, or `new Date(...).getTime()`)"
    if want in (BOOL, NUM):
        return " (write the literal without quotes)"
    return ""


def _checked(value: ast.expr, name: str, checks: tuple[tuple[str, object], ...]) -> ast.expr:
    """``checked(value, "field", ((rule, arg), ...))``: the value, once the column's
    declared constraints hold (a 400 naming the field and rule otherwise)."""
    rules = ast.Tuple(
        [ast.Tuple([ast.Constant(r), _literal(a)], ast.Load()) for r, a in checks], ast.Load()
    )
    return ast.Call(ast.Name("checked", ast.Load()), [value, ast.Constant(name), rules], [])


def unchecked(value: ast.expr) -> ast.expr:
    """A data value without its constraint check (a second use of a value already checked
    where it is written: the check runs once per request)."""
    func = value.func if isinstance(value, ast.Call) else None
    if isinstance(value, ast.Call) and isinstance(func, ast.Name) and func.id == "checked":
        return value.args[0]
    return value


def _literal(v: object) -> ast.expr:
    if isinstance(v, tuple):
        return ast.Tuple([_literal(x) for x in v], ast.Load())
    assert v is None or isinstance(v, str | int | float | bool)
    return ast.Constant(v)


def _may_be_absent(t: Type) -> bool:
    return t == ANY or any(m in (NULL, UNDEF) for m in members(t))


def _fits(t: Type, want: Type, nullable: bool) -> bool:
    """Whether a value of type ``t`` may be stored in a column of type ``want``."""
    if t == ANY:
        return True
    return all(
        m == want or (m == DATE and want == STR) or (m == NULL and nullable) for m in members(t)
    )


def param_value(t: TExpr, want: Type, boxed: ast.expr) -> ast.expr:
    """The Python value bound to a SQL parameter."""
    if want == ANY:  # a JSON column: the value's JSON text
        return ast.Call(ast.Name("sql_json", ast.Load()), [boxed], [])
    if t.type == DATE:
        return ast.Call(
            ast.Attribute(ast.Name("js", ast.Load()), "iso_string", ast.Load()), [t.node], []
        )
    if t.type == ANY or isinstance(t.type, UnionT):
        fn = "sql_bool" if want == BOOL else "sql_number" if want == NUM else "sql_text"
        return ast.Call(ast.Name(fn, ast.Load()), [boxed], [])
    return t.node
