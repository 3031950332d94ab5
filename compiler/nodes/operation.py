"""``metabuilder.operation``: several database operations (``tasks``) run on the execution's
connection, one after the other; ``$steps.<node>.tasks.<id>`` reads each one's output."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import messages
from compiler.diagnostics import Related, Span
from compiler.expressions.translate import TExpr
from compiler.ir import Parallel, Stmt
from compiler.load import JObject, JString
from compiler.model import Node
from compiler.nodes.base import DbOp, DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering

MODES = ("parallel", "sequential")


@dataclass
class Task:
    id: str
    id_span: Span
    op: DbOp


@dataclass
class OperationSpec(NodeSpec):
    mode: str
    tasks: list[Task]

    def expressions(self) -> Iterator[ExprUse]:
        return iter(())  # filter and data values are reported with their operation

    def operations(self, node: Node) -> Iterator[DbUse]:
        for t in self.tasks:
            where = f"task `{t.id}` of node `{node.id}`"
            yield DbUse(node, t.op, where, t.id)

    def label(self) -> str:
        return f"{len(self.tasks)} tasks"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        tasks: list[Stmt] = []
        outputs: dict[str, TExpr] = {}
        failed = False
        for use in self.operations(node):
            built = lw.operation(use)
            if built is None:
                failed = True
                continue
            tasks.append(built[0])
            if built[1] is not None and use.task is not None:
                outputs[use.task] = built[1]
        if not failed:  # a node with a failed task has no `$steps` entry: no cascade
            lw.bind.set_output(node, None, outputs)
        return [Parallel(node, tasks)]


def parse(r: ParamReader) -> NodeSpec | None:
    from compiler.nodes import database
    from compiler.nodes.db import OPERATIONS, parse_op
    from compiler.nodes.effects import EFFECTS

    named = r.params.get("operation")
    if isinstance(named, JString) and named.value in OPERATIONS:
        return database.parse(r)  # one operation, written as on metabuilder.database
    if isinstance(named, JString) and named.value in EFFECTS:
        return EFFECTS[named.value].parse(r)  # an operation outside the database
    mode = r.choice("operation", (*MODES, *OPERATIONS, *EFFECTS))
    if mode is None:
        return None  # an unknown operation: that is the error, not a missing `tasks`
    tasks_v = r.require("tasks", "the list of tasks")
    if tasks_v is None:
        return None
    r.unknown_keys(r.params, ("operation", "tasks"), "parameters")
    items = r.array("tasks")
    if items is None or not items.items:
        r.diags.add(
            messages.TASKS_NOT_A_LIST.format(r.node),
            tasks_v.span,
            node_id=r.node,
            hint=messages.HINT__LIST_THE_TASKS_AS,
        )
        return None
    tasks: list[Task] = []
    seen: dict[str, Span] = {}
    for t in items.items:
        if not isinstance(t, JObject):
            r.diags.add(
                messages.TASK_NOT_AN_OBJECT.format(r.node),
                t.span,
                node_id=r.node,
                hint=messages.HINT__WRITE_ID_OP_ENTITY.format(),
            )
            continue
        tid = r.string("id", "the task id", obj=t)
        params_v = t.get("params")
        params = params_v if isinstance(params_v, JObject) else JObject((), t.span)
        op = parse_op(r, t, params, "op", t.span)
        if tid is None or op is None:
            continue
        if tid[0] in seen:
            r.diags.add(
                messages.TASK_ID_REPEATED.format(r.node, tid[0]),
                tid[1],
                node_id=r.node,
                hint=messages.HINT__GIVE_EACH_TASK_ITS,
                related=(Related(seen[tid[0]], messages.LABEL__FIRST.format(tid[0])),),
            )
        seen.setdefault(tid[0], tid[1])
        tasks.append(Task(tid[0], tid[1], op))
    return OperationSpec(mode[0], tasks)


def effect_keys(params: JObject) -> tuple[str, ...] | None:
    """The parameters of an operation outside the database, when ``operation`` names one."""
    from compiler.nodes.effects import EFFECTS

    named = params.get("operation")
    if isinstance(named, JString) and named.value in EFFECTS:
        return ("operation", "output", *(p.name for p in EFFECTS[named.value].parameters))
    return None


KIND = NodeKind(
    type="metabuilder.operation",
    keys=effect_keys,
    versions=(1,),
    summary="several database operations (tasks) on the execution's connection",
    parameters=(
        ParamDoc(
            "operation",
            True,
            "parallel or sequential (both run the tasks in order, on one connection); one "
            "database operation, with the parameters of metabuilder.database; or an operation "
            "outside the database (below, and the README's table)",
        ),
        ParamDoc(
            "tasks",
            False,
            "a list of {id, op, entity, params: {filter, data, sort, limit, offset}}",
        ),
        ParamDoc("entity", False, "with one database operation: its entity"),
        ParamDoc("filter", False, "with one database operation: its filter"),
        ParamDoc("data", False, "with one database operation: its data"),
        ParamDoc("sort", False, "with one database operation: its sort"),
        ParamDoc("limit", False, "with one database operation: its limit"),
        ParamDoc("offset", False, "with one database operation: its offset"),
        ParamDoc("groupBy", False, "with database_aggregate: the field to group by"),
        ParamDoc(
            "aggregations",
            False,
            'with database_aggregate: {name: "count" | "sum(f)" | "avg(f)" | "min(f)" | "max(f)"}',
        ),
        ParamDoc("output", False, "a label for the result (decorative)"),
    ),
    parse=parse,
)
