"""``delete_recursive``: delete files and directories under the storage root after the
commit (through the outbox), so files go only once the rows naming them are gone. Paths
outside the root are refused when the request runs; symbolic links are removed, not
followed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.ir import Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeSpec, ParamDoc, ParamReader
from compiler.nodes.effects import EffectOp, call, ex, queued, value

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


@dataclass
class DeleteSpec(NodeSpec):
    paths: JValue

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.paths)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "delete files"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        fn = call("defer_delete", ex(), value(lw, node, self.paths))
        return queued(lw, node, self.label(), fn, None)


def parse(r: ParamReader) -> DeleteSpec | None:
    paths = r.require("paths", "the paths: a list, relative to the storage root")
    return DeleteSpec(paths) if paths is not None else None


EFFECT = EffectOp(
    name="delete_recursive",
    summary="deletes files and directories under the storage root, after the commit",
    parameters=(ParamDoc("paths", True, "a list of paths relative to the storage root"),),
    parse=parse,
)
