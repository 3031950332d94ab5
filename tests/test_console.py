"""The operator console in a real browser: Debian's Chromium, headless, driven by Playwright.

The page loads and lists the four workflows with their routes and graphs; a request made
while it is open shows up as a new execution with its per-node timing bar, and the event it
publishes arrives in the live tail. Screenshots go to ``test-artifacts/console/``."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, in_ci
from tests.server import Server

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS") or ROOT / "test-artifacts") / "console"
KEY = "operator-key-0123456789-0123456789-abc"
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]  # fmt: skip


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        if in_ci():
            pytest.fail(f"Chromium is required in CI ({CHROMIUM} not found)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


def test_the_console_shows_workflows_a_new_execution_and_a_live_event(
    tmp_path: Path, browser
) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = Server(tmp_path, env_extra={"CONSOLE": "open"}).start()  # as `make run` serves it
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server.base}/console")
        assert page.title() == "Workflow console"
        workflows = page.locator("article.workflow")
        assert workflows.count() == 4
        ids = sorted(workflows.nth(i).get_attribute("data-workflow") or "" for i in range(4))
        assert ids == [
            "stream_cast_scene_transition_001", "stream_cast_subscribe_001",
            "stream_cast_unsubscribe_001", "stream_cast_viewer_count_001",
        ]  # fmt: skip
        assert page.locator("svg.graph").count() == 4
        assert "/api/v1/{tenant}/stream_cast/subscribe" in page.content()
        page.wait_for_function("document.getElementById('tail-state').textContent === 'live'")
        page.screenshot(path=str(ARTIFACTS / "1-loaded.png"), full_page=True)

        answer = httpx.post(
            server.api("acme", "scenes/acme-main-stage/transition"),
            json={"sceneId": "interview"},
            headers={"Authorization": f"Bearer {server.token('acme', 'moderator')}"},
        )
        assert answer.status_code == 200, answer.text

        row = page.locator(
            "tr.execution", has=page.locator("code", has_text="stream_cast_scene_transition_001")
        ).first
        row.wait_for(timeout=15_000)
        assert "success" in row.inner_text() and "acme" in row.inner_text()
        bars = row.locator(".bar span")
        assert bars.count() >= 2
        assert "update_active_scene" in [bars.nth(i).inner_text() for i in range(bars.count())]
        event = page.locator("#event-list li", has_text="scene_changed").first
        event.wait_for(timeout=15_000)
        assert "acme" in event.inner_text() and "acme-main-stage" in event.inner_text()
        page.screenshot(path=str(ARTIFACTS / "2-execution-and-event.png"), full_page=True)

        page.goto(f"{server.base}/console?status=error")
        assert page.locator("tr.execution").count() == 0
        page.goto(f"{server.base}/console?tenant=acme&workflow=stream_cast_scene_transition_001")
        assert page.locator("tr.execution").count() >= 1
        page.screenshot(path=str(ARTIFACTS / "3-filtered.png"), full_page=True)
        assert errors == []
    finally:
        server.stop()


def test_a_protected_console_asks_for_an_operator_token(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    env = {"OPERATOR_LEVEL": "2", "INTERNAL_KEY": KEY}
    server = Server(tmp_path, env_extra=env).start()  # protected: the default
    try:
        page = browser.new_page()
        page.goto(f"{server.base}/console")
        assert page.locator("input[name=token]").count() == 1
        page.fill("input[name=token]", server.token("acme", "viewer"))  # level 1: too low
        page.click("button[type=submit]")
        assert "OPERATOR_LEVEL" in page.content()
        page.fill("input[name=token]", server.token("globex", "moderator"))
        page.click("button[type=submit]")
        page.wait_for_selector("article.workflow")
        # a tenant's operator sees its own tenant only
        assert page.locator("select[name=tenant] option").all_inner_texts() == ["globex"]
        page.screenshot(path=str(ARTIFACTS / "4-signed-in.png"), full_page=True)
        acme = httpx.post(
            server.api("acme", "scenes/acme-main-stage/transition"),
            json={"sceneId": "interview"},
            headers={"Authorization": f"Bearer {server.token('acme', 'moderator')}"},
        )
        assert acme.status_code == 200
        time.sleep(0.5)  # the history is written
        own = {"Authorization": f"Bearer {server.token('globex', 'moderator')}"}
        rows = httpx.get(f"{server.base}/console/executions?tenant=acme", headers=own)
        assert rows.status_code == 200 and "acme" not in rows.text
        everyone = {"X-Internal-Key": KEY}
        rows = httpx.get(f"{server.base}/console/executions?tenant=acme", headers=everyone)
        assert "acme-moderator" in rows.text
        refused = httpx.get(f"{server.base}/console", headers={"Accept": "application/json"})
        assert refused.status_code == 401 and refused.json()["code"] == "AUTH_REQUIRED"
    finally:
        server.stop()


def test_the_docs_page_renders_every_route_in_the_browser(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    """Swagger UI from the installed package's files, nothing from the network: the page
    draws one operation per served route from /openapi.json."""
    server = Server(tmp_path).start()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        outside: list[str] = []
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(server.base) else None,
        )
        page.goto(f"{server.base}/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=15_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        # each operation is listed under each of its tags; paths break at zero-width spaces
        assert sorted({p.replace("\u200b", "") for p in paths}) == [
            "/api/v1/{tenant}/stream_cast/scenes/{channelId}/transition",
            "/api/v1/{tenant}/stream_cast/subscribe",
            "/api/v1/{tenant}/stream_cast/unsubscribe",
            "/api/v1/{tenant}/stream_cast/update-counts",
        ]
        assert "OAS 3.1" in page.content()
        page.screenshot(path=str(ARTIFACTS / "5-docs.png"), full_page=True)
        assert outside == [], outside  # no CDN, no telemetry: every file is the server's
    finally:
        server.stop()
