"""The compiler's content-addressed cache: a workflow is compiled again exactly when
something its result depends on changed, and a cached result is the same bytes and the same
diagnostics as a fresh one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compiler import cache as cache_module
from compiler.cache import Cache
from compiler.pipeline import Result, compile_project
from tests.conftest import ROOT


def project(tmp_path: Path) -> Path:
    """The spec workflows and the mail-template golden case, as two packages."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "workflows" / "stream_cast", src / "stream_cast")
    shutil.copytree(ROOT / "tests/cases/golden/op_email_send/src", src / "op_email_send")
    return src


def compile_(src: Path, store: Path) -> tuple[Result, Cache]:
    cache = Cache(store)
    return compile_project([src], (), cache), cache


def shown(res: Result) -> list[tuple[str, str, str]]:
    return [(d.code.name, d.message, repr(d.span)) for d in res.diagnostics.sorted()]


def test_a_second_compile_reads_every_result_from_the_cache(tmp_path: Path) -> None:
    src, store = project(tmp_path), tmp_path / "cache"
    first, cold = compile_(src, store)
    assert (cold.hits, cold.misses) == (0, 5) and not first.diagnostics.has_errors
    second, warm = compile_(src, store)
    assert (warm.hits, warm.misses) == (5, 0)
    assert second.files == first.files
    assert shown(second) == shown(first) and shown(first)  # the warnings come back too
    assert [s.id for s in second.summaries] == [s.id for s in first.summaries]
    uncached = compile_project([src], (), Cache(None))
    assert uncached.files == first.files and shown(uncached) == shown(first)


def test_only_what_changed_is_compiled_again(tmp_path: Path) -> None:
    src, store = project(tmp_path), tmp_path / "cache"
    first, _ = compile_(src, store)
    wf = src / "stream_cast" / "subscribe.json"
    data = json.loads(wf.read_text())
    data["name"] = "Subscribe, renamed"
    wf.write_text(json.dumps(data, indent=2))
    second, c = compile_(src, store)
    assert (c.hits, c.misses) == (4, 1)
    changed = sorted(k for k in first.files if first.files[k] != second.files.get(k))
    # The name is the route's summary in the API document too.
    assert changed == ["openapi.json", "stream_cast/subscribe.md", "stream_cast/subscribe.py"]

    template = src / "op_email_send" / "templates" / "welcome.txt"  # a mail template
    template.write_text(template.read_text() + "\nSee you soon.\n")
    third, c = compile_(src, store)
    assert (c.hits, c.misses) == (4, 1)
    assert third.files["op_email_send/welcome.py"] != second.files["op_email_send/welcome.py"]

    entities = src / "stream_cast" / "entities.json"  # every workflow of that package
    entities.write_text(entities.read_text().replace('"Channel"', '"Channel "', 1))
    _, c = compile_(src, store)
    assert (c.hits, c.misses) == (1, 4)


def test_a_new_compiler_reads_no_old_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, store = project(tmp_path), tmp_path / "cache"
    compile_(src, store)
    monkeypatch.setattr(cache_module, "compiler_digest", lambda: "another compiler")
    monkeypatch.setattr("compiler.pipeline.compiler_digest", lambda: "another compiler")
    _, c = compile_(src, store)
    assert (c.hits, c.misses) == (0, 5)


def test_a_damaged_entry_is_a_miss_and_a_failing_workflow_is_never_stored(
    tmp_path: Path,
) -> None:
    src, store = project(tmp_path), tmp_path / "cache"
    compile_(src, store)
    entries = sorted(store.glob("*/*.json"))
    assert len(entries) == 5
    entries[0].write_text('{"diagnostics": [["no-such-code"')
    entries[1].write_text(
        json.dumps({"diagnostics": [["no-such-code", "m", None, None, None, []]]})
    )
    again, c = compile_(src, store)
    assert (c.hits, c.misses) == (3, 2) and not again.diagnostics.has_errors

    (src / "stream_cast" / "broken.json").write_text('{"nodes": [}')
    for _ in range(2):
        res, c = compile_(src, store)
        assert res.diagnostics.has_errors and c.misses == 1  # compiled again each time


def test_the_command_line_caches_unless_told_not_to(tmp_path: Path) -> None:
    src = project(tmp_path)

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "compiler", "compile", str(src), "--out", "out", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("--no-cache")
    assert not (tmp_path / ".workflow-cache").exists()
    run()
    assert len(list((tmp_path / ".workflow-cache").glob("*/*.json"))) == 5
    assert "no changes" in run("--cache-dir", "elsewhere")
    assert len(list((tmp_path / "elsewhere").glob("*/*.json"))) == 5
