"""Names generated modules import, and the rule that keeps node ids from shadowing them."""

from __future__ import annotations

import builtins
import keyword
import unicodedata
from typing import Final

# name -> module it is imported from (`from MODULE import name`); None: `import name`.
IMPORTS: Final[dict[str, str | None]] = {
    "Mapping": "collections.abc",
    "UTC": "datetime",
    "datetime": "datetime",
    "math": None,
    "Final": "typing",
    "NotRequired": "typing",
    "TypedDict": "typing",
    "js": "runtime",
    "AuthRequired": "runtime.errors",
    "Forbidden": "runtime.errors",
    "NotFound": "runtime.errors",
    "Conflict": "runtime.errors",
    "Query": "runtime.workflow",
    "ValidationFailed": "runtime.errors",
    "insufficient_level": "runtime.errors",
    "missing_scope": "runtime.errors",
    "Execution": "runtime.execution",
    "JsonResult": "runtime.results",
    "OkResult": "runtime.results",
    "Result": "runtime.results",
    "StreamResult": "runtime.results",
    "check_value": "runtime.values",
    "db_number": "runtime.values",
    "new_id": "runtime.values",
    "now_iso": "runtime.values",
    "optional_str": "runtime.values",
    "optional_value": "runtime.values",
    "require_str": "runtime.values",
    "require_value": "runtime.values",
    "sql_bool": "runtime.values",
    "sql_number": "runtime.values",
    "sql_text": "runtime.values",
    "CompiledWorkflow": "runtime.workflow",
    "HttpTrigger": "runtime.workflow",
    "ScheduleTrigger": "runtime.workflow",
    "Settings": "runtime.workflow",
    "WorkflowInfo": "runtime.workflow",
}

# Locals and module-level names of a generated handler.
_BOUND: Final = frozenset(
    {
        "attempt",
        "ctx",
        "ex",
        "json",
        "row",
        "item",
        "items",
        "user",
        "result",
        "raw",
        "run",
        "parse_input",
        "Input",
        "WORKFLOW",
        "COMPILED",
    }
)


def local_name(name: str) -> str:
    """A Python local for a node id: ids that would shadow a keyword, a builtin, an import, a
    handler local, a SQL constant or a row decoder get a trailing underscore."""
    taken = (
        keyword.iskeyword(name)
        or name in _BOUND
        or name in IMPORTS
        or hasattr(builtins, name)
        or name.startswith("SQL_")
        or name.endswith("_row")
    )
    return f"{name}_" if taken else name


def comment_text(text: str) -> str:
    """``text`` safe on one ``#`` comment line: line breaks and other control, format or
    surrogate characters become ``\\uXXXX`` escapes, so no text can end the comment."""
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)
