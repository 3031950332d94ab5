"""The last check: prove again, on the formatted bytes reviewers read, what the plan promised.

The tenant check runs on the workflow and the plan; this pass reads the generated module
itself with ``libcst.matchers`` and fails the compile (``internal-error``: a compiler bug,
never the user's) when

- a statement on a tenant-scoped table does not bind its tenant parameter to the context
  tenant (``"f_tenant_id": ctx["tenantId"]``, ``"d_tenant_id"`` for an insert), or its SQL
  text does not use that parameter;
- a SQL constant is defined but never used;
- a node listed in the module docstring has no ``ex.step`` of its own.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

_EXECUTE_METHODS = ("fetch_one", "fetch_all", "create")
_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?')
_NODES = re.compile(r"Nodes, in execution order: ([^\n]*)\.")
CONTEXT_TENANT = 'ctx["tenantId"]'


@dataclass(frozen=True)
class Violation:
    node: str  # the workflow node whose code is wrong ("" when none can be named)
    problem: str


class _Scan(cst.CSTVisitor):
    """One walk over the module: how often each name occurs, the calls that run SQL, and the
    steps the handler marks (matched with :mod:`libcst.matchers` patterns)."""

    def __init__(self) -> None:
        self.names: Counter[str] = Counter()
        self.executes: list[cst.Call] = []
        self.steps: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names[node.value] += 1

    def visit_Call(self, node: cst.Call) -> None:
        if m.matches(node, _EXECUTE):
            self.executes.append(node)
        elif m.matches(node, _STEP) and node.args:
            value = _string_value(node.args[0].value)
            if value is not None:
                self.steps.add(value.split(".", 1)[0])


def verify_module(
    source: str, tenant_columns: Mapping[str, str], owners: Mapping[str, str]
) -> list[Violation]:
    """Check a generated workflow module.

    ``tenant_columns``: table -> its tenant column, for tenant-scoped tables;
    ``owners``: SQL constant -> the node whose statement it is.
    """
    module = cst.parse_module(source)
    scan = _Scan()
    module.visit(scan)
    out: list[Violation] = []
    constants = _sql_constants(module)
    for name in constants:
        # A constant's own definition is one occurrence: it must be read at least once more.
        if scan.names[name] < 2:
            out.append(Violation(owners.get(name, ""), f"defines `{name}` but never runs it"))
    for call in scan.executes:
        out += _tenant_bound(module, call, constants, tenant_columns, owners)
    out += _steps(module, scan.steps)
    return out


def _sql_constants(module: cst.Module) -> dict[str, str]:
    """``SQL_*`` module constants and their SQL text."""
    out: dict[str, str] = {}
    for stmt in module.body:
        if not m.matches(stmt, m.SimpleStatementLine(body=[m.AnnAssign(target=m.Name())])):
            continue
        assert isinstance(stmt, cst.SimpleStatementLine)
        ann = stmt.body[0]
        assert isinstance(ann, cst.AnnAssign) and isinstance(ann.target, cst.Name)
        name = ann.target.value
        if name.startswith("SQL_") and ann.value is not None:
            text = _string_value(ann.value)
            if text is not None:
                out[name] = text
    return out


def _string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


_EXECUTE = m.Call(
    func=m.Attribute(value=m.Name("ex"), attr=m.OneOf(*(m.Name(n) for n in _EXECUTE_METHODS)))
)
_STEP = m.Call(func=m.Attribute(value=m.Name("ex"), attr=m.Name("step")))


def _tenant_bound(
    module: cst.Module,
    call: cst.Call,
    constants: Mapping[str, str],
    tenant_columns: Mapping[str, str],
    owners: Mapping[str, str],
) -> list[Violation]:
    """The statements of one ``ex.fetch_one/fetch_all/create`` call bind the context tenant."""
    out: list[Violation] = []
    args = [a.value for a in call.args]
    for i in range(0, len(args) - 1, 2):  # (sql, params) pairs: create has two
        sql_ref, params = args[i], args[i + 1]
        if not isinstance(sql_ref, cst.Name) or sql_ref.value not in constants:
            continue
        name = sql_ref.value
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
            bound = _dict_value(module, params, param)
            if bound != CONTEXT_TENANT:
                got = "nothing" if bound is None else f"`{bound}`"
                out.append(
                    Violation(node, f"binds `{param}` of `{name}` to {got}, not {CONTEXT_TENANT}")
                )
    return out


def _dict_value(module: cst.Module, params: cst.BaseExpression, key: str) -> str | None:
    if not isinstance(params, cst.Dict):
        return None
    for el in params.elements:
        if isinstance(el, cst.DictElement) and _string_value(el.key) == key:
            return module.code_for_node(el.value)
    return None


def _steps(module: cst.Module, stepped: set[str]) -> list[Violation]:
    """Every node the docstring lists has an ``ex.step`` call of its own."""
    doc = module.get_docstring(clean=False) or ""
    # The last such line: the workflow's own description stands before it and may say anything.
    listed = _NODES.findall(doc)
    if not listed:
        return [Violation("", "has no list of its nodes in the module docstring")]
    nodes = [n.strip() for n in listed[-1].split(",") if n.strip() and n.strip() != "none"]
    return [Violation(n, "has no `ex.step` in the handler") for n in nodes if n not in stepped]
