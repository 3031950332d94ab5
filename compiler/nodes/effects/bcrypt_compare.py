"""``bcrypt_compare``: whether ``input`` matches the bcrypt hash ``hash`` (false for a missing
or malformed hash, after the same work), in a worker thread."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.expressions.types import BOOL
from compiler.ir import Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import EffectOp, call, const, result, value

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class CompareSpec(NodeSpec):
    input: JValue
    hash: JValue

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.input)
        yield ExprUse(self.hash)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "bcrypt compare"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        fn = call(
            "bcrypt_compare",
            const(node.id),
            value(lw, node, self.input),
            value(lw, node, self.hash),
        )
        return result(lw, node, self.label(), fn, BOOL, outside=True)


def parse(r: ParamReader) -> CompareSpec | None:
    given = r.require("input", "the password: `{{ $json.password }}`")
    hashed = r.require("hash", "the stored hash: `{{ $steps.fetch_user.output.passwordHash }}`")
    return CompareSpec(given, hashed) if given is not None and hashed is not None else None


EFFECT = EffectOp(
    name="bcrypt_compare",
    summary="whether a password matches a bcrypt hash, in a worker thread",
    parameters=(
        ParamDoc("input", True, "the password"),
        ParamDoc("hash", True, "the stored hash"),
    ),
    parse=parse,
)
