"""``generate_jwt``: a token signed with the runtime's own key and algorithm (never a secret
from the workflow), carrying ``payload``, the request's tenant, a session id and ``exp``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import messages
from compiler.expressions.types import STR
from compiler.ir import Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import EffectOp, call, const, ex, result, value
from compiler.nodes.effects.credentials import duration_s

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class JwtSpec(NodeSpec):
    payload: JValue | None
    expires_s: int

    def expressions(self) -> Iterator[ExprUse]:
        if self.payload is not None:
            yield ExprUse(self.payload)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def secret(self) -> bool:
        return True

    def label(self) -> str:
        return f"sign a JWT ({self.expires_s} s)"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        payload = value(lw, node, self.payload) if self.payload is not None else const(None)
        fn = call("generate_jwt", ex(), payload, const(self.expires_s))
        return result(lw, node, self.label(), fn, STR, awaits=False)


def parse(r: ParamReader) -> JwtSpec:
    secret = r.params.get("secret")
    if secret is not None:
        r.diags.add(
            messages.JWT_SECRET_IGNORED.format(r.node),
            secret.span,
            node_id=r.node,
            hint=messages.HINT__JWT_SECRET,
        )
    return JwtSpec(r.params.get("payload"), duration_s(r, "expiresIn", 24 * 3600))


EFFECT = EffectOp(
    name="generate_jwt",
    summary="a JWT signed with the runtime's key (its tenant, a session id, an expiry)",
    parameters=(
        ParamDoc("payload", False, "the claims (an object); `userId` also becomes `sub`"),
        ParamDoc("expiresIn", False, 'a duration: "24h" (the default), "7d", or milliseconds'),
        ParamDoc("secret", False, "ignored, with a warning: the runtime's own key signs"),
    ),
    parse=parse,
)
