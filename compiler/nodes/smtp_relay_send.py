"""``smtp-relay-send``: a mail with ``body`` as its text, or rendered from a template (named
as text, or by an expression choosing among the templates beside the workflow); queued in the
execution's transaction and delivered over SMTP after the commit, up to ``retryAttempts``."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import mailtemplates
from compiler.ir import Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import call, const, ex, queued, value
from compiler.nodes.effects.mail import OUTPUT, embed, literal_name, template_constant

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering

GIVEN = {"subject", "body"}  # what a template of this node reads


@dataclass
class RelaySpec(NodeSpec):
    to: JValue
    subject: JValue | None
    body: JValue | None
    template: JValue | None
    sender: JValue | None
    attempts: int

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.to)
        for v in (self.subject, self.body, self.sender):
            if v is not None:
                yield ExprUse(v)
        if self.template is not None:  # absent: the body is sent
            yield ExprUse(self.template, optional=True)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "mail"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        subject = value(lw, node, self.subject) if self.subject is not None else const("")
        body = value(lw, node, self.body)
        data = ast.Dict([const("subject"), const("body")], [subject, body])
        named = literal_name(self.template)
        template: ast.expr
        if named is not None:
            template = template_constant(lw, node, named[0], named[1], None, GIVEN)
        elif self.template is not None:
            # Chosen at run time among the templates beside the workflow (they render with
            # `subject` and `body`); an unknown name sends the body as it is.
            choices: list[tuple[ast.expr | None, ast.expr]] = []
            for found in mailtemplates.every(lw.wf.source.path):
                choices.append(
                    (const(found.name), embed(lw, node, found, self.template.span, None, GIVEN))
                )
            table = ast.Dict([k for k, _ in choices], [v for _, v in choices])
            template = call("choose", table, value(lw, node, self.template))
        else:
            template = const(None)
        fn = ast.Call(
            ast.Name("send_mail", ast.Load()),
            [ex(), const(node.id), value(lw, node, self.to), subject, template, data],
            [
                ast.keyword("body", body),
                ast.keyword("sender", value(lw, node, self.sender)),
                ast.keyword("attempts", const(self.attempts)),
            ],
        )
        return queued(lw, node, self.label(), fn, OUTPUT)


def parse(r: ParamReader) -> RelaySpec | None:
    to = r.require("to", "the recipient: `{{ $json.email }}`")
    if to is None:
        return None
    return RelaySpec(
        to,
        r.params.get("subject"),
        r.params.get("body"),
        r.params.get("template"),
        r.params.get("from"),
        r.bounded("retryAttempts", 1, 20, 3),
    )


KIND = NodeKind(
    type="smtp-relay-send",
    versions=(1,),
    summary="a mail (its body, or a template), queued and sent over SMTP after the commit",
    parameters=(
        ParamDoc("to", True, "the recipient (an address, or a list of them)"),
        ParamDoc("subject", False, "the subject"),
        ParamDoc("body", False, "the text (used when no template applies)"),
        ParamDoc("template", False, "a template name; an expression picks among templates/"),
        ParamDoc("from", False, "the sender (default MAIL_FROM)"),
        ParamDoc("retryAttempts", False, "delivery attempts, 1 to 20 (default 3)"),
    ),
    parse=parse,
)
