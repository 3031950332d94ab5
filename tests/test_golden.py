"""Golden files: a second package of workflows (``cases/golden/src/moderation``) exercising
shapes the spec's four do not (a condition with both branches answering, a validate node on
the input, updates and counts by a non-unique filter, a paged fan-out, log actions, custom
status codes, ``errorHandler: log``) compiles to exactly the committed files under
``cases/golden/expected``, which pass ``mypy --strict`` and run against SQLite.

``make golden`` (``UPDATE_GOLDEN=1``) rewrites the expected files after an intended change;
review their diff like any other. The four spec workflows' golden files are ``generated/``
itself: ``python -m compiler check`` fails when it differs from a fresh compile.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "cases" / "golden"


def compile_to(out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compiler", "compile", str(GOLDEN / "src"), "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_golden_package_compiles_to_the_expected_files(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    proc = compile_to(out)
    assert proc.returncode == 0, proc.stderr
    if os.environ.get("UPDATE_GOLDEN") == "1":
        shutil.rmtree(GOLDEN / "expected", ignore_errors=True)
        shutil.copytree(out, GOLDEN / "expected", ignore=shutil.ignore_patterns("__pycache__"))
    got, want = files(out), files(GOLDEN / "expected")
    assert sorted(got) == sorted(want)
    for name in got:
        assert got[name] == want[name], f"{name} differs from the golden file (make golden)"


def test_golden_output_type_checks_and_runs(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert compile_to(out).returncode == 0
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-p", "generated"],
        capture_output=True, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert mypy.returncode == 0, mypy.stdout
    script = textwrap.dedent(f"""
        import asyncio, json, sys
        sys.path[:0] = [{str(tmp_path)!r}, {str(ROOT)!r}]
        from generated import registry
        from generated.moderation import announce_comments, hide_comments
        from runtime.config import Config
        from runtime.database import Store, migrate
        from runtime.engine import Engine
        from runtime.errors import WorkflowError
        from runtime.events import LocalBus

        def ctx(level):
            user = {{"id": "mod", "name": "Mo", "level": float(level), "email": "",
                     "roles": [], "scopes": []}}
            return {{"tenantId": "acme", "request": {{"method": "POST", "path": "/",
                     "headers": {{}}}}, "user": user}}

        async def main():
            store = Store(Config(database_url="sqlite:///{tmp_path / 'g.db'}"))
            await store.start()
            await migrate(store, registry.DDL_SQLITE)
            async with store.writer() as conn:
                for i, (tenant, hidden) in enumerate(
                    [("acme", False), ("acme", False), ("acme", True), ("globex", False)]
                ):
                    await conn.execute(
                        "INSERT INTO moderation_comment (id, tenant_id, post_id, author_id, "
                        "body, hidden, score, created_at) VALUES (:i, :t, 'p1', 'a', :b, :h, "
                        ":s, '2026-01-22T00:00:00.000Z')",
                        {{"i": f"c{{i}}", "t": tenant, "b": f"comment number {{i}}",
                          "h": hidden, "s": i}},
                    )
            bus = LocalBus()
            sub = await bus.subscribe("acme", "post:p1", None)
            engine = Engine(store, bus, None)
            out = {{}}
            done = await engine.run(announce_comments.COMPILED, ctx(1), {{"postId": "p1"}})
            out["announce"] = done.result.items
            events = []
            while not sub.queue.empty():
                events.append(json.loads(sub.queue.get_nowait().data))
            out["events"] = events
            done = await engine.run(hide_comments.COMPILED, ctx(1),
                                    {{"postId": "p1", "reason": "spam"}})
            out["denied"] = [done.result.status, done.result.body]
            try:
                await engine.run(hide_comments.COMPILED, ctx(3), {{"postId": "p1", "reason": ""}})
            except WorkflowError as err:
                out["empty_reason"] = err.body()
            done = await engine.run(hide_comments.COMPILED, ctx(3),
                                    {{"postId": "p1", "reason": "spam"}})
            out["hidden"] = [done.result.status, done.result.body]
            await store.stop()
            print(json.dumps(out))

        asyncio.run(main())
        """)
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["announce"] == 2  # the hidden comment and the other tenant's are not read
    assert out["events"] == [
        {"id": "c0", "preview": "comment number 0", "score": 0},
        {"id": "c1", "preview": "comment number 1", "score": 2},
    ]
    assert out["denied"] == [
        403,
        {"error": "Moderators only", "code": "MODERATORS_ONLY", "level": 1},
    ]
    assert out["empty_reason"] == {
        "error": "Say why the comments are hidden",
        "code": "VALIDATION_FAILED",
        "field": "reason",
    }
    assert out["hidden"] == [200, {"hidden": 3, "visible": 0, "by": "Mo"}]  # every row of p1
