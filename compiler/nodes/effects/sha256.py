"""``sha256``: the SHA-256 of ``input``'s text (UTF-8) as 64 lowercase hex digits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.expressions.types import STR
from compiler.ir import Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import EffectOp, call, result, value

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class DigestSpec(NodeSpec):
    input: JValue

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.input)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def secret(self) -> bool:
        return True

    def label(self) -> str:
        return "sha256"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        fn = call("sha256_hex", value(lw, node, self.input))
        return result(lw, node, self.label(), fn, STR, awaits=False)


def parse(r: ParamReader) -> DigestSpec | None:
    given = r.require("input", "the value to digest")
    return DigestSpec(given) if given is not None else None


EFFECT = EffectOp(
    name="sha256",
    summary="the SHA-256 of a value's text, as hex",
    parameters=(ParamDoc("input", True, "the value"),),
    parse=parse,
)
