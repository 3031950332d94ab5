"""The compiler's structure keeps its promises: a kind or operation forgotten in one place is
caught, not silently compiled.

- a statement class without an emitter branch is a mypy error (``assert_never``);
- an operation that declares no tenant binding does not compile (an internal error at the node);
- the verifier catches a generated module broken by hand;
- a mypy error in generated code is reported at the workflow node it comes from;
- every node kind parses, reports and lowers through its module (the registry is complete).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compiler import codes
from compiler.diagnostics import Diagnostics
from compiler.nodes import KINDS
from compiler.nodes.base import NodeSpec, TenantBinding
from compiler.nodes.db import OPERATIONS
from compiler.pipeline import compile_project
from compiler.typecheck import report
from compiler.verify import verify_module
from tests.conftest import ROOT

WORKFLOWS = ROOT / "workflows" / "stream_cast"


def test_a_statement_class_without_an_emitter_branch_is_a_mypy_error(tmp_path: Path) -> None:
    """Add a statement class to the IR's closed union, leave the emitter alone: mypy fails at
    the emitter's ``assert_never``."""
    pkg = tmp_path / "compiler"
    shutil.copytree(ROOT / "compiler", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    ir = pkg / "ir.py"
    text = ir.read_text()
    text = text.replace(
        "\nStmt = (\n",
        "\n@dataclass(eq=False)\nclass Sleep(StmtBase):\n    seconds: float\n\n\nStmt = (\n    Sleep\n    |",
    )
    ir.write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent",
         "compiler/emit.py"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout
    assert "emit.py" in proc.stdout and "assert_never" in proc.stdout, proc.stdout
    assert '"Sleep"' in proc.stdout, proc.stdout


def _package(tmp: Path, docs: dict[str, dict[str, object]]) -> Path:
    pkg = tmp / "src" / "stream_cast"
    shutil.rmtree(tmp / "src", ignore_errors=True)
    pkg.mkdir(parents=True)
    shutil.copy(WORKFLOWS / "entities.json", pkg / "entities.json")
    for name, doc in docs.items():
        (pkg / f"{name}.json").write_text(json.dumps(doc, indent=2))
    return tmp / "src"


def test_an_operation_without_a_tenant_binding_does_not_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upsert module that forgot ``tenant=``: refused at its node, whatever its filter and
    data say (here `tenantId` comes from the input, which a permissive check would miss)."""
    upsert = dataclasses.replace(
        OPERATIONS["database_update"], name="database_upsert", tenant=None
    )
    assert upsert.tenant is None
    monkeypatch.setitem(OPERATIONS, "database_upsert", upsert)
    doc = json.loads((WORKFLOWS / "unsubscribe.json").read_text())
    node = next(n for n in doc["nodes"] if n["id"] == "delete_subscription")
    node["parameters"]["operation"] = "database_upsert"
    node["parameters"]["data"] = {"tenantId": "{{ $json.tenantId }}"}
    res = compile_project([_package(tmp_path, {"unsubscribe": doc})])
    internal = [d for d in res.diagnostics.errors() if d.code is codes.INTERNAL_ERROR]
    assert len(internal) == 1, res.diagnostics.items
    assert internal[0].node_id == "delete_subscription"
    assert "database_upsert" in internal[0].message and "tenant" in internal[0].message
    assert internal[0].span is not None and internal[0].span.path.endswith("unsubscribe.json")
    assert res.files == {} or "stream_cast/unsubscribe.py" not in res.files


def test_every_shipped_operation_declares_its_tenant_binding() -> None:
    for op in OPERATIONS.values():
        assert isinstance(op.tenant, TenantBinding), op.name
        assert (op.tenant is TenantBinding.DATA) == (not op.needs_filter), op.name


def _subscribe_module() -> tuple[str, dict[str, str], dict[str, str]]:
    text = (ROOT / "generated" / "stream_cast" / "subscribe.py").read_text()
    tenants = {"stream_channel": "tenant_id", "stream_subscription": "tenant_id"}
    owners = {
        "SQL_FETCH_CHANNEL": "fetch_channel",
        "SQL_CREATE_SUBSCRIPTION": "create_subscription",
    }
    return text, tenants, owners


def test_the_verifier_accepts_what_the_compiler_writes() -> None:
    for path in sorted((ROOT / "generated" / "stream_cast").glob("*.py")):
        if path.name in ("__init__.py", "entities.py"):
            continue
        tenants = {"stream_channel": "tenant_id", "stream_subscription": "tenant_id"}
        assert verify_module(path.read_text(), tenants, {}) == [], path.name


@pytest.mark.parametrize(
    ("mutation", "node", "problem"),
    [
        (('"f_tenant_id": ctx["tenantId"]}', '"f_tenant_id": json["channelId"]}'),
         "fetch_channel", 'binds `f_tenant_id` of `SQL_FETCH_CHANNEL` to `json["channelId"]`'),
        (('"d_tenant_id": ctx["tenantId"],', '"d_tenant_id": "acme",'),
         "create_subscription", "binds `d_tenant_id` of `SQL_CREATE_SUBSCRIPTION` to `\"acme\"`"),
        (('"f_tenant_id": ctx["tenantId"]}', "}"),
         "fetch_channel", "binds `f_tenant_id` of `SQL_FETCH_CHANNEL` to nothing"),
        (("stream_channel WHERE id = :f_id AND tenant_id = :f_tenant_id",
          "stream_channel WHERE id = :f_id"),
         "fetch_channel", "runs `SQL_FETCH_CHANNEL` on `stream_channel` without `:f_tenant_id`"),
        (('    ex.step("setup_sse")\n', ""), "setup_sse", "has no `ex.step`"),
        (("\nSQL_FETCH_CHANNEL: Final", '\nSQL_SPARE: Final = "SELECT 1"\nSQL_FETCH_CHANNEL: Final'),
         "", "defines `SQL_SPARE` but never runs it"),
    ],
)  # fmt: skip
def test_the_verifier_catches_a_hand_broken_module(
    mutation: tuple[str, str], node: str, problem: str
) -> None:
    text, tenants, owners = _subscribe_module()
    assert mutation[0] in text
    broken = text.replace(mutation[0], mutation[1], 1)
    found = verify_module(broken, tenants, owners)
    assert [(v.node, problem in v.problem) for v in found] == [(node, True)], found


def test_a_verifier_violation_is_an_internal_error_at_the_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the pipeline: a renderer that forgets the tenant fails the compile, located."""
    from compiler import codegen

    real = codegen.render_workflow_source

    def forgetful(plan):  # type: ignore[no-untyped-def]
        return real(plan).replace("'f_tenant_id': ctx['tenantId']", "'f_tenant_id': 'acme'")

    monkeypatch.setattr(codegen, "render_workflow_source", forgetful)
    res = compile_project([WORKFLOWS])
    internal = [d for d in res.diagnostics.errors() if d.code is codes.INTERNAL_ERROR]
    assert {d.node_id for d in internal} >= {"fetch_channel", "delete_subscription"}, internal
    assert all(d.span is not None and d.span.has_line for d in internal)


def test_a_mypy_error_in_generated_code_is_reported_at_its_node(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    shutil.copytree(ROOT / "generated", out, ignore=shutil.ignore_patterns("__pycache__"))
    module = out / "stream_cast" / "subscribe.py"
    text = module.read_text()
    module.write_text(
        text.replace('    ex.step("setup_sse")\n', '    ex.step("setup_sse")\n    n: int = json\n')
    )
    line = module.read_text().splitlines().index("    n: int = json") + 1
    mypy_output = (
        f"generated/stream_cast/subscribe.py:{line}: error: Incompatible types [assignment]\n"
    )
    res = compile_project([WORKFLOWS])
    diags = Diagnostics()
    assert report(mypy_output, out, res.summaries, diags) == 1
    (d,) = diags.items
    assert d.code is codes.INTERNAL_ERROR and d.node_id == "setup_sse"
    assert d.span is not None and d.span.path == "workflows/stream_cast/subscribe.json"
    assert f"subscribe.py:{line}" in d.message


def test_check_typecheck_runs_mypy_over_the_output() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "compiler", "check", "--typecheck"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "internal-error" not in proc.stderr


def test_every_kind_is_complete() -> None:
    """Each kind's spec class implements the whole contract (abstract methods), and each kind
    documents every parameter it accepts."""
    for kind in KINDS.values():
        assert kind.parameters, kind.type
        assert kind.versions, kind.type
        assert all(p.description for p in kind.parameters), kind.type
    for cls in NodeSpec.__subclasses__():
        assert not getattr(cls, "__abstractmethods__", None), cls


NOTE_KIND = '''
"""metabuilder.note: answers with a fixed note (a kind added by dropping in its module)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from compiler.ir import Respond, Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader
from compiler.plan.lower import Lowering


@dataclass
class NoteSpec(NodeSpec):
    text: JValue

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.text)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "note"

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        note = ast.Dict([ast.Constant("note")], [lw.bind.text(self.text, node)])
        return [Respond(node, 200, note)]


def parse(r: ParamReader) -> NoteSpec | None:
    text = r.require("text", "the note")
    return NoteSpec(text) if text is not None else None


KIND = NodeKind(
    type="metabuilder.note",
    versions=(1,),
    summary="answers with a note",
    parameters=(ParamDoc("text", True, "the note"),),
    parse=parse,
)
'''


def test_a_new_kind_is_its_module(tmp_path: Path) -> None:
    """Drop a module into compiler/nodes/ and the compiler knows the kind: parsing, `$json`
    inference, lowering, the Mermaid label, the type check of the output."""
    shutil.copytree(
        ROOT / "compiler", tmp_path / "compiler", ignore=shutil.ignore_patterns("__pycache__")
    )
    (tmp_path / "compiler" / "nodes" / "note.py").write_text(NOTE_KIND)
    doc = {
        "id": "notes_001", "name": "Note", "active": True, "tenantId": "{{ $context.tenantId }}",
        "nodes": [{"id": "say", "name": "Say", "type": "metabuilder.note", "typeVersion": 1,
                   "parameters": {"text": "hello {{ $json.who }}"}}],
        "connections": {}, "meta": {"triggers": ["POST /api/v1/{tenant}/notes/say"]},
    }  # fmt: skip
    pkg = tmp_path / "src" / "notes"
    pkg.mkdir(parents=True)
    (pkg / "say.json").write_text(json.dumps(doc))
    (pkg / "entities.json").write_text('{"entities": {}}')
    proc = subprocess.run(
        [sys.executable, "-m", "compiler", "compile", "src", "--out", "generated"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    module = (tmp_path / "generated" / "notes" / "say.py").read_text()
    assert 'return JsonResult(200, {"note": "hello " + js.to_string(json["who"])})' in module
    assert '"who": object' in module  # a required input: read without `?.`
    assert "<small>note: note</small>" in (tmp_path / "generated" / "notes" / "say.md").read_text()
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "generated"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "MYPYPATH": str(ROOT)},
    )  # fmt: skip
    assert mypy.returncode == 0, mypy.stdout


def test_formatting_on_every_core_writes_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large batch is formatted and verified in worker processes; the output is identical
    to the one-process path, diagnostics included."""
    from compiler import pipeline

    src = tmp_path / "src"
    for case in sorted((ROOT / "tests" / "cases" / "golden").iterdir()):
        if (case / "src").is_dir():
            shutil.copytree(case / "src", src / case.name)
    monkeypatch.setattr(pipeline, "PARALLEL_FROM", 10_000)
    alone = compile_project([src])
    monkeypatch.setattr(pipeline, "PARALLEL_FROM", 2)
    shared = compile_project([src])
    assert len(alone.files) > 40
    assert alone.files == shared.files
    assert [d.message for d in alone.diagnostics.sorted()] == [
        d.message for d in shared.diagnostics.sorted()
    ]


def test_the_registry_is_written_in_blacks_style() -> None:
    """The registry is rendered without a formatter pass: black leaves it as it is, with one
    package or several, short names or names too long for an import line."""
    import black

    from compiler.codegen import render_registry

    long = "a_package_with_a_name_long_enough_to_push_an_import_past_ninety_nine_columns"
    for modules in (
        [("stream_cast", "subscribe")],
        [("stream_cast", "subscribe"), ("stream_cast", "unsubscribe"), ("shop", "order")],
        [(long, "a_module_with_a_long_name_too"), ("b", "x")],
    ):
        text = render_registry(modules)
        mode = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=99)
        assert black.format_str(text, mode=mode) == text, text
