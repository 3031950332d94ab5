"""Stage 8: render plans into Python modules (jinja2 skeletons, black formatting).

Templates receive finished values; the only logic here turns plan statements into lines.
Every ``{{ }}`` of a template must yield :class:`~compiler.escape.Code`: text from the input
reaches a template only through a context filter (``py``, ``comment``, ``docstring``,
``identifier``), and a value that skipped one fails the render instead of landing in a module.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import jinja2

from compiler import escape, formatting, names, sql
from compiler.emit import Emitter
from compiler.escape import Code
from compiler.expressions.types import (
    BOOL,
    NUM,
    STR,
    ArrayOf,
    MapOf,
    Record,
    Type,
    UnionT,
    python_type,
)  # fmt: skip
from compiler.ir import ForEach, InputField, Lookup, Plan, Rows, RowWrite, Sql, walk
from compiler.model import STATIC_DATA_KEYS, Entity, HttpTrigger, snake_case
from compiler.onestatement import one_statement


def _only_code(value: object) -> Code:
    """Jinja's ``finalize``: what a ``{{ }}`` prints must be code, never raw text."""
    if isinstance(value, Code):
        return value
    raise TypeError(f"template value {value!r} was not escaped for its context")


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
    finalize=_only_code,
)
_ENV.filters.update(
    py=escape.literal,
    comment=escape.comment,
    docstring=escape.docstring,
    identifier=escape.identifier,
)


def format_python(source: str) -> str:
    """One module in black's style (:mod:`compiler.formatting`), independent of any user
    configuration."""
    return formatting.format_modules([source])[0]


# ----------------------------------------------------------------------------- modules


def _input_annotation(f: InputField) -> Code:
    t = python_type(f.type) if f.type in (STR, NUM, BOOL) else "object"
    return Code(t if f.required else f"NotRequired[{t}]")


def _input_parser(f: InputField) -> Code:
    if f.type in (NUM, BOOL):  # present (an optional one is parsed only when it is there)
        fn = "require_number" if f.type == NUM else "require_bool"
        return Code(f"{fn}(raw, {escape.literal(f.name)})")
    if f.type == STR and not f.required:  # parsed only when present: any string
        return Code(f"present_str(raw, {escape.literal(f.name)})")
    kind = "str" if f.type == STR else "value"
    fn = f"require_{kind}" if f.required else f"optional_{kind}"
    return Code(f"{fn}(raw, {escape.literal(f.name)})")


@dataclass(frozen=True)
class _InputView:
    name: str
    annotation: Code
    parser: Code
    required: bool


def _row_types(plan: Plan) -> set[str]:
    """The entity TypedDicts the module's own TypedDicts name (``list[Item]``)."""
    own = {r.py_name for r in plan.records}
    found: set[str] = set()

    def visit(t: Type) -> None:
        if isinstance(t, Record):
            if t.py_name not in own:
                found.add(t.py_name)
            for f in t.fields:
                visit(f.type)
        elif isinstance(t, ArrayOf):
            visit(t.elem)
        elif isinstance(t, MapOf):
            visit(t.value)
        elif isinstance(t, UnionT):
            for m in t.members:
                visit(m)

    for r in plan.records:
        visit(r)
    return found


def import_lines(source: str, package: str, rows: frozenset[str] = frozenset()) -> list[str]:
    """The imports a module needs: every name it reads that :data:`names.IMPORTS` knows, and the
    row decoders of its package, grouped standard library first."""
    used = {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    by_module: dict[str, set[str]] = {}
    plain: set[str] = set()
    for name in used:
        if name in names.IMPORTS:
            module = names.IMPORTS[name]
            if module is None:
                plain.add(name)
            else:
                by_module.setdefault(module, set()).add(name)
        elif name.endswith("_row") or name in rows:
            by_module.setdefault(".entities", set()).add(name)
    std = [f"import {n}" for n in plain] + [
        f"from {m} import {', '.join(sorted(ns))}"
        for m, ns in by_module.items()
        if m.split(".")[0] in _STDLIB
    ]
    own = [
        f"from {m} import {', '.join(sorted(ns))}"
        for m, ns in by_module.items()
        if m.split(".")[0] not in _STDLIB
    ]
    order = lambda line: line.split()[1]  # noqa: E731
    mine = [line for line in own if line.startswith("from .")]
    others = [line for line in own if not line.startswith("from .")]
    relative = ["", *sorted(mine, key=order)] if mine else []
    return [*sorted(std, key=order), "", *sorted(others, key=order), *relative]


_STDLIB = frozenset({"collections", "datetime", "math", "typing"})
_IMPORTS_HERE = "# imports"  # the line of the template that the module's imports replace


def _constants(plan: Plan) -> list[tuple[str, object]]:
    """The module's SQL constants, each statement's PostgreSQL spelling beside it where it
    has one, and the sort allow-lists of the statements that sort by an expression."""
    out: list[tuple[str, object]] = []
    for q in plan.sql():
        out.append((q.name, q.sql))
        if q.postgres is not None:
            out.append((q.name + "_PG", q.postgres))
        if q.order is not None:
            out.append((q.order.name, dict(q.order.columns)))
        if q.filter is not None:
            out.append((q.filter.name, {f: (c, k) for f, c, k in q.filter.columns}))
    return out + plan.constants


def _schedule_tenants(plan: Plan) -> Code:
    if not any(not isinstance(t, HttpTrigger) for t in plan.workflow.triggers):
        return Code("None")
    query = plan.schedule_tenants
    if query is None:
        return Code("None")
    return Code(f"Query({escape.literal(query[0])}, {escape.literal(query[1])})")


def render_workflow(plan: Plan) -> str:
    """The workflow's module, formatted."""
    return format_python(render_workflow_source(plan))


def render_workflow_source(plan: Plan) -> str:
    """The workflow's module as rendered, before black formats it."""
    wf = plan.workflow
    counting = plan.returns == "ok" and plan.fan_out
    em = Emitter(counting, log_errors=wf.settings.error_handler == "log")
    if counting:
        em.line(1, "items = 0")
    ended = em.block(plan.body, 1)
    lines = em.lines
    if not ended:
        lines.append("    # the workflow ends without an http_response node")
        lines.append(f"    return OkResult({'items' if counting else 'None'})")
    result_type = Code("JsonResult" if ended and plan.returns == "json" else "Result")
    triggers = []
    for t in wf.triggers:
        if isinstance(t, HttpTrigger):
            args = f"{escape.literal(t.method)}, {escape.literal(t.path)}"
            triggers.append(Code(f"HttpTrigger({args})"))
        elif t.cron is not None:
            triggers.append(Code(f"ScheduleTrigger(cron={escape.literal(t.cron)})"))
        else:
            every = wf.static_data.get("updateInterval", (t.every_ms, None))[0]
            period = every if isinstance(every, int) else t.every_ms
            triggers.append(Code(f"ScheduleTrigger({escape.literal(period)})"))
    st = wf.settings
    settings = Code(
        "Settings("
        + ", ".join(
            escape.literal(v)
            for v in (
                st.timezone, st.execution_timeout, st.save_execution_progress,
                st.save_data_error_execution, st.save_data_success_execution, st.error_handler,
            )
        )
        + ")"
    )  # fmt: skip
    static = {k: v for k, (v, _) in sorted(wf.static_data.items()) if k in STATIC_DATA_KEYS}
    order: list[str] = []
    for s in walk(plan.body):
        for node in [*(s.fused if isinstance(s, RowWrite) else []), s.node]:
            if node.id not in order:
                order.append(node.id)
    not_found = plan.not_found
    constants = _constants(plan)
    required = frozenset(f.name for f in plan.inputs if f.required)
    single = one_statement("\n".join(lines), dict(constants), required)

    text = _ENV.get_template("workflow.py.j2").render(
        source=wf.path, name=wf.name, id=wf.id, version_id=wf.version_id, description=wf.description,
            node_list=", ".join(order) or "none", imports=Code(_IMPORTS_HERE), active=wf.active,
            triggers=triggers, settings=settings, static_data=static, checks_user=plan.checks_user, writes=plan.writes, body_inputs=tuple(f.name for f in plan.inputs if not f.from_path), not_found=(not_found.message, not_found.code) if not_found else None, schedule_tenants=_schedule_tenants(plan),
            permissions_required=wf.permissions_required, minimum_user_level=wf.minimum_user_level,
            auth_required=plan.auth_required, streams=plan.streams,
            tags=tuple(wf.tags), statements=constants, one_statement=single,
            inputs=[_InputView(f.name, _input_annotation(f), _input_parser(f), f.required) for f in plan.inputs],
            result_type=result_type, body=Code("\n".join(lines)),
            records=[(r.py_name, [(f.name, Code(python_type(f.type))) for f in r.fields]) for r in plan.records],
    )  # fmt: skip
    # Rendered once: the imports are the names the rendered module reads. The marker's line
    # is the last one at column 0 (text from the workflow stands before it, in the docstring).
    head, marker, tail = text.rpartition(f"\n{_IMPORTS_HERE}\n")
    assert marker, "the workflow template lost its imports line"
    imports = "\n".join(import_lines(text, wf.package, frozenset(_row_types(plan))))
    return f"{head}\n{imports}\n{tail}"


_DECODE = {
    "string": "db_text",
    "datetime": "db_text",
    "boolean": "db_bool",
    "integer": "db_number",
    "number": "db_number",
    "bigint": "db_number",
    "json": "db_json",
}


def render_entities(package: str, source: str, entities: dict[str, Entity]) -> str:
    views = []
    decoders: set[str] = set()
    for e in sorted(entities.values(), key=lambda x: x.name):
        fields = []
        for f in e.fields.values():
            base = {
                "string": "str",
                "datetime": "str",
                "boolean": "bool",
                "integer": "float",
                "number": "float",
                "bigint": "float",
                "json": "object",
            }[f.type]
            decode = _DECODE[f.type] + ("_or_none" if f.nullable else "")
            decoders.add(decode)
            fields.append(
                {
                    "name": f.name,
                    "annotation": Code(f"{base} | None" if f.nullable else base),
                    "decode": escape.identifier(decode),
                    "column": f.column,
                    "sql_column": escape.sql_identifier(f.column),
                    "type": f.type,
                }
            )
        views.append(
            {
                "name": e.name,
                "label": e.label,
                "description": e.description,
                "table": e.table,
                "sql_table": escape.sql_identifier(e.table),
                "decoder": f"{snake_case(e.name)}_row",
                "fields": fields,
                "primary_key": e.primary_key,
                # A field that is no Python name (a keyword: `from`) needs TypedDict's call form.
                "class_syntax": all(escape.is_identifier(f.name) for f in e.fields.values()),
            }
        )
    ordered = sorted(entities.values(), key=lambda x: x.name)
    text = _ENV.get_template("entities.py.j2").render(
        package=package, source=source, entities=views, decoders=sorted(decoders),
        ddl_sqlite=[s for e in ordered for s in sql.ddl(e, "sqlite")],
        ddl_postgresql=[s for e in ordered for s in sql.ddl(e, "postgresql")],
        tenant_selects=[sql.tenant_select(e) for e in ordered if "tenantId" in e.fields],
    )  # fmt: skip
    return format_python(text)


def render_registry(modules: list[tuple[str, str]]) -> str:
    """The registry module, written directly in black's style (no formatter pass: it lists
    every workflow, and formatting a thousand lines costs a second on each compile)."""
    names_ = names.Allocator()
    mods = [(p, m, names_.take(f"{p}_{m}")) for p, m in sorted(modules)]
    packages = [(p, names_.take(f"{p}_entities")) for p in sorted({p for p, _ in modules})]
    lines = [
        "# Code generated by the workflow compiler. DO NOT EDIT.",
        '"""Every compiled workflow and every package\'s DDL, for the runtime."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Final",
        "",
        "from runtime.workflow import CompiledWorkflow, EntityTable",
        "",
    ]
    imports = [(p, m, a) for p, m, a in mods] + [(p, "entities", a) for p, a in packages]
    for package, module, alias in imports:
        head = f"from .{escape.identifier(package)} import "
        item = f"{escape.identifier(module)} as {escape.identifier(alias)}"
        if len(head) + len(item) <= _LINE:
            lines.append(head + item)
        else:
            lines += [head + "(", f"    {item},", ")"]
    lines.append("")
    lines += _tuple(
        "WORKFLOWS: Final[tuple[CompiledWorkflow, ...]]",
        [f"{escape.identifier(a)}.COMPILED" for _, _, a in mods],
    )
    for name, kind in (
        ("DDL_SQLITE", "str"),
        ("DDL_POSTGRESQL", "str"),
        ("ENTITIES", "EntityTable"),
        ("TENANT_SELECTS", "str"),
    ):
        lines += _tuple(
            f"{name}: Final[tuple[{kind}, ...]]",
            [f"*{escape.identifier(a)}.{name}" for _, a in packages],
        )
    return "\n".join(lines) + "\n"


_LINE = 99


def _tuple(target: str, items: list[str]) -> list[str]:
    """``target = (a, b)`` as black writes it: on one line when it fits (one item keeps its
    comma), else one item a line."""
    if not items:
        return [f"{target} = ()"]
    one = f"{target} = ({', '.join(items)}{',' if len(items) == 1 else ''})"
    if len(one) <= _LINE and len(items) == 1:
        return [one]
    return [f"{target} = (", *(f"    {i}," for i in items), ")"]


def render_package_init(package: str) -> str:
    doc = escape.docstring(f"Compiled workflows of `{package}`.")
    return f'# Code generated by the workflow compiler. DO NOT EDIT.\n"""{doc}"""\n'


# ----------------------------------------------------------------------------- pictures


# How a read's result is used, in the picture: one row, a fan-out, or one list.
_SHAPES: dict[type, str] = {
    Lookup: "one row (404 when missing)",
    ForEach: "fan-out: the nodes after it run once per row",
    Rows: "the list of rows",
}


def render_mermaid(plan: Plan) -> str:
    """A Markdown page with a Mermaid flowchart of the node graph, for reviewers."""
    wf = plan.workflow
    md, code = escape.markdown, escape.markdown_code
    triggers = ", ".join(
        (
            f"`{code(t.method)} {code(t.path)}`"
            if isinstance(t, HttpTrigger)
            else f"`SCHEDULED:{code(t.text)}`"
        )
        for t in wf.triggers
    )
    lines = [
        "<!-- Code generated by the workflow compiler. DO NOT EDIT. -->",
        f"# {md(wf.name)}",
        "",
        f"`{code(wf.id)}` {md(wf.version_id)} from `{code(wf.path)}`"
        + ("" if wf.active else " (inactive: served only with `--include-inactive`)"),
        "",
        f"Triggers: {triggers or 'none'}",
        "",
        "```mermaid",
        "flowchart TD",
    ]
    tenant_nodes = sorted(plan.tenant_nodes())
    shapes: dict[str, list[str]] = {}
    for st in walk(plan.body):
        if isinstance(st, Sql) and type(st) in _SHAPES:
            shapes.setdefault(st.node.id, []).append(_SHAPES[type(st)])
    for node in wf.nodes:
        label = f"{node.id}<br/><small>{node.short_type}"
        detail = escape.markdown(node.spec.label()) if node.spec is not None else ""
        if detail:
            label += f": {detail}"
        for shape_text in dict.fromkeys(shapes.get(node.id, [])):
            label += f"<br/>{shape_text}"
        if node.id in tenant_nodes:
            label += "<br/>tenant-filtered"
        label += "</small>"
        branches = node.kind.outputs if node.kind is not None else ("main",)
        shape = ("{", "}") if len(branches) > 1 else ("[", "]")
        lines.append(f'    {node.id}{shape[0]}"{label}"{shape[1]}')
    for src, targets_by_branch in plan.graph.outputs.items():
        kind = getattr(wf.node(src), "kind", None)
        names_ = kind.outputs if kind is not None else ("main",)
        for bi, targets in enumerate(targets_by_branch):
            arrow = f"-- {names_[bi]} -->" if len(names_) > 1 and bi < len(names_) else "-->"
            lines += [f"    {src} {arrow} {t}" for t in targets]
    if tenant_nodes:
        lines.append("    classDef tenant stroke:#2b8a3e,stroke-width:2px")
        lines.append(f"    class {','.join(tenant_nodes)} tenant")
    lines += ["```", ""]
    return "\n".join(lines)
