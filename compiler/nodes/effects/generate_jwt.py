"""``generate_jwt``: a token signed with the runtime's own key and algorithm (never a secret
from the workflow), carrying ``payload``, the request's tenant, a session id and ``exp``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import messages
from compiler.expressions.types import STR
from compiler.ir import Stmt
from compiler.load import JNumber, JString, JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import EffectOp, call, const, ex, result, value

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31557600}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)?\s*$")


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


def duration_s(r: ParamReader, key: str, default: int) -> int:
    """A duration in seconds: milliseconds as a number, or text such as ``"24h"`` (the
    ``ms`` package's spelling upstream uses)."""
    v = r.params.get(key)
    if v is None:
        return default
    seconds: float | None = None
    if isinstance(v, JNumber) and not isinstance(v.value, bool) and v.value > 0:
        seconds = v.value / 1000
    elif isinstance(v, JString) and (m := _DURATION.match(v.value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2) or "ms"]
    if seconds is None or not 1 <= seconds <= 10 * 31557600:
        shown = v.value if isinstance(v, JString | JNumber) else "?"
        r.diags.add(
            messages.DURATION_INVALID.format(key, r.node, shown),
            v.span,
            node_id=r.node,
            hint=messages.HINT__DURATION,
        )
        return default
    return int(seconds)


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
