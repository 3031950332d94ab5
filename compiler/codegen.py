"""Stage 8: render plans into Python modules (jinja2 skeletons, black formatting).

Templates receive finished values; the only logic here turns plan statements into lines.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import black
import jinja2

from compiler import names, sql
from compiler.expressions.types import BOOL, NUM, STR, python_type
from compiler.model import ActionSpec, DatabaseSpec, Entity, HttpTrigger, snake_case
from compiler.plan import (
    Condition,
    Emit,
    InputField,
    Log,
    Parallel,
    Plan,
    Query,
    Respond,
    Reuse,
    ScopeCheck,
    Stmt,
    Stream,
    Validate,
    walk,
)  # fmt: skip

_BLACK_MODE = black.Mode(target_versions={black.mode.TargetVersion.PY311}, line_length=99)
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)
_ENV.filters["pyrepr"] = repr


@functools.lru_cache(maxsize=512)
def format_python(source: str) -> str:
    """Black with pinned settings, independent of any user configuration (black dominates a
    compile, so identical renderings are formatted once per process)."""
    return black.format_str(source, mode=_BLACK_MODE)


# ----------------------------------------------------------------------------- statements


def _params(params: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{k!r}: {v}" for k, v in params) + "}"


def _header(label: str, node_type: str, detail: str) -> str:
    return f"# {label}: {node_type}" + (f" ({detail})" if detail else "")


def _recovering(s: Stmt, depth: int, out: list[str], counting: bool) -> None:
    """One step of a per-item loop under ``errorHandler: log``: a failure is recorded and the
    loop goes on with the next item."""
    assert isinstance(s, Query | Parallel)
    label = s.step if isinstance(s, Query) else s.node.id
    out.append("    " * depth + f"async with ex.recover({label!r}) as attempt:")
    _render([s], depth + 1, out, counting, recover=False)
    out.append("    " * depth + "if attempt.failed:")
    out.append("    " * (depth + 1) + "continue")


def _render(
    stmts: list[Stmt],
    depth: int,
    out: list[str],
    counting: bool,
    recover: bool = False,
    log_errors: bool = False,
) -> bool:
    """Append the statements' lines; True when the block always ends by returning or raising.

    ``recover``: the statements run once per item of a fan-out under ``errorHandler: log``.
    """

    def line(d: int, text: str) -> None:
        out.append("    " * d + text)

    def step(label: str) -> None:
        line(depth, f"ex.step({label!r})")

    for s in stmts:
        if recover and isinstance(s, Query | Parallel):
            if isinstance(s, Parallel):
                line(depth, _header(s.node.id, s.node.type, f"{len(s.tasks)} tasks"))
                for t in s.tasks:
                    if isinstance(t, Query):
                        _recovering(t, depth, out, counting)
                    else:
                        _render([t], depth, out, counting)
            else:
                _recovering(s, depth, out, counting)
            continue
        if isinstance(s, Validate):
            line(depth, _header(s.node.id, s.node.type, s.validator))
            step(s.node.id)
            if s.binds_user:
                line(depth, 'user = ctx.get("user")')
                line(
                    depth,
                    "if user is None" + ("" if s.value == "user" else f" or not {s.value}") + ":",
                )
                line(depth + 1, f"raise AuthRequired({s.message!r})")
            else:
                err = "AuthRequired" if s.status_code == "AUTH_REQUIRED" else "ValidationFailed"
                extra = f", field={s.field!r}" if s.field and err == "ValidationFailed" else ""
                line(depth, f"if not check_value({s.validator!r}, {s.value}):")
                line(depth + 1, f"raise {err}({s.message!r}{extra})")
        elif isinstance(s, Query):
            label = f"task {s.task}" if s.task else s.node.id
            detail = {
                "lookup": "lookup",
                "many": "for each row",
                "count": "count",
                "create": "create",
                "update": "update",
                "delete": "delete",
            }[s.kind]
            for f in s.fused:
                line(
                    depth,
                    _header(
                        f.id, f.type, f"lookup {s.entity.name}: answered by the {s.kind} below"
                    ),
                )
            line(depth, _header(label, s.node.type, f"{detail} {s.entity.name}"))
            step(s.step)
            call = _params(s.params)
            if s.kind == "many":
                line(depth, f"for item in await ex.fetch_all({s.sql_name}, {call}):")
                line(depth + 1, f"{s.var} = {s.decoder}(item)")
                log = recover or log_errors
                if (
                    not _render(
                        s.body, depth + 1, out, counting, recover=log, log_errors=log_errors
                    )
                    and counting
                ):
                    line(depth + 1, "items += 1")
            elif s.kind == "create":
                existing = f"{s.existing_sql_name or 'None'}, {_params(s.existing_params)}"
                if s.serialize_on:
                    line(
                        depth,
                        f"await ex.serialize({s.entity.table!r}, {', '.join(s.serialize_on)})",
                    )
                line(depth, f"row = await ex.create({s.sql_name}, {call}, {existing})")
                line(depth, "if row is None:")
                code = s.entity.not_found_code.replace("_NOT_FOUND", "")
                if s.per_user_limit is not None:
                    message = (
                        f"Limit reached: a user may hold at most {s.per_user_limit} "
                        f"{s.entity.label.lower()}s"
                    )
                    line(
                        depth + 1,
                        f"raise Conflict({message!r}, {code + '_LIMIT_REACHED'!r}, "
                        f"limit={s.per_user_limit})",
                    )
                else:
                    line(
                        depth + 1,
                        f"raise Conflict({s.entity.label + ' already exists'!r}, "
                        f"{code + '_CONFLICT'!r})",
                    )
                line(depth, f"{s.var} = {s.decoder}(row)")
            elif s.kind == "count":
                line(depth, f"row = await ex.fetch_one({s.sql_name}, {call})")
                line(depth, f'{s.var} = db_number(row["n"]) if row is not None else 0.0')
            elif s.not_found is None:  # update or delete by a non-unique filter: how many rows
                line(depth, f"{s.var} = float(len(await ex.fetch_all({s.sql_name}, {call})))")
            else:
                line(depth, f"row = await ex.fetch_one({s.sql_name}, {call})")
                line(depth, "if row is None:")
                line(depth + 1, f"raise NotFound({s.not_found[0]!r}, {s.not_found[1]!r})")
                if s.release is not None:
                    line(depth, f"ex.release({s.entity.table!r}, row[{s.release!r}])")
                if s.var is not None and s.decoder is not None:
                    line(depth, f"{s.var} = {s.decoder}(row)")
        elif isinstance(s, Condition):
            line(depth, _header(s.node.id, s.node.type, ""))
            step(s.node.id)
            if s.otherwise is None:
                line(depth, f"if not ({s.test}):")
                if s.forbid_required_level is not None:
                    line(
                        depth + 1,
                        f"raise insufficient_level({s.forbid_required_level}, {s.user_level})",
                    )
                else:
                    message = f"Condition {s.node.id} is not met"
                    line(depth + 1, f"raise Forbidden({message!r}, 'CONDITION_FAILED')")
                if _render(s.then, depth, out, counting, log_errors=log_errors, recover=recover):
                    return True
            else:
                line(depth, f"if {s.test}:")
                if not s.then:
                    line(depth + 1, "pass")
                then_ends = _render(
                    s.then, depth + 1, out, counting, log_errors=log_errors, recover=recover
                )
                line(depth, "else:")
                if (
                    _render(
                        s.otherwise,
                        depth + 1,
                        out,
                        counting,
                        log_errors=log_errors,
                        recover=recover,
                    )
                    and then_ends
                ):
                    return True
        elif isinstance(s, ScopeCheck):
            if s.binds_user:
                line(depth, 'user = ctx.get("user")')
                line(depth, "if user is None:")
                line(depth + 1, "raise AuthRequired('User authentication required')")
            line(depth, f'if {s.scope!r} not in user["scopes"]:')
            line(depth + 1, f"raise missing_scope({s.scope!r})")
        elif isinstance(s, Emit):
            line(depth, _header(s.node.id, s.node.type, f"emit {s.event}"))
            step(s.node.id)
            line(depth, f"ex.emit({s.channel}, {s.event!r}, {s.data})")
        elif isinstance(s, Respond):
            line(depth, _header(s.node.id, s.node.type, "http_response"))
            step(s.node.id)
            line(depth, f"return JsonResult({s.status}, {s.body})")
            return True
        elif isinstance(s, Stream):
            line(depth, _header(s.node.id, s.node.type, "sse_stream"))
            step(s.node.id)
            held = f"({s.held_by[0]!r}, {s.held_by[1]})" if s.held_by else "None"
            line(
                depth,
                f"return StreamResult({s.channel}, {s.on_connect}, {s.retry_ms}, "
                f"{s.timeout_ms}, {held})",
            )
            return True
        elif isinstance(s, Parallel):
            line(
                depth,
                _header(
                    s.node.id, s.node.type, f"{len(s.tasks)} tasks on the execution's connection"
                ),
            )
            _render(list(s.tasks), depth, out, counting, log_errors=log_errors)
        elif isinstance(s, Reuse):
            q = s.query
            label = f"task {q.task}" if q.task else q.node.id
            line(
                depth,
                _header(
                    label,
                    q.node.type,
                    f"lookup {q.entity.name}: the row `{s.source}` already holds",
                ),
            )
            step(q.step)
            if q.var is not None:
                line(depth, f"{q.var} = {s.source}")
        elif isinstance(s, Log):
            line(depth, _header(s.node.id, s.node.type, "log"))
            step(s.node.id)
            line(depth, f"ex.log({s.node.id!r}, {s.message})")
    return False


# ----------------------------------------------------------------------------- modules


def _input_annotation(f: InputField) -> str:
    t = python_type(f.type) if f.type in (STR, NUM, BOOL) else "object"
    return t if f.required else f"NotRequired[{t}]"


def _input_parser(f: InputField) -> str:
    if f.type == STR:
        return f"require_str(raw, {f.name!r})" if f.required else f"optional_str(raw, {f.name!r})"
    return f"require_value(raw, {f.name!r})" if f.required else f"optional_value(raw, {f.name!r})"


@dataclass(frozen=True)
class _InputView:
    name: str
    annotation: str
    parser: str
    required: bool


_STATIC_DATA_FIELDS = {
    "reconnectInterval": "reconnect_interval_ms", "subscriptionTimeout": "subscription_timeout_ms",
    "maxSubscriptionsPerUser": "max_subscriptions_per_user", "updateInterval": "update_interval_ms",
    "maxChannels": "max_channels",
}  # fmt: skip


def import_lines(source: str, package: str) -> list[str]:
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
        elif name.endswith("_row"):
            by_module.setdefault(f"generated.{package}.entities", set()).add(name)
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
    return [*sorted(std, key=order), "", *sorted(own, key=order)]


_STDLIB = frozenset({"collections", "datetime", "math", "typing"})


def _schedule_tenants(plan: Plan) -> str:
    if not any(not isinstance(t, HttpTrigger) for t in plan.workflow.triggers):
        return "None"
    query = plan.schedule_tenants
    return "None" if query is None else f"Query({query[0]!r}, {query[1]!r})"


def render_workflow(plan: Plan) -> str:
    wf = plan.workflow
    lines: list[str] = []
    counting = plan.returns == "ok" and plan.fan_out
    if counting:
        lines.append("    items = 0")
    ended = _render(plan.body, 1, lines, counting, log_errors=wf.settings.error_handler == "log")
    if not ended:
        lines.append("    # the workflow ends without an http_response node")
        lines.append(f"    return OkResult({'items' if counting else 'None'})")
    result_type = "JsonResult" if ended and plan.returns == "json" else "Result"
    triggers = []
    for t in wf.triggers:
        if isinstance(t, HttpTrigger):
            triggers.append(f"HttpTrigger({t.method!r}, {t.path!r})")
        else:
            every = wf.static_data.get("updateInterval", (t.every_ms, None))[0]
            triggers.append(f"ScheduleTrigger({every if isinstance(every, int) else t.every_ms})")
    st = wf.settings
    settings = (
        f"Settings({st.timezone!r}, {st.execution_timeout}, {st.save_execution_progress}, "
        f"{st.save_data_error_execution!r}, {st.save_data_success_execution!r}, {st.error_handler!r})"
    )
    static = (
        "StaticData("
        + ", ".join(
            f"{_STATIC_DATA_FIELDS[k]}={v!r}"
            for k, (v, _) in sorted(wf.static_data.items())
            if k in _STATIC_DATA_FIELDS and isinstance(v, int)
        )
        + ")"
    )
    order: list[str] = []
    for s in walk(plan.body):
        for node in [*(s.fused if isinstance(s, Query) else []), getattr(s, "node", None)]:
            if node is not None and node.id not in order:
                order.append(node.id)

    def render(imports: list[str]) -> str:
        return _ENV.get_template("workflow.py.j2").render(
            source=wf.path, name=wf.name, id=wf.id, version_id=wf.version_id, description=wf.description,
            node_list=", ".join(order) or "none", imports=imports, active=wf.active,
            triggers=triggers, settings=settings, static_data=static, checks_user=plan.checks_user, writes=plan.writes, body_inputs=tuple(f.name for f in plan.inputs if not f.from_path), not_found=plan.not_found, schedule_tenants=_schedule_tenants(plan),
            permissions_required=wf.permissions_required, minimum_user_level=wf.minimum_user_level,
            tags=tuple(wf.tags), statements=list(plan.statements.items()),
            inputs=[_InputView(f.name, _input_annotation(f), _input_parser(f), f.required) for f in plan.inputs],
            result_type=result_type, body="\n".join(lines),
        )  # fmt: skip

    return format_python(render(import_lines(render([]), wf.package)))


_DECODE = {
    "string": "db_text",
    "datetime": "db_text",
    "boolean": "db_bool",
    "integer": "db_number",
    "number": "db_number",
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
            }[f.type]
            decode = _DECODE[f.type] + ("_or_none" if f.nullable else "")
            decoders.add(decode)
            fields.append(
                {
                    "name": f.name,
                    "annotation": f"{base} | None" if f.nullable else base,
                    "decode": decode,
                    "column": f.column,
                    "type": f.type,
                }
            )
        views.append(
            {
                "name": e.name,
                "label": e.label,
                "description": e.description,
                "table": e.table,
                "decoder": f"{snake_case(e.name)}_row",
                "fields": fields,
                "primary_key": e.primary_key,
            }
        )
    ordered = sorted(entities.values(), key=lambda x: x.name)
    text = _ENV.get_template("entities.py.j2").render(
        package=package, source=source, entities=views, decoders=sorted(decoders),
        ddl_sqlite=[s for e in ordered for s in sql.ddl(e, "sqlite")],
        ddl_postgresql=[s for e in ordered for s in sql.ddl(e, "postgresql")],
        tenant_tables=[e.table for e in ordered if "tenantId" in e.fields],
    )  # fmt: skip
    return format_python(text)


def render_registry(modules: list[tuple[str, str]]) -> str:
    mods = [{"package": p, "module": m, "alias": f"{p}_{m}"} for p, m in sorted(modules)]
    packages = sorted({p for p, _ in modules})
    return format_python(
        _ENV.get_template("registry.py.j2").render(modules=mods, packages=packages)
    )


def render_package_init(package: str) -> str:
    return f'# Code generated by the workflow compiler. DO NOT EDIT.\n"""Compiled workflows of `{package}`."""\n'


# ----------------------------------------------------------------------------- pictures


def render_mermaid(plan: Plan) -> str:
    """A Markdown page with a Mermaid flowchart of the node graph, for reviewers."""
    wf = plan.workflow
    triggers = ", ".join(
        f"`{t.method} {t.path}`" if isinstance(t, HttpTrigger) else f"`SCHEDULED:{t.text}`"
        for t in wf.triggers
    )
    lines = [
        "<!-- Code generated by the workflow compiler. DO NOT EDIT. -->",
        f"# {wf.name}",
        "",
        f"`{wf.id}` {wf.version_id} from `{wf.path}`"
        + ("" if wf.active else " (inactive: served only with `--include-inactive`)"),
        "",
        f"Triggers: {triggers or 'none'}",
        "",
        "```mermaid",
        "flowchart TD",
    ]
    tenant_nodes = sorted(
        {
            s.node.id
            for s in walk(plan.body)
            if isinstance(s, Query)
            and any(k in ("f_tenant_id", "d_tenant_id") for k, _ in s.params)
        }
    )
    for node in wf.nodes:
        label = f"{node.id}<br/><small>{node.short_type}"
        if isinstance(node.spec, DatabaseSpec):
            label += f": {node.spec.op.operation} {node.spec.op.entity}"
        elif isinstance(node.spec, ActionSpec):
            label += f": {node.spec.action}"
        if node.id in tenant_nodes:
            label += "<br/>tenant-filtered"
        label += "</small>"
        shape = ("{", "}") if node.type == "metabuilder.condition" else ("[", "]")
        lines.append(f'    {node.id}{shape[0]}"{label}"{shape[1]}')
    for src, branches in plan.graph.outputs.items():
        is_condition = getattr(wf.node(src), "type", "") == "metabuilder.condition"
        for bi, targets in enumerate(branches):
            arrow = ("-- true -->" if bi == 0 else "-- false -->") if is_condition else "-->"
            lines += [f"    {src} {arrow} {t}" for t in targets]
    if tenant_nodes:
        lines.append("    classDef tenant stroke:#2b8a3e,stroke-width:2px")
        lines.append(f"    class {','.join(tenant_nodes)} tenant")
    lines += ["```", ""]
    return "\n".join(lines)
