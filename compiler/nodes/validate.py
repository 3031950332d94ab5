"""``metabuilder.validate``: check one value with a validator; a failure answers 401 (the
user) or 400 ``VALIDATION_FAILED`` naming the ``$json`` field."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import messages
from compiler.diagnostics import Span
from compiler.expressions import ast as jsast
from compiler.expressions.translate import TExpr
from compiler.expressions.types import DATE, USER
from compiler.ir import RequireUser, Stmt, Validate
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader
from compiler.plan.binding import is_path
from compiler.suggest import did_you_mean, or_else

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering

VALIDATORS = ("required", "email", "uuid", "string", "number", "boolean", "nonEmpty")


@dataclass
class ValidateSpec(NodeSpec):
    input: JValue
    validator: str
    validator_span: Span
    error_message: str | None

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.input)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return self.validator

    def on_user(self, lw: Lowering) -> bool:
        """Whether the node checks ``$context.user`` or one of its fields."""
        tree = lw.bind.whole_expression(self.input)
        return is_path(tree, "$context", "user") or (
            isinstance(tree, jsast.Member) and is_path(tree.obj, "$context", "user")
        )

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        tree = lw.bind.whole_expression(self.input)
        on_user = self.on_user(lw)
        if on_user and lw.bind.user_bound_by is None and self.validator == "required":
            lw.bind.user_bound_by = node.id
            lw.bind.set_output(node, TExpr(ast.Name("user", ast.Load()), USER))
            attribute = (
                tree.name
                if isinstance(tree, jsast.Member) and is_path(tree.obj, "$context", "user")
                else None
            )
            message = self.error_message or "User authentication required"
            return [RequireUser(node, attribute, message)]
        field = (
            tree.name if isinstance(tree, jsast.Member) and is_path(tree.obj, "$json") else None
        )
        t = lw.bind.value(self.input, node)
        value = lw.bind.translator_for(node).box(t) if t is not None else ast.Constant(None)
        lw.bind.set_output(node, t if t is not None and t.type != DATE else None)
        if on_user:
            default = "User authentication required"
        elif field:
            default = f"`{field}` is {'required' if self.validator == 'required' else 'invalid'}"
        else:
            default = "Validation failed"
        return [
            Validate(
                node,
                value,
                self.validator,
                self.error_message or default,
                None if on_user else field,
                auth=on_user,
            )
        ]


def parse(r: ParamReader) -> ValidateSpec | None:
    inp = r.require("input", "the value to check")
    validator = r.string("validator", "the validator name")
    if validator is not None and validator[0] not in VALIDATORS:
        s = did_you_mean(validator[0], VALIDATORS)
        r.diags.add(
            messages.VALIDATOR_UNKNOWN.format(validator[0], r.node),
            validator[1],
            node_id=r.node,
            hint=(or_else(s, messages.HINT__VALIDATORS.format(", ".join(VALIDATORS)))),
        )
        return None
    msg = r.string("errorMessage", "the error message", required=False)
    if inp is None or validator is None:
        return None
    return ValidateSpec(inp, validator[0], validator[1], msg[0] if msg else None)


KIND = NodeKind(
    type="metabuilder.validate",
    versions=(1,),
    summary="checks one value; on `$context.user` a failure is 401, on `$json` 400",
    parameters=(
        ParamDoc("operation", False, "`validate` (decorative)"),
        ParamDoc("input", True, "the value to check, usually `{{ $json.field }}`"),
        ParamDoc("validator", True, "one of " + ", ".join(VALIDATORS)),
        ParamDoc("errorMessage", False, "the message of the 400 or 401"),
    ),
    parse=parse,
)
