"""Data-driven diagnostics: each folder under cases/diagnostics holds a workflow and the lines
its compile must print (each expected line must appear in stderr)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

CASES = sorted((ROOT / "tests" / "cases" / "diagnostics").iterdir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_diagnostic_case(case: Path, tmp_path: Path) -> None:
    pkg = tmp_path / "src" / "stream_cast"
    pkg.mkdir(parents=True)
    shutil.copy(ROOT / "workflows" / "stream_cast" / "entities.json", pkg / "entities.json")
    shutil.copy(case / "workflow.json", pkg / "workflow.json")
    proc = subprocess.run(
        [sys.executable, "-m", "compiler", "compile", str(tmp_path / "src"), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for line in (case / "expected.txt").read_text().splitlines():
        assert line in proc.stderr, f"missing {line!r} in:\n{proc.stderr}"
    assert "help:" in proc.stderr and "^" in proc.stderr
    assert not (tmp_path / "out").exists(), "a failed compile must write nothing"
