"""``metabuilder.condition``: a boolean expression with two outputs, ``main[0]`` (true) and
``main[1]`` (false). A connected false branch is routed to. Without one it is a guard, and
what false answers follows what it tests:

- the user (``$context.user``: level, roles, scopes): 403 (``AUTH_INSUFFICIENT_LEVEL`` with
  the levels when the workflow sets ``meta.permissions.minimumUserLevel``, else
  ``CONDITION_FAILED``);
- a row a database node read: 404 ``<LABEL>_NOT_FOUND``;
- only the input (``$json``, or transforms computed from it alone): 400 ``VALIDATION_FAILED``;
- anything else: 422 ``CONDITION_FAILED``, naming the node.

``errorStatus``, ``errorCode`` and ``errorMessage`` override the derived answer."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import messages
from compiler.expressions import ast as jsast
from compiler.expressions.translate import TExpr
from compiler.expressions.types import BOOL
from compiler.ir import Condition, Refusal, Stmt
from compiler.load import JArray, JNumber, JObject, JString, JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class ConditionSpec(NodeSpec):
    condition: JValue
    status: int | None = None
    code: str | None = None
    message: str | None = None

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.condition)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return ""

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        test = lw.bind.truthy(self.condition, node)
        bound = lw.user_bound_at(node)
        lw.bind.set_output(node, TExpr(ast.Constant(True), BOOL))
        then: list[Stmt] = []
        if node.id == lw.scope_anchor and lw.wf.permissions_required:
            then.append(lw.scope_check(node))
        then += lw.branch(node, 0)
        otherwise = lw.branch(node, 1) if lw.has_branch(node, 1) else None
        level = 'user["level"]' if bound else 'ctx["user"]["level"] if "user" in ctx else None'
        return [
            Condition(
                node,
                test,
                then,
                otherwise,
                lw.wf.minimum_user_level,
                ast.parse(level, mode="eval").body,
                self.refusal(node, lw) if otherwise is None else None,
            )
        ]

    def refusal(self, node: Node, lw: Lowering) -> Refusal | None:
        """What the guard answers when false (None: 403 as for the user's level)."""
        reads = _reads(self.condition, lw, set())
        message = self.message or f"Condition {node.id} is not met"
        derived: tuple[int, str] | None
        if "user" in reads:
            derived = None
        elif rows := sorted(r for r in reads if r.startswith("row:")):
            entity = lw.entities.get(rows[0][4:])
            code = entity.not_found_code if entity else "NOT_FOUND"
            if self.message is None and entity is not None:
                message = f"{entity.label} not found"
            derived = (404, code)
        elif reads <= {"input"}:
            derived = (400, "VALIDATION_FAILED")
        else:
            derived = (422, "CONDITION_FAILED")
        if derived is None and self.status is None and self.code is None:
            return None if self.message is None else Refusal(403, "CONDITION_FAILED", message)
        status = self.status or (derived[0] if derived else 403)
        code = self.code or (derived[1] if derived else "CONDITION_FAILED")
        return Refusal(status, code, message)


def _reads(value: JValue, lw: Lowering, seen: set[str]) -> set[str]:
    """What a value depends on: "user" (``$context.user``), "row:<Entity>" (a row a
    database node read), "input" (``$json``, or a transform computed from it alone),
    "other" (anything else: the tenant, a count, the request)."""
    from compiler.nodes.database import DatabaseSpec
    from compiler.nodes.transform import TransformSpec

    out: set[str] = set()
    for s in _strings(value):
        for part in lw.bind.parts(s, None) or []:
            if isinstance(part, str):
                continue
            for e in jsast.walk(part):
                if not isinstance(e, jsast.Member) or not isinstance(e.obj, jsast.Ident):
                    continue
                root, key = e.obj.name, e.name
                if root == "$json":
                    out.add("input")
                elif root == "$context":
                    out.add("user" if key == "user" else "other")
                elif root == "$steps" and key is not None and key not in seen:
                    step = lw.wf.node(key)
                    spec = step.spec if step is not None else None
                    if (
                        isinstance(spec, DatabaseSpec)
                        and spec.op.operation.name == "database_read"
                    ):
                        out.add("row:" + spec.op.entity)
                    elif isinstance(spec, TransformSpec):
                        out |= _reads(spec.output, lw, seen | {key}) or {"other"}
                    else:
                        out.add("other")
    return out


def _strings(value: JValue) -> Iterator[JString]:
    if isinstance(value, JString):
        yield value
    elif isinstance(value, JObject):
        for _, v in value.entries:
            yield from _strings(v)
    elif isinstance(value, JArray):
        for v in value.items:
            yield from _strings(v)


_CODE = re.compile(r"[A-Z][A-Z0-9_]*")


def parse(r: ParamReader) -> ConditionSpec | None:
    cond = r.require("condition", "a boolean expression")
    status: int | None = None
    v = r.params.get("errorStatus")
    if v is not None:
        if not isinstance(v, JNumber) or not isinstance(v.value, int) or not 400 <= v.value <= 599:
            r.diags.add(
                messages.ERROR_STATUS_INVALID.format(r.node),
                v.span,
                node_id=r.node,
                hint=messages.HINT__ERROR_STATUS,
            )
        else:
            status = v.value
    code = r.string("errorCode", "an error code", required=False)
    if code is not None and not _CODE.fullmatch(code[0]):
        r.diags.add(
            messages.ERROR_CODE_INVALID.format(code[0], r.node),
            code[1],
            node_id=r.node,
            hint=messages.HINT__ERROR_CODE,
        )
        code = None
    message = r.string("errorMessage", "the error's message", required=False)
    if cond is None:
        return None
    return ConditionSpec(cond, status, code[0] if code else None, message[0] if message else None)


KIND = NodeKind(
    type="metabuilder.condition",
    versions=(1,),
    summary="routes on a boolean expression: main[0] when true, main[1] when false",
    parameters=(
        ParamDoc("operation", False, "`condition` (decorative)"),
        ParamDoc("condition", True, "a `{{ }}` expression, taken by JavaScript truthiness"),
        ParamDoc("errorStatus", False, "a guard's status when false (400-599; derived if absent)"),
        ParamDoc("errorCode", False, "a guard's error code when false (UPPER_SNAKE_CASE)"),
        ParamDoc("errorMessage", False, "a guard's error message when false"),
    ),
    parse=parse,
    outputs=("true", "false"),
)
