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
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from compiler import (
    codegen,
    codes,
    dbal,
    escape,
    formatting,
    jsonscript,
    mailtemplates,
    messages,
    openapi,
    schema,
)
from compiler.cache import (
    Cache,
    Outcome,
    Route,
    Summary,
    _span_data,
    compiler_digest,
    digest,
)
from compiler.diagnostics import Diagnostic, Diagnostics, Related, SourceCache, Span
from compiler.graph import build_graph
from compiler.ir import Sql, walk
from compiler.load import (
    JArray,
    JObject,
    JString,
    JValue,
    SourceFile,
    display_path,
    load_file,
)
from compiler.messages import Text
from compiler.model import Entity, HttpTrigger, Workflow, build_entities, build_workflow
from compiler.plan import plan_workflow
from compiler.verify import Violation, verify_module
from compiler.warnings import workflow_warnings


@dataclass
class Result:
    files: dict[str, str] = field(default_factory=dict)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    sources: SourceCache = field(default_factory=SourceCache)
    summaries: list[Summary] = field(default_factory=list)  # every workflow, compiled or cached
    cache: Cache = field(default_factory=lambda: Cache(None))


_display = display_path


_In = TypeVar("_In")
_Out = TypeVar("_Out")

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


def compile_project(
    sources: list[Path], env: Sequence[str] = (), cache: Cache | None = None
) -> Result:
    """Compile every package under ``sources`` (``env``: the ``$env`` names they may read). The cyclic garbage collector is paused while
    it runs: the compiler allocates millions of small acyclic objects (spans, JSON values, IR)
    whose collection passes cost more than the compile (a 900-node workflow: 1.8 s -> 0.6 s)."""
    with _collector_paused():
        return _compile_project(sources, tuple(env), cache or Cache(None))


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _compile_project(sources: list[Path], env: tuple[str, ...], cache: Cache) -> Result:
    project = _Project()
    project.res.cache = cache
    for package, files in discover(sources).items():
        if not files:
            continue
        if not project.package_name_ok(package, files[0].parent):
            continue
        _check_demo(files[0].parent / "demo.json", project.res.diagnostics)
        entities_path = files[0].parent / "entities.json"
        entities = _load_entities(entities_path, package, project.res)
        project.add_package(
            package,
            [(f, f.stem) for f in files],
            entities,
            _display(entities_path),
            env=env,
            entities_key=_file_digest(entities_path),
        )
    return project.finish()


def compile_metabuilder(
    root: Path,
    overlays: Path,
    only: Sequence[str] = (),
    env: Sequence[str] = (),
    cache: Cache | None = None,
) -> Result:
    """Compile a MetaBuilder tree as upstream lays it out, read unchanged:
    ``packages/<pkg>/workflow/*.json`` with entities from its DBAL YAML
    (:mod:`compiler.dbal`) and ``overlays/<pkg>.json`` for the routes and the entities or
    fields the YAML lacks. The entity registry is global, as DBAL's is; each package's
    entities module holds the entities its workflows use. ``only``: these packages."""
    with _collector_paused():
        project = _Project()
        res = project.res
        res.cache = cache or Cache(None)
        diags = res.diagnostics
        declared = dbal.Declared()
        dbal.load_yaml_entities(root, diags, declared)
        base = root / "packages"
        selected = [
            d.parent.name
            for d in sorted(base.glob("*/workflow"))
            if d.is_dir() and (not only or d.parent.name in only)
        ]
        overlay = {
            pkg: dbal.load_overlay(overlays / f"{pkg}.json", pkg, diags, declared)
            for pkg in selected
        }
        for path, text in declared.sources.items():
            res.sources.put(path, text)
        compiled: list[Summary] = []
        registry_key = digest(*(f"{k}\0{v}" for k, v in sorted(declared.sources.items())))
        for pkg in selected:
            folder = base / pkg / "workflow"
            ov = overlay[pkg]
            if ov is None or not project.package_name_ok(pkg, folder):
                continue
            files = _module_names(sorted(folder.glob("*.json")), diags)
            compiled += project.add_package(
                pkg,
                files,
                declared.entities,
                dbal.ENTITY_DIR.as_posix(),
                routes=ov.routes,
                only_used=True,
                env=(*env, *ov.env),
                entities_key=digest(registry_key, _file_digest(overlays / f"{pkg}.json")),
            )
        _report_unreadable_entities(compiled, res, declared)
        return project.finish()


# Errors confined to one node's parameters: the rest of the workflow is still checked.
_NODE_ERRORS = frozenset(
    {
        codes.UNKNOWN_NODE_TYPE,
        codes.MISSING_PARAMETER,
        codes.INVALID_PARAMETER,
        codes.UNSUPPORTED_TYPE_VERSION,
        codes.UNKNOWN_VALIDATOR,
    }
)


def _module_names(files: list[Path], diags: Diagnostics) -> list[tuple[Path, str]]:
    """Upstream's file stems hold hyphens (``stream-subscribe``): the module is the stem with
    ``_`` for ``-``; two files that would share a module are an error."""
    out: list[tuple[Path, str]] = []
    seen: dict[str, Path] = {}
    for f in files:
        module = f.stem.replace("-", "_")
        if module in seen:
            diags.add(
                messages.MODULE_NAME_COLLIDES.format(f.name, seen[module].name, module),
                Span.whole_file(_display(f)),
                hint=messages.HINT__RENAME_ONE_OF_THE_FILES,
            )
            continue
        seen[module] = f
        out.append((f, module))
    return out


def _report_unreadable_entities(
    workflows: list[Summary], res: Result, declared: dbal.Declared
) -> None:
    """The problems of an entity declaration that could not be read, once, when a compiled
    workflow names that entity (upstream's tree declares entities no workflow uses in other
    dialects; those stay silent)."""
    named = {name for wf in workflows for name in wf.named_entities}
    for name, problems in sorted(declared.problems.items()):
        if name in named:
            res.diagnostics.extend(problems)


@dataclass
class _Project:
    """What the packages of one compile share: the routes, workflow ids and table mappings
    they must not claim twice, and the modules for the registry."""

    res: Result = field(default_factory=Result)
    modules: list[tuple[str, str]] = field(default_factory=list)
    routes: dict[tuple[str, str], tuple[Summary, Span, str]] = field(default_factory=dict)
    ids: dict[str, Summary] = field(default_factory=dict)
    tables: dict[str, tuple[str, Entity]] = field(default_factory=dict)  # one mapping a table

    def package_name_ok(self, package: str, folder: Path) -> bool:
        if escape.is_identifier(package):
            return True
        self.res.diagnostics.add(
            messages.PACKAGE_FOLDER_NOT_IDENTIFIER.format(package),
            Span.whole_file(_display(folder)),
            hint=messages.HINT__NAME_WORKFLOW_FOLDERS_WITH,
        )
        return False

    def add_package(
        self,
        package: str,
        files: list[tuple[Path, str]],
        entities: dict[str, Entity] | None,
        entities_source: str,
        routes: Mapping[str, tuple[str, Span]] | None = None,
        only_used: bool = False,
        env: tuple[str, ...] = (),
        entities_key: str = "",
    ) -> list[Summary]:
        """Compile one package's workflows (``(path, module)`` pairs). ``routes`` (by file
        stem) replace the workflows' own triggers; ``only_used`` emits only the entities its
        workflows use (entities from a global registry). ``entities_key``: a digest of what
        the entities were read from, part of each workflow's cache key."""
        res, diags = self.res, self.res.diagnostics
        if (
            entities is not None
            and not only_used
            and not _one_mapping(package, entities, self.tables, diags)
        ):
            entities = None
        tasks = [
            _Task(
                path,
                package,
                entities,
                module,
                routes.get(path.stem) if routes is not None else None,
                routes is not None,
                env,
            )
            for path, module in files
        ]
        outcomes = _compile_tasks(tasks, entities_key, res)
        compiled: list[Summary] = []
        used: set[str] = set()
        for outcome in outcomes:
            diags.extend(outcome.diagnostics)
            res.files.update(outcome.files)
            wf = outcome.summary
            if wf is None:
                continue
            res.summaries.append(wf)
            compiled.append(wf)
            used |= wf.used_entities
            self._claim(wf)
            self.modules.append((package, wf.module))
        if entities is not None:
            emitted = {k: v for k, v in entities.items() if k in used} if only_used else entities
            if only_used and not _one_mapping(package, emitted, self.tables, diags):
                return compiled
            res.files[f"{package}/entities.py"] = codegen.render_entities(
                package, entities_source, emitted
            )
            res.files[f"{package}/__init__.py"] = codegen.render_package_init(package)
        return compiled

    def _claim(self, wf: Summary) -> None:
        diags = self.res.diagnostics
        if wf.id in self.ids:
            first = self.ids[wf.id]
            diags.add(
                messages.WORKFLOW_ID_TAKEN.format(wf.id, first.path),
                wf.id_span or wf.span,
                hint=messages.HINT__GIVE_EACH_WORKFLOW_ITS,
                related=(
                    Related(first.id_span or first.span, messages.LABEL__FIRST.format(wf.id)),
                ),
            )
        self.ids[wf.id] = wf
        for t in wf.routes:
            # `{a}` and `{channelId}` match the same requests: one route.
            key = (t.method, re.sub(r"\{[^}]*\}", "{}", t.path))
            if key in self.routes:
                other, other_span, other_path = self.routes[key]
                message = (
                    messages.ROUTE_TAKEN.format(t.method, t.path, other.path)
                    if other_path == t.path
                    else messages.ROUTE_SHADOWED.format(t.method, t.path, other_path, other.path)
                )
                diags.add(
                    message,
                    t.span,
                    hint=messages.HINT__GIVE_EACH_WORKFLOW_ITS_OWN,
                    related=(Related(other_span, messages.LABEL__CLAIMED_FIRST),),
                )
            self.routes.setdefault(key, (wf, t.span, t.path))

    def finish(self) -> Result:
        res = self.res
        res.cache.trim()
        res.files["registry.py"] = codegen.render_registry(self.modules)
        res.files["openapi.json"] = openapi.document(s.api for s in res.summaries)
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
    task: _Task, diags: Diagnostics, files: dict[str, str]
) -> tuple[Workflow | None, tuple[str, _Job] | None]:
    """Compile one workflow file into the module ``task.module``: the workflow (None when
    it did not get that far) and its module, rendered, still to format and verify (None on
    errors). ``task.routed``: its triggers are ``task.route`` (from an overlay; None or
    ``internal``: none), not the file's ``meta.triggers``."""
    path, package, module, entities = task.path, task.package, task.module, task.entities
    if _too_many_nodes(path, diags):
        return None, None
    loaded = load_file(str(path), _display(path), diags)
    if loaded is None:
        return None, None
    source, root = loaded
    json_from: dict[str, str] = {}
    loops: dict[str, str] = {}
    if jsonscript.is_json_script(root):
        assert isinstance(root, JObject)
        root, json_from, loops = jsonscript.convert(root, diags)
    if task.routed and isinstance(root, JObject):
        root = _with_triggers(root, task.route)
    nodes = root.get("nodes") if isinstance(root, JObject) else None
    if isinstance(nodes, JArray) and len(nodes.items) > MAX_NODES:
        assert isinstance(root, JObject)
        diags.add(
            messages.WORKFLOW_TOO_LARGE.format(len(nodes.items), MAX_NODES),
            root.key_span("nodes") or nodes.span,
            hint=messages.HINT__SPLIT_THE_WORKFLOW,
        )
        return None, None
    if not schema.validate("workflow", root, diags):
        return None, None
    assert isinstance(root, JObject)
    if not escape.is_identifier(module) or module in RESERVED_MODULES or module.startswith("__"):
        diags.add(
            messages.FILE_NAME_NOT_MODULE.format(path.name),
            Span.whole_file(_display(path)),
            hint=messages.HINT__NAME_WORKFLOW_FILES_WITH,
        )
        return None, None
    before = len(diags.errors())
    wf = build_workflow(source, root, package, module, diags)
    wf.json_from, wf.loops = json_from, loops
    graph = build_graph(wf, diags)
    new_errors = diags.errors()[before:]
    if entities is None or any(d.code not in _NODE_ERRORS for d in new_errors):
        return wf, None
    if new_errors:  # only some nodes failed to parse: check the others, emit nothing
        wf.entities = entities
        wf.env_names = frozenset(task.env)
        plan_workflow(wf, graph, entities, diags)
        return wf, None
    wf.entities = entities
    wf.env_names = frozenset(task.env)
    plan = plan_workflow(wf, graph, entities, diags)
    workflow_warnings(wf, plan, diags)
    if plan is None or len(diags.errors()) > before:
        return wf, None
    tenants = {
        e.table: e.fields["tenantId"].column for e in entities.values() if "tenantId" in e.fields
    }
    owners = {s.query.name: s.node.id for s in walk(plan.body) if isinstance(s, Sql)}
    wf.used_entities = {s.entity.name for s in walk(plan.body) if isinstance(s, Sql)}
    job = _Job(codegen.render_workflow_source(plan), tenants, owners)
    files[f"{package}/{module}.md"] = codegen.render_mermaid(plan)
    return wf, (f"{package}/{module}.py", job)


QUICK_COUNT_FROM = 256 * 1024  # bytes: a file this big has its nodes counted before it loads


def _too_many_nodes(path: Path, diags: Diagnostics) -> bool:
    """A large file's nodes counted with the standard JSON reader, before the loader builds
    its tree with a position for every value (some 50 bytes of memory per byte of input): a
    workflow past ``MAX_NODES`` is refused at the cost of reading it once."""
    try:
        if path.stat().st_size < QUICK_COUNT_FROM:
            return False
        text = path.read_text(encoding="utf-8")
        nodes = json.loads(text).get("nodes")
    except (OSError, ValueError, AttributeError, RecursionError):
        return False  # the loader reports what is wrong with the file
    if not isinstance(nodes, list) or len(nodes) <= MAX_NODES:
        return False
    key = re.search(r'"nodes"\s*:', text)
    source = SourceFile(_display(path), text)
    at = key.start() if key is not None else 0
    diags.add(
        messages.WORKFLOW_TOO_LARGE.format(len(nodes), MAX_NODES),
        source.span(at, at + len('"nodes"')),
        hint=messages.HINT__SPLIT_THE_WORKFLOW,
    )
    return True


def _with_triggers(root: JObject, route: tuple[str, Span] | None) -> JObject:
    """``root`` with ``meta.triggers`` set to the overlay's route (none for ``internal``)."""
    items: tuple[JValue, ...] = ()
    span = root.span
    if route is not None and route[0] != "internal":
        items = (JString(route[0], route[1], ()),)
        span = route[1]
    meta = root.get("meta")
    entries = list(meta.entries) if isinstance(meta, JObject) else []
    entries = [(k, v) for k, v in entries if k.value != "triggers"]
    entries.append((JString("triggers", span, ()), JArray(items, span)))
    new_meta = JObject(tuple(entries), meta.span if meta is not None else span)
    out = [(k, new_meta if k.value == "meta" else v) for k, v in root.entries]
    if meta is None:
        out.append((JString("meta", span, ()), new_meta))
    return JObject(tuple(out), root.span)


@dataclass(frozen=True)
class _Job:
    """A rendered workflow module still to format and verify (plain data: it may be handed
    to another process)."""

    text: str
    tenants: dict[str, str]  # tenant-scoped table -> its tenant column
    owners: dict[str, str]  # SQL constant -> its node


@dataclass(frozen=True)
class _Task:
    """One workflow file to compile (plain data: it may be handed to another process)."""

    path: Path
    package: str
    entities: dict[str, Entity] | None
    module: str
    route: tuple[str, Span] | None
    routed: bool
    env: tuple[str, ...]

    def key(self, entities_key: str, data: bytes, cache: Cache) -> str:
        """The cache key of its result: everything the result depends on."""
        folders = mailtemplates.folders(str(self.path))
        return digest(
            compiler_digest(),
            self.package,
            self.module,
            _display(self.path),
            data,
            entities_key if self.entities is not None else "no entities",
            "\0".join(self.env),
            repr((self.route[0], _span_data(self.route[1])) if self.route else None),
            "routed" if self.routed else "",
            *(cache.folder(f) for f in folders),
        )


def _summary(wf: Workflow, module: tuple[str, _Job] | None) -> Summary:
    return Summary(
        id=wf.id,
        path=wf.path,
        module=wf.module,
        package=wf.package,
        span=wf.span,
        id_span=wf.id_span,
        routes=tuple(
            Route(t.method, t.path, t.span) for t in wf.triggers if isinstance(t, HttpTrigger)
        ),
        used_entities=frozenset(wf.used_entities),
        named_entities=frozenset(
            use.op.entity
            for node in wf.nodes
            if node.spec is not None
            for use in node.spec.operations(node)
        ),
        nodes={n.id: n.id_span for n in wf.nodes},
        api=openapi.operations(module[1].text, wf.package) if module is not None else {},
    )


def _front(task: _Task) -> tuple[Outcome, tuple[str, _Job] | None]:
    """Compile one workflow file up to its rendered module (in this process or a worker):
    the outcome without the module, and the module still to format and verify."""
    diags, files = Diagnostics(), dict[str, str]()
    with _collector_paused():
        wf, module = _compile_one(task, diags, files)
    summary = _summary(wf, module) if wf is not None else None
    return Outcome(diags.items, files, summary), module


def _verify(item: tuple[str, _Job]) -> list[Violation]:
    text, job = item
    return verify_module(text, job.tenants, job.owners)


PARALLEL_FROM = 8  # workflows to compile; below this, starting processes costs more


def _compile_tasks(tasks: list[_Task], entities_key: str, res: Result) -> list[Outcome]:
    """Each task's outcome, in order: from the cache when its key is there, else compiled
    and stored. Misses are compiled on every core for a batch (the output is the same bytes
    either way), their modules formatted together in one formatter process, then verified
    (:mod:`compiler.verify`: a failure is a compiler bug, reported at the node whose code is
    wrong)."""
    outcomes: list[Outcome | None] = []
    misses: list[tuple[int, _Task, str]] = []
    for task in tasks:
        try:
            data = task.path.read_bytes()
        except OSError:
            data = b""  # load_file reports it
        key = task.key(entities_key, data, res.cache)
        found = res.cache.load(key)
        outcomes.append(found)
        if found is None:
            misses.append((len(outcomes) - 1, task, key))
    if not misses:
        return [o for o in outcomes if o is not None]
    with _Workers(len(misses)) as workers:
        fronts = workers.map(_front, [t for _, t, _ in misses])
        pending = [(o, job) for o, job in fronts if job is not None]
        texts = formatting.format_modules([job.text for _, (_, job) in pending])
        checked = workers.map(
            _verify, [(t, job) for t, (_, (_, job)) in zip(texts, pending, strict=True)]
        )
    for (outcome, (path, _)), text, violations in zip(pending, texts, checked, strict=True):
        outcome.files[path] = text
        wf = outcome.summary
        assert wf is not None
        for v in violations:
            node = wf.node(v.node)
            outcome.diagnostics.append(
                _diagnostic(
                    messages.GENERATED_CODE_FAILS_VERIFICATION.format(v.node or wf.id, v.problem),
                    node.id_span if node is not None else wf.span,
                    node.id if node is not None else None,
                )
            )
    for (i, _, key), (outcome, _) in zip(misses, fronts, strict=True):
        res.cache.store(key, outcome)
        outcomes[i] = outcome
    return [o for o in outcomes if o is not None]


def _diagnostic(text: Text, span: Span | None, node_id: str | None) -> Diagnostic:
    one = Diagnostics()
    one.add(text, span, node_id=node_id, hint=messages.HINT__REPORT_THE_COMPILER_BUG)
    return one.items[0]


class _Workers:
    """A pool of processes, one per core, for a batch worth it; else this process."""

    def __init__(self, jobs: int) -> None:
        cores = os.cpu_count() or 1
        self.pool = (
            ProcessPoolExecutor(cores, mp_context=mp.get_context("fork"))
            if jobs >= PARALLEL_FROM and cores > 1 and "fork" in mp.get_all_start_methods()
            else None
        )

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def map(self, fn: Callable[[_In], _Out], items: list[_In]) -> list[_Out]:
        if self.pool is None:
            return [fn(x) for x in items]
        # fork: the workers start with the compiler already imported.
        return list(self.pool.map(fn, items, chunksize=max(1, len(items) // 32)))


def _file_digest(path: Path) -> str:
    try:
        return digest(_display(path), path.read_bytes())
    except OSError:
        return digest(_display(path), "missing")
