"""Binding: parse every ``{{ }}`` string once, infer ``$json`` from its uses, and translate
parameter values in the scope of the node that reads them.

``$json`` is typed by use: a field read without ``?.`` and without a fallback (the left side
of ``||`` or ``??``) is required, and a field written into a column takes the column's type. The first pass asks every node's spec for the values it
reads (:meth:`NodeSpec.expressions`), so no kind can hide an input from the inference.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from compiler import messages
from compiler.diagnostics import Diagnostics
from compiler.expressions import ast as jsast
from compiler.expressions.parser import ExpressionError
from compiler.expressions.template import Parts, parse_parts
from compiler.expressions.translate import Scope, StepInfo, TExpr, Translator
from compiler.expressions.types import (
    ANY,
    BOOL,
    CONTEXT,
    NULL,
    NUM,
    STR,
    USER,
    Field,
    Record,
    Type,
    union,
)  # fmt: skip
from compiler.graph import Graph
from compiler.ir import InputField
from compiler.load import JArray, JBool, JNumber, JObject, JString, JValue, string_span
from compiler.model import Entity, HttpTrigger, Node, Workflow


def column_type(ent: Entity, name: str) -> Type:
    return {
        "string": STR,
        "datetime": STR,
        "boolean": BOOL,
        "integer": NUM,
        "number": NUM,
        "bigint": NUM,
        "json": ANY,
    }[ent.fields[name].type]


def row_type(ent: Entity) -> Record:
    fields = []
    for f in ent.fields.values():
        t = column_type(ent, f.name)
        fields.append(Field(f.name, union(t, NULL) if f.nullable else t))
    return Record(ent.name, ent.label, tuple(fields))


def is_path(e: jsast.Expr | None, *names: str) -> bool:
    """Whether ``e`` is exactly ``names[0].names[1]...`` without optional chaining."""
    if e is None:
        return False
    if len(names) == 1:
        return isinstance(e, jsast.Ident) and e.name == names[0]
    return (
        isinstance(e, jsast.Member)
        and e.name == names[-1]
        and not e.optional
        and is_path(e.obj, *names[:-1])
    )


def output_of(e: jsast.Expr) -> str | None:
    """The step key (``x`` or ``x.tasks.t``) when ``e`` is ``$steps.x.output`` or
    ``$steps.x.tasks.t.output``."""
    if not (isinstance(e, jsast.Member) and e.name == "output"):
        return None
    step = e.obj
    if (
        isinstance(step, jsast.Member)
        and step.name is not None
        and isinstance(step.obj, jsast.Ident)
        and step.obj.name == "$steps"
    ):
        return step.name
    if (
        isinstance(step, jsast.Member)
        and step.name is not None
        and isinstance(step.obj, jsast.Member)
        and step.obj.name == "tasks"
    ):
        node = _step_name(step.obj.obj)
        return f"{node}.tasks.{step.name}" if node is not None else None
    return None


def _step_name(e: jsast.Expr) -> str | None:
    if isinstance(e, jsast.Member) and isinstance(e.obj, jsast.Ident) and e.obj.name == "$steps":
        return e.name
    return None


def _tests_presence(e: jsast.Expr) -> bool:
    """``typeof x`` and ``Array.isArray(x)``: reading x there does not require it."""
    if isinstance(e, jsast.Unary) and e.op == "typeof":
        return True
    return (
        isinstance(e, jsast.Call)
        and isinstance(e.callee, jsast.Member)
        and e.callee.name == "isArray"
        and isinstance(e.callee.obj, jsast.Ident)
        and e.callee.obj.name == "Array"
    )


def _fold(e: jsast.Expr) -> float | None:
    """The value of arithmetic on number literals (``1 - 1``), else None."""
    if isinstance(e, jsast.Num):
        return e.value
    if isinstance(e, jsast.Binary) and e.op in ("+", "-", "*", "/", "%"):
        a, b = _fold(e.left), _fold(e.right)
        if a is None or b is None:
            return None
        if e.op == "+":
            return a + b
        if e.op == "-":
            return a - b
        if e.op == "*":
            return a * b
        if b == 0:
            return None if e.op == "/" and a != 0 else math.nan
        return a / b if e.op == "/" else math.fmod(a, b)
    return None


class UpstreamSteps(Mapping[str, StepInfo]):
    """The ``$steps`` a node may read: the outputs of the nodes upstream of it, as a view (a
    lookup is one comparison; nothing is copied per node)."""

    def __init__(self, graph: Graph, steps: dict[str, StepInfo], node: str) -> None:
        self.graph, self.steps, self.node = graph, steps, node

    def __getitem__(self, key: str) -> StepInfo:
        if key in self.steps and self.graph.is_upstream(key, self.node):
            return self.steps[key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k in self.steps if self.graph.is_upstream(k, self.node))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def failed(self, key: str) -> bool:
        """Whether ``key`` runs before this node yet recorded no output: it failed to
        compile, and that error was reported there."""
        return key not in self.steps and self.graph.is_upstream(key, self.node)


@dataclass
class Binder:
    wf: Workflow
    graph: Graph
    entities: dict[str, Entity]
    diags: Diagnostics
    json_fields: dict[str, InputField] = field(default_factory=dict)
    step_reads: set[str] = field(default_factory=set)  # "node", "node.tasks.task"
    # How each step's output is read: the property read on it (`$steps.x.output.id`), or
    # None for any other use (the whole value, an index). A read by a non-unique filter is
    # a fan-out when every use reads a field of the row, else the list of rows.
    output_uses: dict[str, set[str | None]] = field(default_factory=dict)
    _seen_outputs: set[int] = field(default_factory=set)
    # Steps whose output an expression compares with null (`$steps.x.output !== null`): a
    # lookup by key of such a step yields the row or null instead of answering 404.
    null_tested: set[str] = field(default_factory=set)
    # `$json` fields read plainly only in nodes that run on some paths (after a condition's
    # branch): optional in `Input`, required where read (a 400 naming the field there).
    needed: dict[str, set[str]] = field(default_factory=dict)
    branch_local: set[str] = field(default_factory=set)
    _current: str | None = None
    steps: dict[str, StepInfo] = field(default_factory=dict)
    user_bound_by: str | None = None  # the validate node that bound the local `user`
    roots: dict[str, dict[str, TExpr]] = field(default_factory=dict)  # node -> `$item`...
    reported: set[int] = field(default_factory=set)  # strings whose error was reported
    _translator: Translator | None = None
    node_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.node_ids = frozenset(n.id for n in self.wf.nodes)

    # ------------------------------------------------------------------ parsing (once per string)

    def parts(self, s: JString, node: Node | None) -> Parts | None:
        """The text and expressions of a parameter string, parsed in the model stage; its
        error, if it has one, is reported here, at the first use, once."""
        key = s.span.start.offset
        found = self.wf.templates.get(key)
        if found is None:  # not a parameter string the model saw: parse it now, once
            try:
                found = parse_parts(s.value)
            except ExpressionError as err:
                found = err
            self.wf.templates[key] = found
        if isinstance(found, ExpressionError):
            if key not in self.reported:
                self.reported.add(key)
                self.report(found, s, node)
            return None
        return found

    def report(self, err: ExpressionError, s: JString, node: Node | None) -> None:
        if err.silent:
            return
        span = string_span(self.wf.source, s, err.start, err.end)
        self.diags.add(err.text, span, hint=err.hint, node_id=node.id if node else None)

    def whole_expression(self, s: JValue) -> jsast.Expr | None:
        """The expression when the string is exactly ``{{ expr }}`` (blank text aside)."""
        if not isinstance(s, JString):
            return None
        parts = self.parts(s, None)
        if parts is None:
            return None
        exprs = [p for p in parts if not isinstance(p, str)]
        if len(exprs) == 1 and all(not p.strip() for p in parts if isinstance(p, str)):
            return exprs[0]
        return None

    def is_context_tenant(self, value: JValue) -> bool:
        return is_path(self.whole_expression(value), "$context", "tenantId")

    def is_context_user_id(self, value: JValue) -> bool:
        return is_path(self.whole_expression(value), "$context", "user", "id")

    # ------------------------------------------------------------------ first pass

    def first_pass(self, nodes: list[Node]) -> None:
        """Which ``$json`` fields and ``$steps`` every node reads, before anything lowers."""
        forks = [
            n.id for n in nodes if len(self.graph.outputs.get(n.id, [])) > 1
            and any(self.graph.outputs[n.id][1:])
        ]  # fmt: skip
        self.branch_local = {
            n.id for n in nodes if any(self.graph.is_upstream(f, n.id) for f in forks)
        }
        for node in nodes:
            assert node.spec is not None
            self._current = node.id
            for use in node.spec.expressions():
                self.collect(use.value, node, use.expected, use.optional)
            for name in node.spec.json_fields(node, self):
                self.note_json(name, False, None)
            for db in node.spec.operations(node):
                ent = self.entities.get(db.op.entity)
                for e in (*db.op.filter, *db.op.data):
                    ct = column_type(ent, e.key) if ent and e.key in ent.fields else None
                    if isinstance(e.value, JObject) and all(
                        k.value.startswith("$") for k, _ in e.value.entries
                    ):  # filter operators: each compares with the column
                        for k, v in e.value.entries:
                            self.collect(v, node, ct if k.value != "$in" else None)
                        continue
                    self.collect(e.value, node, ct)
                for v in db.op.values():
                    self.collect(v, node)
        self._current = None
        for trig in self.wf.triggers:
            if isinstance(trig, HttpTrigger):
                for p in trig.params:
                    desc = self.wf.inputs.get(p, ("", None))[0]
                    self.json_fields[p] = InputField(p, STR, True, desc, True)

    def collect(
        self, value: JValue, node: Node, column: Type | None = None, optional: bool = False
    ) -> None:
        if isinstance(value, JString):
            whole = self.whole_expression(value)
            for p in self.parts(value, node) or []:
                if not isinstance(p, str):
                    self._walk(p, column if p is whole else None, optional and p is whole)
                    self.check_fallbacks(p, value, node)
        elif isinstance(value, JObject):
            for _, v in value.entries:
                self.collect(v, node)
        elif isinstance(value, JArray):
            for v in value.items:
                self.collect(v, node)

    def check_fallbacks(self, e: jsast.Expr, s: JString, node: Node) -> None:
        """Warn at `a || <arithmetic that folds to 0 or NaN>` (`$json.page || 1 - 1`)."""
        for x in jsast.walk(e):
            if not (isinstance(x, jsast.Logical) and x.op == "||"):
                continue
            if not isinstance(x.right, jsast.Binary):
                continue  # a literal fallback (`|| 0`) says what it means
            folded = _fold(x.right)
            if folded is None or (folded == folded and folded != 0):
                continue
            text, right = s.value[x.start : x.end], s.value[x.right.start : x.right.end]
            shown = "NaN" if folded != folded else "0"
            left = s.value[x.left.start : x.left.end]
            op_at = right.find(" ")
            fix = (
                f"({left} || {right[:op_at]}){right[op_at:]}" if op_at > 0 else f"({left} || ...)"
            )
            self.diags.add(
                messages.FALLBACK_ALWAYS_FALSY.format(text, right, shown, node.id),
                string_span(self.wf.source, s, x.start, x.end),
                node_id=node.id,
                hint=messages.HINT__FALLBACK_PARENTHESES.format(fix),
            )

    def _walk(self, e: jsast.Expr, expected: Type | None, fallback: bool = False) -> None:
        if isinstance(e, jsast.Logical) and e.op in ("||", "??"):
            # `$json.limit || 100`: the read has a default, so the field may be absent.
            self._walk(e.left, None, fallback=True)
            self._walk(e.right, None)
            return
        if isinstance(e, jsast.Binary) and e.op in ("===", "!==", "==", "!="):
            for a, b in ((e.left, e.right), (e.right, e.left)):
                step = output_of(a)
                if step is not None and isinstance(b, jsast.Null):
                    self.null_tested.add(step)
                if isinstance(b, jsast.Null | jsast.Undefined):  # a test of presence
                    self._walk(a, None, fallback=True)
                    return
        if _tests_presence(e):  # `Array.isArray($json.ids)`, `typeof $json.x`
            for child in jsast.children(e):
                self._walk(child, None, fallback=True)
            return
        if isinstance(e, jsast.Member):
            inner = output_of(e.obj)
            if inner is not None:  # `$steps.x.output.<name>`
                self._seen_outputs.add(id(e.obj))
                self.output_uses.setdefault(inner, set()).add(e.name)
            whole = output_of(e)
            if whole is not None and id(e) not in self._seen_outputs:
                self.output_uses.setdefault(whole, set()).add(None)
        source = self.wf.json_from.get(self._current or "")
        loop = self.wf.loops.get(self._current or "")
        parent = self.wf.json_from.get(loop) if loop is not None else None
        if parent is not None and isinstance(e, jsast.Ident) and e.name == "$parentJson":
            self.step_reads.add(parent)
            self.output_uses.setdefault(parent, set()).add(None)
            return
        if source is not None and isinstance(e, jsast.Ident) and e.name == "$json":
            # JSON Script: `$json` is the previous node's output, read as a whole here.
            self.step_reads.add(source)
            if id(e) not in self._seen_outputs:
                self.output_uses.setdefault(source, set()).add(None)
            return
        if isinstance(e, jsast.Member) and isinstance(e.obj, jsast.Ident):
            key = (
                e.name
                if e.name is not None
                else (e.computed.value if isinstance(e.computed, jsast.Str) else None)
            )
            if e.obj.name == "$json" and source is not None:
                self._seen_outputs.add(id(e.obj))
                self.step_reads.add(source)
                self.output_uses.setdefault(source, set()).add(key)
                return
            if e.obj.name == "$json" and key is not None:
                self.note_json(key, not (e.optional or fallback), expected)
                return
            if e.obj.name == "$steps" and key is not None:
                self.step_reads.add(key)
        if (
            isinstance(e, jsast.Member)
            and e.name is not None
            and isinstance(e.obj, jsast.Member)
            and e.obj.name == "tasks"
            and isinstance(e.obj.obj, jsast.Member)
            and isinstance(e.obj.obj.obj, jsast.Ident)
            and e.obj.obj.obj.name == "$steps"
        ):
            self.step_reads.add(f"{e.obj.obj.name}.tasks.{e.name}")
        for child in jsast.children(e):
            self._walk(child, None)

    def note_json(self, name: str, required: bool, expected: Type | None) -> None:
        if required and self._current in self.branch_local:
            self.needed.setdefault(self._current, set()).add(name)
            required = False
        cur = self.json_fields.get(name)
        if cur is None:
            desc = self.wf.inputs.get(name, ("", None))[0]
            self.json_fields[name] = InputField(name, expected or ANY, required, desc, False)
            return
        cur.required = cur.required or required
        if cur.type == ANY and expected is not None:
            cur.type = expected

    def inputs(self) -> list[InputField]:
        return sorted(self.json_fields.values(), key=lambda f: (not f.from_path, f.name))

    # ------------------------------------------------------------------ translation

    def json_of(self, node_id: str) -> TExpr:
        """What `$json` is in ``node_id``: the trigger's input, or (JSON Script) the output of
        the node before it; an output not known (its node failed) is any value."""
        source = self.wf.json_from.get(node_id)
        if source is None:
            return TExpr(
                ast.Name("json", ast.Load()),
                Record(
                    "Input",
                    "$json",
                    tuple(Field(f.name, f.type, f.required) for f in self.inputs()),
                ),
            )
        info = self.steps.get(source)
        if info is None or info.output is None:
            return TExpr(ast.Attribute(ast.Name("js", ast.Load()), "UNDEFINED", ast.Load()), ANY)
        return info.output

    def scope(self, node: Node) -> Scope:
        narrowed: dict[tuple[str, ...], TExpr] = {}
        bound = self.user_bound_by
        if bound is not None and self.graph.is_upstream(bound, node.id):
            narrowed[("$context", "user")] = TExpr(ast.Name("user", ast.Load()), USER)
        for key in ("token", "sessionId"):  # absent from contexts without a bearer token
            got = ast.Call(
                ast.Attribute(ast.Name("ctx", ast.Load()), "get", ast.Load()),
                [ast.Constant(key), ast.Constant("")],
                [],
            )
            narrowed[("$context", key)] = TExpr(got, STR)
        steps = UpstreamSteps(self.graph, self.steps, node.id)
        return Scope(
            json=self.json_of(node.id),
            context=TExpr(ast.Name("ctx", ast.Load()), CONTEXT),
            steps=steps,
            all_node_ids=self.node_ids,
            failed=steps.failed,
            current_node=node.id,
            narrowed=narrowed,
            env=self.wf.env_names,
            needed=frozenset(self.needed.get(node.id, ())),
            roots=dict(self.roots.get(node.id, {})),
        )

    def translator_for(self, node: Node) -> Translator:
        scope = self.scope(node)
        if self._translator is None:
            self._translator = Translator(scope)
        self._translator.scope = scope
        return self._translator

    def value(self, value: JValue, node: Node) -> TExpr | None:
        """Translate a parameter value (a JSON tree whose strings may hold expressions)."""
        tr = self.translator_for(node)
        if isinstance(value, JString):
            parts = self.parts(value, node)
            if parts is None:
                return None
            whole = self.whole_expression(value)
            pieces: list[ast.expr] = []
            for p in parts:
                if isinstance(p, str):
                    pieces.append(ast.Constant(p))
                    continue
                try:
                    t = tr.translate(p)
                except ExpressionError as err:
                    self.report(err, value, node)
                    return None
                if p is whole:
                    return t
                pieces.append(tr.to_str(t))
            out = pieces[0] if pieces else ast.Constant("")
            for n in pieces[1:]:
                out = ast.BinOp(out, ast.Add(), n)
            return TExpr(out, STR)
        if isinstance(value, JObject):
            keys: list[ast.expr | None] = []
            vals: list[ast.expr] = []
            for k, v in value.entries:
                item = self.value(v, node)
                if item is None:
                    return None
                keys.append(ast.Constant(k.value))
                vals.append(tr.box(item))
            return TExpr(ast.Dict(keys, vals), ANY)
        if isinstance(value, JArray):
            items: list[ast.expr] = []
            for v in value.items:
                item = self.value(v, node)
                if item is None:
                    return None
                items.append(tr.box(item))
            return TExpr(ast.List(items, ast.Load()), ANY)
        if isinstance(value, JNumber):
            return TExpr(ast.Constant(float(value.value)), NUM)
        if isinstance(value, JBool):
            return TExpr(ast.Constant(value.value), BOOL)
        return TExpr(ast.Constant(None), ANY)

    def boxed(self, value: JValue | None, node: Node) -> ast.expr:
        """A parameter value as a JSON-ready Python value (``{}`` when absent)."""
        if value is None:
            return ast.Dict([], [])
        t = self.value(value, node)
        return self.translator_for(node).box(t) if t is not None else ast.Constant(None)

    def text(self, value: JValue, node: Node) -> ast.expr:
        """A parameter value as a string (JavaScript's String())."""
        t = self.value(value, node)
        return self.translator_for(node).to_str(t) if t is not None else ast.Constant("")

    def truthy(self, value: JValue, node: Node) -> ast.expr:
        t = self.value(value, node)
        return self.translator_for(node).truthy(t) if t is not None else ast.Constant(False)

    def set_output(
        self, node: Node, output: TExpr | None, tasks: dict[str, TExpr] | None = None
    ) -> None:
        """What ``$steps.<node>`` means downstream of ``node``."""
        self.steps[node.id] = StepInfo(node.id, output, dict(tasks or {}))
