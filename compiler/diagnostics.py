"""One diagnostic type shared by every stage, a collector, and the two output formats."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from compiler.codes import Code, Severity
from compiler.messages import Message, Text


@dataclass(frozen=True, order=True, slots=True)
class Position:
    """A place in a source file: 1-based line and column (in characters), 0-based offset."""

    line: int
    column: int
    offset: int


@dataclass(frozen=True, slots=True)
class Span:
    path: str
    start: Position
    end: Position

    @staticmethod
    def point(path: str, pos: Position) -> Span:
        return Span(path, pos, pos)

    @staticmethod
    def whole_file(path: str) -> Span:
        """A problem of the file itself (its name, its absence): no line to point at."""
        return Span(path, Position(0, 0, 0), Position(0, 0, 0))

    @property
    def has_line(self) -> bool:
        return self.start.line > 0


@dataclass(frozen=True)
class Related:
    """A secondary location of a diagnostic, with what it is (rustc's labels)."""

    span: Span
    label: str


@dataclass(frozen=True)
class Diagnostic:
    code: Code
    message: str
    span: Span | None
    hint: str | None = None
    node_id: str | None = None
    related: tuple[Related, ...] = ()

    @property
    def severity(self) -> Severity:
        return self.code.severity

    def sort_key(self) -> tuple[str, int, int, str, str]:
        if self.span is None:
            return ("", 0, 0, self.code.name, self.message)
        s = self.span.start
        return (self.span.path, s.line, s.column, self.code.name, self.message)


@dataclass
class Diagnostics:
    """Collects diagnostics; stages append and the pipeline stops at stage boundaries."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(
        self,
        message: Message | Text,
        span: Span | None,
        *,
        hint: str | None = None,
        node_id: str | None = None,
        related: tuple[Related, ...] = (),
    ) -> None:
        """Report ``message`` (a :class:`~compiler.messages.Message` or its filled-in
        :class:`~compiler.messages.Text`: the wording carries its code) at ``span``;
        ``related`` points at other places that take part (the first of two duplicates)."""
        text = message.format() if isinstance(message, Message) else message
        # Every diagnostic says what to do next; the long explanation is the fallback.
        hint = hint or f"see `python -m compiler explain {text.code.name}` for the rule and a fix"
        self.items.append(Diagnostic(text.code, text.text, span, hint, node_id, related))

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)

    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    def sorted(self) -> list[Diagnostic]:
        seen: set[tuple[object, ...]] = set()
        out: list[Diagnostic] = []
        for d in sorted(self.items, key=Diagnostic.sort_key):
            key = (d.sort_key(), d.node_id)
            if key not in seen:
                seen.add(key)
                out.append(d)
        return out


class SourceCache:
    """Source texts by path, so renderers can show the offending line."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}

    def put(self, path: str, text: str) -> None:
        self._texts[path] = text

    def line(self, path: str, line: int) -> str | None:
        text = self._texts.get(path)
        if text is None:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
            self._texts[path] = text
        lines = text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else None


def render_human(diag: Diagnostic, sources: SourceCache) -> str:
    """Render one diagnostic the way rustc does.

    ``workflows/a.json:12:22: error[cycle]: ... (node `x`)`` then the source line, a caret
    under the span, and ``help: ...``.
    """
    sev = diag.severity.value
    where = ""
    if diag.span is not None:
        s = diag.span.start
        where = (
            f"{diag.span.path}:{s.line}:{s.column}: "
            if diag.span.has_line
            else f"{diag.span.path}: "
        )
    node = f" (node `{diag.node_id}`)" if diag.node_id and diag.node_id not in diag.message else ""
    lines = [f"{where}{sev}[{diag.code.name}]: {diag.message}{node}"]
    if diag.span is not None and diag.span.has_line:
        lines += _excerpt(diag.span, sources, "^")
    for rel in diag.related:
        s = rel.span.start
        where = f"{rel.span.path}:{s.line}:{s.column}" if rel.span.has_line else rel.span.path
        lines.append(f"  ::: {where}: {rel.label}")
        if rel.span.has_line:
            lines += _excerpt(rel.span, sources, "-")
    if diag.hint:
        lines.append(f"  = help: {diag.hint}")
    return "\n".join(lines)


_WIDTH = 160  # longer source lines are shown as a window around the span


def _excerpt(span: Span, sources: SourceCache, mark: str) -> list[str]:
    """The source line of ``span`` with ``mark`` under the span, rustc style; a very long
    line is cut to a window around the span."""
    src = sources.line(span.path, span.start.line)
    if src is None:
        return []
    s, e = span.start, span.end
    column = s.column
    width = e.column - s.column if e.line == s.line and e.column > s.column else 1
    if len(src) > _WIDTH:
        left = max(0, column - 1 - _WIDTH // 2)
        cut = src[left : left + _WIDTH]
        src = ("..." if left else "") + cut + ("..." if left + _WIDTH < len(src) else "")
        column = column - left + (3 if left else 0)
    width = max(1, min(width, max(1, len(src) - column + 1)))
    gutter = str(s.line)
    pad = " " * len(gutter)
    prefix = src[: column - 1].expandtabs(1)
    return [f"{pad} |", f"{gutter} | {src}", f"{pad} | {' ' * len(prefix)}{mark * width}"]


def to_json(diag: Diagnostic) -> dict[str, object]:
    out: dict[str, object] = {
        "severity": diag.severity.value,
        "code": diag.code.name,
        "message": diag.message,
        "hint": diag.hint,
        "node": diag.node_id,
        "file": None,
        "line": None,
        "column": None,
        "endLine": None,
        "endColumn": None,
        "related": [
            {
                "file": r.span.path,
                "line": r.span.start.line if r.span.has_line else None,
                "column": r.span.start.column if r.span.has_line else None,
                "message": r.label,
            }
            for r in diag.related
        ],
    }
    if diag.span is not None and not diag.span.has_line:
        out.update(file=diag.span.path)
    elif diag.span is not None:
        out.update(
            file=diag.span.path,
            line=diag.span.start.line,
            column=diag.span.start.column,
            endLine=diag.span.end.line,
            endColumn=diag.span.end.column,
        )
    return out


def render_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([to_json(d) for d in diags], indent=2, sort_keys=True)
