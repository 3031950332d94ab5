"""A content-addressed cache of per-workflow results, so a build compiles only what changed.

A workflow's result (its module and picture, its diagnostics, what the project needs of it:
its id, routes and the entities it uses) depends on the workflow file's bytes, its place
(package, module, path), the entities it is checked against, the mail templates beside it,
the ``$env`` names and routes it is given, and the compiler itself. The cache key is the
SHA-256 of all of those; the compiler's part is a digest of its own sources, templates and
schemas and the versions of Python and the formatter, so a new compiler never reads an old
result. An entry is a JSON file named by its key under ``.workflow-cache/`` (or
``WORKFLOW_CACHE_DIR``), written atomically; an unreadable entry is a miss.

Only results without errors are stored: a failing workflow is compiled again each time, so
its diagnostics always come from the compiler at hand.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from compiler import codes
from compiler.diagnostics import Diagnostic, Position, Related, Span

DEFAULT_DIR = ".workflow-cache"
MAX_ENTRIES = 20_000  # beyond this the least recently used entries are removed
_FORMAT = 1  # the entries' layout


@dataclass(frozen=True)
class NodeRef:
    id: str
    id_span: Span | None


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    span: Span


@dataclass
class Summary:
    """What the project needs of a compiled workflow once its module exists: its id and
    routes (claimed once across the project), the entities its statements use, the entities
    its operations name, and where its nodes are (for diagnostics about generated code)."""

    id: str
    path: str
    module: str
    package: str
    span: Span
    id_span: Span | None
    routes: tuple[Route, ...]
    used_entities: frozenset[str]
    named_entities: frozenset[str]
    nodes: dict[str, Span | None] = field(default_factory=dict)
    # its OpenAPI paths: path -> method -> the operation's JSON text (compiler.openapi)
    api: dict[str, dict[str, str]] = field(default_factory=dict)

    def node(self, node_id: str) -> NodeRef | None:
        if node_id not in self.nodes:
            return None
        return NodeRef(node_id, self.nodes[node_id])


@dataclass
class Outcome:
    """One workflow file compiled: its diagnostics, its output files (the module formatted
    and verified), and its summary (None when it did not get as far as a workflow)."""

    diagnostics: list[Diagnostic]
    files: dict[str, str]
    summary: Summary | None


@functools.cache
def compiler_digest() -> str:
    """The compiler's identity: its sources, templates and schemas, the runtime's errors and
    helpers the OpenAPI document reads, Python's version and the formatter's."""
    h = hashlib.sha256(f"{_FORMAT} {sys.version_info[:2]}".encode())
    for dist in ("black", "ruff"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            h.update(f"{dist} {metadata.version(dist)}".encode())
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*")):
        if (
            path.is_file()
            and path.suffix in (".py", ".j2", ".json")
            and "__pycache__" not in path.parts
        ):
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    from compiler.openapi import runtime_sources  # the runtime's errors are in its output

    for path in runtime_sources():
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def folder_digest(folder: str) -> str:
    """The files of a folder (mail templates): names and bytes, "" when there is none."""
    base = Path(folder)
    if not base.is_dir():
        return ""
    return digest(
        *(p.name.encode() + b"\0" + p.read_bytes() for p in sorted(base.iterdir()) if p.is_file())
    )


class Cache:
    def __init__(self, root: Path | None) -> None:
        self.root = root  # None: no cache
        self.hits = 0
        self.misses = 0
        self._folders: dict[str, str] = {}

    def folder(self, path: str) -> str:
        """:func:`folder_digest`, once per folder in a compile."""
        if path not in self._folders:
            self._folders[path] = folder_digest(path)
        return self._folders[path]

    @staticmethod
    def default() -> Cache:
        if os.environ.get("WORKFLOW_CACHE", "") == "off":
            return Cache(None)
        return Cache(Path(os.environ.get("WORKFLOW_CACHE_DIR") or DEFAULT_DIR))

    def load(self, key: str) -> Outcome | None:
        if self.root is None:
            return None
        path = self.root / key[:2] / f"{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            outcome = _outcome(data)
            os.utime(path)  # recently used: kept when the cache is trimmed
        except (OSError, ValueError, KeyError, TypeError):
            self.misses += 1
            return None
        self.hits += 1
        return outcome

    def store(self, key: str, outcome: Outcome) -> None:
        if self.root is None or any(
            d.severity is codes.Severity.ERROR for d in outcome.diagnostics
        ):
            return
        folder = self.root / key[:2]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(_data(outcome), f, separators=(",", ":"))
            os.replace(tmp, folder / f"{key}.json")
        except OSError:
            return  # a read-only or full disk: compile without caching

    def trim(self) -> None:
        """Keep at most ``MAX_ENTRIES`` entries, the most recently used."""
        if self.root is None or not self.root.is_dir():
            return
        entries = list(self.root.glob("*/*.json"))
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=lambda p: p.stat().st_mtime)
        for p in entries[: len(entries) - MAX_ENTRIES]:
            with contextlib.suppress(OSError):
                p.unlink()


# ----------------------------------------------------------------------------- JSON form


def _span_data(s: Span | None) -> list[object] | None:
    if s is None:
        return None
    return [
        s.path,
        s.start.line,
        s.start.column,
        s.start.offset,
        s.end.line,
        s.end.column,
        s.end.offset,
    ]


def _span(d: list[object] | None) -> Span | None:
    if d is None:
        return None
    path, l1, c1, o1, l2, c2, o2 = d
    assert isinstance(path, str)
    return Span(path, Position(int(l1), int(c1), int(o1)), Position(int(l2), int(c2), int(o2)))  # type: ignore[call-overload]


def _data(o: Outcome) -> dict[str, object]:
    s = o.summary
    return {
        "diagnostics": [
            [
                d.code.name,
                d.message,
                _span_data(d.span),
                d.hint,
                d.node_id,
                [[_span_data(r.span), r.label] for r in d.related],
            ]
            for d in o.diagnostics
        ],
        "files": o.files,
        "summary": (
            None
            if s is None
            else {
                "id": s.id,
                "path": s.path,
                "module": s.module,
                "package": s.package,
                "span": _span_data(s.span),
                "id_span": _span_data(s.id_span),
                "routes": [[r.method, r.path, _span_data(r.span)] for r in s.routes],
                "used": sorted(s.used_entities),
                "named": sorted(s.named_entities),
                "nodes": {k: _span_data(v) for k, v in s.nodes.items()},
                "api": s.api,
            }
        ),
    }


def _outcome(data: dict[str, object]) -> Outcome:
    diagnostics = []
    for name, message, span, hint, node_id, related in data["diagnostics"]:  # type: ignore[attr-defined]
        code = codes.lookup(name)
        if code is None:
            raise KeyError(name)
        diagnostics.append(
            Diagnostic(
                code,
                message,
                _span(span),
                hint,
                node_id,
                tuple(Related(_span(r[0]), r[1]) for r in related),  # type: ignore[arg-type]
            )
        )
    files = data["files"]
    if not isinstance(files, dict):
        raise TypeError("files")
    s = data["summary"]
    summary = None
    if s is not None:
        assert isinstance(s, dict)
        span = _span(s["span"])
        assert span is not None
        summary = Summary(
            id=s["id"],
            path=s["path"],
            module=s["module"],
            package=s["package"],
            span=span,
            id_span=_span(s["id_span"]),
            routes=tuple(Route(m, p, _span(sp)) for m, p, sp in s["routes"]),  # type: ignore[arg-type]
            used_entities=frozenset(s["used"]),
            named_entities=frozenset(s["named"]),
            nodes={k: _span(v) for k, v in s["nodes"].items()},
            api=s["api"],
        )
    return Outcome(diagnostics, files, summary)
