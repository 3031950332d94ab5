"""``email_send``: a message to ``to`` rendered from the template file ``template`` with
``data``, queued in the execution's transaction and delivered over SMTP after the commit."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import mailtemplates, messages
from compiler.diagnostics import Span
from compiler.ir import Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import EffectOp, call, const, ex, queued, value
from compiler.nodes.effects.mail import OUTPUT, template_constant

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class MailSpec(NodeSpec):
    to: JValue
    subject: JValue | None
    template: tuple[str, Span]
    data: JValue | None

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.to)
        for v in (self.subject, self.data):
            if v is not None:
                yield ExprUse(v)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return f"mail {self.template[0]}"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        template = template_constant(lw, node, *self.template, self.data, set())
        data = value(lw, node, self.data) if self.data is not None else ast.Dict([], [])
        fn = call(
            "send_mail",
            ex(),
            const(node.id),
            value(lw, node, self.to),
            value(lw, node, self.subject) if self.subject is not None else const(""),
            template,
            data,
        )
        return queued(lw, node, self.label(), fn, OUTPUT)


def parse(r: ParamReader) -> MailSpec | None:
    to = r.require("to", "the recipient: `{{ $json.email }}`")
    template = r.string("template", "the template's name: `password_reset`")
    if template is not None and not mailtemplates.NAME.match(template[0]):
        r.diags.add(
            messages.MAIL_TEMPLATE_NAME.format(template[0], r.node),
            template[1],
            node_id=r.node,
            hint=messages.HINT__MAIL_TEMPLATE_NAME,
        )
        return None
    if to is None or template is None:
        return None
    return MailSpec(to, r.params.get("subject"), template, r.params.get("data"))


EFFECT = EffectOp(
    name="email_send",
    summary="a mail from a template file, queued and sent over SMTP after the commit",
    parameters=(
        ParamDoc("to", True, "the recipient (an address, or a list of them)"),
        ParamDoc("subject", False, "the subject"),
        ParamDoc("template", True, "the name of templates/<name>.txt and/or .html"),
        ParamDoc("data", False, "the values the template reads"),
    ),
    parse=parse,
)
