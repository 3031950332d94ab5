"""Past one process: two servers on one PostgreSQL database and one Redis, row-level
security seen from the server's own role, a Redis restart, one scheduler among workers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.server import Server
from tests.services import APP_ROLE, Postgres, Redis
from tests.test_e2e import Stream, bearer, live, open_stream, subscribe


@pytest.fixture
def pair(
    postgres: Postgres, redis: Redis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    database = postgres.create_database()
    env = {"DATABASE_URL": postgres.url(database, APP_ROLE), "EVENTS_URL": redis.url}
    a = Server(tmp_path_factory.mktemp("a"), env, admin_url=postgres.url(database)).start()
    # The second worker: same database and bus, no second migration or demo load.
    b = Server(tmp_path_factory.mktemp("b"), env, admin_url=postgres.url(database))
    b.demo = a.demo
    b.launch()
    yield a, b
    for s in (a, b):
        s.stop()
        assert "Traceback" not in s.log(), s.log()


async def test_row_level_security_without_a_tenant_filter(
    postgres: Postgres, tmp_path: Path
) -> None:
    database = postgres.create_database()
    srv = Server(tmp_path, admin_url=postgres.url(database))
    srv.cli("migrate", "--grant", APP_ROLE, admin=True)
    srv.cli("demo", "--json", admin=True)
    conn = await asyncpg.connect(postgres.url(database, APP_ROLE))
    try:
        owner = await conn.fetchval(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'stream_channel'"
        )
        assert owner != APP_ROLE
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', 'acme', true)")
            rows = await conn.fetch("SELECT tenant_id FROM stream_channel")  # no tenant filter
            assert rows and {r["tenant_id"] for r in rows} == {"acme"}
            updated = await conn.execute("UPDATE stream_channel SET name = 'x'")
            assert updated == f"UPDATE {len(rows)}"
        async with conn.transaction():  # no tenant set: nothing at all
            assert await conn.fetch("SELECT * FROM stream_channel") == []
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.tenant_id', 'acme', true)")
                await conn.execute(
                    "INSERT INTO stream_channel (id, tenant_id, name, is_live) "
                    "VALUES ('sneaky', 'globex', 'x', true)"
                )
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            await conn.execute("DROP POLICY stream_channel_tenant_isolation ON stream_channel")
    finally:
        await conn.close()


async def test_events_cross_workers_and_survive_a_worker_dying(pair) -> None:
    a, b = pair
    channel = live(a, "acme")
    moderator = a.token("acme", "moderator")
    async with httpx.AsyncClient(timeout=20) as client:
        on_a = subscribe(client, a, "acme", a.mint("acme", "ann", 1), channel)
        on_b = subscribe(client, b, "acme", b.mint("acme", "ben", 1), channel)
        sa, sb = await open_stream(on_a), await open_stream(on_b)
        try:
            await sa.next()
            connected_b = await sb.next()
            r = await client.post(
                b.api("acme", f"scenes/{channel}/transition"),
                json={"sceneId": "from-b"},
                headers=bearer(moderator),
            )
            assert r.status_code == 200
            got_a = await sa.until("scene_changed")
            got_b = await sb.until("scene_changed")
            assert json.loads(got_a.data)["sceneId"] == "from-b"
            assert got_a.id == got_b.id  # one id space across workers

            # Worker A dies; B's subscriber and every committed write are unaffected.
            assert a.proc is not None
            a.proc.send_signal(signal.SIGKILL)
            a.proc.wait()
            r = await client.post(
                b.api("acme", f"scenes/{channel}/transition"),
                json={"sceneId": "after-a-died"},
                headers=bearer(moderator),
            )
            assert r.status_code == 200
            assert json.loads((await sb.until("scene_changed")).data)["sceneId"] == "after-a-died"
            rows = await b.query(
                "SELECT active_scene_id FROM stream_channel WHERE id = ?", channel
            )
            assert rows == [("after-a-died",)]
            subs = await b.query(
                "SELECT user_id FROM stream_subscription WHERE channel_id = ? ORDER BY user_id",
                channel,
            )
            assert ("ann",) in subs and ("ben",) in subs
        finally:
            for cm in (on_a, on_b):
                with contextlib.suppress(httpx.HTTPError):  # the dead worker's stream
                    await cm.__aexit__(None, None, None)

        # A client of the dead worker resumes on B from its last event id.
        cm = subscribe(
            client, b, "acme", b.mint("acme", "ann", 1), channel, last_event_id=connected_b.id
        )
        resumed = await open_stream(cm)
        try:
            assert (await resumed.next()).event == "connected"
            scenes = [json.loads((await resumed.until("scene_changed")).data)["sceneId"]]
            scenes.append(json.loads((await resumed.until("scene_changed")).data)["sceneId"])
            assert scenes == ["from-b", "after-a-died"]
        finally:
            await cm.__aexit__(None, None, None)


async def test_a_redis_restart_is_survived_and_reported(pair, redis: Redis) -> None:
    a, b = pair
    channel = live(a, "globex")
    moderator = a.token("globex", "moderator")
    async with httpx.AsyncClient(timeout=20) as client:
        cm = subscribe(client, a, "globex", a.mint("globex", "gil", 1), channel)
        stream: Stream = await open_stream(cm)
        try:
            await stream.next()
            redis.kill()
            # The server keeps answering; the write commits; the lost event is reported.
            r = await client.post(
                b.api("globex", f"scenes/{channel}/transition"),
                json={"sceneId": "during-outage"},
                headers=bearer(moderator),
            )
            assert r.status_code == 200, r.text
            redis.launch()
            gap = await stream.until("gap", timeout=15)
            assert "reason" in json.loads(gap.data)
            await asyncio.sleep(0.5)
            r = await client.post(
                b.api("globex", f"scenes/{channel}/transition"),
                json={"sceneId": "after-restart"},
                headers=bearer(moderator),
            )
            assert r.status_code == 200
            event = await stream.until("scene_changed", timeout=10)
            assert json.loads(event.data)["sceneId"] == "after-restart"
        finally:
            await cm.__aexit__(None, None, None)
    rows = await b.query("SELECT active_scene_id FROM stream_channel WHERE id = ?", channel)
    assert rows == [("after-restart",)]


async def test_one_scheduler_among_workers_and_takeover(pair, redis: Redis) -> None:
    a, b = pair
    interval = 5.0  # staticData.updateInterval of the viewer-count workflow

    async def scheduled_runs() -> int:
        rows = await b.query(
            "SELECT COUNT(*) FROM workflow_execution WHERE trigger = 'schedule' "
            "AND tenant_id = 'acme'"
        )
        return int(rows[0][0])

    start = await scheduled_runs()
    await asyncio.sleep(3 * interval + 1)
    # Two workers, one lease: one run per interval, not two.
    assert 2 <= await scheduled_runs() - start <= 4
    holder = subprocess.run(
        ["redis-cli", "-p", str(redis.port), "get",
         "streamcast:lease:schedule:stream_cast_viewer_count_001"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    leader, follower = (a, b) if a.health()["worker"] == holder else (b, a)
    assert follower.health()["worker"] != holder and leader.health()["worker"] == holder
    assert leader.proc is not None
    leader.proc.send_signal(signal.SIGKILL)
    leader.proc.wait()
    killed_at = time.monotonic()
    before = await scheduled_runs()
    while await scheduled_runs() == before:
        assert time.monotonic() - killed_at < 2 * interval, "no takeover within two intervals"
        await asyncio.sleep(0.2)


async def test_uvicorn_workers_share_events(
    postgres: Postgres, redis: Redis, tmp_path: Path
) -> None:
    """`serve --workers 2`: connections land on either process; every subscriber hears
    every scene change, whichever process served the subscribe and the change."""
    database = postgres.create_database()
    env = {"DATABASE_URL": postgres.url(database, APP_ROLE), "EVENTS_URL": redis.url}
    srv = Server(tmp_path, env, admin_url=postgres.url(database), serve_args=("--workers", "2"))
    srv.start()
    try:
        channel = live(srv, "acme")
        workers: set[str] = set()
        async with httpx.AsyncClient(timeout=20) as probe:
            for _ in range(40):  # new connections until both processes have answered
                async with httpx.AsyncClient(timeout=5) as fresh:
                    workers.add((await fresh.get(f"{srv.base}/healthz")).json()["worker"])
                if len(workers) == 2:
                    break
            assert len(workers) == 2
            streams = []
            cms = []
            for i in range(8):
                client = httpx.AsyncClient(timeout=20)
                cm = subscribe(client, srv, "acme", srv.mint("acme", f"w{i}", 1), channel)
                cms.append((client, cm))
                streams.append(await open_stream(cm))
            for s in streams:
                await s.next()
            r = await probe.post(
                srv.api("acme", f"scenes/{channel}/transition"),
                json={"sceneId": "everyone"},
                headers=bearer(srv.token("acme", "moderator")),
            )
            assert r.status_code == 200
            for s in streams:
                assert json.loads((await s.until("scene_changed")).data)["sceneId"] == "everyone"
            for client, cm in cms:
                await cm.__aexit__(None, None, None)
                await client.aclose()
    finally:
        srv.stop()
    assert "Traceback" not in srv.log()


def test_several_workers_without_a_shared_bus_are_refused(tmp_path: Path) -> None:
    out = Server(tmp_path).cli("serve", "--workers", "2", check=False)
    assert out.returncode == 2 and "EVENTS_URL" in out.stderr and "Traceback" not in out.stderr


def test_serving_an_unmigrated_database_says_what_to_do(
    postgres: Postgres, tmp_path: Path
) -> None:
    database = postgres.create_database()
    srv = Server(tmp_path, {"DATABASE_URL": postgres.url(database, APP_ROLE)})
    out = srv.cli("serve", "--port", "1", check=False)
    assert out.returncode == 1, out.stderr
    assert "run `python -m runtime migrate` first" in out.stderr
    assert "Traceback" not in out.stderr
