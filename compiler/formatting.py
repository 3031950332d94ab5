"""Formatting the generated modules: black's style, written by ruff's formatter.

Reviewers read the generated code in diffs, so it is formatted the way Python projects
format theirs: black's style at 99 columns. Black itself takes 30-40 ms a module; ruff's
formatter writes the same style about a hundred times faster, for a whole batch of modules in
one process. The two differ in one construct the compiler emits: black wraps a string too
long for its line in parentheses (``SQL_X: Final = (\\n    "..."\\n)``), ruff leaves it on
the line; :func:`_parenthesize` does what black does. The test suite checks that black
leaves every module it formats unchanged (``black --check`` over the generated and golden
modules), so a difference appearing with a new construct fails there, not in a user's diff.

Both formatters are pinned (pyproject.toml): the same input gives the same bytes anywhere.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import tokenize
from pathlib import Path

LINE_LENGTH = 99
_ARGS = ("--isolated", "--line-length", str(LINE_LENGTH), "--target-version", "py311")


def ruff_binary() -> str:
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

    return str(find_ruff_bin())


def format_modules(sources: list[str]) -> list[str]:
    """Each source formatted (one ruff process for all of them)."""
    if not sources:
        return []
    with tempfile.TemporaryDirectory(prefix="workflow-format-") as tmp:
        paths = [Path(tmp, f"m{i}.py") for i in range(len(sources))]
        for path, text in zip(paths, sources, strict=True):
            path.write_text(text, encoding="utf-8", newline="\n")
        done = subprocess.run(
            [ruff_binary(), "format", *_ARGS, "--no-cache", "--quiet", tmp],
            capture_output=True,
            text=True,
            env={**os.environ, "RUFF_NO_CACHE": "true"},
        )
        if done.returncode != 0:
            raise RuntimeError(f"ruff format failed: {done.stderr.strip()}")
        return [_parenthesize(p.read_text(encoding="utf-8")) for p in paths]


def _parenthesize(text: str) -> str:
    """Black's parentheses around a lone string that overflows its line, as the value of an
    assignment (``x = "..."``, ``x: T = "..."``) or a ``return``."""
    lines = text.split("\n")
    if all(len(line) <= LINE_LENGTH for line in lines):
        return text
    out: list[str] = []
    for line in lines:
        if len(line) > LINE_LENGTH:
            split = _lone_string(line)
            if split is not None:
                head, string = split
                indent = line[: len(line) - len(line.lstrip())]
                out += [f"{head}(", f"{indent}    {string}", f"{indent})"]
                continue
        out.append(line)
    return "\n".join(out)


def _lone_string(line: str) -> tuple[str, str] | None:
    """(``... = `` or ``return ``, the string) when the line is an assignment or a return of
    one string token and nothing else."""
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(line + "\n").readline)
            if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT)
        ]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    if len(tokens) < 2 or tokens[-1].type != tokenize.STRING:
        return None
    before = tokens[-2]
    is_return = len(tokens) == 2 and before.string == "return"
    is_assign = before.string == "=" and all(
        t.type == tokenize.NAME or t.string in (":", ".", "[", "]", ",")
        for t in tokens[: len(tokens) - 2]
    )
    if not (is_return or is_assign):
        return None
    start = tokens[-1].start[1]
    return line[:start], line[start:]
