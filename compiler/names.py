"""Names generated modules import and bind, and the allocator of every name they invent."""

from __future__ import annotations

import builtins
import importlib
import re
from collections.abc import Iterable
from typing import Final

from compiler.escape import is_identifier

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
    "Refused": "runtime.errors",
    "OkResult": "runtime.results",
    "Result": "runtime.results",
    "StreamResult": "runtime.results",
    "check_value": "runtime.values",
    "absent": "runtime.values",
    "is_email": "runtime.values",
    "is_uuid": "runtime.values",
    "is_number": "runtime.values",
    "js_length": "runtime.values",
    "matches": "runtime.values",
    "header_value": "runtime.values",
    "db_number": "runtime.values",
    "db_number_or_none": "runtime.values",
    "db_text": "runtime.values",
    "db_bool": "runtime.values",
    "db_bool_or_none": "runtime.values",
    "db_text_or_none": "runtime.values",
    "order_by": "runtime.values",
    "filtered": "runtime.values",
    "checked": "runtime.values",
    "row_count": "runtime.values",
    "sql_list": "runtime.values",
    "new_id": "runtime.values",
    "now_iso": "runtime.values",
    "now_ms": "runtime.values",
    "sql_json": "runtime.values",
    "optional_value": "runtime.values",
    "require_str": "runtime.values",
    "require_value": "runtime.values",
    "present_str": "runtime.values",
    "env_value": "runtime.values",
    "missing": "runtime.values",
    "require_number": "runtime.values",
    "require_bool": "runtime.values",
    "sql_bool": "runtime.values",
    "sql_number": "runtime.values",
    "sql_text": "runtime.values",
    "CompiledWorkflow": "runtime.workflow",
    "HttpTrigger": "runtime.workflow",
    "ScheduleTrigger": "runtime.workflow",
    "Settings": "runtime.workflow",
    "WorkflowInfo": "runtime.workflow",
    "rate_limit": "runtime.effects.ratelimit",
    "http_request": "runtime.effects.http",
    "defer_http": "runtime.effects.outbound",
    "defer_delete": "runtime.effects.outbound",
    "bcrypt_hash": "runtime.effects.credentials",
    "bcrypt_compare": "runtime.effects.credentials",
    "generate_jwt": "runtime.effects.credentials",
    "random_token": "runtime.effects.credentials",
    "sha256_hex": "runtime.effects.credentials",
    "analyze_image": "runtime.effects.media",
    "analyze_video": "runtime.effects.media",
    "send_mail": "runtime.effects.mail",
    "choose": "runtime.effects.mail",
    "send_plugin_mail": "runtime.effects.mail",
    "items_of": "runtime.values",
}


def imported(names: Iterable[str]) -> dict[str, object]:
    """The objects a generated module binds to ``names`` by its imports (``IMPORTS``), for
    running translated code outside a module (the ``expr`` command, the expression bench)."""
    bound: dict[str, object] = {}
    for name in names:
        module = IMPORTS[name]
        bound[name] = (
            importlib.import_module(name)
            if module is None
            else getattr(importlib.import_module(module), name)
        )
    return bound


# Locals and module-level names of a generated handler.
_BOUND: Final = frozenset(
    {
        "attempt",
        "ctx",
        "ex",
        "json",
        "row",
        "rows",
        "r",
        "fsql",
        "fparams",
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


_TEMP = re.compile(r"_t[0-9]+")  # the translator's temporaries (`_t1`), never handed out here


class Allocator:
    """Every identifier a generated module invents comes from one allocator: locals for node
    outputs, SQL constants, registry aliases. A name is handed out once, and never one that
    shadows a keyword, a builtin, an import, a name the handler binds itself (``ctx``,
    ``row``...), a row decoder (``*_row``) or a translator temporary (``_t1``). The preferred
    name is kept when it is free (``fetch_channel``); a forbidden one gets a trailing
    underscore (``json_``), a taken one a number (``SQL_A_2``). Allocation order is the
    plan's, so the names are deterministic."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def take(self, preferred: str) -> str:
        preferred = re.sub(r"[^A-Za-z0-9_]", "_", preferred) or "n"
        if preferred[0].isdigit():
            preferred = f"n_{preferred}"
        base = preferred if _free(preferred) else f"{preferred}_"
        name, n = base, 1
        while name in self.taken or not _free(name):
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name


def _free(name: str) -> bool:
    return (
        is_identifier(name)
        and name not in _BOUND
        and name not in IMPORTS
        and not hasattr(builtins, name)
        and not name.endswith("_row")
        and _TEMP.fullmatch(name) is None
    )
