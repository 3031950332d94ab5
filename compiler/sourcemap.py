"""From a line of a generated module back to the workflow node it came from.

Each node's code in a handler starts with a header comment that names its step
(``# fetch_channel: metabuilder.database (...)``, ``# update_counts.count_viewers: ...``);
the emitter writes them and black keeps them. A line belongs to the last header above it
within ``run``; the module's ``# source:`` line names the workflow file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SOURCE = re.compile(r"^# source: (.+)$", re.M)
_HEADER = re.compile(r"^\s+# ([A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z0-9_]+)?: [A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Origin:
    source: str  # the workflow file
    node: str | None  # None: module-level code (declarations, SQL constants)


def origin(module_text: str, line: int) -> Origin | None:
    """Where 1-based ``line`` of a generated module comes from; None for a file that is not
    a generated workflow module."""
    src = _SOURCE.search(module_text)
    if src is None:
        return None
    lines = module_text.splitlines()
    node: str | None = None
    in_run = False
    for text in lines[: max(0, line)]:
        if text.startswith("async def run("):
            in_run = True
        elif text and not text[0].isspace() and in_run:
            in_run, node = False, None
        elif in_run and (h := _HEADER.match(text)):
            node = h.group(1)
    return Origin(src.group(1), node if in_run else None)
