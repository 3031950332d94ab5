"""The engine on a real SQLite file: timeout, rollback, events only after commit, history."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from generated import registry
from generated.stream_cast import scene_transition
from runtime.config import Config
from runtime.context import Context
from runtime.database import Store, history_ddl, migrate
from runtime.engine import Engine
from runtime.errors import ExecutionTimeout, NotFound
from runtime.events import LocalBus
from runtime.execution import Execution
from runtime.history import History
from runtime.results import OkResult, Result
from runtime.workflow import CompiledWorkflow

MODERATOR: Context = {
    "tenantId": "acme",
    "request": {"method": "POST", "path": "/", "headers": {}},
    "user": {
        "id": "mod",
        "name": "Mo",
        "level": 2.0,
        "email": "",
        "roles": [],
        "scopes": ["stream_cast:scenes:manage"],
    },
}


@pytest.fixture
async def env(tmp_path: Path):
    store = Store(Config(database_url=f"sqlite:///{tmp_path / 'e.db'}"))
    await store.start()
    await migrate(store, (*registry.DDL_SQLITE, *history_ddl("sqlite")))
    async with store.writer() as conn:
        await conn.execute(
            "INSERT INTO stream_channel (id, tenant_id, name, is_live) "
            "VALUES ('c1', 'acme', 'One', TRUE)"
        )
    bus = LocalBus()
    history = History(store)
    yield store, bus, history, Engine(store, bus, history)
    await store.stop()


async def count(store: Store, sql: str) -> int:
    async with store.transaction(writes=False) as conn:
        row = await conn.fetch_one(sql)
        assert row is not None
        return int(row[0])


async def test_execution_timeout_rolls_back(env) -> None:
    store, bus, history, engine = env

    async def slow(ex: Execution, json: object) -> Result:
        await ex.fetch_one(
            "UPDATE stream_channel SET active_scene_id = 'late' WHERE id = 'c1' RETURNING 1",
            {},
        )
        ex.emit("stream:c1", "never", {})
        await asyncio.sleep(10)
        return OkResult()

    info = scene_transition.WORKFLOW
    wf = CompiledWorkflow(
        dataclasses.replace(
            info, settings=dataclasses.replace(info.settings, execution_timeout_s=1)
        ),
        lambda raw: raw,
        slow,
    )
    sub = await bus.subscribe("acme", "stream:c1", None)
    with pytest.raises(ExecutionTimeout) as err:
        await engine.run(wf, MODERATOR, {})
    assert err.value.status == 504 and err.value.body()["code"] == "EXECUTION_TIMEOUT"
    assert (
        await count(store, "SELECT COUNT(*) FROM stream_channel WHERE active_scene_id IS NOT NULL")
        == 0
    )
    assert not sub.backlog  # nothing published for a rolled-back execution
    await history.flush()
    assert (
        await count(store, "SELECT COUNT(*) FROM workflow_execution WHERE status = 'error'") == 1
    )


async def test_events_are_published_after_commit_only(env) -> None:
    store, bus, history, engine = env
    sub = await bus.subscribe("acme", "stream:c1", None)
    other = await bus.subscribe("globex", "stream:c1", None)
    done = await engine.run(
        scene_transition.COMPILED, MODERATOR, {"channelId": "c1", "sceneId": "s1"}
    )
    assert done.result.status == 200  # type: ignore[union-attr]
    assert sub.backlog is not None and len(sub.backlog) == 1  # waiting for its stream
    event = sub.backlog.pop()
    assert event.name == "scene_changed" and '"sceneId":"s1"' in event.data
    assert not other.backlog
    with pytest.raises(NotFound):
        await engine.run(
            scene_transition.COMPILED, MODERATOR, {"channelId": "nope", "sceneId": "s2"}
        )
    assert not sub.backlog
    await history.flush()
    assert await count(store, "SELECT COUNT(*) FROM workflow_execution") == 2
    async with store.transaction(writes=False) as conn:
        row = await conn.fetch_one(
            "SELECT status, error_code, http_status, user_id, nodes FROM workflow_execution "
            "WHERE status = 'error'"
        )
    assert row is not None
    assert tuple(row.values())[:4] == ("error", "CHANNEL_NOT_FOUND", 404, "mod")
    assert '"node":"validate_context"' in row["nodes"]


async def test_replay_reports_gaps(env) -> None:
    _, _, _, _ = env
    bus = LocalBus(buffer_size=2)
    sub = await bus.subscribe("acme", "ch", None)
    first = await bus.publish("acme", "ch", "e", "1")
    await bus.publish("acme", "ch", "e", "2")
    replay = await bus.replay(sub, first.id)
    assert [e.data for e in replay.events] == ["2"] and replay.complete
    await bus.publish("acme", "ch", "e", "3")  # "1" leaves the buffer: still nothing missed
    assert (await bus.replay(sub, first.id)).complete
    await bus.publish("acme", "ch", "e", "4")  # "2" leaves it: a client at "1" missed it
    replay = await bus.replay(sub, first.id)
    assert not replay.complete and [e.data for e in replay.events] == ["3", "4"]
    await bus.publish("globex", "ch", "e", "x")
    assert [e.data for e in (await bus.replay(sub, first.id)).events] == ["3", "4"]


async def test_a_handler_bug_names_its_workflow_and_node(env) -> None:  # type: ignore[no-untyped-def]
    """A Python exception inside a handler (a compiler bug) carries the workflow file and the
    node that was running, so its traceback leads back to the workflow."""
    *_, engine = env

    async def run(ex: Execution, json: object) -> Result:
        ex.step("fetch_channel")
        raise KeyError("startedAt")

    broken = dataclasses.replace(scene_transition.COMPILED, run=run)
    with pytest.raises(KeyError) as caught:
        await engine.run(broken, MODERATOR, {"channelId": "c1", "sceneId": "s1"})
    notes = getattr(caught.value, "__notes__", [])
    assert notes == [
        "in workflow stream_cast_scene_transition_001 "
        "(workflows/stream_cast/scene_transition.json), node fetch_channel"
    ]


def test_a_json_result_with_headers_becomes_a_response() -> None:
    """With a Content-Type header a string body is sent as it is; otherwise bodies are JSON
    and the workflow's headers ride along."""
    from runtime.endpoint import json_result
    from runtime.results import JsonResult

    csv = json_result(JsonResult(200, "a,b\n1,2\n", (("Content-Type", "text/csv"),)))
    assert csv.body == b"a,b\n1,2\n" and csv.header("content-type") == "text/csv; charset=utf-8"
    plain = json_result(JsonResult(201, {"id": 1.0}, (("X-Trace", "t1"),)))
    assert plain.body == b'{"id":1}' and plain.header("x-trace") == "t1"
    assert plain.header("content-type") == "application/json" and plain.status == 201
    typed = json_result(JsonResult(200, {"a": 1.0}, (("content-type", "application/vnd.x+json"),)))
    assert typed.body == b'{"a":1}' and typed.header("content-type") == "application/vnd.x+json"


async def test_a_worker_keeps_what_it_loaded_out_of_the_collectors_full_passes(
    tmp_path: Path,
) -> None:
    """Modules, workflows and pools live as long as the worker: frozen once it has started
    (a full collection under load took 35 ms walking them), released when it stops."""
    import gc

    from runtime.app import create_app

    app = create_app(Config(database_url=f"sqlite:///{tmp_path / 'app.db'}"), registry.WORKFLOWS)
    assert gc.get_freeze_count() == 0
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0


def test_execution_ids_are_uuid7_sorting_by_start_time() -> None:
    """The history's primary key grows at its right edge (bench/history_bench.py)."""
    import time
    import uuid

    from runtime.history import execution_id

    now = time.time_ns() // 1_000_000
    ids = [execution_id(now + i) for i in range(2000)]  # one a millisecond
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    variants = set()
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        variants.add(text[19])
    assert variants == set("89ab")  # two random bits there too
    assert uuid.UUID(ids[0]).int >> 80 == now  # Unix milliseconds first
    # The same millisecond, past several draws of random digits: still unique.
    same = {execution_id(now) for _ in range(5000)}
    assert len(same) == 5000


def test_now_iso_is_to_iso_string_of_the_clock_across_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``new Date().toISOString()`` as the handlers write it: the date and time of day are
    formatted once a second, the milliseconds every time."""
    import time

    from runtime import values

    clock = iter(
        [
            1_795_792_888_999_999_999,  # the last millisecond of a second
            1_795_792_889_000_000_000,  # the next second
            1_795_792_889_000_400_000,  # the same millisecond again
            1_795_792_889_123_999_999,
            951_782_400_000_000_001,  # 2000-02-29, back in time
        ]
    )
    monkeypatch.setattr(time, "time_ns", lambda: next(clock))
    got = [values.now_iso() for _ in range(5)]
    assert got == [
        "2026-11-27T15:21:28.999Z",
        "2026-11-27T15:21:29.000Z",
        "2026-11-27T15:21:29.000Z",
        "2026-11-27T15:21:29.123Z",
        "2000-02-29T00:00:00.000Z",
    ]
    expected = [
        datetime.fromtimestamp(ns // 1_000_000 / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
        for ns in (1_795_792_888_999_999_999, 951_782_400_000_000_001)
    ]
    assert [got[0], got[4]] == expected


def test_iso_string_once_a_second_is_what_node_writes() -> None:
    """``toISOString`` works the date out once a second: times in and out of order, either
    side of a second, before 1970 and past year 9999 (expected values from Node)."""
    import random

    from runtime import js

    node = {
        -62198755200000: "-000001-01-01T00:00:00.000Z",
        8.64e15: "+275760-09-13T00:00:00.000Z",
        -8.64e15: "-271821-04-20T00:00:00.000Z",
        -1: "1969-12-31T23:59:59.999Z",
        0: "1970-01-01T00:00:00.000Z",
        253402300799999: "9999-12-31T23:59:59.999Z",
        253402300800000: "+010000-01-01T00:00:00.000Z",
        -62167219200001: "-000001-12-31T23:59:59.999Z",
    }
    for t, text in [*node.items(), *reversed(node.items()), *node.items()]:
        assert js.iso_string(t) == text
    rng = random.Random(7)
    now = 1_795_792_888_000
    times = [now + rng.randrange(-5000, 5000) for _ in range(2000)]
    for t in times:  # seconds repeat and alternate: the remembered one must not leak
        expected = (
            datetime.fromtimestamp(t / 1000, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
        assert js.iso_string(t) == expected
