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
import importlib
import json
import os
import random
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


def test_hostile_strings_never_become_code(tmp_path: Path, postgres) -> None:  # type: ignore[no-untyped-def]
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
    check_output(tmp_path, res.files, len(HOSTILE), postgres)


def check_output(tmp_path: Path, files: dict[str, str], workflows: int, postgres: Any) -> None:
    """Write the generated files, import every module in a fresh interpreter (nothing may
    run: no marker file appears), migrate on SQLite and PostgreSQL, and type-check them."""
    out = tmp_path / "generated"
    write_all(out, files)
    work = tmp_path / "run"
    work.mkdir()
    modules = sorted(
        f"generated.{p.parent.name}.{p.stem}" for p in out.glob("*/*.py") if p.stem != "__init__"
    )
    script = (
        "import importlib, os, sys\n"
        f"sys.path[:0] = [{str(tmp_path)!r}, {str(ROOT)!r}]\n"
        f"for m in {modules!r}:\n    importlib.import_module(m)\n"
        "from generated import registry\n"
        "import asyncio\n"
        "from runtime.config import Config\n"
        "from runtime.database import Store, migrate\n"
        "async def main(url, ddl):\n"
        "    store = Store(Config(database_url=url))\n"
        "    await store.start()\n"
        "    await migrate(store, ddl)\n"
        "    await migrate(store, ddl)  # idempotent\n"
        "    await store.stop()\n"
        "asyncio.run(main('sqlite:///hostile.db', registry.DDL_SQLITE))\n"
        "asyncio.run(main(os.environ['PG_URL'], registry.DDL_POSTGRESQL))\n"
        "print(len(registry.WORKFLOWS))\n"
    )
    env = {**os.environ, "PG_URL": postgres.url(postgres.create_database())}
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=work, env=env
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(workflows)
    assert not any(MARKER in p.name for p in work.iterdir()), "a workflow string ran as code"
    assert not list(tmp_path.rglob(MARKER)), "a workflow string ran as code"
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "generated"],
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


def _load(files: dict[str, str], module: str, out: Path) -> types.ModuleType:
    """The compiled ``module`` of ``files``, imported from a folder of its own (its modules
    import each other relatively)."""
    from runtime.loader import import_package

    for name, text in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    package = import_package(out).__name__.rsplit(".", 1)[0]
    return importlib.import_module(f"{package}.{module}")


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
        compiled = _load(res.files, f"stream_cast.{module}", tmp_path / "out").COMPILED
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


HOSTILE_NAMES = [
    "class", "None", "async", "from", "order", "select", "group", "__init__", "__class__",
    "demo", "registry", "1st", "é", "", "a" * 300, "x y", "a-b", "a.b", "a/b", "x\n",
]  # fmt: skip


def _text_positions(
    value: Any, prefix: tuple[Any, ...] = ()
) -> list[tuple[tuple[Any, ...], bool]]:
    """Every string in a JSON document: (path, is a key)."""
    out: list[tuple[tuple[Any, ...], bool]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(((*prefix, k), True))
            out += _text_positions(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _text_positions(v, (*prefix, i))
    elif isinstance(value, str):
        out.append((prefix, False))
    return out


def _place(doc: Any, path: tuple[Any, ...], is_key: bool, text: str) -> None:
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    if is_key:  # rename the key, keeping the order of the others
        items = [(text if k == path[-1] else k, v) for k, v in parent.items()]
        parent.clear()
        parent.update(items)
    else:
        parent[path[-1]] = text


def _fuzz_package(i: int, rng: random.Random) -> tuple[str, dict[str, str], str]:
    """The spec's package, made distinct (ids, routes, tables) and with one hostile string or
    name placed anywhere: a value or a key of a workflow or of the entity file."""
    docs = {p.name: json.loads(p.read_text()) for p in sorted(WORKFLOWS.glob("*.json"))}
    docs.pop("demo.json")
    for name, doc in docs.items():
        if name == "entities.json":
            for ent in doc["entities"].values():
                ent["table"] = f"f{i}_{ent['table']}"
                for key in (*ent.get("unique", []), *ent.get("indexes", [])):
                    key["name"] = f"f{i}_{key['name']}"
        else:
            doc["id"] = f"fz{i}_{doc['id']}"
            doc["meta"]["triggers"] = [
                t.replace("/stream_cast/", f"/fz{i}/") for t in doc["meta"]["triggers"]
            ]
    target = rng.choice(sorted(docs))
    positions = _text_positions(docs[target])
    keys = rng.random() < 0.2  # most names of the format are keys: mostly values, then
    path, is_key = rng.choice([p for p in positions if p[1] == keys])
    text = rng.choice(HOSTILE + HOSTILE_NAMES + NAMES).replace("MARK", MARKER)
    _place(docs[target], path, is_key, text)
    where = f"{target} {'key' if is_key else 'value'} {list(path)!r} = {text!r}"
    return f"fz_{i}", {n: json.dumps(d) for n, d in docs.items()}, where


FUZZ_PACKAGES = 24


def test_hostile_text_anywhere_compiles_or_is_refused(tmp_path: Path, postgres) -> None:  # type: ignore[no-untyped-def]
    """Hostile strings and names at random places of the spec's workflows and entities (a
    fixed seed): each package is refused with located errors or compiles; those that compile
    import without side effects, migrate on SQLite and PostgreSQL and pass mypy together."""
    rng = random.Random(20261126)
    src = tmp_path / "src"
    clean: list[str] = []
    for i in range(FUZZ_PACKAGES * 3):
        package, files, where = _fuzz_package(i, rng)
        alone = tmp_path / "alone" / str(i)
        (alone / package).mkdir(parents=True)
        for name, text in files.items():
            (alone / package / name).write_text(text, encoding="utf-8")
        errors = compile_project([alone]).diagnostics.errors()
        assert not [d for d in errors if d.code is codes.INTERNAL_ERROR], (where, errors)
        for d in errors:
            assert d.span is not None and d.span.has_line, (where, d)
        if not errors and len(clean) < FUZZ_PACKAGES:
            shutil.copytree(alone / package, src / package)
            clean.append(where)
    assert len(clean) >= FUZZ_PACKAGES // 2, clean
    res = compile_project([src])
    assert not res.diagnostics.errors(), [d.message for d in res.diagnostics.errors()]
    check_output(tmp_path, res.files, 4 * len(clean), postgres)
