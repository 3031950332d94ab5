"""The mail nodes' shared lowering (``email_send``, ``smtp-relay-send``): the template, checked
and embedded as a module constant, and the runtime call that queues the message."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from compiler import mailtemplates, messages
from compiler.diagnostics import Span
from compiler.expressions.types import BOOL, STR, Field, Record
from compiler.load import JObject, JString, JValue
from compiler.model import Node

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering

OUTPUT = Record("QueuedMail", "a queued message", (Field("messageId", STR), Field("queued", BOOL)))


def template_constant(
    lw: Lowering, node: Node, name: str, span: Span, data: JValue | None, given: set[str]
) -> ast.expr:
    """The module constant holding template ``name`` (None, with a warning, when there is no
    such file); its problems are reported at ``span``. The template may read the keys of
    ``data`` (an object written out; any key when it is an expression), or else ``given``."""
    found = mailtemplates.find(lw.wf.source.path, name)
    if found is None:
        folder = mailtemplates.folders(lw.wf.source.path)[0]
        lw.diags.add(
            messages.MAIL_TEMPLATE_MISSING.format(node.id, name),
            span,
            node_id=node.id,
            hint=messages.HINT__MAIL_TEMPLATE_MISSING.format(f"{folder}/{name}.txt"),
        )
        return ast.Constant(None)
    return embed(lw, node, found, span, data, given)


def embed(
    lw: Lowering,
    node: Node,
    found: mailtemplates.Found,
    span: Span,
    data: JValue | None,
    given: set[str],
) -> ast.expr:
    """The module constant holding a template read from its files, once it parses and every
    variable it reads is given (else None, its problems reported at ``span``)."""
    keys: set[str] | None = given
    if isinstance(data, JObject):
        keys = {k.value for k, _ in data.entries}
    elif data is not None:
        keys = None  # computed: its keys are known at run time only
    failed = False
    for path, problem, var in mailtemplates.problems(found, keys):
        failed = True
        if var is None:
            lw.diags.add(
                messages.MAIL_TEMPLATE_SYNTAX.format(path, node.id, problem),
                span,
                node_id=node.id,
                hint=messages.HINT__MAIL_TEMPLATE_SYNTAX,
            )
        else:
            lw.diags.add(
                messages.MAIL_TEMPLATE_VARIABLE.format(path, var, node.id),
                data.span if data is not None else span,
                node_id=node.id,
                hint=messages.HINT__MAIL_TEMPLATE_VARIABLE.format(var),
            )
    if failed:
        return ast.Constant(None)
    const = lw.names.take("MAIL_" + found.name.upper().replace("-", "_").replace(".", "_"))
    lw.constants.append((const, mailtemplates.constant(found)))
    return ast.Name(const, ast.Load())


def literal_name(v: JValue | None) -> tuple[str, Span] | None:
    """A template named as plain text (no ``{{ }}``)."""
    if isinstance(v, JString) and "{{" not in v.value:
        return v.value, v.span
    return None
