"""Chains the stages: discover files, load, validate, model, graph, plan, render.

``compile_project`` returns every output file's bytes by relative path, or the diagnostics
that stopped it; it never writes. Stages stop at their boundaries when errors appear.
"""

from __future__ import annotations

import contextlib
import gc
import json
import multiprocessing as mp
import os
import re
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from compiler import codegen, escape, messages, schema
from compiler.diagnostics import Diagnostics, Related, SourceCache, Span
from compiler.graph import build_graph
from compiler.ir import Sql, walk
from compiler.load import JArray, JObject, load_file
from compiler.model import Entity, HttpTrigger, Workflow, build_entities, build_workflow
from compiler.plan import plan_workflow
from compiler.verify import Violation, verify_module
from compiler.warnings import workflow_warnings


@dataclass
class Result:
    files: dict[str, str] = field(default_factory=dict)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    sources: SourceCache = field(default_factory=SourceCache)
    workflows: list[Workflow] = field(default_factory=list)
    pending: list[tuple[str, Workflow, _Job]] = field(default_factory=list)


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path, Path.cwd()).replace(os.sep, "/")
    except ValueError:
        return path.as_posix()


RESERVED = frozenset({"entities.json", "demo.json"})
MAX_NODES = 1000  # nodes per workflow: compile time and the module's size grow with it
RESERVED_MODULES = frozenset({"entities", "registry"})  # the generated package's own modules


def discover(sources: list[Path]) -> dict[str, list[Path]]:
    """Workflow files by package: ``<root>/<package>/<name>.json``, with the reserved names
    ``entities.json`` (the package's entities) and ``demo.json`` (demo rows for
    ``python -m runtime demo``) set aside."""
    packages: dict[str, list[Path]] = {}
    for src in sources:
        files = [src] if src.is_file() else sorted(src.rglob("*.json"))
        for f in files:
            if f.name in RESERVED:
                packages.setdefault(f.parent.name, [])
                continue
            packages.setdefault(f.parent.name, []).append(f)
    return {k: sorted(v) for k, v in sorted(packages.items())}


def compile_project(sources: list[Path]) -> Result:
    """Compile every package under ``sources``. The cyclic garbage collector is paused while
    it runs: the compiler allocates millions of small acyclic objects (spans, JSON values, IR)
    whose collection passes cost more than the compile (a 900-node workflow: 1.8 s -> 0.6 s)."""
    with _collector_paused():
        return _compile_project(sources)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _compile_project(sources: list[Path]) -> Result:
    res = Result()
    diags = res.diagnostics
    packages = discover(sources)
    modules: list[tuple[str, str]] = []
    routes: dict[tuple[str, str], tuple[Workflow, Span, str]] = {}
    ids: dict[str, Workflow] = {}
    tables: dict[str, tuple[str, Entity]] = {}  # table -> (package, entity): one mapping
    for package, files in packages.items():
        if not files:
            continue
        if not escape.is_identifier(package):
            diags.add(
                messages.PACKAGE_FOLDER_NOT_IDENTIFIER.format(package),
                Span.whole_file(_display(files[0].parent)),
                hint=messages.HINT__NAME_WORKFLOW_FOLDERS_WITH,
            )
            continue
        _check_demo(files[0].parent / "demo.json", diags)
        entities = _load_entities(files[0].parent / "entities.json", package, res)
        if entities is not None and not _one_mapping(package, entities, tables, diags):
            entities = None
        for path in files:
            wf = _compile_one(path, package, entities, res)
            if wf is None:
                continue
            if wf.id in ids:
                first = ids[wf.id]
                diags.add(
                    messages.WORKFLOW_ID_TAKEN.format(wf.id, first.path),
                    wf.id_span or wf.span,
                    hint=messages.HINT__GIVE_EACH_WORKFLOW_ITS,
                    related=(
                        Related(first.id_span or first.span, messages.LABEL__FIRST.format(wf.id)),
                    ),
                )
            ids[wf.id] = wf
            for t in wf.triggers:
                if isinstance(t, HttpTrigger):
                    # `{a}` and `{channelId}` match the same requests: one route.
                    key = (t.method, re.sub(r"\{[^}]*\}", "{}", t.path))
                    if key in routes:
                        other, other_span, other_path = routes[key]
                        message = (
                            messages.ROUTE_TAKEN.format(t.method, t.path, other.path)
                            if other_path == t.path
                            else messages.ROUTE_SHADOWED.format(
                                t.method, t.path, other_path, other.path
                            )
                        )
                        diags.add(
                            message,
                            t.span,
                            hint=messages.HINT__GIVE_EACH_WORKFLOW_ITS_OWN,
                            related=(Related(other_span, messages.LABEL__CLAIMED_FIRST),),
                        )
                    routes.setdefault(key, (wf, t.span, t.path))
            modules.append((package, wf.module))
        if entities is not None:
            res.files[f"{package}/entities.py"] = codegen.render_entities(
                package, _display(files[0].parent / "entities.json"), entities
            )
            res.files[f"{package}/__init__.py"] = codegen.render_package_init(package)
    _finish_all(res)
    res.files["registry.py"] = codegen.render_registry(modules)
    res.files["__init__.py"] = (
        '# Code generated by the workflow compiler. DO NOT EDIT.\n"""Compiled workflows."""\n'
    )
    return res


def _mapping(e: Entity) -> tuple[object, ...]:
    """What an entity says about its table: every field's column, type, nullability and
    default, and the primary key."""
    fields = sorted(
        (f.name, f.column, f.type, f.nullable, repr(f.default)) for f in e.fields.values()
    )
    keys = sorted((k.name, k.fields) for k in (*e.unique, *e.indexes))
    return (e.primary_key, tuple(fields), tuple(keys))


def _one_mapping(
    package: str,
    entities: dict[str, Entity],
    tables: dict[str, tuple[str, Entity]],
    diags: Diagnostics,
) -> bool:
    """One table has one mapping across the project: a second entity on a table in the same
    package, or a different mapping in another package (another tenant column would let a
    workflow reach the first package's rows), is an error at both declarations."""
    ok = True
    for e in entities.values():
        seen = tables.get(e.table)
        if seen is None:
            tables[e.table] = (package, e)
            continue
        other_package, other = seen
        if other_package == package:
            diags.add(
                messages.TABLE_OF_TWO_ENTITIES.format(other.name, e.name, e.table),
                e.span,
                hint=messages.HINT__ONE_TABLE_ONE_MAPPING,
                related=(Related(other.span, messages.LABEL__MAPPED_HERE),),
            )
            ok = False
        elif _mapping(other) != _mapping(e):
            what = _difference(other, e)
            diags.add(
                messages.TABLE_MAPPED_DIFFERENTLY.format(e.table, other_package, package, what),
                e.span,
                hint=messages.HINT__ONE_TABLE_ONE_MAPPING,
                related=(Related(other.span, messages.LABEL__MAPPED_HERE),),
            )
            ok = False
    return ok


def _difference(a: Entity, b: Entity) -> str:
    """The first difference between two mappings of a table, for the message."""
    if a.primary_key != b.primary_key:
        return f"primary key `{a.primary_key}` or `{b.primary_key}`"
    for name in sorted(set(a.fields) | set(b.fields)):
        fa, fb = a.fields.get(name), b.fields.get(name)
        if fa is None or fb is None:
            return f"field `{name}` in one only"
        if fa.column != fb.column:
            return f"field `{name}` in column `{fa.column}` or `{fb.column}`"
        if (fa.type, fa.nullable, repr(fa.default)) != (fb.type, fb.nullable, repr(fb.default)):
            return f"field `{name}` typed differently"
    return "its keys or indexes"


def _check_demo(path: Path, diags: Diagnostics) -> None:
    """``demo.json`` is set aside as demo data: a workflow saved under that name would be
    skipped without a word, so say so."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # absent, or not JSON: `python -m runtime demo` reports it where it reads it
    if isinstance(doc, dict) and "nodes" in doc:
        diags.add(
            messages.DEMO_FILE_HOLDS_A_WORKFLOW,
            Span.whole_file(_display(path)),
            hint=messages.HINT__RENAME_THE_WORKFLOW_FILE,
        )


def _load_entities(path: Path, package: str, res: Result) -> dict[str, Entity] | None:
    if not path.exists():
        res.diagnostics.add(
            messages.PACKAGE_WITHOUT_ENTITIES.format(package),
            Span.whole_file(_display(path)),
            hint=messages.HINT__DECLARE_THE_PACKAGE_S.format(_display(path)),
        )
        return None
    loaded = load_file(str(path), _display(path), res.diagnostics)
    if loaded is None:
        return None
    source, root = loaded
    res.sources.put(source.path, source.text)
    if not schema.validate("entities", root, res.diagnostics):
        return None
    assert isinstance(root, JObject)
    before = len(res.diagnostics.errors())
    entities = build_entities(root, res.diagnostics)
    # Workflows are checked against entities only once those are sound: a broken declaration
    # would otherwise surface again as confusing errors in every workflow that uses it.
    return entities if len(res.diagnostics.errors()) == before else None


def _compile_one(
    path: Path, package: str, entities: dict[str, Entity] | None, res: Result
) -> Workflow | None:
    diags = res.diagnostics
    loaded = load_file(str(path), _display(path), diags)
    if loaded is None:
        return None
    source, root = loaded
    res.sources.put(source.path, source.text)
    nodes = root.get("nodes") if isinstance(root, JObject) else None
    if isinstance(nodes, JArray) and len(nodes.items) > MAX_NODES:
        assert isinstance(root, JObject)
        diags.add(
            messages.WORKFLOW_TOO_LARGE.format(len(nodes.items), MAX_NODES),
            root.key_span("nodes") or nodes.span,
            hint=messages.HINT__SPLIT_THE_WORKFLOW,
        )
        return None
    if not schema.validate("workflow", root, diags):
        return None
    assert isinstance(root, JObject)
    module = path.stem
    if not escape.is_identifier(module) or module in RESERVED_MODULES or module.startswith("__"):
        diags.add(
            messages.FILE_NAME_NOT_MODULE.format(path.name),
            Span.whole_file(_display(path)),
            hint=messages.HINT__NAME_WORKFLOW_FILES_WITH,
        )
        return None
    before = len(diags.errors())
    wf = build_workflow(source, root, package, module, diags)
    graph = build_graph(wf, diags)
    res.workflows.append(wf)
    if len(diags.errors()) > before or entities is None:
        return wf
    wf.entities = entities
    plan = plan_workflow(wf, graph, entities, diags)
    workflow_warnings(wf, plan, diags)
    if plan is None or len(diags.errors()) > before:
        return wf
    tenants = {
        e.table: e.fields["tenantId"].column for e in entities.values() if "tenantId" in e.fields
    }
    owners = {s.query.name: s.node.id for s in walk(plan.body) if isinstance(s, Sql)}
    job = _Job(codegen.render_workflow_source(plan), tenants, owners)
    res.pending.append((f"{package}/{module}.py", wf, job))
    res.files[f"{package}/{module}.md"] = codegen.render_mermaid(plan)
    return wf


@dataclass(frozen=True)
class _Job:
    """A rendered workflow module still to format and verify (plain data: it may be handed
    to another process)."""

    text: str
    tenants: dict[str, str]  # tenant-scoped table -> its tenant column
    owners: dict[str, str]  # SQL constant -> its node


def _finish(job: _Job) -> tuple[str, list[Violation]]:
    """Format a module, then verify the formatted bytes (:mod:`compiler.verify`)."""
    text = codegen.format_python(job.text)
    return text, verify_module(text, job.tenants, job.owners)


PARALLEL_FROM = 24  # modules; below this, starting processes costs more than it saves


def _finish_all(res: Result) -> None:
    """Format and verify every pending module, on every core for a large batch (the output
    is the same bytes either way); a verification failure is a compiler bug, reported at the
    node whose code is wrong."""
    jobs = [job for _, _, job in res.pending]
    cores = os.cpu_count() or 1
    if len(jobs) >= PARALLEL_FROM and cores > 1 and "fork" in mp.get_all_start_methods():
        # fork: the workers start with the compiler, black and libcst already imported.
        with ProcessPoolExecutor(cores, mp_context=mp.get_context("fork")) as pool:
            done = list(pool.map(_finish, jobs, chunksize=8))
    else:
        done = [_finish(job) for job in jobs]
    for (path, wf, _), (text, violations) in zip(res.pending, done, strict=True):
        res.files[path] = text
        for v in violations:
            node = wf.node(v.node)
            res.diagnostics.add(
                messages.GENERATED_CODE_FAILS_VERIFICATION.format(v.node or wf.id, v.problem),
                node.id_span if node is not None else wf.span,
                node_id=node.id if node is not None else None,
                hint=messages.HINT__REPORT_THE_COMPILER_BUG,
            )
    res.pending.clear()
