"""Inputs the compiler refuses with a located error instead of crashing or emitting code that
cannot load: names Python or SQL cannot take, a table mapped twice, numbers and expressions
past the documented limits, schedules that would spin, routes that shadow each other."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler import sql
from compiler.pipeline import compile_project
from tests.conftest import ROOT

WORKFLOWS = ROOT / "workflows" / "stream_cast"


def _project(tmp: Path, packages: dict[str, dict[str, Any]]) -> Path:
    """``packages``: folder -> {file name: JSON document or text}."""
    src = tmp / "src"
    shutil.rmtree(src, ignore_errors=True)
    for package, files in packages.items():
        (src / package).mkdir(parents=True)
        for name, doc in files.items():
            text = doc if isinstance(doc, str) else json.dumps(doc, indent=2)
            (src / package / name).write_text(text, encoding="utf-8")
    return src


def _spec(*names: str) -> dict[str, Any]:
    files: dict[str, Any] = {
        "entities.json": json.loads((WORKFLOWS / "entities.json").read_text())
    }
    for n in names:
        files[f"{n}.json"] = json.loads((WORKFLOWS / f"{n}.json").read_text())
    return files


def _errors(src: Path) -> list[tuple[str, str, int]]:
    res = compile_project([src])
    out = []
    for d in res.diagnostics.errors():
        assert d.span is not None, d
        out.append((d.code.name, d.message, d.span.start.line))
    assert not any(code == "internal-error" for code, _, _ in out), out
    return out


def _mutate(files: dict[str, Any], name: str, fn: Callable[[dict[str, Any]], None]) -> None:
    fn(files[name])


@pytest.mark.parametrize(
    ("package", "module", "code"),
    [("class", "subscribe", "invalid-name"), ("stream_cast", "async", "invalid-name"),
     ("stream_cast", "__init__", "invalid-name"), ("None", "subscribe", "invalid-name")],
)  # fmt: skip
def test_keyword_and_reserved_names_are_refused(
    tmp_path: Path, package: str, module: str, code: str
) -> None:
    files = _spec("subscribe")
    files[f"{module}.json"] = files.pop("subscribe.json")
    assert code in {c for c, _, _ in _errors(_project(tmp_path, {package: files}))}


def test_a_demo_file_holding_a_workflow_is_reported(tmp_path: Path) -> None:
    files = _spec("subscribe")
    files["demo.json"] = files["subscribe.json"]
    errors = _errors(_project(tmp_path, {"stream_cast": files}))
    assert [m for c, m, _ in errors if c == "invalid-name" and "demo.json" in m], errors


def test_an_entity_named_like_a_keyword_is_refused(tmp_path: Path) -> None:
    files = _spec("subscribe")
    ents = files["entities.json"]["entities"]
    ents["None"] = ents.pop("StreamChannel")
    errors = _errors(_project(tmp_path, {"stream_cast": files}))
    assert (
        "invalid-entity",
        "entity name `None` cannot name a Python type (it is a keyword)",
    ) in [(c, m) for c, m, _ in errors]


def test_a_field_named_like_a_keyword_compiles(tmp_path: Path) -> None:
    """`from` is a field name in real schemas: the row type takes TypedDict's call form."""
    files = _spec("scene_transition")
    fields = files["entities.json"]["entities"]["StreamChannel"]["fields"]
    fields["from"] = {"type": "string", "nullable": True}
    res = compile_project([_project(tmp_path, {"stream_cast": files})])
    assert not res.diagnostics.errors(), res.diagnostics.errors()
    text = res.files["stream_cast/entities.py"]
    assert "StreamChannel = TypedDict(" in text and '"from": str | None' in text
    compile(text, "entities.py", "exec")


def test_sql_keywords_as_names_are_quoted() -> None:
    from compiler.escape import sql_identifier

    assert sql_identifier("order") == '"order"'
    assert sql_identifier("group") == '"group"'
    assert sql_identifier("channel_id") == "channel_id"
    with pytest.raises(ValueError):
        sql_identifier('x"; DROP TABLE y; --')


def test_a_table_named_order_migrates_and_is_queried(tmp_path: Path) -> None:
    files = _spec("subscribe")
    ents = files["entities.json"]["entities"]
    ents["StreamChannel"]["table"] = "order"
    ents["StreamChannel"]["fields"]["name"]["column"] = "select"
    res = compile_project([_project(tmp_path, {"stream_cast": files})])
    assert not res.diagnostics.errors(), res.diagnostics.errors()
    import sqlite3

    namespace: dict[str, Any] = {}
    exec(compile(res.files["stream_cast/entities.py"], "entities.py", "exec"), namespace)
    ddl = namespace["DDL_SQLITE"]
    assert any(s.startswith('CREATE TABLE IF NOT EXISTS "order" (') for s in ddl), ddl
    db = sqlite3.connect(":memory:")
    for statement in ddl:
        db.execute(statement)
    module = res.files["stream_cast/subscribe.py"]
    assert 'FROM "order" WHERE' in module, module


def test_one_table_has_one_mapping_across_packages(tmp_path: Path) -> None:
    """A second package mapping `stream_channel` with tenantId in another column could reach
    the first package's rows: refused at both declarations."""
    other = _spec("subscribe")
    other["subscribe.json"]["id"] = "other_subscribe_001"
    other["subscribe.json"]["meta"]["triggers"] = ["POST /api/v1/{tenant}/other/subscribe"]
    other["entities.json"]["entities"]["StreamChannel"]["fields"]["tenantId"]["column"] = "org"
    errors = _errors(_project(tmp_path, {"a_first": _spec("subscribe"), "b_other": other}))
    mapped = [m for c, m, _ in errors if c == "invalid-entity"]
    assert any("table `stream_channel` is mapped differently" in m for m in mapped), errors
    same = _errors(_project(tmp_path, {"a_first": _spec("subscribe"), "b_same": _same(tmp_path)}))
    assert not same, same


def _same(tmp: Path) -> dict[str, Any]:
    files = _spec("unsubscribe")
    files["unsubscribe.json"]["id"] = "same_unsubscribe_001"
    files["unsubscribe.json"]["meta"]["triggers"] = ["POST /api/v1/{tenant}/same/unsubscribe"]
    return files


def test_two_entities_on_one_table_and_two_fields_on_one_column(tmp_path: Path) -> None:
    files = _spec("subscribe")
    ents = files["entities.json"]["entities"]
    ents["Shadow"] = json.loads(json.dumps(ents["StreamChannel"]))
    messages = [m for _, m, _ in _errors(_project(tmp_path, {"stream_cast": files}))]
    assert any("both map table `stream_channel`" in m for m in messages), messages
    files = _spec("subscribe")
    files["entities.json"]["entities"]["StreamChannel"]["fields"]["name"]["column"] = "tenant_id"
    messages = [m for _, m, _ in _errors(_project(tmp_path, {"stream_cast": files}))]
    assert any("both map column `tenant_id`" in m for m in messages), messages


def test_routes_that_differ_only_in_parameter_names(tmp_path: Path) -> None:
    files = _spec("scene_transition", "subscribe")
    files["subscribe.json"]["meta"]["triggers"] = [
        "POST /api/v1/{tenant}/stream_cast/scenes/{other}/transition"
    ]
    errors = _errors(_project(tmp_path, {"stream_cast": files}))
    assert any(c == "duplicate-route" and "only in parameter names" in m for c, m, _ in errors)


@pytest.mark.parametrize(
    ("where", "value"),
    [("trigger", "SCHEDULED:every_0_seconds"), ("trigger", "SCHEDULED:every_500_milliseconds"),
     ("updateInterval", 10)],
)  # fmt: skip
def test_schedules_run_at_most_once_a_second(tmp_path: Path, where: str, value: object) -> None:
    files = _spec("viewer_count")
    doc = files["viewer_count.json"]
    if where == "trigger":
        doc["meta"]["triggers"][0] = value
    else:
        doc["staticData"]["updateInterval"] = value
    errors = _errors(_project(tmp_path, {"stream_cast": files}))
    assert any(c == "invalid-trigger" and "more often than" in m for c, m, _ in errors), errors


@pytest.mark.parametrize("digits", [400, 5000])
def test_huge_numbers_are_refused(tmp_path: Path, digits: int) -> None:
    files = _spec("subscribe")
    text = json.dumps(files["subscribe.json"], indent=2).replace(
        '"maxSubscriptionsPerUser": 100', '"maxSubscriptionsPerUser": 1' + "0" * digits
    )
    files["subscribe.json"] = text
    errors = _errors(_project(tmp_path, {"stream_cast": files}))
    assert [c for c, _, _ in errors] == ["invalid-json"], errors


@pytest.mark.parametrize(
    "expression",
    ["2" + "**2" * 250, "!" * 250 + "true", "true ? " * 250 + "1" + " : 0" * 250,
     "(" * 250 + "1" + ")" * 250, "[" * 250 + "]" * 250, " + ".join(["$json.channelId"] * 300)],
)  # fmt: skip
def test_deep_expressions_are_refused(tmp_path: Path, expression: str) -> None:
    files = _spec("subscribe")
    doc = files["subscribe.json"]
    setup = next(n for n in doc["nodes"] if n["id"] == "setup_sse")
    setup["parameters"]["channel"] = "{{ " + expression + " }}"
    errors = _errors(_project(tmp_path, {"stream_cast": files}))
    assert [c for c, _, _ in errors] == ["expression-too-deep"], errors


def test_the_deepest_allowed_expression_compiles_and_type_checks(tmp_path: Path) -> None:
    files = _spec("subscribe")
    doc = files["subscribe.json"]
    setup = next(n for n in doc["nodes"] if n["id"] == "setup_sse")
    setup["parameters"]["channel"] = "{{ " + "(" * 30 + "'s:' + $json.channelId" + ")" * 30 + " }}"
    res = compile_project([_project(tmp_path, {"stream_cast": files})])
    assert not res.diagnostics.errors(), res.diagnostics.errors()
    compile(res.files["stream_cast/subscribe.py"], "subscribe.py", "exec")


def chain(n: int) -> dict[str, Any]:
    """A workflow of ``n`` nodes in a row: a validate node, then log actions."""
    nodes = [
        {
            "id": "n0",
            "name": "n0",
            "type": "metabuilder.validate",
            "typeVersion": 1,
            "parameters": {"input": "{{ $context.user.id }}", "validator": "required"},
        }
    ]
    nodes += [
        {
            "id": f"n{i}",
            "name": f"n{i}",
            "type": "metabuilder.action",
            "typeVersion": 1,
            "parameters": {"action": "log", "message": f"step {i}"},
        }
        for i in range(1, n)
    ]
    return {"id": "chain_001", "name": "Chain", "active": True, "nodes": nodes,
            "tenantId": "{{ $context.tenantId }}",
            "connections": {f"n{i}": {"main": [[{"node": f"n{i + 1}", "index": 0}]]}
                            for i in range(n - 1)},
            "meta": {"triggers": ["POST /api/v1/{tenant}/chain/run"]}}  # fmt: skip


def test_a_long_chain_of_nodes_compiles(tmp_path: Path) -> None:
    """600 nodes in a row: lowered without recursion (it used to be an internal error)."""
    doc = chain(600)
    files = {"entities.json": json.loads((WORKFLOWS / "entities.json").read_text())}
    files["chain.json"] = doc
    res = compile_project([_project(tmp_path, {"chain": files})])
    assert not res.diagnostics.errors(), res.diagnostics.errors()
    assert res.files["chain/chain.py"].count("ex.log(") == 599


def test_a_workflow_past_the_node_limit_is_refused(tmp_path: Path) -> None:
    files = _spec("subscribe")
    doc = files["subscribe.json"]
    doc["nodes"] += [{"id": f"x{i}", "name": "x", "type": "metabuilder.action", "typeVersion": 1,
                      "parameters": {"action": "log"}} for i in range(1000)]  # fmt: skip
    errors = _errors(_project(tmp_path, {"stream_cast": files}))
    assert [c for c, _, _ in errors] == ["workflow-too-large"], errors


def test_tenant_selects_use_each_tables_own_column() -> None:
    from compiler.diagnostics import Span
    from compiler.model import Entity, EntityField

    span = Span.whole_file("x")
    f = EntityField("tenantId", "string", False, None, False, "org", span)
    e = Entity("Order", "Order", "", "order", "tenantId", {"tenantId": f}, [], [], span)
    assert sql.tenant_select(e) == 'SELECT org AS tenant FROM "order"'


def test_a_large_file_past_the_node_limit_is_refused_before_it_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past 256 KiB a file's nodes are counted with the standard JSON reader first (the
    loader keeps a position for every value): the same diagnostic, at the same place, without
    the memory. (`bench/large_workflow_bench.py`: 10,000 nodes in 0.5 s and 53 MiB.)"""
    import compiler.pipeline as pipeline

    files = {**_spec(), "chain.json": chain(5000)}
    src = _project(tmp_path, {"chain": files})
    assert (src / "chain" / "chain.json").stat().st_size > pipeline.QUICK_COUNT_FROM
    quick = compile_project([src]).diagnostics.errors()
    monkeypatch.setattr(pipeline, "QUICK_COUNT_FROM", 10**9)
    loaded = compile_project([src]).diagnostics.errors()
    assert [d.code.name for d in quick] == ["workflow-too-large"]
    assert [(d.message, d.span) for d in quick] == [(d.message, d.span) for d in loaded]
