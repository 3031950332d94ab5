"""The compile-time rules, each with workflows that break it and workflows that keep it:
tenant isolation over every kind of operation (nodes and operation tasks), references that
must resolve on every path, and triggers."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from compiler.pipeline import compile_project
from tests.conftest import ROOT

WORKFLOWS = ROOT / "workflows" / "stream_cast"


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((WORKFLOWS / f"{name}.json").read_text()))


def node(doc: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in doc["nodes"] if n["id"] == node_id)


def codes_of(tmp: Path, *docs: tuple[str, dict[str, Any]]) -> set[str]:
    pkg = tmp / "src" / "stream_cast"
    shutil.rmtree(tmp / "src", ignore_errors=True)
    pkg.mkdir(parents=True)
    shutil.copy(WORKFLOWS / "entities.json", pkg / "entities.json")
    for name, doc in docs:
        (pkg / f"{name}.json").write_text(json.dumps(doc, indent=2))
    result = compile_project([tmp / "src"])
    return {d.code.name for d in result.diagnostics.errors()}


TENANT = "{{ $context.tenantId }}"
NOT_THE_CONTEXT = [
    "acme",  # a literal
    "{{ $json.tenantId }}",  # the input
    "{{ $context.tenantId + '' }}",  # an expression that merely contains it
    "{{ $context.tenantId || 'acme' }}",
    "x{{ $context.tenantId }}",  # text around it
    "{{ $context.user.id }}",
]


@pytest.mark.parametrize("value", NOT_THE_CONTEXT)
@pytest.mark.parametrize(
    "where",
    [
        ("subscribe", "fetch_channel", "read"),
        ("unsubscribe", "delete_subscription", "delete"),
        ("scene_transition", "update_active_scene", "update"),
        ("viewer_count", "fetch_active_streams", "read (fan-out)"),
        ("viewer_count", "update_viewer_counts/count_viewers", "count task"),
        ("viewer_count", "update_viewer_counts/fetch_channel_stats", "read task"),
    ],
)
def test_tenant_filter_must_be_exactly_the_context(
    tmp_path: Path, where: tuple[str, str, str], value: str
) -> None:
    name, target, _ = where
    doc = load(name)
    node_id, _, task = target.partition("/")
    params = node(doc, node_id)["parameters"]
    if task:
        params = next(t for t in params["tasks"] if t["id"] == task)["params"]
    params["filter"]["tenantId"] = value
    assert "tenant-filter-not-context" in codes_of(tmp_path, (name, doc))
    del params["filter"]["tenantId"]
    # No filter: the context tenant is added (as DBAL does), with a warning at the node.
    assert codes_of(tmp_path, (name, doc)) == set()
    result = compile_project([tmp_path / "src"])
    assert "tenant-filter-missing" in {d.code.name for d in result.diagnostics.warnings()}
    # compiler/verify.py re-reads the module and refuses any statement on a tenant table
    # without the context tenant: compiling cleanly shows the filter is there.
    assert f"stream_cast/{name}.py" in result.files
    params["filter"]["tenantId"] = TENANT
    assert codes_of(tmp_path, (name, doc)) == set()


@pytest.mark.parametrize("value", NOT_THE_CONTEXT)
def test_creates_write_the_context_tenant_and_updates_never_move_rows(
    tmp_path: Path, value: str
) -> None:
    doc = load("subscribe")
    data = node(doc, "create_subscription")["parameters"]["data"]
    data["tenantId"] = value
    assert "tenant-data-not-context" in codes_of(tmp_path, ("subscribe", doc))
    del data["tenantId"]
    assert "tenant-data-missing" in codes_of(tmp_path, ("subscribe", doc))

    scene = load("scene_transition")
    update = node(scene, "update_active_scene")["parameters"]["data"]
    update["tenantId"] = value
    assert "tenant-data-not-context" in codes_of(tmp_path, ("scene_transition", scene))
    update["tenantId"] = TENANT  # rewriting it to itself moves nothing
    assert codes_of(tmp_path, ("scene_transition", scene)) == set()


@pytest.mark.parametrize("value", ["acme", "{{ $json.tenantId }}", "", "{{ $context.tenantId }}x"])
def test_the_workflow_tenant_is_the_context(tmp_path: Path, value: str) -> None:
    doc = load("unsubscribe")
    doc["tenantId"] = value
    assert "workflow-tenant" in codes_of(tmp_path, ("unsubscribe", doc))


def test_steps_must_be_upstream_on_every_path(tmp_path: Path) -> None:
    doc = load("scene_transition")
    # emit_scene_change reads $steps.fetch_channel: fine, it runs before on the only path.
    assert codes_of(tmp_path, ("scene_transition", doc)) == set()
    # Reading a node that runs after it is not.
    later = copy.deepcopy(doc)
    node(later, "emit_scene_change")["parameters"]["data"] = "{{ { x: $steps.return_success } }}"
    assert "unknown-step" in codes_of(tmp_path, ("scene_transition", later))
    # A task name under .tasks. must exist.
    vc = load("viewer_count")
    broadcast = node(vc, "broadcast_counts")["parameters"]["data"]
    assert "count_viewers" in json.dumps(broadcast)
    text = json.dumps(vc).replace("tasks.count_viewers.", "tasks.count_viewer.")
    assert "unknown-step" in codes_of(tmp_path, ("viewer_count", json.loads(text)))


def test_step_on_one_branch_is_not_upstream_of_the_other(tmp_path: Path) -> None:
    doc = load("scene_transition")
    cond = next(n for n in doc["nodes"] if n["type"] == "metabuilder.condition")
    # A false branch that reads a node only the true branch runs.
    doc["nodes"].append(
        {
            "id": "deny",
            "name": "Deny",
            "type": "metabuilder.action",
            "typeVersion": 1,
            "position": [0, 0],
            "parameters": {
                "action": "http_response",
                "status": 403,
                "body": "{{ { scene: $steps.update_active_scene.output.activeSceneId } }}",
            },
        }
    )
    doc["connections"][cond["id"]]["main"].append([{"node": "deny", "index": 0}])
    assert "unknown-step" in codes_of(tmp_path, ("scene_transition", doc))
    node(doc, "deny")["parameters"]["body"] = "{{ { error: 'denied' } }}"
    assert codes_of(tmp_path, ("scene_transition", doc)) == set()


def test_triggers(tmp_path: Path) -> None:
    for bad in ("POST api/v1/{tenant}/x", "FETCH /api/v1/{tenant}/x", "POST /api/v2/{tenant}/x",
                "POST /api/v1/acme/x", "SCHEDULED:every_five_seconds", "POST /api/v1/{tenant}/{"):  # fmt: skip
        doc = load("unsubscribe")
        doc["meta"]["triggers"] = [bad]
        assert "invalid-trigger" in codes_of(tmp_path, ("unsubscribe", doc)), bad
    a, b = load("subscribe"), load("unsubscribe")
    b["meta"]["triggers"] = list(a["meta"]["triggers"])
    assert "duplicate-route" in codes_of(tmp_path, ("subscribe", a), ("unsubscribe", b))
    b["meta"]["triggers"] = ["DELETE /api/v1/{tenant}/stream_cast/subscribe"]  # other method
    assert codes_of(tmp_path, ("subscribe", a), ("unsubscribe", b)) == set()


@pytest.mark.parametrize(
    ("name", "node_id"),
    [("viewer_count", "fetch_active_streams"), ("subscribe", "fetch_channel")],
)
def test_one_bad_field_is_one_error_not_a_cascade(tmp_path: Path, name: str, node_id: str) -> None:
    """Nodes downstream of a node that failed to compile do not report its `$steps` as
    missing (nor the tasks of a node that failed because of it)."""
    doc = load(name)
    flt = node(doc, node_id)["parameters"]["filter"]
    key = next(k for k in flt if k != "tenantId")
    flt[key + "Typo"] = flt.pop(key)
    pkg = tmp_path / "src" / "stream_cast"
    pkg.mkdir(parents=True)
    shutil.copy(WORKFLOWS / "entities.json", pkg / "entities.json")
    (pkg / f"{name}.json").write_text(json.dumps(doc, indent=2))
    errors = compile_project([tmp_path / "src"]).diagnostics.errors()
    assert [d.code.name for d in errors] == ["unknown-field"], [d.message for d in errors]
