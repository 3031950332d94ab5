"""``http_response``: answer the request with ``status`` and a JSON ``body``.

``headers`` (name: text, values may hold ``{{ }}``) go on the response; control characters in
a value become spaces. With a ``Content-Type`` header a string body is sent as it is."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from compiler import messages
from compiler.ir import Respond, Stmt
from compiler.load import JObject, JValue
from compiler.model import Node
from compiler.nodes.actions import Action
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class HttpResponse(NodeSpec):
    status: int
    body: JValue | None
    headers: list[tuple[str, JValue]] = field(default_factory=list)

    def expressions(self) -> Iterator[ExprUse]:
        if self.body is not None:
            yield ExprUse(self.body)
        for _, value in self.headers:
            yield ExprUse(value)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "http_response"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        headers = tuple(
            (name, ast.Call(ast.Name("header_value", ast.Load()), [lw.bind.text(v, node)], []))
            for name, v in self.headers
        )
        return [Respond(node, self.status, lw.bind.boxed(self.body, node), headers)]


_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
# Framing is the server's: a workflow cannot set these.
_RESERVED = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"}
)


def parse(r: ParamReader) -> HttpResponse | None:
    headers: list[tuple[str, JValue]] = []
    headers_v = r.params.get("headers")
    if headers_v is not None and not isinstance(headers_v, JObject):
        r.diags.add(
            messages.HEADERS_NOT_OBJECT.format(r.node),
            headers_v.span,
            node_id=r.node,
            hint=messages.HINT__HEADERS_SHAPE,
        )
        return None
    for name, value in headers_v.entries if isinstance(headers_v, JObject) else ():
        if not _TOKEN.fullmatch(name.value) or name.value.lower() in _RESERVED:
            r.diags.add(
                messages.HEADER_NAME_REFUSED.format(name.value, r.node),
                name.span,
                node_id=r.node,
                hint=messages.HINT__HEADERS_SHAPE,
            )
            return None
        headers.append((name.value, value))
    return HttpResponse(r.status("status") or 200, r.params.get("body"), headers)


ACTION = Action(
    name="http_response",
    summary="answers the request",
    parameters=(
        ParamDoc("status", False, "the HTTP status, 200-599 (default 200)"),
        ParamDoc("body", False, "the JSON body; strings may hold `{{ }}` expressions"),
        ParamDoc(
            "headers",
            False,
            "response headers, name: text (a `Content-Type` sends a " "string body as it is)",
        ),
    ),
    parse=parse,
)
