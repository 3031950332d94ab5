"""Documentation derived from the registries: the node kinds, their parameters, the actions,
the database operations and the expression methods, as Markdown tables.

The README holds these tables between ``<!-- registry: NAME -->`` markers; a test checks they
match (``make golden`` rewrites them), so the documentation cannot drift from the code.
"""

from __future__ import annotations

import re

from compiler.expressions import methods
from compiler.nodes import KINDS
from compiler.nodes.actions import ACTIONS
from compiler.nodes.db import OPERATIONS


def _params(names: list[tuple[str, bool]]) -> str:
    return ", ".join(f"`{n}`" + ("" if required else "?") for n, required in names)


def node_kinds() -> str:
    rows = ["| type | outputs | parameters (`?` optional) | what it does |", "|---|---|---|---|"]
    for kind in KINDS.values():
        params = _params([(p.name, p.required) for p in kind.parameters])
        if kind.short == "action":
            params = "`action`; see the actions below"
        outputs = ", ".join(kind.outputs)
        rows.append(f"| `{kind.type}` | {outputs} | {params} | {kind.summary} |")
    return "\n".join(rows)


def actions() -> str:
    rows = ["| action | parameters (`?` optional) | what it does |", "|---|---|---|"]
    for a in ACTIONS.values():
        params = _params([(p.name, p.required) for p in a.parameters])
        rows.append(f"| `{a.name}` | {params} | {a.summary} |")
    return "\n".join(rows)


def operations() -> str:
    rows = [
        "| operation | writes | filter | data | tenant bound in | what it does |",
        "|---|---|---|---|---|---|",
    ]
    for op in OPERATIONS.values():
        data = "required" if op.requires_data else "accepted" if op.accepts_data else "no"
        tenant = op.tenant.value if op.tenant else "undeclared"
        rows.append(
            f"| `{op.name}` | {'yes' if op.writes else 'no'} | "
            f"{'required' if op.needs_filter else 'no'} | {data} | {tenant} | {op.summary} |"
        )
    return "\n".join(rows)


def effects() -> str:
    from compiler.nodes.effects import EFFECTS

    rows = ["| operation | parameters (`?` optional) | what it does |", "|---|---|---|"]
    for e in EFFECTS.values():
        params = _params([(p.name, p.required) for p in e.parameters])
        rows.append(f"| `{e.name}` | {params} | {e.summary} |")
    return "\n".join(rows)


def expression_methods() -> str:
    rows = ["| method | reads | example | value |", "|---|---|---|---|"]
    for m in methods.METHODS:
        reads = "any number of arguments" if m.arity is None else f"{m.arity} argument(s)"
        rows.append(f"| `{m.call}` | {reads} | `{m.example}` | `{m.value}` |")
    return "\n".join(rows)


SECTIONS = {
    "node-kinds": node_kinds,
    "actions": actions,
    "operations": operations,
    "effects": effects,
    "expression-methods": expression_methods,
}


def _escape(table: str) -> str:
    """A table as a regular-expression replacement: backslashes are literal."""
    return table.replace("\\", "\\\\")


def update(text: str) -> str:
    """``text`` (the README) with every marked section replaced by its current table."""
    for name, render in SECTIONS.items():
        # The marker, the table's lines (none starts with "<!--"), the end marker.
        pattern = re.compile(
            rf"(<!-- registry: {name} -->\n)(?:(?!<!--)[^\n]*\n)*(<!-- end registry -->)"
        )
        text = pattern.sub(rf"\g<1>{_escape(render())}\n\g<2>", text)
    return text
