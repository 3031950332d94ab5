"""The operator console at ``/console``: the compiled workflows with their routes and graphs,
recent executions with a per-node timing bar (filtered by tenant, workflow and status), and a
live tail of the events this worker publishes.

Server-rendered HTML (Starlette's Jinja2 templates, autoescaped) and one small script, no
build step, nothing from a CDN. Access follows ``CONSOLE`` (:mod:`runtime.operator`); a
browser signs in once with a token (kept in an HttpOnly cookie for ``/console`` only), and a
token's reader sees its own tenant's executions and events only.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from runtime.database import HISTORY_TABLE
from runtime.endpoint import error_response
from runtime.errors import WorkflowError
from runtime.events import sse_frame
from runtime.operator import OPERATOR_COOKIE, Operator, operator, operator_token
from runtime.telemetry import EventSeen
from runtime.workflow import CompiledWorkflow, HttpTrigger, access_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from markupsafe import Markup
    from starlette.templating import Jinja2Templates

    from runtime.app import Services

HERE = Path(__file__).resolve().parent
STATUSES = ("success", "partial", "error")
PAGE_SIZE = 50
MAX_FILTER = 200


@functools.cache
def templates() -> Jinja2Templates:
    """The console's templates, autoescaped (loaded at its first page: a server nobody opens
    the console on never imports Jinja2)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from starlette.templating import Jinja2Templates

    return Jinja2Templates(
        env=Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True),
        )
    )


@dataclass(frozen=True)
class WorkflowView:
    id: str
    name: str
    active: bool
    routes: list[tuple[str, str]]
    schedules: list[str]
    access: str
    graph: Markup


# ----------------------------------------------------------------------------- graph


_NODE = re.compile(r'^\s+([A-Za-z0-9_]+)\["(.*)"\]\s*$')
_EDGE = re.compile(r"^\s+([A-Za-z0-9_]+)\s*-->(?:\|[^|]*\|)?\s*([A-Za-z0-9_]+)\s*$")


def graph_svg(markdown: str) -> Markup:
    """The workflow's graph (the mermaid flowchart of its generated ``.md``) as an SVG: nodes
    in layers by their longest path from a start, edges between them."""
    from markupsafe import Markup

    block = (
        markdown.split("```mermaid", 1)[-1].split("```", 1)[0] if "```mermaid" in markdown else ""
    )
    labels: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in block.splitlines():
        if m := _EDGE.match(line):
            edges.append((m[1], m[2]))
        elif m := _NODE.match(line):
            labels[m[1]] = m[2].split("<br/>", 1)[0]
    if not labels:
        return Markup("")
    layer = dict.fromkeys(labels, 0)
    for _ in range(len(labels)):  # longest path; a cycle stops after n rounds
        changed = False
        for a, b in edges:
            if a in layer and b in layer and layer[b] < layer[a] + 1:
                layer[b] = layer[a] + 1
                changed = True
        if not changed:
            break
    rows: dict[int, list[str]] = {}
    for node, depth in layer.items():
        rows.setdefault(depth, []).append(node)
    w, h, gap_x, gap_y = 200, 34, 24, 26
    width = max(len(r) for r in rows.values()) * (w + gap_x) + gap_x
    height = len(rows) * (h + gap_y) + gap_y
    where: dict[str, tuple[int, int]] = {}
    for depth, nodes in sorted(rows.items()):
        for i, node in enumerate(nodes):
            where[node] = (gap_x + i * (w + gap_x), gap_y + depth * (h + gap_y))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img">'
    ]
    for a, b in edges:
        if a in where and b in where:
            (x1, y1), (x2, y2) = where[a], where[b]
            parts.append(
                f'<line x1="{x1 + w // 2}" y1="{y1 + h}" x2="{x2 + w // 2}" y2="{y2}" '
                'class="edge" marker-end="url(#arrow)"/>'
            )
    for node, (x, y) in where.items():
        text = Markup.escape(_unescape(labels[node]))
        parts.append(
            f'<g class="node"><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6"/>'
            f'<text x="{x + w // 2}" y="{y + h // 2 + 5}">{text}</text></g>'
        )
    parts.insert(
        1,
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _unescape(label: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m[1])), label).replace("#quot;", '"')


def _markdown_of(wf: CompiledWorkflow) -> str:
    module = sys.modules.get(wf.run.__module__)
    path = Path(getattr(module, "__file__", "") or "").with_suffix(".md")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def views(workflows: list[CompiledWorkflow]) -> list[WorkflowView]:
    out = []
    for wf in sorted(workflows, key=lambda w: w.info.id):
        info = wf.info
        out.append(
            WorkflowView(
                info.id,
                info.name,
                info.active,
                [(t.method, t.path) for t in info.triggers if isinstance(t, HttpTrigger)],
                [str(t) for t in info.triggers if not isinstance(t, HttpTrigger)],
                access_of(wf),
                graph_svg(_markdown_of(wf)),
            )
        )
    return out


# ----------------------------------------------------------------------------- executions


@dataclass(frozen=True)
class Filters:
    tenant: str
    workflow: str
    status: str

    @staticmethod
    def of(request: Request, reader: Operator) -> Filters:
        q = request.query_params
        status = q.get("status", "")
        return Filters(
            reader.tenant if reader.tenant is not None else q.get("tenant", "")[:MAX_FILTER],
            q.get("workflow", "")[:MAX_FILTER],
            status if status in STATUSES else "",
        )


async def executions(services: Services, f: Filters) -> list[dict[str, object]]:
    """The newest executions that pass the filters, each with its nodes' timing bar."""
    clauses, params = [], dict[str, object]()
    for column, value in (
        ("tenant_id", f.tenant),
        ("workflow_id", f.workflow),
        ("status", f.status),
    ):
        if value:
            clauses.append(f"{column} = :{column}")
            params[column] = value
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    async with services.store.transaction(writes=False, scan=True) as conn:
        rows = await conn.fetch_all(
            f"SELECT id, workflow_id, tenant_id, user_id, status, error_code, http_status, "
            f"started_at, duration_ms, nodes FROM {HISTORY_TABLE}{where} "
            f"ORDER BY started_at DESC, id LIMIT {PAGE_SIZE}",
            params,
        )
    out = []
    for r in rows:
        row = dict(r._mapping)
        nodes = json.loads(str(row.pop("nodes")))
        timed = [n for n in nodes if isinstance(n.get("ms"), int | float)]
        total = sum(float(n["ms"]) for n in timed) or 1.0
        row["bars"] = [
            {
                "node": n["node"],
                "ms": float(n["ms"]),
                "pct": round(100 * float(n["ms"]) / total, 2),
            }
            for n in timed
        ]
        row["failures"] = [n for n in nodes if "error" in n]
        out.append(row)
    return out


# ----------------------------------------------------------------------------- routes


def endpoints(
    services: Services, mounted: list[CompiledWorkflow]
) -> dict[str, Callable[[Request], Awaitable[Response]]]:
    """The console's pages by name (``runtime.app`` mounts them and loads this module at
    the first request to one: a server nobody opens the console on never holds it)."""
    config = services.config
    shown: list[WorkflowView] = []
    tenants_seen: set[str] = set()

    def reader(request: Request) -> Operator:
        return operator(config, config.console, request)

    async def page(request: Request) -> Response:
        try:
            who = reader(request)
        except WorkflowError as err:
            if request.headers.get("accept", "").startswith("application/json"):
                return error_response(err)
            return templates().TemplateResponse(
                request, "console_login.html", {"error": err.message}, status_code=err.status
            )
        if not shown:
            shown.extend(views(mounted))
        f = Filters.of(request, who)
        rows = await executions(services, f)
        tenants_seen.update(str(r["tenant_id"]) for r in rows)
        return templates().TemplateResponse(
            request,
            "console.html",
            {
                "workflows": shown,
                "rows": rows,
                "filters": f,
                "statuses": STATUSES,
                "tenants": sorted(tenants_seen) if who.tenant is None else [who.tenant],
                "locked": who.tenant is not None,
            },
        )

    async def fragment(request: Request) -> Response:
        try:
            who = reader(request)
        except WorkflowError as err:
            return error_response(err)
        rows = await executions(services, Filters.of(request, who))
        return templates().TemplateResponse(request, "console_rows.html", {"rows": rows})

    async def events(request: Request) -> Response:
        try:
            who = reader(request)
        except WorkflowError as err:
            return error_response(err)
        wanted = who.tenant if who.tenant is not None else request.query_params.get("tenant", "")
        queue: asyncio.Queue[EventSeen] = asyncio.Queue(maxsize=1000)

        def listen(seen: EventSeen) -> None:
            if (not wanted or seen.tenant == wanted) and not queue.full():
                queue.put_nowait(seen)

        telemetry = services.telemetry
        backlog = [e for e in telemetry.events if not wanted or e.tenant == wanted][-20:]
        telemetry.listeners.add(listen)

        async def stream() -> AsyncIterator[bytes]:
            try:
                yield b": console tail\n\n"
                for seen in backlog:
                    yield _frame(seen)
                while True:
                    try:
                        seen = await asyncio.wait_for(queue.get(), config.heartbeat_s)
                    except TimeoutError:
                        yield b": heartbeat\n\n"
                        continue
                    yield _frame(seen)
            finally:
                telemetry.listeners.discard(listen)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def login(request: Request) -> Response:
        form = dict(parse_qsl((await request.body())[:8192].decode("utf-8", "replace")))
        token = form.get("token", "").strip()
        try:
            operator_token(config, token)
        except WorkflowError as err:
            return templates().TemplateResponse(
                request, "console_login.html", {"error": err.message}, status_code=401
            )
        reply = RedirectResponse("/console", status_code=303)
        reply.set_cookie(
            OPERATOR_COOKIE, token, httponly=True, samesite="strict", path="/console",
            secure=request.url.scheme == "https",
        )  # fmt: skip
        return reply

    async def logout(request: Request) -> Response:
        reply = RedirectResponse("/console", status_code=303)
        reply.delete_cookie(OPERATOR_COOKIE, path="/console")
        return reply

    return {
        "page": page,
        "executions": fragment,
        "events": events,
        "login": login,
        "logout": logout,
    }


def _frame(seen: EventSeen) -> bytes:
    data = json.dumps(
        {"at": seen.at, "tenant": seen.tenant, "channel": seen.channel, "event": seen.name,
         "data": seen.data},
        separators=(",", ":"),
    )  # fmt: skip
    return sse_frame(data, "event", None)
