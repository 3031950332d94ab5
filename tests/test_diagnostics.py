"""Data-driven diagnostics: one case per code under ``cases/diagnostics/<code>/``.

A case holds the workflow files of one package (``entities.json`` if it needs its own, a
``no-entities`` marker for a package without one), ``expected.txt`` (the first diagnostic
with the case's code exactly as printed: header, source line, caret, secondary locations and
help), optionally ``args`` (``--werror`` for warnings) and ``fixed/`` (the same package with
the problem fixed, which must compile without that code).

``UPDATE_EXPECTED=1 pytest tests/test_diagnostics.py`` rewrites ``expected.txt`` from what the
compiler prints now (review the diff).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compiler import codes, explain
from tests.conftest import ROOT

CASES_DIR = ROOT / "tests" / "cases" / "diagnostics"
CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir())
NOT_FILES = {"expected.txt", "args", "no-entities"}
UNTESTABLE = {"internal-error"}  # a compiler bug by definition; the fuzz test hunts for it
FILE_LEVEL = {"invalid-name", "missing-entities", "unreadable-file"}  # no source line to show


def package(files: Path, tmp: Path, with_entities: bool) -> Path:
    pkg = tmp / "src" / "stream_cast"
    shutil.rmtree(tmp / "src", ignore_errors=True)
    pkg.mkdir(parents=True)
    for f in files.iterdir():
        if f.is_file() and f.name not in NOT_FILES:
            shutil.copy(f, pkg / f.name)
        elif f.is_dir() and f.name != "fixed":  # e.g. a folder named like a workflow file
            shutil.copytree(f, pkg / f.name)
    if with_entities and not (pkg / "entities.json").exists():
        shutil.copy(ROOT / "workflows" / "stream_cast" / "entities.json", pkg / "entities.json")
    return tmp / "src"


def metabuilder(files: Path, tmp: Path) -> list[str] | None:
    """A case in MetaBuilder's layout (a ``metabuilder/`` folder with ``root/`` and
    ``overlay/``), copied beside the compile: the arguments that compile it."""
    mb = files / "metabuilder"
    if not mb.is_dir():
        return None
    shutil.rmtree(tmp / "metabuilder", ignore_errors=True)
    shutil.copytree(mb, tmp / "metabuilder")
    return ["--metabuilder", "metabuilder/root", "--overlay", "metabuilder/overlay"]


def compile_(src: Path | None, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    shutil.rmtree(tmp / "out", ignore_errors=True)
    where = [str(src)] if src is not None else []
    return subprocess.run(
        [sys.executable, "-m", "compiler", "compile", *where, "--out", str(tmp / "out"), *args],
        capture_output=True, text=True, cwd=tmp, env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip


def block(stderr: str, code: str) -> str:
    """The first diagnostic with ``code``, whole: its header, source lines, carets, secondary
    locations and help."""
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        if f"[{code}]:" in line:
            rest = []
            for more in lines[i + 1 :]:
                if not more.strip():
                    break
                rest.append(more)
            return "\n".join([line, *rest]) + "\n"
    raise AssertionError(f"no [{code}] diagnostic in:\n{stderr}")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_diagnostic_case(case: Path, tmp_path: Path) -> None:
    code = case.name
    assert codes.lookup(code) is not None, f"{case} is not named after a diagnostic code"
    args = (case / "args").read_text().split() if (case / "args").exists() else []
    upstream = metabuilder(case, tmp_path)
    src = (
        None
        if upstream is not None
        else package(case, tmp_path, with_entities=not (case / "no-entities").exists())
    )
    args += upstream or []
    proc = compile_(src, tmp_path, *args)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists(), "a failed compile must write nothing"
    rendered = block(proc.stderr, code)
    if os.environ.get("UPDATE_EXPECTED") == "1":
        (case / "expected.txt").write_text(rendered)
    assert rendered == (case / "expected.txt").read_text(), rendered
    # Human output: the source line, a caret under the problem, and a hint.
    rest = rendered.splitlines()[1:]
    if code not in FILE_LEVEL:
        assert any("|" in r for r in rest) and any("^" in r for r in rest), rest
    assert any(r.lstrip().startswith("= help:") for r in rest), rest

    # The same problem as JSON, for editors and CI annotations.
    as_json = compile_(src, tmp_path, *args, "--format", "json")
    records = json.loads(as_json.stderr)
    mine = [r for r in records if r["code"] == code]
    assert mine, as_json.stderr
    located = ("line", "column", "endLine", "endColumn") if code not in FILE_LEVEL else ()
    for key in ("file", "severity", "message", "hint", *located):
        assert key in mine[0] and mine[0][key] not in (None, ""), (key, mine[0])

    fixed = case / "fixed"
    if fixed.exists():
        fixed_upstream = metabuilder(fixed, tmp_path)
        ok = (
            compile_(None, tmp_path, *fixed_upstream)
            if fixed_upstream is not None
            else compile_(package(fixed, tmp_path, with_entities=True), tmp_path)
        )
        assert ok.returncode == 0, ok.stderr
        assert f"[{code}]" not in ok.stderr, ok.stderr


def test_every_code_has_a_case_and_an_explanation() -> None:
    names = {c.name for c in codes.all_codes()} - UNTESTABLE
    assert names <= {c.name for c in CASES}, sorted(names - {c.name for c in CASES})
    for case in CASES:
        assert (case / "fixed").exists(), f"{case.name} has no fixed/ variant"
    for c in codes.all_codes():
        text = explain.explain(c.name)
        assert text is not None and "Example that fails:" in text and "Fix:" in text, c.name


def test_readme_lists_every_code() -> None:
    readme = (ROOT / "README.md").read_text()
    for c in codes.all_codes():
        assert f"| `{c.name}` | {c.severity.value} | {c.summary} |" in readme, c.name


def test_wording_lives_in_messages_py() -> None:
    """Diagnostic messages and hints are values in compiler/messages.py, each message bound to
    its code: no check writes wording inline or names a code beside a message, and no value
    there is left unused."""
    import ast

    from compiler import messages

    reporting = {"add", "_err", "fail", "unsupported"}
    sources = {
        p: p.read_text() for p in (ROOT / "compiler").rglob("*.py") if p.name != "messages.py"
    }
    inline = []
    for path, src in sources.items():
        for node in ast.walk(ast.parse(src)):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name not in reporting:
                continue
            if name == "add" and not any(k.arg == "hint" for k in node.keywords):
                continue  # a set's add, not a diagnostic
            texts = [*node.args[:4], *(k.value for k in node.keywords if k.arg == "hint")]
            for arg in texts:
                if (
                    isinstance(arg, ast.JoinedStr)
                    or (
                        isinstance(arg, ast.Constant)
                        and isinstance(arg.value, str)
                        and " " in arg.value
                    )
                    or (isinstance(arg, ast.Attribute) and getattr(arg.value, "id", "") == "codes")
                ):
                    inline.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert inline == [], inline
    everything = "\n".join(sources.values())
    names = [n for n in vars(messages) if n.isupper()]
    unused = [n for n in names if f"messages.{n}" not in everything]
    assert unused == [], unused
    for n in names:
        value = getattr(messages, n)
        if not n.startswith(("HINT__", "LABEL__", "WHAT_")):
            assert isinstance(value, messages.Message), n
