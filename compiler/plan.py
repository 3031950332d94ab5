"""Stages 5-7: bind expressions, check the workflow, and build its execution plan.

The plan is the ordered list of operations a handler performs, with every expression
already translated to Python source and every SQL statement written out. Codegen renders
it and decides nothing. Because the plan sees the whole workflow it can choose the cheaper
statement: a lookup whose row nobody reads selects ``1``, and such a lookup directly
followed by an update or delete of the same row is dropped (the update answers the same 404).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from compiler import codes, messages, sql
from compiler.diagnostics import Diagnostics
from compiler.expressions import ast as jsast
from compiler.expressions.parser import ExpressionError, Parser, error_code
from compiler.expressions.template import split_template
from compiler.expressions.translate import Scope, StepInfo, TExpr, Translator
from compiler.expressions.types import (
    ANY,
    BOOL,
    CONTEXT,
    DATE,
    NULL,
    NUM,
    STR,
    USER,
    Field,
    Record,
    Type,
    UnionT,
    members,
    union,
)  # fmt: skip
from compiler.graph import Graph
from compiler.load import JArray, JBool, JNumber, JObject, JString, JValue, string_span
from compiler.model import (
    ActionSpec,
    ConditionSpec,
    DatabaseSpec,
    DbOp,
    Entity,
    Entry,
    HttpTrigger,
    Node,
    OperationSpec,
    ValidateSpec,
    Workflow,
    snake_case,
)  # fmt: skip
from compiler.names import local_name
from compiler.suggest import did_you_mean, or_else

# ----------------------------------------------------------------------------- plan


@dataclass
class Validate:
    node: Node
    value: str  # Python expression
    binds_user: bool  # narrows $context.user to the local `user`
    status_code: str  # AUTH_REQUIRED or VALIDATION_FAILED
    message: str
    field: str | None
    validator: str


@dataclass
class Query:
    node: Node
    kind: str  # lookup, many, create, update, delete, count
    entity: Entity
    sql_name: str
    sql: str
    params: list[tuple[str, str]]
    var: str | None  # the local holding the output; None when nobody reads it
    decoder: str | None
    not_found: tuple[str, str] | None  # (message, code) when no row is a 404
    existing_sql_name: str | None = None
    existing_sql: str | None = None
    existing_params: list[tuple[str, str]] = field(default_factory=list)
    body: list[Stmt] = field(default_factory=list)  # per-item statements of a fan-out read
    task: str | None = None
    fused: list[Node] = field(default_factory=list)  # lookups this statement also answers for
    release: str | None = None  # a deleted row's key column: it releases the streams it holds
    per_user_limit: int | None = None  # staticData.maxSubscriptionsPerUser on a create
    serialize_on: list[str] = field(default_factory=list)  # (tenant, user) of a limited create

    @property
    def step(self) -> str:
        """The name the execution history gives this statement: the node, or node.task."""
        return f"{self.node.id}.{self.task}" if self.task else self.node.id


@dataclass
class Condition:
    node: Node
    test: str
    then: list[Stmt]
    otherwise: list[Stmt] | None
    forbid_required_level: int | None
    user_level: str  # Python expression for the details of the 403


@dataclass
class ScopeCheck:
    scope: str
    binds_user: bool  # no earlier node narrowed the user: check it here (401 first)


@dataclass
class Emit:
    node: Node
    channel: str
    event: str
    data: str


@dataclass
class Respond:
    node: Node
    status: int
    body: str


@dataclass
class Stream:
    node: Node
    channel: str
    on_connect: str
    retry_ms: int | None
    timeout_ms: int | None
    held_by: tuple[str, str] | None  # (table, Python expression of the key) of the created row


@dataclass
class Reuse:
    """A primary-key lookup of a row an earlier statement of this execution already holds."""

    query: Query
    source: str  # the local holding that row

    @property
    def node(self) -> Node:
        return self.query.node


@dataclass
class Parallel:
    node: Node
    tasks: list[Query | Reuse]


@dataclass
class Log:
    node: Node
    message: str


Stmt = Validate | Query | Condition | ScopeCheck | Emit | Respond | Stream | Parallel | Log | Reuse


def walk(stmts: list[Stmt]) -> Iterator[Stmt]:
    """Every statement, nested ones included, in execution order."""
    for s in stmts:
        yield s
        if isinstance(s, Query):
            yield from walk(s.body)
        elif isinstance(s, Condition):
            yield from walk(s.then)
            yield from walk(s.otherwise or [])
        elif isinstance(s, Parallel):
            yield from walk(list(s.tasks))


@dataclass
class InputField:
    name: str
    type: Type
    required: bool
    description: str
    from_path: bool


@dataclass
class Plan:
    workflow: Workflow
    graph: Graph
    inputs: list[InputField]
    body: list[Stmt]
    checks_user: bool

    @property
    def statements(self) -> dict[str, str]:
        """SQL constants by name, as the statements of the plan use them."""
        out: dict[str, str] = {}
        for s in walk(self.body):
            if isinstance(s, Query):
                out[s.sql_name] = s.sql
                if s.existing_sql_name and s.existing_sql:
                    out[s.existing_sql_name] = s.existing_sql
        return dict(sorted(out.items()))

    @property
    def not_found(self) -> tuple[str, str] | None:
        """The first 404 the workflow can answer (what a caller from another tenant sees)."""
        for s in walk(self.body):
            if isinstance(s, Query) and s.not_found is not None:
                return s.not_found
        return None

    @property
    def schedule_tenants(self) -> tuple[str, dict[str, object]] | None:
        """For a scheduled workflow that starts by reading rows with a constant filter, the
        query of the tenants that have such rows: a scheduled run is for each of them."""
        first = next((s for s in self.body if isinstance(s, Query)), None)
        if first is None or first.kind != "many":
            return None
        tenant = first.entity.fields["tenantId"].column
        params: dict[str, object] = {}
        for name, value in first.params:
            if name == f"f_{tenant}" or not name.startswith("f_"):
                continue
            try:
                params[name] = ast.literal_eval(value)
            except ValueError:
                return None
        cond = " AND ".join(f"{p[2:]} = :{p}" for p in params) or "1 = 1"
        return (
            f"SELECT DISTINCT {tenant} AS tenant FROM {first.entity.table} WHERE {cond} "
            f"ORDER BY {tenant}",
            params,
        )

    @property
    def writes(self) -> bool:
        return any(
            isinstance(s, Query) and s.kind in ("create", "update", "delete")
            for s in walk(self.body)
        )

    @property
    def fan_out(self) -> bool:
        return any(isinstance(s, Query) and s.kind == "many" for s in walk(self.body))

    @property
    def returns(self) -> str:
        """ "stream", "json" when every path answers with http_response, else "ok"."""
        kinds = {type(s) for s in walk(self.body)}
        if Stream in kinds:
            return "stream"
        return "json" if Respond in kinds else "ok"


# ----------------------------------------------------------------------------- helpers


def _py(node: ast.expr) -> str:
    return ast.unparse(ast.fix_missing_locations(node))


Parts = list[str | jsast.Expr]  # literal text and parsed expressions of one string


class Planner:
    def __init__(
        self, wf: Workflow, graph: Graph, entities: dict[str, Entity], diags: Diagnostics
    ) -> None:
        self.wf = wf
        self.graph = graph
        self.entities = entities
        self.diags = diags
        self.json_fields: dict[str, InputField] = {}
        self.step_reads: set[str] = set()  # "node" and "node.tasks.task" read through $steps
        self.steps: dict[str, StepInfo] = {}
        self.user_narrowed_by: str | None = None
        self.translator: Translator | None = None
        self.parsed: dict[int, Parts | None] = {}
        self.const_names: dict[str, str] = {}
        self.created: list[tuple[Entity, str]] = []  # (entity, local) of each create, in order
        self.scope_anchor: str | None = (
            None  # the node after which meta.permissions.required is checked
        )

    # ------------------------------------------------------------------ parsing (once per string)

    def parts(self, s: JString, node: Node | None) -> Parts | None:
        """The text and expressions of a parameter string; errors are reported once."""
        key = id(s)
        if key not in self.parsed:
            self.parsed[key] = self._parse(s, node)
        return self.parsed[key]

    def _parse(self, s: JString, node: Node | None) -> Parts | None:
        try:
            pieces = split_template(s.value)
            if pieces is None:
                return [s.value]
            out: Parts = []
            for p in pieces:
                if p.is_expr:
                    out.append(Parser(s.value[: p.offset + len(p.text)], p.offset).parse())
                elif p.text:
                    out.append(p.text)
            return out
        except ExpressionError as err:
            span = string_span(self.wf.source, s, err.start, err.end)
            self.diags.add(
                error_code(err),
                err.message,
                span,
                hint=err.hint,
                node_id=node.id if node else None,
            )
            return None

    def whole_expression(self, s: JString) -> jsast.Expr | None:
        """The expression when the string is exactly ``{{ expr }}`` (blank text aside)."""
        parts = self.parts(s, None)
        if parts is None:
            return None
        exprs = [p for p in parts if not isinstance(p, str)]
        if len(exprs) == 1 and all(not p.strip() for p in parts if isinstance(p, str)):
            return exprs[0]
        return None

    # ------------------------------------------------------------------ first pass

    def collect(self, value: JValue, node: Node, column_type: Type | None = None) -> None:
        """Which $json fields are read (with or without `?.`, and their types) and which $steps."""
        if isinstance(value, JString):
            whole = self.whole_expression(value)
            for p in self.parts(value, node) or []:
                if not isinstance(p, str):
                    self._walk(p, column_type if p is whole else None)
        elif isinstance(value, JObject):
            for _, v in value.entries:
                self.collect(v, node)
        elif isinstance(value, JArray):
            for v in value.items:
                self.collect(v, node)

    def _walk(self, e: jsast.Expr, expected: Type | None) -> None:
        if isinstance(e, jsast.Member) and isinstance(e.obj, jsast.Ident):
            key = (
                e.name
                if e.name is not None
                else (e.computed.value if isinstance(e.computed, jsast.Str) else None)
            )
            if e.obj.name == "$json" and key is not None:
                self.note_json(key, not e.optional, expected)
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
        for child in _children(e):
            self._walk(child, None)

    def note_json(self, name: str, required: bool, expected: Type | None) -> None:
        cur = self.json_fields.get(name)
        if cur is None:
            desc = self.wf.inputs.get(name, ("", None))[0]
            self.json_fields[name] = InputField(name, expected or ANY, required, desc, False)
            return
        cur.required = cur.required or required
        if cur.type == ANY and expected is not None:
            cur.type = expected

    def first_pass(self, nodes: list[Node]) -> None:
        for node in nodes:
            spec = node.spec
            if isinstance(spec, DatabaseSpec):
                self._collect_op(spec.op, node)
            elif isinstance(spec, OperationSpec):
                for t in spec.tasks:
                    self._collect_op(t.op, node)
            elif isinstance(spec, ValidateSpec):
                self.collect(spec.input, node)
            elif isinstance(spec, ConditionSpec):
                self.collect(spec.condition, node)
            elif isinstance(spec, ActionSpec):
                for v in (spec.body, spec.data, spec.on_connect, spec.message):
                    if v is not None:
                        self.collect(v, node)
                if spec.channel is not None:
                    self.collect(spec.channel, node, STR)
        for trig in self.wf.triggers:
            if isinstance(trig, HttpTrigger):
                for p in trig.params:
                    desc = self.wf.inputs.get(p, ("", None))[0]
                    self.json_fields[p] = InputField(p, STR, True, desc, True)

    def _collect_op(self, op: DbOp, node: Node) -> None:
        ent = self.entities.get(op.entity)
        for e in (*op.filter, *op.data):
            ct = column_type(ent, e.key) if ent and e.key in ent.fields else None
            self.collect(e.value, node, ct)

    # ------------------------------------------------------------------ translation

    def scope(self, node: Node) -> Scope:
        upstream = self.graph.upstream(node.id)
        narrowed: dict[tuple[str, ...], TExpr] = {}
        if self.user_narrowed_by in upstream:
            narrowed[("$context", "user")] = TExpr(ast.Name("user", ast.Load()), USER)
        return Scope(
            json=TExpr(
                ast.Name("json", ast.Load()),
                Record(
                    "Input",
                    "$json",
                    tuple(Field(f.name, f.type, f.required) for f in self.inputs()),
                ),
            ),
            context=TExpr(ast.Name("ctx", ast.Load()), CONTEXT),
            steps={nid: self.steps[nid] for nid in upstream if nid in self.steps},
            all_node_ids=frozenset(n.id for n in self.wf.nodes),
            current_node=node.id,
            narrowed=narrowed,
        )

    def inputs(self) -> list[InputField]:
        return sorted(self.json_fields.values(), key=lambda f: (not f.from_path, f.name))

    def translator_for(self, node: Node) -> Translator:
        scope = self.scope(node)
        if self.translator is None:
            self.translator = Translator(scope)
        self.translator.scope = scope
        return self.translator

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
                    span = string_span(self.wf.source, value, err.start, err.end)
                    self.diags.add(
                        error_code(err), err.message, span, hint=err.hint, node_id=node.id
                    )
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

    # ------------------------------------------------------------------ checks

    def is_context_tenant(self, value: JValue) -> bool:
        tree = self.whole_expression(value) if isinstance(value, JString) else None
        return _is_path(tree, "$context", "tenantId")

    def check_tenant(self, node: Node, op: DbOp, where: str) -> None:
        fix = '"tenantId": "{{ $context.tenantId }}"'
        if op.operation == "create":
            entry = next((e for e in op.data if e.key == "tenantId"), None)
            if entry is None:
                self.diags.add(
                    codes.TENANT_DATA_MISSING,
                    messages.TENANT_DATA_MISSING__CREATES_A_ROW_WITHOUT.format(where),
                    op.data_span or op.span,
                    node_id=node.id,
                    hint=messages.HINT__ADD_TO_DATA.format(fix),
                )
            elif not self.is_context_tenant(entry.value):
                self.diags.add(
                    codes.TENANT_DATA_NOT_CONTEXT,
                    messages.TENANT_DATA_NOT_CONTEXT__WRITES_TENANTID_FROM_SOMETHING.format(where),
                    entry.value.span,
                    node_id=node.id,
                    hint=messages.HINT__WRITE.format(fix),
                )
            return
        entry = next((e for e in op.filter if e.key == "tenantId"), None)
        if entry is None:
            self.diags.add(
                codes.TENANT_FILTER_MISSING,
                messages.TENANT_FILTER_MISSING__OF_DOES_NOT_FILTER.format(
                    where, op.operation, op.entity
                ),
                op.filter_span or op.span,
                node_id=node.id,
                hint=messages.HINT__ADD_TO_FILTER_WITHOUT.format(fix),
            )
        elif not self.is_context_tenant(entry.value):
            self.diags.add(
                codes.TENANT_FILTER_NOT_CONTEXT,
                messages.TENANT_FILTER_NOT_CONTEXT__FILTERS_TENANTID_ON_SOMETHING.format(where),
                entry.value.span,
                node_id=node.id,
                hint=messages.HINT__WRITE_THE_TENANT_COMES.format(fix),
            )
        if op.operation == "update":
            d = next((e for e in op.data if e.key == "tenantId"), None)
            if d is not None and not self.is_context_tenant(d.value):
                self.diags.add(
                    codes.TENANT_DATA_NOT_CONTEXT,
                    messages.TENANT_DATA_NOT_CONTEXT__WOULD_MOVE_ROWS_TO.format(where),
                    d.value.span,
                    node_id=node.id,
                    hint=messages.HINT__REMOVE_TENANTID_FROM_DATA,
                )

    def entity(self, op: DbOp, node: Node) -> Entity | None:
        ent = self.entities.get(op.entity)
        if ent is None:
            s = did_you_mean(op.entity, self.entities)
            self.diags.add(
                codes.UNKNOWN_ENTITY,
                messages.UNKNOWN_ENTITY__ENTITY_IS_NOT_DECLARED.format(op.entity),
                op.entity_span,
                node_id=node.id,
                hint=(
                    or_else(s, messages.HINT__DECLARED.format(", ".join(sorted(self.entities))))
                ),
            )
            return None
        ok = True
        for e in (*op.filter, *op.data):
            if e.key not in ent.fields:
                s = did_you_mean(e.key, ent.fields)
                self.diags.add(
                    codes.UNKNOWN_FIELD,
                    messages.UNKNOWN_FIELD__HAS_NO_FIELD.format(ent.name, e.key),
                    e.key_span,
                    node_id=node.id,
                    hint=(or_else(s, messages.HINT__FIELDS.format(", ".join(ent.fields)))),
                )
                ok = False
        return ent if ok else None

    # ------------------------------------------------------------------ planning

    def build(self) -> Plan | None:
        wf = self.wf
        nodes = [n for n in (wf.node(i) for i in self.graph.reachable) if n is not None]
        if any(n.spec is None for n in nodes):
            return None
        self.first_pass(nodes)
        if wf.tenant_id is not None and not self.is_context_tenant(wf.tenant_id):
            self.diags.add(
                codes.WORKFLOW_TENANT,
                messages.WORKFLOW_TENANT__THE_WORKFLOW_S_TENANTID.format(),
                wf.tenant_id.span,
                hint=messages.HINT__WRITE_TENANTID_CONTEXT_TENANTID.format(),
            )
        body: list[Stmt] = []
        if wf.permissions_required:
            # Checked after the first condition (so a too-low level answers AUTH_INSUFFICIENT_LEVEL
            # first, as the spec shows), else after the user is validated, else at the start.
            anchor = next((n for n in nodes if isinstance(n.spec, ConditionSpec)), None) or next(
                (
                    n
                    for n in nodes
                    if isinstance(n.spec, ValidateSpec) and _validates_user(self, n.spec)
                ),
                None,
            )
            self.scope_anchor = anchor.id if anchor else None
            if anchor is None:
                body.append(ScopeCheck(wf.permissions_required, binds_user=True))
        if self.graph.root:
            body += self.chain(self.graph.root)
        for name, (_, span) in wf.inputs.items():
            if name not in self.json_fields:
                self.diags.add(
                    codes.UNUSED_INPUT,
                    messages.UNUSED_INPUT__META_INPUTS_NAMES_WHICH.format(name),
                    span,
                    hint=(
                        messages.HINT__REMOVE_IT_OR_READ.format(name)
                        if name.isidentifier()
                        else messages.HINT__META_INPUTS_LISTS_INPUT
                    ),
                )
        body = reuse_rows(fuse_lookups(body), {})
        return Plan(wf, self.graph, self.inputs(), body, self.user_narrowed_by is not None)

    def chain(self, node_id: str) -> list[Stmt]:
        """The statements of ``node_id`` followed by everything downstream of it."""
        node = self.wf.node(node_id)
        assert node is not None
        outputs = self.graph.outputs.get(node_id, [])
        if isinstance(node.spec, ConditionSpec):
            return [self.condition(node, node.spec, outputs)]
        stmts = self.node_stmts(node)
        if node.id == self.scope_anchor and self.wf.permissions_required:
            stmts.append(
                ScopeCheck(self.wf.permissions_required, binds_user=self.user_narrowed_by is None)
            )
        downstream = [s for t in (outputs[0] if outputs else []) for s in self.chain(t)]
        if stmts and isinstance(stmts[-1], Query) and stmts[-1].kind == "many":
            stmts[-1].body.extend(downstream)  # n8n runs downstream nodes once per item
            return stmts
        return stmts + downstream

    def condition(self, node: Node, spec: ConditionSpec, outputs: list[list[str]]) -> Condition:
        test = self.value(spec.condition, node)
        tr = self.translator_for(node)
        narrowed = ("$context", "user") in tr.scope.narrowed
        self.steps[node.id] = StepInfo(node.id, TExpr(ast.Constant(True), BOOL))
        then: list[Stmt] = []
        if node.id == self.scope_anchor and self.wf.permissions_required:
            then.append(ScopeCheck(self.wf.permissions_required, binds_user=not narrowed))
        then += [s for t in (outputs[0] if outputs else []) for s in self.chain(t)]
        otherwise = (
            [s for t in outputs[1] for s in self.chain(t)]
            if len(outputs) > 1 and outputs[1]
            else None
        )
        level = 'user["level"]' if narrowed else 'ctx["user"]["level"] if "user" in ctx else None'
        return Condition(
            node,
            _py(tr.truthy(test)) if test is not None else "False",
            then,
            otherwise,
            self.wf.minimum_user_level,
            level,
        )

    def node_stmts(self, node: Node) -> list[Stmt]:
        spec = node.spec
        if isinstance(spec, ValidateSpec):
            return [self.validate(node, spec)]
        if isinstance(spec, DatabaseSpec):
            built = self.query(node, spec.op, local_name(node.id), f"node `{node.id}`")
            if built is None:
                return []
            q, out = built
            if out is not None:
                self.steps[node.id] = StepInfo(node.id, out)
            return [q]
        if isinstance(spec, OperationSpec):
            tasks: list[Query | Reuse] = []
            info = StepInfo(node.id, None)
            for t in spec.tasks:
                built = self.query(
                    node,
                    t.op,
                    local_name(f"{node.id}__{t.id}"),
                    f"task `{t.id}` of node `{node.id}`",
                    task=t.id,
                )
                if built is None:
                    continue
                tasks.append(built[0])
                if built[1] is not None:
                    info.tasks[t.id] = built[1]
            self.steps[node.id] = info
            return [Parallel(node, tasks)]
        if isinstance(spec, ActionSpec):
            return self.action(node, spec)
        return []

    def validate(self, node: Node, spec: ValidateSpec) -> Validate:
        tree = self.whole_expression(spec.input) if isinstance(spec.input, JString) else None
        on_user = _validates_user(self, spec)
        if on_user and self.user_narrowed_by is None and spec.validator == "required":
            self.user_narrowed_by = node.id
            self.steps[node.id] = StepInfo(node.id, TExpr(ast.Name("user", ast.Load()), USER))
            sub = (
                tree.name
                if isinstance(tree, jsast.Member) and _is_path(tree.obj, "$context", "user")
                else None
            )
            return Validate(
                node,
                f"user[{sub!r}]" if sub else "user",
                True,
                "AUTH_REQUIRED",
                spec.error_message or "User authentication required",
                None,
                spec.validator,
            )
        field_name = (
            tree.name if isinstance(tree, jsast.Member) and _is_path(tree.obj, "$json") else None
        )
        t = self.value(spec.input, node)
        code = _py(self.translator_for(node).box(t)) if t is not None else "None"
        self.steps[node.id] = StepInfo(node.id, t if t is not None and t.type != DATE else None)
        default = (
            "User authentication required"
            if on_user
            else (
                f"`{field_name}` is {'required' if spec.validator == 'required' else 'invalid'}"
                if field_name
                else "Validation failed"
            )
        )
        return Validate(
            node,
            code,
            False,
            "AUTH_REQUIRED" if on_user else "VALIDATION_FAILED",
            spec.error_message or default,
            field_name,
            spec.validator,
        )

    def const_name(self, key: str) -> str:
        """``SQL_<KEY>``, unique even when two node ids differ only in case."""
        base = "SQL_" + key.upper()
        name, n = base, 1
        while name in self.const_names and self.const_names[name] != key:
            n += 1
            name = f"{base}_{n}"
        self.const_names[name] = key
        return name

    def bind_entries(
        self,
        entries: list[Entry],
        prefix: str,
        ent: Entity,
        node: Node,
        params: list[tuple[str, str]],
    ) -> list[str] | None:
        """Translate filter or data values into SQL parameters; None after an error."""
        tr = self.translator_for(node)
        keys: list[str] = []
        ok = True
        for e in entries:
            t = self.value(e.value, node)
            if t is None:
                ok = False
                continue
            col = ent.fields[e.key]
            want = column_type(ent, e.key)
            if not _fits(t.type, want, col.nullable):
                self.diags.add(
                    codes.EXPRESSION_TYPE,
                    messages.EXPRESSION_TYPE__IS_A_FIELD_BUT.format(
                        ent.name, e.key, col.type, t.type
                    ),
                    e.value.span,
                    node_id=node.id,
                    hint=messages.HINT__GIVE_A_VALUE.format(
                        col.type,
                        " (write the literal without quotes)" if want in (BOOL, NUM) else "",
                    ),
                )
                ok = False
                continue
            params.append((f"{prefix}{col.column}", _py(_param_value(t, want, tr))))
            keys.append(e.key)
        return keys if ok else None

    def query(
        self, node: Node, op: DbOp, var: str, where: str, task: str | None = None
    ) -> tuple[Query, TExpr | None] | None:
        """The statement for one database operation, and the output later nodes may read."""
        self.check_tenant(node, op, where)
        ent = self.entity(op, node)
        if ent is None:
            return None
        params: list[tuple[str, str]] = []
        fkeys = self.bind_entries(op.filter, "f_", ent, node, params)
        dkeys = self.bind_entries(op.data, "d_", ent, node, params)
        if fkeys is None or dkeys is None:
            return None
        read = (f"{node.id}.tasks.{task}" if task else node.id) in self.step_reads
        name = self.const_name(node.id if task is None else f"{node.id}_{task}")
        unique = any(set(k) <= set(fkeys) for k in ent.unique_keys())
        decoder = f"{snake_case(ent.name)}_row"
        not_found = (f"{ent.label} not found", ent.not_found_code)
        row = TExpr(ast.Name(var, ast.Load()), row_type(ent))
        kind = op.operation
        if kind == "read" and unique:
            text = sql.select(ent, fkeys, lookup=True, need_row=read, limit=False, skip=False)
            q = Query(
                node,
                "lookup",
                ent,
                name,
                text,
                params,
                var if read else None,
                decoder if read else None,
                not_found,
                task=task,
            )
            return q, row if read else None
        if kind == "read":
            if op.limit is not None or op.skip is not None:
                params.append(("limit", str(op.limit if op.limit is not None else -1)))
            if op.skip is not None:
                params.append(("skip", str(op.skip)))
            text = sql.select(
                ent,
                fkeys,
                lookup=False,
                need_row=True,
                limit=op.limit is not None or op.skip is not None,
                skip=op.skip is not None,
            )
            return Query(node, "many", ent, name, text, params, var, decoder, None, task=task), row
        if kind == "count":
            q = Query(
                node, "count", ent, name, sql.count(ent, fkeys), params, var, None, None, task=task
            )
            return q, TExpr(ast.Name(var, ast.Load()), NUM)
        if kind == "create":
            return self.create(node, op, ent, name, params, dkeys, var, decoder, task, row)
        releases = kind == "delete" and unique
        returning = ("row" if read else "key" if releases else "found") if unique else "count"
        text = (
            sql.update(ent, fkeys, [ent.fields[k] for k in dkeys], returning)
            if kind == "update"
            else sql.delete(ent, fkeys, returning)
        )
        q = Query(
            node,
            kind,
            ent,
            name,
            text,
            params,
            var if read or not unique else None,
            decoder if unique and read else None,
            not_found if unique else None,
            task=task,
            release=(ent.fields[ent.primary_key].column if read else "key") if releases else None,
        )
        if not unique:
            return q, TExpr(ast.Name(var, ast.Load()), NUM)
        return q, row if read else None

    def create(
        self,
        node: Node,
        op: DbOp,
        ent: Entity,
        name: str,
        params: list[tuple[str, str]],
        dkeys: list[str],
        var: str,
        decoder: str,
        task: str | None,
        row: TExpr,
    ) -> tuple[Query, TExpr | None] | None:
        for f in ent.fields.values():
            if f.name in dkeys:
                continue
            if f.has_default and f.default in ("uuid", "now"):
                params.append(
                    (f"d_{f.column}", "new_id()" if f.default == "uuid" else "now_iso()")
                )
            elif not f.nullable and not f.has_default:
                self.diags.add(
                    codes.MISSING_PARAMETER,
                    messages.MISSING_PARAMETER__NODE_CREATES_WITHOUT_WHICH.format(
                        node.id, ent.name, f.name
                    ),
                    op.data_span or op.span,
                    node_id=node.id,
                    hint=messages.HINT__ADD_TO_DATA_2.format(f.name),
                )
                return None
        order = [f.column for f in ent.fields.values()]
        params.sort(key=lambda p: order.index(p[0][2:]))
        written = [f for f in ent.fields.values() if f"d_{f.column}" in dict(params)]
        # staticData.maxSubscriptionsPerUser bounds the rows a user holds in what this creates.
        limit = self.wf.static_data.get("maxSubscriptionsPerUser", (None, None))[0]
        per_user = ent.fields.get("userId") if "userId" in dkeys and "tenantId" in dkeys else None
        if not isinstance(limit, int) or isinstance(limit, bool):
            per_user = None
        q = Query(
            node,
            "create",
            ent,
            name,
            sql.insert(ent, written, per_user),
            params,
            var,
            decoder,
            None,
            task=task,
            per_user_limit=limit if per_user is not None and isinstance(limit, int) else None,
        )
        if per_user is not None:
            params.append(("max_rows", str(limit)))
            # Creates of one user are serialized so that the count and the insert cannot
            # interleave with another request's (PostgreSQL; SQLite serializes all writers).
            wanted = (f"d_{ent.fields['tenantId'].column}", f"d_{per_user.column}")
            q.serialize_on = [dict(params)[p] for p in wanted]
        self.created.append((ent, var))
        # A create that hits a unique key returns the existing row (an idempotent subscribe).
        natural = next(
            (k for k in ent.unique_keys() if k != (ent.primary_key,) and set(k) <= set(dkeys)),
            None,
        )
        if natural is not None:
            q.existing_sql_name = name + "_EXISTING"
            q.existing_sql = sql.select(
                ent, list(natural), lookup=True, need_row=True, limit=False, skip=False
            )
            cols = {ent.fields[k].column for k in natural}
            q.existing_params = [("f_" + p[2:], v) for p, v in params if p[2:] in cols]
        return q, row

    def action(self, node: Node, spec: ActionSpec) -> list[Stmt]:
        tr = self.translator_for(node)
        empty = TExpr(ast.Dict([], []), ANY)
        if spec.action == "http_response":
            body = self.value(spec.body, node) if spec.body is not None else empty
            return [Respond(node, spec.status, _py(tr.box(body)) if body else "None")]
        if spec.action == "log":
            msg = self.value(spec.message, node) if spec.message is not None else None
            return [Log(node, _py(tr.to_str(msg)) if msg else repr(node.name))]
        assert spec.channel is not None  # the model requires it for emit_event and sse_stream
        ch = self.value(spec.channel, node)
        channel = _py(tr.to_str(ch)) if ch else '""'
        if spec.action == "emit_event":
            data = self.value(spec.data, node) if spec.data is not None else empty
            self.steps[node.id] = StepInfo(node.id, None)
            return [Emit(node, channel, spec.event or "", _py(tr.box(data)) if data else "None")]
        on_connect = self.value(spec.on_connect, node) if spec.on_connect is not None else empty
        # The stream is held by the row this execution created last (the subscription):
        # deleting that row, in any workflow, closes the stream.
        held_by = None
        if self.created:
            ent, var = self.created[-1]
            held_by = (ent.table, f"{var}[{ent.primary_key!r}]")
        retry = self.wf.static_data.get("reconnectInterval", (None, None))[0]
        timeout = self.wf.static_data.get("subscriptionTimeout", (None, None))[0]
        return [
            Stream(
                node,
                channel,
                _py(tr.box(on_connect)) if on_connect else "None",
                retry if isinstance(retry, int) else None,
                timeout if isinstance(timeout, int) else None,
                held_by,
            )
        ]


# ----------------------------------------------------------------------------- passes


def reuse_rows(stmts: list[Stmt], rows: dict[str, Entity]) -> list[Stmt]:
    """Replace a lookup by primary key and tenant of a row already held with that row.

    ``rows`` maps locals holding decoded rows to their entity. Every read is filtered on the
    request's tenant (checked at compile time) and runs in the execution's transaction, so
    the held row is the row the lookup would return; it saves one query per item of a fan-out.
    """
    rows = dict(rows)
    out: list[Stmt] = []
    for s in stmts:
        if isinstance(s, Parallel):
            tasks = [
                Reuse(t, src) if isinstance(t, Query) and (src := _held_row(t, rows)) else t
                for t in s.tasks
            ]
            rows.update(
                {t.var: t.entity for t in tasks if isinstance(t, Query) and t.var and t.decoder}
            )
            out.append(replace(s, tasks=tasks))
            continue
        if isinstance(s, Query):
            source = _held_row(s, rows)
            if source is not None:
                out.append(Reuse(s, source))
                continue
            if s.var is not None and s.decoder is not None:
                rows[s.var] = s.entity
            if s.body:
                s = replace(s, body=reuse_rows(s.body, rows))
        elif isinstance(s, Condition):
            s = replace(
                s,
                then=reuse_rows(s.then, rows),
                otherwise=reuse_rows(s.otherwise, rows) if s.otherwise is not None else None,
            )
        out.append(s)
    return out


def _held_row(q: Query, rows: dict[str, Entity]) -> str | None:
    if q.kind != "lookup":
        return None
    pk = q.entity.fields[q.entity.primary_key]
    tenant = _py(ast.Subscript(ast.Name("ctx", ast.Load()), ast.Constant("tenantId"), ast.Load()))
    for var, ent in rows.items():
        key = _py(ast.Subscript(ast.Name(var, ast.Load()), ast.Constant(pk.name), ast.Load()))
        want = {(f"f_{pk.column}", key), ("f_tenant_id", tenant)}
        if ent is q.entity and set(q.params) == want:
            return var
    return None


def fuse_lookups(stmts: list[Stmt]) -> list[Stmt]:
    """Drop an existence lookup directly followed by an update or delete of the same row.

    Both filter the same entity on the same parameters and answer the same 404, and nothing
    runs between them, so the update's ``RETURNING`` already proves the row exists.
    """
    out: list[Stmt] = []
    fused: list[Node] = []
    for i, s in enumerate(stmts):
        nxt = stmts[i + 1] if i + 1 < len(stmts) else None
        if (
            isinstance(s, Query)
            and s.kind == "lookup"
            and s.var is None
            and isinstance(nxt, Query)
            and nxt.kind in ("update", "delete")
            and nxt.not_found == s.not_found
            and nxt.entity is s.entity
            and [p for p in nxt.params if p[0].startswith("f_")] == s.params
        ):
            fused.append(s.node)
            continue
        if isinstance(s, Query) and fused:
            s = replace(s, fused=[*s.fused, *fused])
            fused = []
        if isinstance(s, Query) and s.body:
            s = replace(s, body=fuse_lookups(s.body))
        elif isinstance(s, Condition):
            s = replace(
                s,
                then=fuse_lookups(s.then),
                otherwise=fuse_lookups(s.otherwise) if s.otherwise is not None else None,
            )
        out.append(s)
    return out


# ----------------------------------------------------------------------------- helpers


def column_type(ent: Entity, name: str) -> Type:
    return {"string": STR, "datetime": STR, "boolean": BOOL, "integer": NUM, "number": NUM}[
        ent.fields[name].type
    ]


def row_type(ent: Entity) -> Record:
    fields = []
    for f in ent.fields.values():
        t = column_type(ent, f.name)
        fields.append(Field(f.name, union(t, NULL) if f.nullable else t))
    return Record(ent.name, ent.label, tuple(fields))


def _fits(t: Type, want: Type, nullable: bool) -> bool:
    """Whether a value of type ``t`` may be stored in a column of type ``want``."""
    if t == ANY:
        return True
    return all(
        m == want or (m == DATE and want == STR) or (m == NULL and nullable) for m in members(t)
    )


def _param_value(t: TExpr, want: Type, tr: Translator) -> ast.expr:
    """The Python value bound to a SQL parameter."""
    if t.type == DATE:
        return ast.Call(
            ast.Attribute(ast.Name("js", ast.Load()), "iso_string", ast.Load()), [t.node], []
        )
    if t.type == ANY or isinstance(t.type, UnionT):
        fn = "sql_bool" if want == BOOL else "sql_number" if want == NUM else "sql_text"
        return ast.Call(ast.Name(fn, ast.Load()), [tr.box(t)], [])
    return t.node


def _validates_user(planner: Planner, spec: ValidateSpec) -> bool:
    tree = planner.whole_expression(spec.input) if isinstance(spec.input, JString) else None
    return _is_path(tree, "$context", "user") or (
        isinstance(tree, jsast.Member) and _is_path(tree.obj, "$context", "user")
    )


def _is_path(e: jsast.Expr | None, *names: str) -> bool:
    """Whether ``e`` is exactly ``names[0].names[1]...`` without optional chaining."""
    if e is None:
        return False
    if len(names) == 1:
        return isinstance(e, jsast.Ident) and e.name == names[0]
    return (
        isinstance(e, jsast.Member)
        and e.name == names[-1]
        and not e.optional
        and _is_path(e.obj, *names[:-1])
    )


def _children(e: jsast.Expr) -> list[jsast.Expr]:
    out: list[jsast.Expr] = []
    for v in vars(e).values():
        items = v if isinstance(v, tuple) else (v,)
        for x in items:
            if isinstance(x, tuple):  # object literal properties: (key, value)
                out.extend(y for y in x if not isinstance(y, str))
            elif hasattr(x, "start") and hasattr(x, "end"):
                out.append(x)
    return out


def plan_workflow(
    wf: Workflow, graph: Graph, entities: dict[str, Entity], diags: Diagnostics
) -> Plan | None:
    return Planner(wf, graph, entities, diags).build()
