"""The media operations' shared parsing: ``filePath`` and the ``output`` field selector."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import messages
from compiler.expressions.types import Field, Record, Type
from compiler.ir import Stmt
from compiler.load import JBool, JObject, JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamReader
from compiler.nodes.effects import call, const, ex, result, value

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class AnalyzeSpec(NodeSpec):
    function: str  # analyze_image or analyze_video
    record: str  # the runtime's TypedDict
    path: JValue
    fields: tuple[tuple[str, Type], ...]

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.path)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return self.function.replace("_", " ")

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        names = ast.Tuple([const(n) for n, _ in self.fields], ast.Load())
        fn = call(self.function, ex(), value(lw, node, self.path), names)
        out = Record(
            self.record,
            f"the output of `{node.id}`",
            tuple(Field(n, t) for n, t in self.fields),
        )
        return result(lw, node, self.label(), fn, out, outside=True)


def parse_analyze(
    r: ParamReader, function: str, record: str, available: tuple[tuple[str, Type], ...]
) -> AnalyzeSpec | None:
    path = r.require("filePath", "the file, relative to the storage root")
    selected = available
    sel = r.params.get("output")
    if isinstance(sel, JObject):
        names = dict(available)
        picked: list[tuple[str, Type]] = []
        for k, v in sel.entries:
            if k.value not in names:
                r.diags.add(
                    messages.SELECTOR_UNKNOWN_FIELD.format(k.value, function, r.node),
                    k.span,
                    node_id=r.node,
                    hint=messages.HINT__SELECTOR.format(", ".join(names)),
                )
            elif not (isinstance(v, JBool) and v.value):
                r.diags.add(
                    messages.SELECTOR_NOT_TRUE.format(k.value, r.node),
                    v.span,
                    node_id=r.node,
                    hint=messages.HINT__SELECTOR_TRUE.format(k.value),
                )
            else:
                picked.append((k.value, names[k.value]))
        selected = tuple(picked)
    elif sel is not None:
        r.diags.add(
            messages.PARAMETER_NOT_AN_OBJECT.format("output", r.node),
            sel.span,
            node_id=r.node,
            hint=messages.HINT__SELECTOR_TRUE.format(available[0][0]),
        )
    return AnalyzeSpec(function, record, path, selected) if path is not None else None
