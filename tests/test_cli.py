"""The command-line contract of DESIGN.md: exit codes, check, determinism, atomic writes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compiler", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )


def test_generated_is_fresh() -> None:
    proc = run("check")
    assert proc.returncode == 0, proc.stderr


def test_compile_is_deterministic(tmp_path: Path) -> None:
    for out in ("a", "b"):
        assert (
            run("compile", str(ROOT / "workflows"), "--out", str(tmp_path / out)).returncode == 0
        )
    a = {
        p.relative_to(tmp_path / "a"): p.read_bytes()
        for p in (tmp_path / "a").rglob("*")
        if p.is_file()
    }
    b = {
        p.relative_to(tmp_path / "b"): p.read_bytes()
        for p in (tmp_path / "b").rglob("*")
        if p.is_file()
    }
    assert a == b and len(a) >= 12
    committed = {
        p.relative_to(ROOT / "generated"): p.read_bytes()
        for p in (ROOT / "generated").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert a == committed


def test_check_names_stale_files_and_compile_removes_deleted(tmp_path: Path) -> None:
    src = tmp_path / "workflows"
    shutil.copytree(ROOT / "workflows", src)
    out = tmp_path / "generated"
    assert run("compile", str(src), "--out", str(out)).returncode == 0
    (out / "stream_cast" / "subscribe.py").write_text("# edited\n")
    proc = run("check", str(src), "--out", str(out))
    assert proc.returncode == 1 and "subscribe.py: stale" in proc.stderr
    (src / "stream_cast" / "unsubscribe.json").unlink()
    assert run("compile", str(src), "--out", str(out)).returncode == 0
    assert not (out / "stream_cast" / "unsubscribe.py").exists()
    assert run("check", str(src), "--out", str(out)).returncode == 0


def test_failed_compile_leaves_output_untouched(tmp_path: Path) -> None:
    src = tmp_path / "workflows"
    shutil.copytree(ROOT / "workflows", src)
    out = tmp_path / "generated"
    assert run("compile", str(src), "--out", str(out)).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (src / "stream_cast" / "subscribe.json").write_text('{"id": ')
    proc = run("compile", str(src), "--out", str(out))
    assert proc.returncode == 1
    assert "subscribe.json:1:8: error[invalid-json]" in proc.stderr
    assert before == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_usage_error_exit_2() -> None:
    assert run("compile", "no/such/dir").returncode == 2
    assert run("frobnicate").returncode == 2


def test_expr_command_translates_and_evaluates() -> None:
    proc = run("expr", "'stream:' + $json.channelId", "--json", '{"channelId": "c1"}')
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == [
        "'stream:' + js.to_string(js.get(json, 'channelId'))",
        '"stream:c1"',
    ]
    bad = run("expr", "$json.a = 1")
    assert (
        bad.returncode == 1
        and "error[unsupported-expression]" in bad.stderr
        and "help:" in bad.stderr
    )


def test_expr_jsonl(tmp_path: Path) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text('{"expr": "1/3 + \'\'"}\n{"expr": "undefined"}\n{"expr": "null.x"}\n')
    proc = run("expr", "--jsonl", str(f))
    assert proc.stdout.splitlines() == [
        '{"value": "0.3333333333333333"}',
        '{"undefined": true}',
        '{"error": "TypeError"}',
    ]


def test_explain() -> None:
    proc = run("explain", "tenant-filter-missing")
    assert proc.returncode == 0 and "$context.tenantId" in proc.stdout


def test_node_ids_never_shadow_generated_names(tmp_path: Path) -> None:
    src = tmp_path / "workflows" / "stream_cast"
    src.mkdir(parents=True)
    shutil.copy(ROOT / "workflows/stream_cast/entities.json", src)
    text = (ROOT / "workflows/stream_cast/subscribe.json").read_text()
    (src / "subscribe.json").write_text(
        text.replace("create_subscription", "js").replace("setup_sse", "return")
    )
    proc = run("compile", str(src.parent), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    module = (tmp_path / "out" / "stream_cast" / "subscribe.py").read_text()
    compile(module, "subscribe.py", "exec")
    assert "js_ = stream_subscription_row(" in module and '"subscriptionId": js_["id"]' in module
    assert "# return: metabuilder.action (sse_stream)" in module


def test_dates_mixed_with_other_values() -> None:
    proc = run("expr", "[$context.user?.name ?? new Date(0)]", "--context", '{"tenantId": "a"}')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == '["1970-01-01T00:00:00.000Z"]'
