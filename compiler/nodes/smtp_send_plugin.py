"""``email.smtp.send``: JSON Script's SMTP plugin. The message (``to``, ``cc``, ``bcc``,
``subject``, ``textBody``, ``htmlBody``, ``from``) is queued in the execution's transaction and
delivered after the commit, like ``smtp-relay-send``. Its output is what it was given plus the
``messageId`` (an untyped value, as upstream's plugins return)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.expressions.types import ANY
from compiler.ir import Stmt
from compiler.load import JObject
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import call, const, ex, queued, value

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class PluginMailSpec(NodeSpec):
    params: JObject

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.params)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "mail (email.smtp.send)"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        fn = call("send_plugin_mail", ex(), const(node.id), value(lw, node, self.params))
        return queued(lw, node, self.label(), fn, ANY)


def parse(r: ParamReader) -> PluginMailSpec | None:
    if r.require("to", "the recipients: `{{ $json.to }}`") is None:
        return None
    return PluginMailSpec(r.params)


KIND = NodeKind(
    type="email.smtp.send",
    versions=(1,),
    summary="JSON Script's SMTP plugin: a mail queued and sent after the commit",
    parameters=(
        ParamDoc("to", True, "the recipients"),
        ParamDoc("cc", False, "copies"),
        ParamDoc("bcc", False, "blind copies"),
        ParamDoc("subject", False, "the subject"),
        ParamDoc("textBody", False, "the text"),
        ParamDoc("htmlBody", False, "the HTML part (sent as given)"),
        ParamDoc("from", False, "the sender (default MAIL_FROM)"),
        ParamDoc("accountId", False, "the account (kept in the output)"),
        ParamDoc("attachments", False, "not sent (kept in the output)"),
    ),
    parse=parse,
)
