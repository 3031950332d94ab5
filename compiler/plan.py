"""Stages 5-7: bind expressions, check the workflow, and build its execution plan.

The plan is the ordered list of operations a handler performs, with every expression
already translated to Python source and every SQL statement written out. Codegen renders
it and decides nothing. Because the plan sees the whole workflow, it can choose the cheaper
statement (an existence check selects ``1`` when no node reads the row).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Union

from compiler import codes, sql
from compiler.diagnostics import Diagnostics, Span
from compiler.expressions import ast as jsast
from compiler.expressions.parser import ExpressionError, Parser, error_code
from compiler.expressions.template import split_template, whole_expression
from compiler.expressions.translate import Scope, StepInfo, TExpr, Translator
from compiler.expressions.types import (
    ANY, BOOL, CONTEXT, DATE, NULL, NUM, STR, UNDEF, USER, Field, Record, Type, UnionT, members, union,
)  # fmt: skip
from compiler.graph import Graph
from compiler.load import JArray, JBool, JNull, JNumber, JObject, JString, JValue, string_span
from compiler.model import (
    ActionSpec, ConditionSpec, DatabaseSpec, DbOp, Entity, Node, OperationSpec, ValidateSpec, Workflow,
)  # fmt: skip
from compiler.suggest import did_you_mean

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
    var: str | None  # the local holding the output
    decoder: str | None
    not_found: tuple[str, str] | None  # (message, code)
    existing_sql_name: str | None = None
    existing_sql: str | None = None
    existing_params: list[tuple[str, str]] = field(default_factory=list)
    body: list[Stmt] = field(default_factory=list)
    task: str | None = None


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


@dataclass
class Parallel:
    node: Node
    tasks: list[Query]


@dataclass
class Log:
    node: Node
    message: str


Stmt = Union[Validate, Query, Condition, ScopeCheck, Emit, Respond, Stream, Parallel, Log]


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
    inputs: list[InputField]
    body: list[Stmt]
    statements: dict[str, str]  # SQL constant name -> SQL
    returns: str  # "stream", "json" or "ok"
    fan_out: bool
    needs_user: bool
    imports: set[str]
    checks_user: bool


# ----------------------------------------------------------------------------- helpers


def _py(node: ast.expr) -> str:
    return ast.unparse(ast.fix_missing_locations(node))


def _const_name(node_id: str, suffix: str = "") -> str:
    return "SQL_" + node_id.upper() + (("_" + suffix.upper()) if suffix else "")


@dataclass
class _Expr:
    """An expression found in a parameter string."""

    tree: jsast.Expr
    string: JString
    offset: int


class Planner:
    def __init__(self, wf: Workflow, graph: Graph, entities: dict[str, Entity], diags: Diagnostics) -> None:
        self.wf = wf
        self.graph = graph
        self.entities = entities
        self.diags = diags
        self.statements: dict[str, str] = {}
        self.imports: set[str] = set()
        self.json_fields: dict[str, InputField] = {}
        self.steps: dict[str, StepInfo] = {}
        self.user_narrowed_by: str | None = None
        self.used_outputs: set[str] = set()
        self.translator: Translator | None = None
        self.fan_out = False
        self.scope_checked = False

    # ------------------------------------------------------------------ diagnostics

    def expr_error(self, err: ExpressionError, s: JString, offset: int, node: Node | None) -> None:
        span = string_span(self.wf.source, s, offset + err.start, offset + err.end)
        self.diags.add(error_code(err), err.message, span, hint=err.hint, node_id=node.id if node else None)

    # ------------------------------------------------------------------ expression discovery

    def parse_string(self, s: JString, node: Node | None) -> list[tuple[str, _Expr | str]] | None:
        try:
            pieces = split_template(s.value)
        except ExpressionError as err:
            self.expr_error(err, s, 0, node)
            return None
        if pieces is None:
            return [("text", s.value)]
        out: list[tuple[str, _Expr | str]] = []
        for p in pieces:
            if not p.is_expr:
                out.append(("text", p.text))
                continue
            try:
                parser = Parser(s.value[: p.offset + len(p.text)], p.offset)
                tree = parser.parse()
            except ExpressionError as err:
                self.expr_error(err, s, 0, node)
                return None
            out.append(("expr", _Expr(tree, s, 0)))
        return out

    def collect_json_reads(self, value: JValue, node: Node, column_type: Type | None = None) -> None:
        """First pass: which $json fields are read, with or without `?.`, and their types."""
        if isinstance(value, JString):
            parts = self.parse_string(value, node)
            if parts is None:
                return
            whole = len(parts) == 1 and parts[0][0] == "expr"
            for kind, item in parts:
                if kind == "expr":
                    assert isinstance(item, _Expr)
                    self._walk_json(item.tree, column_type if whole else None, False)
        elif isinstance(value, JObject):
            for _, v in value.entries:
                self.collect_json_reads(v, node)
        elif isinstance(value, JArray):
            for v in value.items:
                self.collect_json_reads(v, node)

    def _walk_json(self, e: jsast.Expr, expected: Type | None, optional_ctx: bool) -> None:
        if isinstance(e, jsast.Member) and isinstance(e.obj, jsast.Ident) and e.obj.name == "$json":
            key = e.name if e.name is not None else (e.computed.value if isinstance(e.computed, jsast.Str) else None)
            if key is not None:
                self.note_json(key, not e.optional, expected)
                if e.computed is not None:
                    self._walk_json(e.computed, None, False)
                return
        if isinstance(e, jsast.Binary) and e.op in ("===", "!==", "==", "!="):
            # `$json.x === 'a'` suggests nothing about x's declared type; walk both sides.
            pass
        for child in _children(e):
            self._walk_json(child, None, optional_ctx)

    def note_json(self, name: str, required: bool, expected: Type | None) -> None:
        cur = self.json_fields.get(name)
        desc = self.wf.inputs.get(name, ("", None))[0]
        t = expected or ANY
        if cur is None:
            self.json_fields[name] = InputField(name, t, required, desc, False)
            return
        cur.required = cur.required or required
        if cur.type == ANY and expected is not None:
            cur.type = expected

    # ------------------------------------------------------------------ translation

    def scope(self, node: Node) -> Scope:
        steps = {nid: self.steps[nid] for nid in self.graph.upstream(node.id) if nid in self.steps}
        narrowed: dict[tuple[str, ...], TExpr] = {}
        if self.user_narrowed_by is not None and self.user_narrowed_by in self.graph.upstream(node.id):
            narrowed[("$context", "user")] = TExpr(ast.Name("user", ast.Load()), USER)
        return Scope(
            json=TExpr(ast.Name("json", ast.Load()), self.input_record()),
            context=TExpr(ast.Name("ctx", ast.Load()), CONTEXT),
            steps=steps,
            all_node_ids=frozenset(n.id for n in self.wf.nodes),
            current_node=node.id,
            narrowed=narrowed,
        )

    def input_record(self) -> Record:
        fields = tuple(Field(f.name, f.type, f.required) for f in self.inputs())
        return Record("Input", "$json", fields)

    def inputs(self) -> list[InputField]:
        return sorted(self.json_fields.values(), key=lambda f: (not f.from_path, f.name))

    def translator_for(self, node: Node) -> Translator:
        assert self.translator is not None
        self.translator.scope = self.scope(node)
        return self.translator

    def value(self, value: JValue, node: Node) -> TExpr | None:
        """Translate a parameter value (a JSON tree whose strings may hold expressions)."""
        if isinstance(value, JString):
            parts = self.parse_string(value, node)
            if parts is None:
                return None
            tr = self.translator_for(node)
            if len(parts) == 1 and parts[0][0] == "text":
                return TExpr(ast.Constant(value.value), STR)
            exprs: list[TExpr] = []
            nodes: list[ast.expr] = []
            whole = len([p for p in parts if p[0] == "expr"]) == 1 and all(
                p[0] == "expr" or not str(p[1]).strip() for p in parts)
            for kind, item in parts:
                if kind == "text":
                    if not whole and item:
                        nodes.append(ast.Constant(str(item)))
                    continue
                assert isinstance(item, _Expr)
                try:
                    t = tr.translate(item.tree)
                except ExpressionError as err:
                    self.expr_error(err, value, 0, node)
                    return None
                self.note_uses(item.tree)
                exprs.append(t)
                nodes.append(tr.to_str(t))
            self.imports |= tr.imports
            if whole:
                return exprs[0]
            out = nodes[0]
            for n in nodes[1:]:
                out = ast.BinOp(out, ast.Add(), n)
            return TExpr(out, STR)
        if isinstance(value, JObject):
            keys: list[ast.expr | None] = []
            vals: list[ast.expr] = []
            for k, v in value.entries:
                item_t = self.value(v, node)
                if item_t is None:
                    return None
                keys.append(ast.Constant(k.value))
                vals.append(self.translator_for(node).box(item_t))
            return TExpr(ast.Dict(keys, vals), ANY)
        if isinstance(value, JArray):
            items: list[ast.expr] = []
            for v in value.items:
                item_t = self.value(v, node)
                if item_t is None:
                    return None
                items.append(self.translator_for(node).box(item_t))
            return TExpr(ast.List(items, ast.Load()), ANY)
        if isinstance(value, JNumber):
            return TExpr(ast.Constant(float(value.value)), NUM)
        if isinstance(value, JBool):
            return TExpr(ast.Constant(value.value), BOOL)
        assert isinstance(value, JNull)
        return TExpr(ast.Constant(None), ANY)

    def note_uses(self, tree: jsast.Expr) -> None:
        if isinstance(tree, jsast.Member) and isinstance(tree.obj, jsast.Ident) and tree.obj.name == "$steps":
            if tree.name:
                self.used_outputs.add(tree.name)
        for c in _children(tree):
            self.note_uses(c)

    # ------------------------------------------------------------------ checks

    def is_context_tenant(self, value: JValue) -> bool:
        if not isinstance(value, JString):
            return False
        parts = self.parse_string_quiet(value)
        if parts is None or len(parts) != 1:
            return False
        tree = parts[0]
        return (isinstance(tree, jsast.Member) and tree.name == "tenantId" and not tree.optional
                and isinstance(tree.obj, jsast.Ident) and tree.obj.name == "$context")

    def parse_string_quiet(self, s: JString) -> list[jsast.Expr] | None:
        try:
            pieces = split_template(s.value)
            if pieces is None:
                return None
            whole = whole_expression(pieces)
            if whole is None:
                return None
            return [Parser(s.value[: whole.offset + len(whole.text)], whole.offset).parse()]
        except ExpressionError:
            return None

    def check_tenant(self, node: Node, op: DbOp, where: str) -> None:
        fix = '"tenantId": "{{ $context.tenantId }}"'
        if op.operation == "create":
            entry = next((e for e in op.data if e.key == "tenantId"), None)
            if entry is None:
                self.diags.add(codes.TENANT_DATA_MISSING, f"{where} creates a row without writing tenantId",
                               op.data_span or op.span, node_id=node.id, hint=f"add {fix} to `data`")
            elif not self.is_context_tenant(entry.value):
                self.diags.add(codes.TENANT_DATA_NOT_CONTEXT,
                               f"{where} writes tenantId from something other than $context.tenantId",
                               entry.value.span, node_id=node.id, hint=f"write {fix}")
            return
        entry = next((e for e in op.filter if e.key == "tenantId"), None)
        if entry is None:
            self.diags.add(codes.TENANT_FILTER_MISSING,
                           f"{where} ({op.operation} of {op.entity}) does not filter on tenantId",
                           op.filter_span or op.span, node_id=node.id,
                           hint=f"add {fix} to `filter`; without it the operation reaches every tenant's rows")
        elif not self.is_context_tenant(entry.value):
            self.diags.add(codes.TENANT_FILTER_NOT_CONTEXT,
                           f"{where} filters tenantId on something other than exactly $context.tenantId",
                           entry.value.span, node_id=node.id,
                           hint=f"write {fix}; the tenant comes from the authenticated request, never from input")
        if op.operation == "update":
            d = next((e for e in op.data if e.key == "tenantId"), None)
            if d is not None and not self.is_context_tenant(d.value):
                self.diags.add(codes.TENANT_DATA_NOT_CONTEXT, f"{where} would move rows to another tenant",
                               d.value.span, node_id=node.id, hint="remove tenantId from `data`")

    def entity(self, op: DbOp, node: Node) -> Entity | None:
        ent = self.entities.get(op.entity)
        if ent is None:
            s = did_you_mean(op.entity, self.entities)
            self.diags.add(codes.UNKNOWN_ENTITY, f"entity `{op.entity}` is not declared in entities.json",
                           op.entity_span, node_id=node.id,
                           hint=f"did you mean `{s}`?" if s else "declared: " + ", ".join(sorted(self.entities)))
            return None
        ok = True
        for entries in (op.filter, op.data):
            for e in entries:
                if e.key not in ent.fields:
                    s = did_you_mean(e.key, ent.fields)
                    self.diags.add(codes.UNKNOWN_FIELD, f"{ent.name} has no field `{e.key}`", e.key_span,
                                   node_id=node.id,
                                   hint=f"did you mean `{s}`?" if s else "fields: " + ", ".join(ent.fields))
                    ok = False
        return ent if ok else None

    # ------------------------------------------------------------------ planning

    def column_type(self, ent: Entity, name: str) -> Type:
        f = ent.fields[name]
        base: Type = {"string": STR, "datetime": STR, "boolean": BOOL, "integer": NUM, "number": NUM}[f.type]
        return base

    def row_type(self, ent: Entity) -> Record:
        fields = []
        for f in ent.fields.values():
            t = self.column_type(ent, f.name)
            fields.append(Field(f.name, union(t, NULL) if f.nullable else t))
        return Record(ent.name, ent.label, tuple(fields))

    def first_pass(self, order: list[Node]) -> None:
        for node in order:
            spec = node.spec
            if isinstance(spec, DatabaseSpec):
                self._collect_op(spec.op, node)
            elif isinstance(spec, OperationSpec):
                for t in spec.tasks:
                    self._collect_op(t.op, node)
            elif isinstance(spec, ValidateSpec):
                self.collect_json_reads(spec.input, node)
            elif isinstance(spec, ConditionSpec):
                self.collect_json_reads(spec.condition, node)
            elif isinstance(spec, ActionSpec):
                for v in (spec.body, spec.data, spec.channel, spec.on_connect, spec.message):
                    if v is not None:
                        self.collect_json_reads(v, node, STR if v is spec.channel else None)
        for trig in self.wf.triggers:
            for p in getattr(trig, "params", ()):
                f = self.json_fields.get(p)
                desc = self.wf.inputs.get(p, ("", None))[0]
                self.json_fields[p] = InputField(p, STR, True, desc, True) if f is None else InputField(
                    p, STR, True, f.description, True)

    def _collect_op(self, op: DbOp, node: Node) -> None:
        ent = self.entities.get(op.entity)
        for e in (*op.filter, *op.data):
            ct = self.column_type(ent, e.key) if ent and e.key in ent.fields else None
            self.collect_json_reads(e.value, node, ct)

    def build(self) -> Plan | None:
        wf = self.wf
        order = [wf.node(i) for i in self.graph.reachable]
        nodes = [n for n in order if n is not None]
        if any(n.spec is None for n in nodes):
            return None
        self.first_pass(nodes)
        self.translator = Translator(self.scope(nodes[0]) if nodes else Scope(
            TExpr(ast.Name("json", ast.Load()), ANY), TExpr(ast.Name("ctx", ast.Load()), CONTEXT), {}))
        if wf.tenant_id is not None and not self.is_context_tenant(wf.tenant_id):
            self.diags.add(codes.WORKFLOW_TENANT, "the workflow's tenantId is not {{ $context.tenantId }}",
                           wf.tenant_id.span, hint='write "tenantId": "{{ $context.tenantId }}"')
        body = self.chain(self.graph.root) if self.graph.root else []
        returns = _returns(body)
        for name, (desc, span) in wf.inputs.items():
            if name not in self.json_fields:
                self.diags.add(codes.UNUSED_INPUT, f"meta.inputs names `{name}`, which no node reads", span,
                               hint="remove it, or read it as `$json." + name + "`" if name.isidentifier()
                               else "meta.inputs lists input fields; this entry is not one")
        return Plan(wf, self.inputs(), body, dict(sorted(self.statements.items())), returns,
                    self.fan_out, self.user_narrowed_by is not None, self.imports,
                    self.user_narrowed_by is not None)

    def chain(self, node_id: str) -> list[Stmt]:
        """The statements of ``node_id`` followed by everything downstream of it."""
        node = self.wf.node(node_id)
        assert node is not None
        outputs = self.graph.outputs.get(node_id, [])
        main = outputs[0] if outputs else []
        rest: list[Stmt]
        spec = node.spec
        if isinstance(spec, ConditionSpec):
            return [self.condition(node, spec, outputs)]
        stmts = self.node_stmts(node)
        if stmts and isinstance(stmts[-1], Query) and stmts[-1].kind == "many":
            q = stmts[-1]
            for t in main:
                q.body.extend(self.chain(t))
            return stmts
        if stmts and isinstance(stmts[-1], Validate) and stmts[-1].binds_user and self.wf.permissions_required \
                and not any(isinstance(self.wf.node(n).spec, ConditionSpec) for n in self.graph.reachable  # type: ignore[union-attr]
                            if self.wf.node(n) is not None):
            stmts.append(ScopeCheck(self.wf.permissions_required))
            self.scope_checked = True
        rest = []
        for t in main:
            rest.extend(self.chain(t))
        return stmts + rest

    def condition(self, node: Node, spec: ConditionSpec, outputs: list[list[str]]) -> Condition:
        test = self.value(spec.condition, node)
        then: list[Stmt] = []
        if self.wf.permissions_required and not self.scope_checked:
            then.append(ScopeCheck(self.wf.permissions_required))
            self.scope_checked = True
        for t in outputs[0] if outputs else []:
            then.extend(self.chain(t))
        otherwise: list[Stmt] | None = None
        if len(outputs) > 1 and outputs[1]:
            otherwise = []
            for t in outputs[1]:
                otherwise.extend(self.chain(t))
        tr = self.translator_for(node)
        test_code = _py(tr.truthy(test)) if test is not None else "False"
        level = "None"
        if self.user_narrowed_by is not None:
            level = 'user["level"]'
        else:
            level = 'ctx["user"]["level"] if "user" in ctx else None'
        self.steps[node.id] = StepInfo(node.id, TExpr(ast.Name("True", ast.Load()), BOOL))
        return Condition(node, test_code, then, otherwise, self.wf.minimum_user_level, level)

    def node_stmts(self, node: Node) -> list[Stmt]:
        spec = node.spec
        if isinstance(spec, ValidateSpec):
            return [self.validate(node, spec)]
        if isinstance(spec, DatabaseSpec):
            q = self.query(node, spec.op, node.id, f"node `{node.id}`")
            return [q] if q else []
        if isinstance(spec, OperationSpec):
            tasks: list[Query] = []
            info = StepInfo(node.id, None)
            for t in spec.tasks:
                q = self.query(node, t.op, f"{node.id}__{t.id}", f"task `{t.id}` of node `{node.id}`", task=t.id)
                if q is None:
                    continue
                tasks.append(q)
                if q.var is not None:
                    info.tasks[t.id] = self.steps.pop(f"{node.id}__{t.id}").output  # type: ignore[assignment]
            self.steps[node.id] = info
            return [Parallel(node, tasks)]
        if isinstance(spec, ActionSpec):
            return self.action(node, spec)
        return []

    def validate(self, node: Node, spec: ValidateSpec) -> Validate:
        target = spec.input
        trees = self.parse_string_quiet(target) if isinstance(target, JString) else None
        tree = trees[0] if trees else None
        on_user = _is_path(tree, "$context", "user") or (
            isinstance(tree, jsast.Member) and _is_path(tree.obj, "$context", "user"))
        field_name = None
        if isinstance(tree, jsast.Member) and isinstance(tree.obj, jsast.Ident) and tree.obj.name == "$json":
            field_name = tree.name
        if on_user:
            if self.user_narrowed_by is None and spec.validator == "required":
                self.user_narrowed_by = node.id
                self.steps[node.id] = StepInfo(node.id, TExpr(ast.Name("user", ast.Load()), USER))
                sub = tree.name if isinstance(tree, jsast.Member) and _is_path(tree.obj, "$context", "user") else None
                value = f'user[{sub!r}]' if sub else "user"
                return Validate(node, value, True, "AUTH_REQUIRED",
                                spec.error_message or "User authentication required", None, spec.validator)
        t = self.value(target, node)
        code = _py(self.translator_for(node).box(t)) if t is not None else "None"
        self.steps[node.id] = StepInfo(node.id, t if t is not None and t.type != DATE else None)
        status = "AUTH_REQUIRED" if on_user else "VALIDATION_FAILED"
        default = "User authentication required" if on_user else (
            f"`{field_name}` is {'required' if spec.validator == 'required' else 'invalid'}" if field_name
            else "Validation failed")
        return Validate(node, code, False, status, spec.error_message or default, field_name, spec.validator)

    def query(self, node: Node, op: DbOp, var: str, where: str, task: str | None = None) -> Query | None:
        self.check_tenant(node, op, where)
        ent = self.entity(op, node)
        if ent is None:
            return None
        tr = self.translator_for(node)
        params: list[tuple[str, str]] = []
        ok = True

        def bind(entries: list, prefix: str) -> list[str]:  # type: ignore[type-arg]
            nonlocal ok
            keys: list[str] = []
            for e in entries:
                t = self.value(e.value, node)
                if t is None:
                    ok = False
                    continue
                col = ent.fields[e.key]
                want = self.column_type(ent, e.key)
                if not _fits(t.type, want, col.nullable):
                    self.diags.add(codes.EXPRESSION_TYPE,
                                   f"{ent.name}.{e.key} is a {col.type} field, but this value is {t.type}",
                                   e.value.span, node_id=node.id,
                                   hint=f"give a {col.type} value" + (" (write the literal without quotes)"
                                                                      if want in (BOOL, NUM) else ""))
                    ok = False
                    continue
                code = _py(_param_value(t, want, tr))
                params.append((f"{prefix}{col.column}", code))
                keys.append(e.key)
            return keys

        fkeys = bind(op.filter, "f_")
        data_entries = op.data
        dkeys = bind(data_entries, "d_")
        if not ok:
            return None
        name = _const_name(node.id if task is None else f"{node.id}_{task}")
        unique = any(set(k) <= set(fkeys) for k in ent.unique_keys())
        row_t = self.row_type(ent)
        decoder = f"{_snake(ent.name)}_row"
        not_found = (f"{ent.label} not found", ent.not_found_code)
        kind = op.operation
        output_used = True  # refined below for lookups
        if kind == "read" and unique:
            need = self._output_read_later(node, f"{node.id}.tasks.{task}" if task else var)
            self.statements[name] = sql.select(ent, fkeys, lookup=True, need_row=need, limit=False, skip=False)
            q = Query(node, "lookup", ent, name, self.statements[name], params, var if need else None,
                      decoder if need else None, not_found, task=task)
            output_used = need
        elif kind == "read":
            self.fan_out = True
            if op.limit is not None:
                params.append(("limit", str(op.limit)))
            if op.skip is not None:
                params.append(("skip", str(op.skip)))
                if op.limit is None:
                    params.append(("limit", "-1"))
            self.statements[name] = sql.select(ent, fkeys, lookup=False, need_row=True,
                                               limit=op.limit is not None, skip=op.skip is not None)
            q = Query(node, "many", ent, name, self.statements[name], params, var, decoder, None, task=task)
        elif kind == "count":
            self.statements[name] = sql.count(ent, fkeys)
            q = Query(node, "count", ent, name, self.statements[name], params, var, None, None, task=task)
        elif kind == "create":
            fields = [ent.fields[k] for k in dkeys]
            for f in ent.fields.values():
                if f.name not in dkeys and f.has_default and f.default in ("uuid", "now"):
                    params.append((f"d_{f.column}", "new_id()" if f.default == "uuid" else "now_iso()"))
                    self.imports.add(f"gen_{f.default}")
                    fields.append(f)
                elif f.name not in dkeys and not f.nullable and not f.has_default:
                    self.diags.add(codes.MISSING_PARAMETER,
                                   f"node `{node.id}` creates {ent.name} without `{f.name}`, which has no default",
                                   op.data_span or op.span, node_id=node.id, hint=f"add `{f.name}` to `data`")
                    return None
            order = {f.name: i for i, f in enumerate(ent.fields.values())}
            fields.sort(key=lambda f: order[f.name])
            params.sort(key=lambda p: [f.column for f in fields].index(p[0][2:]) if p[0].startswith("d_") else -1)
            self.statements[name] = sql.insert(ent, fields)
            q = Query(node, "create", ent, name, self.statements[name], params, var, decoder, None, task=task)
            natural = next((k for k in ent.unique_keys() if k != (ent.primary_key,) and set(k) <= set(dkeys)), None)
            if natural is not None:
                ename = name + "_EXISTING"
                self.statements[ename] = sql.select(ent, list(natural), lookup=True, need_row=True,
                                                    limit=False, skip=False)
                q.existing_sql_name, q.existing_sql = ename, self.statements[ename]
                q.existing_params = [("f_" + p[0][2:], p[1]) for p in params if p[0][2:] in
                                     [ent.fields[k].column for k in natural]]
        elif kind == "update":
            self.statements[name] = sql.update(ent, fkeys, [ent.fields[k] for k in dkeys], returning=unique)
            q = Query(node, "update", ent, name, self.statements[name], params, var if unique else var,
                      decoder if unique else None, not_found if unique else None, task=task)
        else:  # delete
            self.statements[name] = sql.delete(ent, fkeys, returning=unique)
            q = Query(node, "delete", ent, name, self.statements[name], params, var,
                      decoder if unique else None, not_found if unique else None, task=task)
        if q.kind in ("update", "delete", "create") and q.decoder is not None and not self._output_read_later(
                node, f"{node.id}.tasks.{task}" if task else var):
            if q.kind != "create":
                q.var, q.decoder = None, None
        out_t: Type
        if q.kind in ("lookup", "many", "create") or (q.kind in ("update", "delete") and unique):
            out_t = row_t
        else:
            out_t = NUM
        if output_used and q.var is not None:
            self.steps[var] = StepInfo(var, TExpr(ast.Name(var, ast.Load()), out_t))
        elif q.var is None:
            self.steps.pop(var, None)
        return q

    def _output_read_later(self, node: Node, var: str) -> bool:
        """Whether any node downstream reads ``$steps.<var>``."""
        for n in self.wf.nodes:
            if n.id != node.id and f"$steps.{var}" in _param_text(n.parameters):
                return True
        return False

    def action(self, node: Node, spec: ActionSpec) -> list[Stmt]:
        tr = self.translator_for(node)
        if spec.action == "http_response":
            body = self.value(spec.body, node) if spec.body is not None else TExpr(ast.Dict([], []), ANY)
            return [Respond(node, spec.status, _py(tr.box(body)) if body else "None")]
        if spec.action == "emit_event":
            assert spec.channel is not None
            ch = self.value(spec.channel, node)
            data = self.value(spec.data, node) if spec.data is not None else TExpr(ast.Dict([], []), ANY)
            self.steps[node.id] = StepInfo(node.id, None)
            return [Emit(node, _py(tr.to_str(ch)) if ch else '""', spec.event or "", _py(tr.box(data)) if data else "None")]
        if spec.action == "sse_stream":
            assert spec.channel is not None
            ch = self.value(spec.channel, node)
            oc = self.value(spec.on_connect, node) if spec.on_connect is not None else TExpr(ast.Dict([], []), ANY)
            retry = self.wf.static_data.get("reconnectInterval", (None, None))[0]
            timeout = self.wf.static_data.get("subscriptionTimeout", (None, None))[0]
            return [Stream(node, _py(tr.to_str(ch)) if ch else '""', _py(tr.box(oc)) if oc else "None",
                           retry if isinstance(retry, int) else None, timeout if isinstance(timeout, int) else None)]
        msg = self.value(spec.message, node) if spec.message is not None else None
        return [Log(node, _py(tr.to_str(msg)) if msg else repr(node.name))]


def _fits(t: Type, want: Type, nullable: bool) -> bool:
    if t == ANY:
        return True
    for m in members(t):
        if m == want or (m == DATE and want == STR):
            continue
        if m == NULL and nullable:
            continue
        if m in (NULL, UNDEF):
            return False
        return False
    return True


def _param_value(t: TExpr, want: Type, tr: Translator) -> ast.expr:
    """The Python value bound to a SQL parameter."""
    if t.type == DATE:
        return ast.Call(ast.Attribute(ast.Name("js", ast.Load()), "iso_string", ast.Load()), [t.node], [])
    if t.type == ANY or isinstance(t.type, UnionT):
        fn = "sql_bool" if want == BOOL else "sql_number" if want == NUM else "sql_text"
        return ast.Call(ast.Name(fn, ast.Load()), [tr.box(t)], [])
    return t.node


def _returns(body: list[Stmt]) -> str:
    kinds: set[str] = set()

    def visit(stmts: list[Stmt]) -> None:
        for s in stmts:
            if isinstance(s, Respond):
                kinds.add("json")
            elif isinstance(s, Stream):
                kinds.add("stream")
            elif isinstance(s, Condition):
                visit(s.then)
                visit(s.otherwise or [])
            elif isinstance(s, Query):
                visit(s.body)

    visit(body)
    if "stream" in kinds:
        return "stream"
    return "json" if kinds == {"json"} else "ok"


def _snake(name: str) -> str:
    from compiler.model import snake_case

    return snake_case(name)


def _is_path(e: jsast.Expr | None, *names: str) -> bool:
    if e is None:
        return False
    if len(names) == 1:
        return isinstance(e, jsast.Ident) and e.name == names[0]
    return isinstance(e, jsast.Member) and e.name == names[-1] and not e.optional and _is_path(e.obj, *names[:-1])


def _children(e: jsast.Expr) -> list[jsast.Expr]:
    out: list[jsast.Expr] = []
    for v in vars(e).values():
        if isinstance(v, tuple):
            for x in v:
                if isinstance(x, tuple):
                    out.extend(y for y in x if not isinstance(y, (str, int, float)))
                elif not isinstance(x, (str, int, float)):
                    out.append(x)
        elif hasattr(v, "start") and hasattr(v, "end") and not isinstance(v, (str, int, float)):
            out.append(v)
    return out


def _param_text(v: JValue) -> str:
    if isinstance(v, JString):
        return v.value
    if isinstance(v, JObject):
        return " ".join(_param_text(x) for _, x in v.entries)
    if isinstance(v, JArray):
        return " ".join(_param_text(x) for x in v.items)
    return ""


def plan_workflow(wf: Workflow, graph: Graph, entities: dict[str, Entity], diags: Diagnostics) -> Plan | None:
    return Planner(wf, graph, entities, diags).build()


__all__ = ["Plan", "Planner", "Span", "plan_workflow"]
