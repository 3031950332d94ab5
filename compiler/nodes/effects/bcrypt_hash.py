"""``bcrypt_hash``: the bcrypt hash of ``input`` at cost ``rounds``, computed in a worker
thread (the event loop serves other requests meanwhile)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.expressions.types import STR
from compiler.ir import Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import EffectOp, call, const, result, value

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class HashSpec(NodeSpec):
    input: JValue
    rounds: int

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.input)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def secret(self) -> bool:
        return True

    def label(self) -> str:
        return f"bcrypt hash (cost {self.rounds})"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        fn = call("bcrypt_hash", const(node.id), value(lw, node, self.input), const(self.rounds))
        return result(lw, node, self.label(), fn, STR, outside=True)


def parse(r: ParamReader) -> HashSpec | None:
    given = r.require("input", "the password: `{{ $json.password }}`")
    rounds = r.bounded("rounds", 4, 31, 12)
    return HashSpec(given, rounds) if given is not None else None


EFFECT = EffectOp(
    name="bcrypt_hash",
    summary="the bcrypt hash of a password, in a worker thread",
    parameters=(
        ParamDoc("input", True, "the password"),
        ParamDoc("rounds", False, "the cost factor, 4 to 31 (default 12)"),
    ),
    parse=parse,
)
