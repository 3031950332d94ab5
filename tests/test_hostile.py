"""Workflow text never becomes code, and no user name collides with a generated one.

- Hostile strings (quotes of every kind, backslashes, line breaks, U+2028, NUL, lone
  surrogates, ``\\N{...}``, template and comment markers) in every text a workflow or entity
  file carries into generated code: each package compiles, imports without running anything,
  passes ``mypy --strict`` and migrates on SQLite, or is refused with a located error.
- Node ids renamed to every name a generated module uses (its SQL constants, locals,
  imports, the translator's temporaries): the handler still compiles and answers correctly.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from compiler import codes
from compiler.pipeline import compile_project
from compiler.write import write_all
from tests.conftest import ROOT

WORKFLOWS = ROOT / "workflows" / "stream_cast"
MARKER = "pwned-by-a-workflow"

HOSTILE = [
    '"""',
    "'''",
    '\\"""\nopen("MARK", "w")\n"""',
    "'''\nopen('MARK', 'w')\n'''",
    "x\nopen('MARK', 'w')\n# ",
    "x\r\nopen('MARK', 'w')",
    "x\u2028open('MARK', 'w')",
    "x\u2029y\x85z",
    "nul\x00byte",
    "\\",
    "trailing backslash \\",
    'trailing quote "',
    "\\N{BULLET} \\x41 \\u0041",
    "lone \ud800 surrogate",
    "{{ not an expression",
    "# comment; __import__('os').system('touch MARK')",
    "\t\f\v",
    "é ü 中文 🙂",
]


def _hostile_package(i: int, text: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    payload = text.replace("MARK", MARKER)
    doc = json.loads((WORKFLOWS / "scene_transition.json").read_text())
    doc["id"] = f"hostile_{i}_001"
    doc["name"] = payload
    doc["versionId"] = payload
    doc["tags"] = [payload]
    doc["meta"]["description"] = payload
    doc["meta"]["triggers"] = [f"POST /api/v1/{{tenant}}/hostile{i}/scenes/{{channelId}}"]
    for node in doc["nodes"]:
        node["name"] = payload
        node["notes"] = payload
        params = node["parameters"]
        if "{{" in payload:
            continue  # parameters are templates: an unclosed `{{` there is a located error
        if params.get("action") == "emit_event":
            params["event"] = payload
            params["data"][payload] = payload
        if params.get("action") == "http_response":
            params["body"] = {payload: payload, "note": payload}
        if node["type"] == "metabuilder.validate":
            params["errorMessage"] = payload
    ents = json.loads((WORKFLOWS / "entities.json").read_text())
    for ent in ents["entities"].values():
        ent["label"] = payload
        ent["description"] = payload
        ent["table"] = f"h{i}_{ent['table']}"
        for key in (*ent.get("unique", []), *ent.get("indexes", [])):
            key["name"] = f"h{i}_{key['name']}"
    return f"hostile_{i}", doc, ents


def test_hostile_strings_never_become_code(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for i, text in enumerate(HOSTILE):
        package, doc, ents = _hostile_package(i, text)
        (src / package).mkdir(parents=True)
        (src / package / "scene_transition.json").write_text(json.dumps(doc), encoding="utf-8")
        (src / package / "entities.json").write_text(json.dumps(ents), encoding="utf-8")
    res = compile_project([src])
    errors = res.diagnostics.errors()
    assert not [d for d in errors if d.code is codes.INTERNAL_ERROR], errors
    for d in errors:  # a refusal is located
        assert d.span is not None and d.span.has_line, d
    assert not errors, [d.message for d in errors]  # every hostile text is data: all compile
    out = tmp_path / "generated"
    write_all(out, res.files)
    work = tmp_path / "run"
    work.mkdir()
    modules = sorted(
        f"generated.{p.parent.name}.{p.stem}" for p in out.glob("*/*.py") if p.stem != "__init__"
    )
    script = (
        "import importlib, sys\n"
        f"sys.path[:0] = [{str(tmp_path)!r}, {str(ROOT)!r}]\n"
        f"for m in {modules!r}:\n    importlib.import_module(m)\n"
        "from generated import registry\n"
        "import asyncio\n"
        "from runtime.config import Config\n"
        "from runtime.database import Store, migrate\n"
        "async def main():\n"
        "    store = Store(Config(database_url='sqlite:///hostile.db'))\n"
        "    await store.start()\n"
        "    await migrate(store, registry.DDL_SQLITE)\n"
        "    await store.stop()\n"
        "asyncio.run(main())\n"
        "print(len(registry.WORKFLOWS))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=work)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(len(HOSTILE))
    assert not any(MARKER in p.name for p in work.iterdir()), "a workflow string ran as code"
    assert not list(tmp_path.rglob(MARKER)), "a workflow string ran as code"
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-p", "generated"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "MYPYPATH": str(ROOT)},
    )  # fmt: skip
    assert mypy.returncode == 0, mypy.stdout


def _generated_names() -> list[str]:
    """Every identifier the spec's generated modules use, and the translator's temporaries."""
    found: set[str] = {"_t1", "_t2", "items", "item", "row", "user", "ctx", "ex", "json"}
    for path in (ROOT / "generated" / "stream_cast").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                found.add(node.id)
            elif isinstance(node, ast.alias):
                found.add(node.asname or node.name)
    return sorted(n for n in found if n.isidentifier() and n.isascii())


def _rename(doc: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    text = json.dumps(doc)
    for quoted in (f'"{old}"', f"$steps.{old}.", f"$steps.{old} "):
        text = text.replace(quoted, quoted.replace(old, new))
    return dict(json.loads(text))


def _load(text: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)  # the test runs generated code
    return module


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    from generated import registry
    from runtime.config import Config
    from runtime.database import Store, migrate

    async def start() -> Store:
        s = Store(Config(database_url=f"sqlite:///{tmp_path / 'names.db'}"))
        await s.start()
        await migrate(s, registry.DDL_SQLITE)
        async with s.writer() as conn:
            await conn.execute(
                "INSERT INTO stream_channel (id, tenant_id, name, is_live, started_at) "
                "VALUES ('c1', 'acme', 'One', TRUE, '2026-01-22T00:00:00.000Z')"
            )
        return s

    s = asyncio.run(start())
    yield s
    asyncio.run(s.stop())


NAMES = _generated_names()


@pytest.mark.parametrize("name", NAMES)
def test_a_node_named_like_generated_code_keeps_working(name: str, tmp_path: Path, store) -> None:  # type: ignore[no-untyped-def]
    from runtime.engine import Engine
    from runtime.errors import WorkflowError
    from runtime.events import LocalBus
    from runtime.results import OkResult, StreamResult

    pkg = tmp_path / "src" / "stream_cast"
    pkg.mkdir(parents=True)
    shutil.copy(WORKFLOWS / "entities.json", pkg / "entities.json")
    subscribe = _rename(
        json.loads((WORKFLOWS / "subscribe.json").read_text()), "fetch_channel", name
    )
    counts = _rename(
        json.loads((WORKFLOWS / "viewer_count.json").read_text()), "broadcast_counts", name
    )
    (pkg / "subscribe.json").write_text(json.dumps(subscribe))
    (pkg / "viewer_count.json").write_text(json.dumps(counts))
    res = compile_project([tmp_path / "src"])
    errors = res.diagnostics.errors()
    if errors:  # a name the format refuses (a keyword...): refused with a location
        assert all(d.span is not None and d.span.has_line for d in errors), errors
        assert not any(d.code is codes.INTERNAL_ERROR for d in errors), errors
        return
    user = {"id": "u1", "name": "U", "level": 1.0, "email": "", "roles": [], "scopes": []}
    ctx: Any = {"tenantId": "acme", "request": {"method": "POST", "path": "/", "headers": {}},
                "user": user}  # fmt: skip
    engine = Engine(store, LocalBus(), None)

    async def run(module: str, raw: dict[str, Any]) -> object:
        compiled = _load(res.files[f"stream_cast/{module}.py"], f"renamed_{module}").COMPILED
        try:
            return (await engine.run(compiled, ctx, raw)).result
        except WorkflowError as err:
            return err.body()

    streamed = asyncio.run(run("subscribe", {"channelId": "c1"}))
    assert isinstance(streamed, StreamResult) and streamed.channel == "stream:c1", streamed
    missing = asyncio.run(run("subscribe", {"channelId": "nope"}))
    assert missing == {"error": "Channel not found", "code": "CHANNEL_NOT_FOUND"}
    counted = asyncio.run(run("viewer_count", {}))
    assert isinstance(counted, OkResult) and counted.items == 1, counted
