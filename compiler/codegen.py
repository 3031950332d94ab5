"""Stage 8: render plans into Python modules (jinja2 skeletons, black formatting).

Templates receive finished values; the only logic here turns plan statements into lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import black
import jinja2

from compiler import sql
from compiler.expressions.types import ANY, BOOL, NUM, STR, python_type
from compiler.model import Entity, HttpTrigger, ScheduleTrigger, Workflow, snake_case
from compiler.plan import (
    Condition, Emit, InputField, Log, Parallel, Plan, Query, Respond, ScopeCheck, Stmt, Stream, Validate,
)  # fmt: skip

_BLACK_MODE = black.Mode(target_versions={black.mode.TargetVersion.PY311}, line_length=99)
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)
_ENV.filters["pyrepr"] = repr


def format_python(source: str) -> str:
    """Black with pinned settings, independent of any user configuration."""
    return black.format_str(source, mode=_BLACK_MODE)


# ----------------------------------------------------------------------------- statements


class _Emitter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.uses: set[str] = set()

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)
        for name in ("js.", "AuthRequired", "ValidationFailed", "Forbidden", "NotFound", "insufficient_level",
                     "missing_scope", "JsonResult", "StreamResult", "OkResult", "math.", "datetime.",
                     "new_id()", "now_iso()", "sql_text", "sql_bool", "sql_number", "db_number", "check_value"):
            if name in text:
                self.uses.add(name.rstrip(".()"))
        for m in re.finditer(r"\b([a-z_]+_row)\(", text):
            self.uses.add("row:" + m.group(1))


def _params(params: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{k!r}: {v}" for k, v in params) + "}"


def _header(stmt_node_id: str, node_type: str, detail: str) -> str:
    return f"# {stmt_node_id}: {node_type}" + (f" ({detail})" if detail else "")


def _render(stmts: list[Stmt], depth: int, out: _Emitter, counting: bool) -> bool:
    """Render statements; returns True when the block always ends by returning or raising."""
    for s in stmts:
        if isinstance(s, Validate):
            out.line(depth, _header(s.node.id, s.node.type, s.validator))
            if s.binds_user:
                out.line(depth, 'user = ctx.get("user")')
                cond = "user is None" + ("" if s.value == "user" else f" or not {s.value}")
                out.line(depth, f"if {cond}:")
                out.line(depth + 1, f"raise AuthRequired({s.message!r})")
            else:
                err = "AuthRequired" if s.status_code == "AUTH_REQUIRED" else "ValidationFailed"
                extra = f", field={s.field!r}" if s.field and err == "ValidationFailed" else ""
                out.line(depth, f"if not check_value({s.validator!r}, {s.value}):")
                out.line(depth + 1, f"raise {err}({s.message!r}{extra})")
        elif isinstance(s, Query):
            detail = {"lookup": "lookup", "many": "for each row", "count": "count", "create": "create",
                      "update": "update", "delete": "delete"}[s.kind]
            label = s.task and f"task {s.task}" or s.node.id
            out.line(depth, _header(label if s.task else s.node.id, s.node.type,
                                    f"{detail} {s.entity.name}"))
            call_params = _params(s.params)
            if s.kind == "many":
                out.line(depth, f"for item in await ex.fetch_all({s.sql_name}, {call_params}):")
                out.line(depth + 1, f"{s.var} = {s.decoder}(item)")
                ended = _render(s.body, depth + 1, out, counting)
                if counting and not ended:
                    out.line(depth + 1, "items += 1")
                continue
            if s.kind == "create":
                existing = s.existing_sql_name or "None"
                call = f"await ex.create({s.sql_name}, {call_params}, {existing}, {_params(s.existing_params)})"
                out.line(depth, f"{s.var} = {s.decoder}({call})")
                continue
            if s.kind == "count":
                out.line(depth, f"row = await ex.fetch_one({s.sql_name}, {call_params})")
                out.line(depth, f'{s.var} = db_number(row["n"]) if row is not None else 0.0')
                continue
            if s.kind in ("update", "delete") and s.not_found is None:
                out.line(depth, f"{s.var} = float(await ex.execute({s.sql_name}, {call_params}))")
                continue
            out.line(depth, f"row = await ex.fetch_one({s.sql_name}, {call_params})")
            assert s.not_found is not None
            out.line(depth, "if row is None:")
            out.line(depth + 1, f"raise NotFound({s.not_found[0]!r}, {s.not_found[1]!r})")
            if s.var is not None and s.decoder is not None:
                out.line(depth, f"{s.var} = {s.decoder}(row)")
        elif isinstance(s, Condition):
            out.line(depth, _header(s.node.id, s.node.type, ""))
            if s.otherwise is None:
                out.line(depth, f"if not ({s.test}):")
                if s.forbid_required_level is not None:
                    out.line(depth + 1, f"raise insufficient_level({s.forbid_required_level}, {s.user_level})")
                else:
                    out.line(depth + 1, f"raise Forbidden({'Condition ' + s.node.id + ' is not met'!r}, "
                             "'CONDITION_FAILED')")
                if _render(s.then, depth, out, counting):
                    return True
            else:
                out.line(depth, f"if {s.test}:")
                if not s.then:
                    out.line(depth + 1, "pass")
                a = _render(s.then, depth + 1, out, counting)
                out.line(depth, "else:")
                b = _render(s.otherwise, depth + 1, out, counting)
                if a and b:
                    return True
        elif isinstance(s, ScopeCheck):
            out.line(depth, f"if {s.scope!r} not in user[\"scopes\"]:")
            out.line(depth + 1, f"raise missing_scope({s.scope!r})")
        elif isinstance(s, Emit):
            out.line(depth, _header(s.node.id, s.node.type, f"emit {s.event}"))
            out.line(depth, f"ex.emit({s.channel}, {s.event!r}, {s.data})")
        elif isinstance(s, Respond):
            out.line(depth, _header(s.node.id, s.node.type, "http_response"))
            out.line(depth, f"return JsonResult({s.status}, {s.body})")
            return True
        elif isinstance(s, Stream):
            out.line(depth, _header(s.node.id, s.node.type, "sse_stream"))
            out.line(depth, f"return StreamResult({s.channel}, {s.on_connect}, {s.retry_ms}, {s.timeout_ms})")
            return True
        elif isinstance(s, Parallel):
            out.line(depth, _header(s.node.id, s.node.type, f"{len(s.tasks)} tasks on the execution's connection"))
            _render(list(s.tasks), depth, out, counting)
        elif isinstance(s, Log):
            out.line(depth, _header(s.node.id, s.node.type, "log"))
            out.line(depth, f"ex.log({s.node.id!r}, {s.message})")
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


def render_workflow(plan: Plan) -> str:
    wf = plan.workflow
    out = _Emitter()
    counting = plan.returns == "ok" and plan.fan_out
    if counting:
        out.line(1, "items = 0")
    ended = _render(plan.body, 1, out, counting)
    result_type = {"json": "JsonResult", "stream": "StreamResult | JsonResult", "ok": "Result"}[plan.returns]
    if not ended:
        out.line(1, "# the workflow ends without an http_response node")
        out.line(1, f"return OkResult({'items' if counting else 'None'})")
        out.uses.add("OkResult")
        if plan.returns != "ok":
            result_type = "Result"
    if plan.returns == "stream":
        result_type = "Result"
    imports = _imports(out.uses, plan, result_type)
    triggers = []
    for t in wf.triggers:
        if isinstance(t, HttpTrigger):
            triggers.append(f"HttpTrigger({t.method!r}, {t.path!r})")
        elif isinstance(t, ScheduleTrigger):
            every = wf.static_data.get("updateInterval", (t.every_ms, None))[0]
            triggers.append(f"ScheduleTrigger({every if isinstance(every, int) else t.every_ms})")
    s = wf.settings
    settings = (f"Settings({s.timezone!r}, {s.execution_timeout}, {s.save_execution_progress}, "
                f"{s.save_data_error_execution!r}, {s.save_data_success_execution!r}, {s.error_handler!r})")
    sd = {k: v for k, (v, _) in sorted(wf.static_data.items())}
    names = {"reconnectInterval": "reconnect_interval_ms", "subscriptionTimeout": "subscription_timeout_ms",
             "maxSubscriptionsPerUser": "max_subscriptions_per_user", "updateInterval": "update_interval_ms",
             "maxChannels": "max_channels"}
    static = "StaticData(" + ", ".join(f"{names[k]}={v!r}" for k, v in sd.items() if k in names
                                       and isinstance(v, int)) + ")"
    inputs = [_InputView(f.name, _input_annotation(f), _input_parser(f), f.required) for f in plan.inputs]
    source = _ENV.get_template("workflow.py.j2").render(
        source=wf.path, name=wf.name, id=wf.id, version_id=wf.version_id, description=wf.description,
        node_list=", ".join(_order(plan.body)) or "none", imports=imports, active=wf.active,
        triggers=triggers, settings=settings, static_data=static, checks_user=plan.checks_user,
        permissions_required=wf.permissions_required, minimum_user_level=wf.minimum_user_level,
        tags=tuple(wf.tags), statements=sorted(plan.statements.items()), inputs=inputs,
        result_type=result_type, body="\n".join(out.lines),
    )  # fmt: skip
    return format_python(source)


def _order(stmts: list[Stmt]) -> list[str]:
    ids: list[str] = []
    for s in stmts:
        node = getattr(s, "node", None)
        if node is not None and node.id not in ids:
            ids.append(node.id)
        for sub in (getattr(s, "body", None), getattr(s, "then", None), getattr(s, "otherwise", None),
                    getattr(s, "tasks", None)):
            if isinstance(sub, list):
                ids.extend(i for i in _order(sub) if i not in ids)
    return ids


def _imports(uses: set[str], plan: Plan, result_type: str) -> list[str]:
    wf = plan.workflow
    std = ["from collections.abc import Mapping"]
    typing = ["Final", "TypedDict"]
    if any(not f.required for f in plan.inputs):
        typing.append("NotRequired")
    std.append(f"from typing import {', '.join(sorted(typing))}")
    if "datetime" in uses or "datetime" in plan.imports:
        std.append("from datetime import UTC, datetime")
    if "math" in uses:
        std.append("import math")
    lines = sorted(std, key=lambda s: s.split()[1]) + [""]
    rows = sorted(u.split(":", 1)[1] for u in uses if u.startswith("row:"))
    errors = sorted(u for u in uses if u in ("AuthRequired", "ValidationFailed", "Forbidden", "NotFound",
                                             "insufficient_level", "missing_scope"))
    results = sorted(u for u in uses | {r for r in ("JsonResult", "StreamResult", "OkResult") if r in result_type}
                     if u in ("JsonResult", "StreamResult", "OkResult"))
    if "Result" in result_type.split(" | ") or result_type == "Result":
        results = sorted({*results, "Result"})
    if rows:
        lines.append(f"from generated.{wf.package}.entities import {', '.join(rows)}")
    if "js" in uses:
        lines.append("from runtime import js")
    if errors:
        lines.append(f"from runtime.errors import {', '.join(errors)}")
    lines.append("from runtime.execution import Execution")
    lines.append(f"from runtime.results import {', '.join(results)}")
    values = ["require_str" if any(f.type == STR and f.required for f in plan.inputs) else "",
              "optional_str" if any(f.type == STR and not f.required for f in plan.inputs) else "",
              "require_value" if any(f.type != STR and f.required for f in plan.inputs) else "",
              "optional_value" if any(f.type != STR and not f.required for f in plan.inputs) else ""]
    values += [u for u in ("new_id", "now_iso", "sql_text", "sql_bool", "sql_number", "db_number", "check_value")
               if u in uses]
    values = sorted(v for v in values if v)
    if values:
        lines.append(f"from runtime.values import {', '.join(values)}")
    wf_names = ["CompiledWorkflow", "Settings", "StaticData", "WorkflowInfo"]
    if any(isinstance(t, HttpTrigger) for t in wf.triggers):
        wf_names.append("HttpTrigger")
    if any(isinstance(t, ScheduleTrigger) for t in wf.triggers):
        wf_names.append("ScheduleTrigger")
    lines.append(f"from runtime.workflow import {', '.join(sorted(wf_names))}")
    return lines


_DECODE = {"string": "db_text", "datetime": "db_text", "boolean": "db_bool", "integer": "db_number",
           "number": "db_number"}


def render_entities(package: str, source: str, entities: dict[str, Entity]) -> str:
    views = []
    decoders: set[str] = set()
    for e in sorted(entities.values(), key=lambda x: x.name):
        fields = []
        for f in e.fields.values():
            base = {"string": "str", "datetime": "str", "boolean": "bool", "integer": "float",
                    "number": "float"}[f.type]
            decode = _DECODE[f.type] + ("_or_none" if f.nullable else "")
            decoders.add(decode)
            fields.append({"name": f.name, "annotation": f"{base} | None" if f.nullable else base,
                           "decode": decode, "column": f.column})
        views.append({"name": e.name, "label": e.label, "description": e.description, "table": e.table,
                      "decoder": f"{snake_case(e.name)}_row", "fields": fields})
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
    return format_python(_ENV.get_template("registry.py.j2").render(modules=mods, packages=packages))


def render_package_init(package: str) -> str:
    return f'# Code generated by the workflow compiler. DO NOT EDIT.\n"""Compiled workflows of `{package}`."""\n'


# ----------------------------------------------------------------------------- pictures


def render_mermaid(plan: Plan) -> str:
    """A Markdown page with a Mermaid flowchart of the node graph, for reviewers."""
    wf = plan.workflow
    lines = [
        "<!-- Code generated by the workflow compiler. DO NOT EDIT. -->",
        f"# {wf.name}",
        "",
        f"`{wf.id}` {wf.version_id} from `{wf.path}`"
        + ("" if wf.active else " (inactive: served only with `--include-inactive`)"),
        "",
        "Triggers: " + ", ".join(
            f"`{t.method} {t.path}`" if isinstance(t, HttpTrigger) else f"`SCHEDULED:{t.text}`"
            for t in wf.triggers) if wf.triggers else "Triggers: none",
        "",
        "```mermaid",
        "flowchart TD",
    ]
    tenant_nodes = _tenant_nodes(plan.body)
    for node in wf.nodes:
        label = f"{node.id}<br/><small>{node.short_type}"
        spec = node.spec
        op = getattr(getattr(spec, "op", None), "operation", None)
        if op:
            label += f": {op} {getattr(spec, 'op').entity}"
        action = getattr(spec, "action", None)
        if action:
            label += f": {action}"
        if node.id in tenant_nodes:
            label += "<br/>tenant-filtered"
        label += "</small>"
        shape = ("{", "}") if node.type == "metabuilder.condition" else ("[", "]")
        lines.append(f'    {node.id}{shape[0]}"{label}"{shape[1]}')
    for src, body in wf.connections.entries:
        src_node = wf.node(src.value)
        main = body.get("main") if hasattr(body, "get") else None
        for bi, branch in enumerate(getattr(main, "items", ())):
            for conn in getattr(branch, "items", ()):
                target = conn.get("node") if hasattr(conn, "get") else None
                if target is None:
                    continue
                arrow = "-->"
                if src_node is not None and src_node.type == "metabuilder.condition":
                    arrow = "-- true -->" if bi == 0 else "-- false -->"
                lines.append(f"    {src.value} {arrow} {target.value}")
    if tenant_nodes:
        lines.append("    classDef tenant stroke:#2b8a3e,stroke-width:2px")
        lines.append(f"    class {','.join(sorted(tenant_nodes))} tenant")
    lines += ["```", ""]
    return "\n".join(lines)


def _tenant_nodes(stmts: list[Stmt]) -> set[str]:
    out: set[str] = set()
    for s in stmts:
        if isinstance(s, Query) and any(k == "f_tenant_id" or k == "d_tenant_id" for k, _ in s.params):
            out.add(s.node.id)
        for sub in (getattr(s, "body", None), getattr(s, "then", None), getattr(s, "otherwise", None),
                    getattr(s, "tasks", None)):
            if isinstance(sub, list):
                out |= _tenant_nodes(sub)
    return out


__all__ = ["ANY", "format_python", "render_entities", "render_mermaid", "render_registry", "render_workflow",
           "Workflow"]
