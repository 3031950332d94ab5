"""The last check: prove again, on the formatted bytes reviewers read, what the plan promised.

The tenant check runs on the workflow and the plan; this pass reads the generated module
itself with Python's own parser (:mod:`ast`) and fails the compile (``internal-error``: a
compiler bug, never the user's) when

- a statement on a tenant-scoped table does not bind its tenant parameter to the context
  tenant (``"f_tenant_id": ctx["tenantId"]``, ``"d_tenant_id"`` for an insert), or its SQL
  text does not use that parameter;
- a SQL constant is defined but never used;
- a node listed in the module docstring has no ``ex.step`` of its own.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

_EXECUTE_METHODS = frozenset({"fetch_one", "fetch_all", "create"})
_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?')
_NODES = re.compile(r"Nodes, in execution order: ([^\n]*)\.")
CONTEXT_TENANT = 'ctx["tenantId"]'


@dataclass(frozen=True)
class Violation:
    node: str  # the workflow node whose code is wrong ("" when none can be named)
    problem: str


def _ex_call(node: ast.AST, methods: frozenset[str]) -> bool:
    """``ex.<method>(...)``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "ex"
        and node.func.attr in methods
    )


def verify_module(
    source: str, tenant_columns: Mapping[str, str], owners: Mapping[str, str]
) -> list[Violation]:
    """Check a generated workflow module.

    ``tenant_columns``: table -> its tenant column, for tenant-scoped tables;
    ``owners``: SQL constant -> the node whose statement it is.
    """
    module = ast.parse(source)
    names: Counter[str] = Counter()
    executes: list[ast.Call] = []
    steps: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Name):
            names[node.id] += 1
        elif _ex_call(node, _EXECUTE_METHODS):
            assert isinstance(node, ast.Call)
            executes.append(node)
        elif _ex_call(node, _STEP) and isinstance(node, ast.Call) and node.args:
            value = _string_value(node.args[0])
            if value is not None:
                steps.add(value.split(".", 1)[0])
    out: list[Violation] = []
    constants = _sql_constants(module)
    for name in constants:
        # A constant's own definition is one occurrence: it must be read at least once more.
        if names[name] < 2:
            out.append(Violation(owners.get(name, ""), f"defines `{name}` but never runs it"))
    for call in executes:
        out += _tenant_bound(source, call, constants, tenant_columns, owners)
    out += _steps(module, steps)
    return out


_STEP = frozenset({"step"})


def _sql_constants(module: ast.Module) -> dict[str, str]:
    """``SQL_*`` module constants and their SQL text."""
    out: dict[str, str] = {}
    for stmt in module.body:
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.target.id.startswith("SQL_")
            and stmt.value is not None
        ):
            text = _string_value(stmt.value)
            if text is not None:
                out[stmt.target.id] = text
    return out


def _string_value(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _tenant_bound(
    source: str,
    call: ast.Call,
    constants: Mapping[str, str],
    tenant_columns: Mapping[str, str],
    owners: Mapping[str, str],
) -> list[Violation]:
    """The statements of one ``ex.fetch_one/fetch_all/create`` call bind the context tenant."""
    out: list[Violation] = []
    args = call.args
    for i in range(0, len(args) - 1, 2):  # (sql, params) pairs: create has two
        sql_ref, params = args[i], args[i + 1]
        if not isinstance(sql_ref, ast.Name) or sql_ref.id not in constants:
            continue
        name = sql_ref.id
        text = constants[name]
        node = owners.get(name.removesuffix("_EXISTING"), "")
        for table in sorted(set(_TABLE.findall(text))):
            column = tenant_columns.get(table)
            if column is None:
                continue
            prefix = "d" if text.startswith("INSERT") else "f"
            param = f"{prefix}_{column}"
            if f":{param}" not in text:
                out.append(Violation(node, f"runs `{name}` on `{table}` without `:{param}`"))
                continue
            bound = _dict_value(params, param)
            if bound is None or not _is_context_tenant(bound):
                got = "nothing" if bound is None else f"`{ast.get_source_segment(source, bound)}`"
                out.append(
                    Violation(node, f"binds `{param}` of `{name}` to {got}, not {CONTEXT_TENANT}")
                )
    return out


def _is_context_tenant(e: ast.expr) -> bool:
    return (
        isinstance(e, ast.Subscript)
        and isinstance(e.value, ast.Name)
        and e.value.id == "ctx"
        and _string_value(e.slice) == "tenantId"
    )


def _dict_value(params: ast.expr, key: str) -> ast.expr | None:
    if not isinstance(params, ast.Dict):
        return None
    for k, v in zip(params.keys, params.values, strict=True):
        if k is not None and _string_value(k) == key:
            return v
    return None


def _steps(module: ast.Module, stepped: set[str]) -> list[Violation]:
    """Every node the docstring lists has an ``ex.step`` call of its own."""
    doc = ast.get_docstring(module, clean=False) or ""
    # The last such line: the workflow's own description stands before it and may say anything.
    listed = _NODES.findall(doc)
    if not listed:
        return [Violation("", "has no list of its nodes in the module docstring")]
    nodes = [n.strip() for n in listed[-1].split(",") if n.strip() and n.strip() != "none"]
    return [Violation(n, "has no `ex.step` in the handler") for n in nodes if n not in stepped]
