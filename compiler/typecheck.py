"""``compiler check --typecheck``: run mypy over the generated modules and report each error
at the workflow node whose code it is in (through :mod:`compiler.sourcemap`).

An error there is a compiler bug (generated code must type-check whatever the workflow
says), so it is an ``internal-error`` located at the node, with the generated line beside it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from compiler import messages
from compiler.cache import Summary
from compiler.diagnostics import Diagnostics
from compiler.sourcemap import origin

_MYPY_LINE = re.compile(r"^(?P<path>[^:\n]+\.py):(?P<line>\d+): error: (?P<message>.*)$", re.M)


def run_mypy(out: Path) -> str:
    """mypy --strict over ``out``, from the folder that holds it (so its package name holds)."""
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--no-error-summary",
         out.name],
        capture_output=True, text=True, cwd=out.parent,
        env={**os.environ, "MYPYPATH": str(Path.cwd())},
    )  # fmt: skip
    return proc.stdout


def report(mypy_output: str, out: Path, workflows: list[Summary], diags: Diagnostics) -> int:
    """Turn mypy's errors into diagnostics at their nodes; returns how many there were."""
    by_path = {wf.path: wf for wf in workflows}
    count = 0
    for m in _MYPY_LINE.finditer(mypy_output):
        count += 1
        generated = out.parent / m["path"]
        line = int(m["line"])
        try:
            found = origin(generated.read_text(encoding="utf-8"), line)
        except OSError:
            found = None
        wf = by_path.get(found.source) if found else None
        node = wf.node(found.node) if wf is not None and found and found.node else None
        where = f"{m['path']}:{line}"
        diags.add(
            messages.GENERATED_CODE_FAILS_TYPECHECK.format(
                node.id if node else (wf.id if wf else m["path"]), where, m["message"]
            ),
            node.id_span if node else (wf.span if wf else None),
            node_id=node.id if node else None,
            hint=messages.HINT__REPORT_THE_COMPILER_BUG,
        )
    return count
