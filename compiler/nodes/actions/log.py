"""``log``: record a message in the execution history (and the server log)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import messages
from compiler.diagnostics import Related
from compiler.expressions import ast as jsast
from compiler.ir import Log, Stmt
from compiler.load import JString, JValue, string_span
from compiler.model import Node
from compiler.nodes.actions import Action
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader
from compiler.plan.binding import is_path, output_of

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class LogSpec(NodeSpec):
    message: JValue | None
    level: str = "info"

    def expressions(self) -> Iterator[ExprUse]:
        if self.message is not None:
            yield ExprUse(self.message)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "log"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        if self.message is not None:
            check_secrets(self.message, node, lw)
        if self.message is None:
            return [Log(node, ast.Constant(node.name), self.level)]
        return [Log(node, lw.bind.text(self.message, node), self.level)]


SECRET_NAME = re.compile(r"password|passwd|secret|token|api_?key|credential", re.IGNORECASE)


def check_secrets(value: JValue, node: Node, lw: Lowering) -> None:
    """Refuse a message that reads a secret: a hash or token a node made, the request's
    bearer token, or a field named like one (`$json.password`, a row's `passwordHash`): the
    log and the execution history never hold one."""
    if not isinstance(value, JString):
        return
    for part in lw.bind.parts(value, node) or []:
        if isinstance(part, str):
            continue
        for e in jsast.walk(part):
            step = output_of(e)
            source = lw.wf.node(step.split(".", 1)[0]) if step else None
            what: str | None = None
            if source is not None and source.spec is not None and source.spec.secret():
                what = f"the output of `{source.id}` ({source.spec.label()})"
                where = source.id_span
            elif is_path(e, "$context", "token"):
                what, where = "the request's bearer token", None
            elif isinstance(e, jsast.Member) and e.name and SECRET_NAME.search(e.name):
                what, where = f"a field named like a secret (`{e.name}`)", None
            if what is None:
                continue
            lw.diags.add(
                messages.SENSITIVE_VALUE_LOGGED.format(
                    node.id, value.value[e.start : e.end], what
                ),
                string_span(lw.wf.source, value, e.start, e.end),
                node_id=node.id,
                hint=messages.HINT__SENSITIVE_VALUE_LOGGED,
                related=(Related(where, messages.LABEL__SENSITIVE),) if where else (),
            )
            return


LEVELS = ("debug", "info", "warn", "warning", "error")


def parse(r: ParamReader) -> LogSpec:
    level = r.choice("level", LEVELS) if r.params.get("level") is not None else None
    return LogSpec(r.params.get("message"), level[0] if level else "info")


ACTION = Action(
    name="log",
    summary="records a message in the execution history",
    parameters=(
        ParamDoc("message", False, "the text (default: the node's name)"),
        ParamDoc("level", False, "debug, info (the default), warn or error"),
    ),
    parse=parse,
)
