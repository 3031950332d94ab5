"""Golden cases: one folder per node kind, action and database operation (and a few
packages that combine them) under ``cases/golden/<case>/``:

- ``src/``: the package's workflows and ``entities.json`` (the package is named after the case);
- ``expected/``: the files the compiler writes for it, compared byte for byte;
- ``run.py``: ``async def check(h)``, run on SQLite against the compiled output.

All cases compile together into one output (one registry, one ``mypy --strict`` run, one
database). ``make golden`` (``UPDATE_GOLDEN=1``) rewrites ``expected/`` after an intended
change; review the diff like any other. The four spec workflows' golden files are
``generated/`` itself: ``python -m compiler check`` fails when it differs from a fresh compile.
A new node kind, action or operation ships with its folder: a test below says so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.nodes import KINDS
from compiler.nodes.actions import ACTIONS
from compiler.nodes.db import OPERATIONS
from compiler.nodes.effects import EFFECTS
from compiler.sourcemap import origin
from tests.conftest import ROOT
from tests.services import Postgres

GOLDEN = ROOT / "tests" / "cases" / "golden"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "src").is_dir())


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("golden")
    for case in CASES:
        shutil.copytree(case / "src", root / "src" / case.name)
    out = root / "generated"
    proc = subprocess.run(
        [sys.executable, "-m", "compiler", "compile", "src", "--out", "generated"],
        capture_output=True, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "internal-error" not in proc.stderr
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_compiles_to_the_expected_files(case: Path, compiled: Path) -> None:
    got_dir = compiled / case.name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        shutil.rmtree(case / "expected", ignore_errors=True)
        shutil.copytree(got_dir, case / "expected", ignore=shutil.ignore_patterns("__pycache__"))
    got, want = files(got_dir), files(case / "expected")
    assert sorted(got) == sorted(want)
    for name in got:
        assert got[name] == want[name], f"{case.name}/{name} differs from the golden file"


def test_golden_output_type_checks(compiled: Path) -> None:
    """mypy --strict over every case's output; an error is shown at its workflow node."""
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "generated"],
        capture_output=True, text=True, cwd=compiled.parent,
        env={**os.environ, "MYPYPATH": str(ROOT)},
    )  # fmt: skip
    traced = []
    for line in mypy.stdout.splitlines():
        path, _, rest = line.partition(":")
        number = rest.split(":", 1)[0]
        if path.endswith(".py") and number.isdigit():
            where = origin((compiled.parent / path).read_text(), int(number))
            traced.append(f"{line}\n    from {where}")
    assert mypy.returncode == 0, "\n".join(traced) or mypy.stdout


def test_golden_cases_run_on_sqlite(compiled: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "golden_harness.py"), str(compiled),
         *map(str, CASES)],
        capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(compiled.parent), str(ROOT)])},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    failures = json.loads(run.stdout.strip().splitlines()[-1])
    assert failures == {}, "\n".join(f"{k}:\n{v}" for k, v in failures.items())


# The cases whose statements spell differently on PostgreSQL ($in), sort by expressions,
# aggregate or write many rows: run there too, on a real server.
POSTGRES_CASES = ("op_read", "op_aggregate", "op_update_many", "op_delete_many", "op_count")


def test_golden_cases_run_on_postgresql(compiled: Path, postgres: Postgres) -> None:
    url = postgres.url(postgres.create_database())
    cases = [c for c in CASES if c.name in POSTGRES_CASES]
    run = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "golden_harness.py"), "--database", url,
         str(compiled), *map(str, cases)],
        capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(compiled.parent), str(ROOT)])},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    failures = json.loads(run.stdout.strip().splitlines()[-1])
    assert failures == {}, "\n".join(f"{k}:\n{v}" for k, v in failures.items())


def _uses() -> set[str]:
    """Every node type, action and operation the golden cases' workflows use."""
    used: set[str] = set()
    for case in CASES:
        for path in (case / "src").glob("*.json"):
            doc = json.loads(path.read_text())
            for node in doc.get("nodes", []):
                if "startNode" in doc:  # JSON Script: the kinds it converts to
                    used.add({"forEach": "jsonscript.forEach"}.get(node.get("op"), ""))
                    used.add(str(node.get("plugin", "")))
                    continue
                used.add(node["type"])
                params = node["parameters"]
                used.add(str(params.get("action", "")))
                used.add(str(params.get("operation", "")))
                used.update(str(t.get("op", "")) for t in params.get("tasks", []))
    return used


def test_every_kind_action_and_operation_has_a_golden_case() -> None:
    used = _uses()
    assert set(KINDS) <= used, set(KINDS) - used
    assert set(ACTIONS) <= used, set(ACTIONS) - used
    assert set(OPERATIONS) <= used, set(OPERATIONS) - used
    assert set(EFFECTS) <= used, set(EFFECTS) - used
    names = {c.name for c in CASES}
    for kind in KINDS.values():  # metabuilder.action: one folder per action instead
        folder = "node_" + re.sub(r"[^A-Za-z0-9]+", "_", kind.short)
        assert kind.short == "action" or folder in names, f"no golden folder {folder}"
    for effect in EFFECTS:
        assert f"op_{effect}" in names, f"no golden folder op_{effect}"
    for action in ACTIONS:
        assert f"action_{action}" in names, f"no golden folder action_{action}"
    for op in OPERATIONS.values():
        assert f"op_{op.verb}" in names, f"no golden folder op_{op.verb}"
