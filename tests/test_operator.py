"""What a new user and an operator meet: relocatable output, quiet and structured logs, the
route table, the OpenAPI document (validated, and fuzzed by Schemathesis against a live
server), the docs page, the metrics, and a clone of the repository that compiles and serves."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from compiler.cache import Cache
from compiler.pipeline import compile_project
from runtime import config as configuration
from runtime.config import ConfigError
from tests.conftest import ROOT
from tests.server import SECRET, Server, free_port

PY = sys.executable


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: int = 120):
    return subprocess.run(
        list(args), cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


# ----------------------------------------------------------------------------- relocatable


def test_output_compiled_anywhere_type_checks_and_serves(tmp_path: Path) -> None:
    out = tmp_path / "build" / "api_out"
    done = run(PY, "-m", "compiler", "compile", str(ROOT / "workflows"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    registry = (out / "registry.py").read_text()
    assert "generated" not in registry.replace("# Code generated", "")
    assert "from .stream_cast import subscribe" in registry
    # mypy --strict from an unrelated folder, on the folder as its own package
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    checked = run(PY, "-m", "mypy", "--strict", "--no-incremental", str(out), cwd=elsewhere)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # migrate, load demo data and serve it from that other folder, with the driver's URL
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        "JWT_SECRET": SECRET,
    }
    migrated = run(PY, "-m", "runtime", "migrate", "--generated", str(out), cwd=elsewhere, env=env)
    assert migrated.returncode == 0, migrated.stderr
    demo = run(
        PY, "-m", "runtime", "demo", "--generated", str(out), "--workflows",
        str(ROOT / "workflows"), "--json", cwd=elsewhere, env=env,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    tokens = json.loads(demo.stdout)["tenants"]["acme"]["tokens"]
    with serving(elsewhere, env, tmp_path / "server.log", "--generated", str(out)) as base:
        answer = httpx.post(
            f"{base}/api/v1/acme/stream_cast/scenes/acme-main-stage/transition",
            json={"sceneId": "interview"},
            headers={"Authorization": f"Bearer {tokens['moderator']}"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["sceneId"] == "interview"


@contextlib.contextmanager
def serving(cwd: Path, env: dict[str, str], log_path: Path, *args: str) -> Iterator[str]:
    """``python -m runtime serve`` from ``cwd`` on a free port; its base URL."""
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [PY, "-m", "runtime", "serve", "--include-inactive", "--port", str(port), *args],
            cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base, proc)
            yield base
        finally:
            proc.terminate()
            proc.wait(10)


def _wait(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the server did not start")


@pytest.mark.parametrize("damage", ["missing", "syntax", "import"])
def test_a_missing_or_broken_folder_is_one_line(tmp_path: Path, damage: str) -> None:
    out = tmp_path / "gen"
    if damage != "missing":
        shutil.copytree(ROOT / "generated", out)
        target = out / "stream_cast" / "subscribe.py"
        text = target.read_text()
        if damage == "syntax":
            target.write_text(text.replace("async def run(", "async def run(((", 1))
        else:
            target.write_text(text.replace("from .entities import", "from .nowhere import", 1))
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}
    for command in ("migrate", "serve"):
        done = run(PY, "-m", "runtime", command, "--generated", str(out), env=env, timeout=30)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
        assert "make compile" in lines[0]
        if damage != "missing":
            assert "subscribe.py" in lines[0]


def test_the_drivers_url_spellings_are_accepted() -> None:
    load = configuration.load
    assert load({"DATABASE_URL": "sqlite+aiosqlite:///var/x.db"}).database_url == (
        "sqlite:///var/x.db"
    )
    assert load({"DATABASE_URL": "postgresql+asyncpg://u:p@h/db"}).database_url == (
        "postgresql://u:p@h/db"
    )
    assert load({"DATABASE_URL": "postgres://h/db"}).database_url == "postgresql://h/db"
    with pytest.raises(ConfigError, match="sqlite\\+aiosqlite"):
        load({"DATABASE_URL": "mysql://h/db"})


# ----------------------------------------------------------------------------- quiet


def test_warnings_are_summarized_when_nothing_changed(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    args = (PY, "-m", "compiler", "compile", str(ROOT / "workflows"), "--out", str(out))
    first = run(*args)
    assert first.returncode == 0 and first.stderr.count("warning[") == 7
    again = run(*args)
    assert again.returncode == 0 and "warning[" not in again.stderr
    summary = again.stderr.strip().splitlines()
    assert summary == [
        "7 warnings (inactive-workflow ×4, schedule-disagreement, unauthenticated-route, "
        "unused-input), unchanged since the last compile; `-v` shows them"
    ]
    verbose = run(*args, "-v")
    assert verbose.stderr.count("warning[") == 7
    strict = run(*args, "--strict")
    assert strict.returncode == 1 and strict.stderr.count("error[") == 7
    assert "7 errors, 0 warnings" in strict.stderr
    checked = run(PY, "-m", "compiler", "check", str(ROOT / "workflows"), "--out", str(out))
    assert checked.returncode == 0 and "warning[" not in checked.stderr


def test_serve_prints_a_route_table_and_no_library_chatter(tmp_path: Path) -> None:
    server = Server(tmp_path).start()
    try:
        httpx.get(f"{server.base}/healthz")
    finally:
        server.stop()
    log = server.log()
    assert "METHOD  PATH" in log and "ACCESS" in log
    row = next(line for line in log.splitlines() if "/scenes/{channelId}/transition" in line)
    assert row.split()[0] == "POST" and "stream_cast_scene_transition_001" in row
    assert "level ≥ 2" in row and "scope stream_cast:scenes:manage" in row
    assert "every 5 s" in log and "/openapi.json" in log
    assert "HttpTrigger(" not in log and "databases" not in log
    assert "Connected to database" not in log


def test_json_logs_carry_the_request_and_never_the_token(tmp_path: Path) -> None:
    server = Server(tmp_path, env_extra={"LOG_FORMAT": "json", "LOG_REQUESTS": "on"}).start()
    token = server.token("acme", "moderator")
    try:
        answer = httpx.post(
            server.api("acme", "scenes/acme-main-stage/transition"),
            json={"sceneId": "interview"},
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-42"},
        )
        assert answer.status_code == 200
        refused = httpx.post(server.api("acme", "unsubscribe"), json={"channelId": "x"})
        assert refused.status_code == 401
    finally:
        server.stop()
    records = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
        else:  # the route table comes before logging starts; nothing else is plain text
            assert not line.startswith(("INFO", "WARNING", "ERROR")), line
    requests = [r for r in records if r["logger"] == "runtime.requests"]
    ok = next(r for r in requests if r.get("request_id") == "req-42")
    assert ok["tenant"] == "acme" and ok["status"] == 200
    assert ok["workflow"] == "stream_cast_scene_transition_001"
    assert isinstance(ok["duration_ms"], float) and ok["level"] == "info" and "ts" in ok
    bad = next(r for r in requests if r["status"] == 401)
    assert bad["code"] == "AUTH_REQUIRED" and bad["request_id"]
    assert token not in server.log() and "Bearer" not in server.log()


# ----------------------------------------------------------------------------- OpenAPI


def test_the_compiled_document_is_valid_openapi_and_names_every_route() -> None:
    doc = json.loads((ROOT / "generated" / "openapi.json").read_text())
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    scene = doc["paths"]["/api/v1/{tenant}/stream_cast/scenes/{channelId}/transition"]["post"]
    assert scene["security"] == [{"bearerAuth": []}]
    assert scene["x-required-scopes"] == ["stream_cast:scenes:manage"]
    body = scene["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["sceneId"] and "channelId" not in body["properties"]
    codes = {
        status: set(
            r["content"]["application/json"]["schema"]["allOf"][1]["properties"]["code"]["enum"]
        )
        for status, r in scene["responses"].items()
        if status != "200"
    }
    assert codes["403"] == {"AUTH_INSUFFICIENT_LEVEL", "AUTH_MISSING_SCOPE"}
    assert "CHANNEL_NOT_FOUND" in codes["404"] and "VALIDATION_FAILED" in codes["400"]
    assert {"401", "503", "504"} <= set(codes) and "409" not in codes
    ok = scene["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["properties"]["timestamp"] == {"type": "string", "format": "date-time"}
    subscribe = doc["paths"]["/api/v1/{tenant}/stream_cast/subscribe"]["post"]
    assert set(subscribe["responses"]["200"]["content"]) == {"text/event-stream"}
    limit = subscribe["responses"]["409"]["content"]["application/json"]["schema"]
    assert limit["allOf"][1]["properties"]["code"]["enum"] == ["SUBSCRIPTION_LIMIT_REACHED"]
    assert "TOO_MANY_STREAMS" in json.dumps(subscribe["responses"]["429"])
    counts = doc["paths"]["/api/v1/{tenant}/stream_cast/update-counts"]["post"]
    assert {} in counts["security"]  # open, and says so
    # The committed document is what compiling the workflows gives, from a cold start.
    fresh = compile_project([ROOT / "workflows"], (), Cache(None))
    assert fresh.files["openapi.json"] == (ROOT / "generated" / "openapi.json").read_text()


HELPERS_IN_A_CYCLE = """
from runtime.errors import Forbidden, NotFound


def first(x):
    if x:
        raise NotFound("no", "FIRST_MISSING")
    return second(x)


def second(x):
    if x:
        raise Forbidden("no", "SECOND_REFUSED")
    return first(x)
"""


@pytest.mark.parametrize("asked_first", ["first", "second"])
def test_errors_of_helpers_that_call_each_other_are_all_documented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asked_first: str
) -> None:
    """Helpers are followed into each other whatever the order they are met in: a cycle
    neither loops nor leaves a helper documented without what the other one raises."""
    import ast

    from compiler import openapi

    module = f"runtime_cycle_{asked_first}"  # a module of its own: nothing cached yet
    (tmp_path / f"{module}.py").write_text(HELPERS_IN_A_CYCLE)
    monkeypatch.syspath_prepend(str(tmp_path))
    both = {(404, "FIRST_MISSING"), (403, "SECOND_REFUSED")}
    other = "second" if asked_first == "first" else "first"
    for name in (asked_first, other):
        handler = ast.parse(f"def run(x):\n    return {name}(x)\n")
        assert openapi._raises(handler, {name: module}) == both, name


def test_the_server_serves_the_document_and_its_docs_page(tmp_path: Path) -> None:
    server = Server(tmp_path).start()
    try:
        served = httpx.get(f"{server.base}/openapi.json")
        assert served.status_code == 200 and served.headers["content-type"] == "application/json"
        validate(served.json())
        compiled = json.loads((ROOT / "generated" / "openapi.json").read_text())
        assert served.json()["paths"] == compiled["paths"]  # --include-inactive: all four
        page = httpx.get(f"{server.base}/docs")
        assert page.status_code == 200 and "SwaggerUIBundle" in page.text
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets and all(a.startswith("/docs/static/") for a in assets), assets  # no CDN
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
            got = httpx.get(f"{server.base}/docs/static/{asset}")
            assert got.status_code == 200 and len(got.content) > 10_000
    finally:
        server.stop()


def test_only_the_mounted_routes_are_served_in_the_document(tmp_path: Path) -> None:
    server = Server(tmp_path, include_inactive=False).start()
    try:
        doc = httpx.get(f"{server.base}/openapi.json").json()
        assert doc["paths"] == {}  # the spec workflows are inactive
        validate(doc)
    finally:
        server.stop()


def test_schemathesis_finds_no_server_error_and_no_response_off_the_document(
    tmp_path: Path,
) -> None:
    """An independent fuzzer, over every route, once per tenant with that tenant's token:
    no 5xx, and every answer (status, content type, headers, body, each SSE event) as the
    document says."""
    server = Server(tmp_path).start()
    generated = 0
    try:
        for tenant in ("acme", "globex"):
            examples = server.demo["tenants"][tenant]["examples"]
            config = tmp_path / f"schemathesis-{tenant}.toml"
            config.write_text(
                "max-stream-events = 1\n"
                "[parameters]\n"
                f'"path.tenant" = "{tenant}"\n'
                f'"path.channelId" = "{examples["channelId"]}"\n'
                f'"body.channelId" = "{examples["channelId"]}"\n'
            )
            report = tmp_path / f"report-{tenant}.json"
            done = run(
                str(Path(PY).parent / "schemathesis"), "--config-file", str(config), "run",
                f"{server.base}/openapi.json",
                "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                "response_headers_conformance,response_schema_conformance",
                "-H", f"Authorization: Bearer {server.token(tenant, 'moderator')}",
                "--max-examples", "40", "--seed", "20261127", "--request-timeout", "5",
                "--report", "json", "--report-json-path", str(report),
                cwd=tmp_path, timeout=600,
            )  # fmt: skip
            result = json.loads(report.read_text())
            assert done.returncode == 0, done.stdout[-3000:]
            assert result["failures"] == [] and result["test_cases"]["errored"] == 0
            generated += int(result["test_cases"]["generated"])
    finally:
        server.stop()
    assert generated > 200
    print(f"schemathesis: {generated} cases, 0 failures")
    assert "Traceback" not in server.log()


# ----------------------------------------------------------------------------- metrics


def test_metrics_count_requests_nodes_streams_and_the_backlog(tmp_path: Path) -> None:
    server = Server(tmp_path).start()
    token = server.token("acme", "moderator")
    try:
        for _ in range(3):
            httpx.post(
                server.api("acme", "scenes/acme-main-stage/transition"),
                json={"sceneId": "interview"},
                headers={"Authorization": f"Bearer {token}"},
            )
        httpx.post(server.api("acme", "unsubscribe"), json={"channelId": "x"})
        time.sleep(0.6)  # the history writer's flush feeds the per-node durations
        text = httpx.get(f"{server.base}/metrics").text
    finally:
        server.stop()
    wf = "stream_cast_scene_transition_001"
    assert f'workflow_requests_total{{status="200",workflow="{wf}"}} 3.0' in text
    assert (
        'workflow_requests_total{status="401",workflow="stream_cast_unsubscribe_001"} 1.0' in text
    )
    assert f'workflow_request_duration_seconds_count{{status="200",workflow="{wf}"}} 3.0' in text
    assert (
        f'workflow_node_duration_seconds_count{{node="update_active_scene",workflow="{wf}"}} 3.0'
        in text
    )
    assert "workflow_events_published_total 3.0" in text
    for name in (
        'workflow_open_streams{transport="sse"}', 'workflow_db_pool_connections{state="idle"}',
        "workflow_history_backlog", "workflow_history_dropped_total",
        "workflow_rate_limit_rejections", "workflow_stream_clients_dropped",
    ):  # fmt: skip
        assert name in text, name


def test_metrics_can_be_protected_or_moved_to_a_port_of_their_own(tmp_path: Path) -> None:
    key = "k" * 40
    server = Server(tmp_path, env_extra={"METRICS": "protect", "INTERNAL_KEY": key}).start()
    try:
        refused = httpx.get(f"{server.base}/metrics")
        assert refused.status_code == 401 and refused.json()["code"] == "AUTH_REQUIRED"
        viewer = httpx.get(
            f"{server.base}/metrics",
            headers={"Authorization": f"Bearer {server.token('acme', 'moderator')}"},
        )
        assert viewer.status_code == 403
        assert (
            httpx.get(f"{server.base}/metrics", headers={"X-Internal-Key": key}).status_code == 200
        )
    finally:
        server.stop()
    port = free_port()
    moved = Server(tmp_path / "b", env_extra={"METRICS_PORT": str(port)})
    moved.workdir.mkdir()
    moved.start()
    try:
        assert httpx.get(f"{moved.base}/metrics").status_code == 404
        assert "workflow_history_backlog" in httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        moved.stop()


# ----------------------------------------------------------------------------- a clone


def test_a_fresh_clone_compiles_migrates_serves_and_answers(tmp_path: Path) -> None:
    """The README's two commands' essentials in an empty folder with nothing beside it."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")  # a source archive has no history to clone
    clone = tmp_path / "empty" / "project"
    done = run("git", "clone", "--quiet", str(ROOT), str(clone))
    assert done.returncode == 0, done.stderr
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "JWT_SECRET": SECRET,
           "WORKFLOW_CACHE": "off", "PYTHONPATH": str(clone)}  # fmt: skip
    for step in (
        [PY, "-m", "compiler", "check"],  # the committed output is what the workflows give
        [PY, "-m", "compiler", "compile", "--out", "again"],
        [PY, "-m", "runtime", "migrate"],
    ):
        done = run(*step, cwd=clone, env=env)
        assert done.returncode == 0, (step, done.stderr)
    for path in (clone / "generated").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            twin = clone / "again" / path.relative_to(clone / "generated")
            assert twin.read_bytes() == path.read_bytes(), path
    demo = run(PY, "-m", "runtime", "demo", "--json", cwd=clone, env=env)
    tokens = json.loads(demo.stdout)["tenants"]["globex"]["tokens"]
    with serving(clone, env, tmp_path / "server.log") as base:
        channel = json.loads(demo.stdout)["tenants"]["globex"]["examples"]["channelId"]
        answer = httpx.post(
            f"{base}/api/v1/globex/stream_cast/unsubscribe",
            json={"channelId": channel},
            headers={"Authorization": f"Bearer {tokens['viewer']}"},
        )
        assert answer.status_code == 404 and answer.json()["code"] == "SUBSCRIPTION_NOT_FOUND"


def test_a_rate_limited_route_documents_its_429_and_counts_its_rejections(
    tmp_path: Path,
) -> None:
    """The rateLimit node's 429 is found by following the generated code into the runtime's
    limiter, and each rejection is counted in the metrics."""
    src = tmp_path / "node_rateLimit"
    shutil.copytree(ROOT / "tests" / "cases" / "golden" / "node_rateLimit" / "src", src)
    out = tmp_path / "api"
    done = run(PY, "-m", "compiler", "compile", str(src), "--out", str(out), "--no-cache")
    assert done.returncode == 0, done.stderr
    doc = json.loads((out / "openapi.json").read_text())
    login = doc["paths"]["/api/v1/{tenant}/node_rateLimit/login"]["post"]
    limited = login["responses"]["429"]
    assert limited["content"]["application/json"]["schema"]["allOf"][1]["properties"]["code"][
        "enum"
    ] == ["RATE_LIMITED"]
    assert "Retry-After" in limited["headers"]
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "JWT_SECRET": SECRET}
    with serving(tmp_path, env, tmp_path / "server.log", "--generated", str(out)) as base:
        url = f"{base}/api/v1/acme/node_rateLimit/login"
        statuses = [
            httpx.post(url, json={"email": "ann@example.com"}).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        metrics = httpx.get(f"{base}/metrics").text
    assert (
        'workflow_rate_limit_rejections_total{workflow="node_rateLimit_login_001"} 1.0' in metrics
    )
    assert (
        'workflow_requests_total{status="429",workflow="node_rateLimit_login_001"} 1.0' in metrics
    )
