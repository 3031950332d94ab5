"""``generate_random_token``: ``length`` random bytes from ``secrets``, URL-safe base64
without padding (32 bytes: 43 characters)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.expressions.types import STR
from compiler.ir import Stmt
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import EffectOp, call, const, result

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class TokenSpec(NodeSpec):
    length: int

    def expressions(self) -> Iterator[ExprUse]:
        return iter(())

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def secret(self) -> bool:
        return True

    def label(self) -> str:
        return f"random token ({self.length} bytes)"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        fn = call("random_token", const(self.length))
        return result(lw, node, self.label(), fn, STR, awaits=False)


def parse(r: ParamReader) -> TokenSpec:
    return TokenSpec(r.bounded("length", 8, 1024, 32))


EFFECT = EffectOp(
    name="generate_random_token",
    summary="random bytes from `secrets`, URL-safe base64 without padding",
    parameters=(ParamDoc("length", False, "the number of random bytes, 8 to 1024 (default 32)"),),
    parse=parse,
)
