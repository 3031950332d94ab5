"""``metabuilder.database``: one database operation (``database_read``, ``_create``...; see
``compiler/nodes/db/``) on an entity, filtered by the context tenant."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.ir import Stmt
from compiler.model import Node
from compiler.nodes.base import DbOp, DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader
from compiler.nodes.db import OPERATIONS, parse_op

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class DatabaseSpec(NodeSpec):
    op: DbOp

    def expressions(self) -> Iterator[ExprUse]:
        return iter(())  # filter and data values are reported with their operation

    def operations(self, node: Node) -> Iterator[DbUse]:
        yield DbUse(node, self.op, f"node `{node.id}`", None)

    def label(self) -> str:
        return f"{self.op.operation.verb} {self.op.entity}"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        use = next(self.operations(node))
        built = lw.operation(use)
        if built is None:
            return []
        stmt, output = built
        if output is not None:
            lw.bind.set_output(node, output)
        return [stmt]


def parse(r: ParamReader) -> DatabaseSpec | None:
    op = parse_op(r, r.params, r.params, "operation", r.span)
    return DatabaseSpec(op) if op else None


KIND = NodeKind(
    type="metabuilder.database",
    versions=(1,),
    summary="one database operation on an entity, always filtered by the context tenant",
    parameters=(
        ParamDoc("operation", True, "one of " + ", ".join(OPERATIONS)),
        ParamDoc("entity", True, "an entity of the package"),
        ParamDoc(
            "filter", False, "field: value pairs; without `tenantId` the context tenant is added"
        ),
        ParamDoc("data", False, "field: value pairs written by a create or update"),
        ParamDoc(
            "sort",
            False,
            'a read\'s order: {field: 1 or -1 ("asc"/"desc")}; a key or direction may be an '
            "expression (checked against the entity's columns at run time)",
        ),
        ParamDoc(
            "limit", False, "largest number of rows a read returns (a number or an expression)"
        ),
        ParamDoc("offset", False, "rows a read skips (a number or an expression)"),
        ParamDoc("skip", False, "the same as `offset`"),
        ParamDoc("groupBy", False, "an aggregate's grouping field"),
        ParamDoc(
            "aggregations",
            False,
            'an aggregate\'s values: {name: "count" | "sum(f)" | "avg(f)" | "min(f)" | "max(f)"}',
        ),
        ParamDoc(
            "output", False, "a label for the result (decorative: read `$steps.<id>.output`)"
        ),
    ),
    parse=parse,
)
