"""``metabuilder.transform``: computes a value for later nodes, ``$steps.<id>.output``.

``output`` is the value: an object whose strings may hold ``{{ }}`` expressions, or one
expression. ``input`` is decorative (upstream's workflows repeat inside ``output`` whatever
they name there; none reads a rebound ``$json``), so it is read for documentation only.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.expressions.translate import TExpr
from compiler.expressions.types import Field, Record
from compiler.ir import Let, Stmt
from compiler.load import JObject, JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class TransformSpec(NodeSpec):
    output: JValue

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.output)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "transform"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        if isinstance(self.output, JObject):
            value = typed_object(self.output, node, lw, _camel(node.id) + "Output")
        else:
            value = lw.bind.value(self.output, node)
        if value is None:
            return []  # reported where it is; no `$steps` entry, so no cascade downstream
        var = lw.names.take(node.id)
        lw.bind.set_output(node, TExpr(ast.Name(var, ast.Load()), value.type))
        annotation = value.type.py_name if isinstance(value.type, Record) else None
        return [Let(node, var, value.node, annotation)]


def typed_object(obj: JObject, node: Node, lw: Lowering, name: str) -> TExpr | None:
    """An object output as a TypedDict whose fields have the types of their values, so
    later nodes read ``$steps.<id>.output.limit`` as a number, not as any value (and a
    value that cannot fit a column is caught at compile time)."""
    tr = lw.bind.translator_for(node)
    keys: list[ast.expr | None] = []
    values: list[ast.expr] = []
    fields: list[Field] = []
    ok = True
    for k, v in obj.entries:
        if isinstance(v, JObject) and v.entries:
            item = typed_object(v, node, lw, name + _camel(k.value))
        else:
            translated = lw.bind.value(v, node)
            item = tr.boxed(translated) if translated is not None else None
        if item is None:
            ok = False
            continue
        keys.append(ast.Constant(k.value))
        values.append(item.node)
        fields.append(Field(k.value, item.type))
    if not ok:
        return None
    record = Record(lw.names.take(name), f"the output of `{node.id}`", tuple(fields))
    lw.records.append(record)
    return TExpr(ast.Dict(keys, values), record)


def _camel(text: str) -> str:
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", text) if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or "Value"


def parse(r: ParamReader) -> TransformSpec | None:
    r.params.get("input")  # decorative: read, never evaluated
    output = r.require("output", "the value: an object or a `{{ }}` expression")
    return TransformSpec(output) if output is not None else None


KIND = NodeKind(
    type="metabuilder.transform",
    versions=(1,),
    summary="computes a value (an object or an expression) that later nodes read as its output",
    parameters=(
        ParamDoc("operation", False, "`transform_data` (decorative)"),
        ParamDoc("output", True, "the value: an object whose strings may hold `{{ }}`, or one"),
        ParamDoc("input", False, "decorative: documents what `output` reads; not evaluated"),
    ),
    parse=parse,
)
