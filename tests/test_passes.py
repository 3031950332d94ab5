"""Plan passes and the graph, on IR built directly (no workflow file in between)."""

from __future__ import annotations

import ast

from compiler.diagnostics import Diagnostics, Span
from compiler.graph import build_graph
from compiler.ir import (
    Count,
    ForEach,
    Lookup,
    NotFound,
    Parallel,
    Param,
    Reuse,
    Role,
    SqlText,
    Stmt,
    Update,
    context_tenant,
    walk,
)  # fmt: skip
from compiler.load import JObject, SourceFile, parse_json
from compiler.model import Entity, EntityField, Node, build_workflow
from compiler.plan.passes import fuse_lookups, reuse_rows

SPAN = Span.whole_file("test.json")


def entity(name: str = "Channel", tenant_column: str = "org") -> Entity:
    def f(field: str, column: str) -> EntityField:
        return EntityField(field, "string", False, None, False, column, SPAN)

    fields = {
        "id": f("id", "id"),
        "tenantId": f("tenantId", tenant_column),
        "name": f("name", "name"),
    }
    return Entity(name, name, "", name.lower(), "id", fields, [], [], SPAN)


def node(node_id: str) -> Node:
    return Node(node_id, node_id, "metabuilder.database", 1, SPAN, SPAN, JObject((), SPAN), "",
                None, None)  # fmt: skip


def expr(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


def key(ent: Entity, field: str, value: str) -> Param:
    return Param(Role.FILTER, field, ent.fields[field].column, expr(value))


def tenant(ent: Entity) -> Param:
    return Param(Role.FILTER, "tenantId", ent.fields["tenantId"].column, context_tenant())


def lookup(ent: Entity, nid: str, value: str, var: str | None = None) -> Lookup:
    q = SqlText(f"SQL_{nid.upper()}", "SELECT ...", (key(ent, "id", value), tenant(ent)))
    return Lookup(node(nid), ent, q, None, var, "row" if var else None, NotFound("x", "X"))


def rows(ent: Entity, nid: str, body: list[Stmt]) -> ForEach:
    q = SqlText(f"SQL_{nid.upper()}", "SELECT ...", (tenant(ent),))
    return ForEach(node(nid), ent, q, None, nid, "row", body)


def test_a_lookup_of_a_held_row_reuses_it_inside_the_fan_out() -> None:
    ch = entity()
    plan: list[Stmt] = [rows(ch, "live", [lookup(ch, "again", 'live["id"]', var="again")])]
    out = reuse_rows(plan)
    (loop,) = out
    assert isinstance(loop, ForEach)
    (inner,) = loop.body
    assert isinstance(inner, Reuse) and inner.source == "live" and inner.lookup.var == "again"


def test_reuse_needs_the_primary_key_of_the_held_row_and_the_context_tenant() -> None:
    ch = entity()
    other = lookup(ch, "by_name", 'live["name"]')
    wrong_tenant = lookup(ch, "t", 'live["id"]')
    wrong_tenant.query = SqlText(
        "SQL_T", "SELECT ...", (key(ch, "id", 'live["id"]'), key(ch, "tenantId", 'json["t"]'))
    )
    another_entity = lookup(entity("Scene"), "s", 'live["id"]')
    out = reuse_rows([rows(ch, "live", [other, wrong_tenant, another_entity])])
    assert not any(isinstance(s, Reuse) for s in walk(out))


def test_a_fan_out_row_is_not_held_after_its_loop() -> None:
    ch = entity()
    out = reuse_rows([rows(ch, "live", []), lookup(ch, "after", 'live["id"]')])
    assert isinstance(out[1], Lookup)


def test_tasks_run_in_order_so_a_later_task_reuses_an_earlier_one() -> None:
    ch = entity()
    first = lookup(ch, "first", 'json["id"]', var="first")
    second = lookup(ch, "second", 'first["id"]', var="second")
    count = Count(node("n"), ch, SqlText("SQL_N", "SELECT COUNT(*)", (tenant(ch),)), "n", "n")
    out = reuse_rows([Parallel(node("tasks"), [first, count, second])])
    (par,) = out
    assert isinstance(par, Parallel)
    assert [type(t).__name__ for t in par.tasks] == ["Lookup", "Count", "Reuse"]


def test_an_existence_lookup_before_an_update_of_the_same_row_is_fused() -> None:
    ch = entity()
    check = lookup(ch, "exists", 'json["id"]')
    update = Update(node("rename"), ch, check.query, None, None, None, NotFound("x", "X"), None)
    update.query = SqlText("SQL_RENAME", "UPDATE ...", check.query.params)
    out = fuse_lookups([check, update])
    assert len(out) == 1 and isinstance(out[0], Update)
    assert [n.id for n in out[0].fused] == ["exists"]


def test_a_lookup_whose_row_is_read_or_that_filters_differently_is_kept() -> None:
    ch = entity()
    read = lookup(ch, "exists", 'json["id"]', var="exists")
    other = SqlText("SQL_RENAME", "UPDATE ...", (key(ch, "id", 'json["other"]'), tenant(ch)))
    update = Update(node("rename"), ch, other, None, None, None, NotFound("x", "X"), None)
    assert len(fuse_lookups([read, update])) == 2
    unread = lookup(ch, "exists", 'json["id"]')
    assert len(fuse_lookups([unread, update])) == 2


WORKFLOW = """{
  "id": "g", "name": "G", "nodes": [
    {"id": "a", "name": "a", "type": "metabuilder.condition", "typeVersion": 1,
     "parameters": {"condition": "{{ true }}"}},
    {"id": "b", "name": "b", "type": "metabuilder.action", "typeVersion": 1,
     "parameters": {"action": "log"}},
    {"id": "c", "name": "c", "type": "metabuilder.action", "typeVersion": 1,
     "parameters": {"action": "log"}},
    {"id": "d", "name": "d", "type": "metabuilder.action", "typeVersion": 1,
     "parameters": {"action": "log"}}
  ],
  "connections": {
    "a": {"main": [[{"node": "b", "index": 0}], [{"node": "c", "index": 0}]]},
    "b": {"main": [[{"node": "d", "index": 0}], [{"node": "c", "index": 0}]]}
  }
}"""


def _graph(text: str) -> tuple[list[str], object]:
    diags = Diagnostics()
    root = parse_json(SourceFile("g.json", text), diags)
    assert isinstance(root, JObject)
    wf = build_workflow(SourceFile("g.json", text), root, "p", "g", diags)
    graph = build_graph(wf, diags)
    return [d.code.name for d in diags.items], graph


def test_branch_arity_comes_from_the_kind() -> None:
    """A condition has two outputs; an action one: b's second branch is refused, a's is not."""
    problems, graph = _graph(WORKFLOW)
    assert problems == ["invalid-branch"], problems
    assert graph.outputs["a"] == [["b"], ["c"]]  # type: ignore[attr-defined]
    assert graph.is_upstream("a", "d") and graph.is_upstream("b", "d")  # type: ignore[attr-defined]
    assert not graph.is_upstream("c", "d") and not graph.is_upstream("d", "b")  # type: ignore[attr-defined]
    assert graph.reachable == ["a", "b", "d", "c"]  # type: ignore[attr-defined]


def test_cycles_and_fan_in_are_reported() -> None:
    doc = WORKFLOW.replace(
        '"b": {"main": [[{"node": "d", "index": 0}], [{"node": "c", "index": 0}]]}',
        '"b": {"main": [[{"node": "c", "index": 0}]]}, "c": {"main": [[{"node": "a", "index": 0}]]}',
    )
    problems, _ = _graph(doc)
    assert "cycle" in problems, problems
    fan_in = WORKFLOW.replace(
        '"b": {"main": [[{"node": "d", "index": 0}], [{"node": "c", "index": 0}]]}',
        '"b": {"main": [[{"node": "c", "index": 0}]]}',
    )
    problems, _ = _graph(fan_in)
    assert "fan-in" in problems, problems
