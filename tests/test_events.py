"""The event buses, in-process and Redis, held to the same rules: ids count one tenant
channel's events only, and ``Last-Event-ID`` replays what was missed on that channel or says
that some of it is gone."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from runtime.events import EventBus, LocalBus
from tests.services import Redis


@pytest.fixture(params=["memory", "redis"])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[type]:
    made: list[EventBus] = []

    async def make(buffer_size: int = 100) -> EventBus:
        bus: EventBus
        if request.param == "memory":
            bus = LocalBus(buffer_size=buffer_size)
        else:
            from runtime.redis_bus import RedisBus

            server: Redis = request.getfixturevalue("redis")
            bus = RedisBus(server.url, buffer_size=buffer_size)
        await bus.start()
        made.append(bus)
        return bus

    yield make  # type: ignore[misc]
    for bus in made:
        await bus.stop()


def seq(event_id: str) -> int:
    return int(event_id.rpartition("-")[2])


def fresh(name: str) -> str:
    return f"{name}-{secrets.token_hex(4)}"  # Redis keeps channels between tests


async def test_ids_count_only_their_own_tenant_channel(make_bus) -> None:  # type: ignore[no-untyped-def]
    bus = await make_bus()
    acme, umbrella = fresh("acme"), fresh("umbrella")
    ids = []
    for i in range(5):
        ids.append((await bus.publish(acme, "ch", "e", str(i))).id)
        for j in range(40):  # another tenant's traffic on a channel of the same name
            await bus.publish(umbrella, "ch", "e", str(j))
    # The sequence part never exceeds this channel's own count: nothing leaks of umbrella's.
    assert max(seq(i) for i in ids) <= 5
    assert len(set(ids)) == 5


async def test_last_event_id_replays_the_channel(make_bus) -> None:  # type: ignore[no-untyped-def]
    bus = await make_bus()
    tenant = fresh("acme")
    sub = await bus.subscribe(tenant, "ch", None)
    first = sub.position  # nothing published on the channel yet
    published = [await bus.publish(tenant, "ch", "e", str(i)) for i in range(3)]
    await bus.publish(tenant, "other", "e", "elsewhere")
    await bus.publish(fresh("umbrella"), "ch", "e", "another tenant")
    replay = await bus.replay(sub, first)
    assert replay.complete and [e.data for e in replay.events] == ["0", "1", "2"]
    replay = await bus.replay(sub, published[1].id)
    assert replay.complete and [e.id for e in replay.events] == [published[2].id]
    later = await bus.subscribe(tenant, "ch", None)
    assert later.position == published[2].id
    await bus.unsubscribe(sub)
    await bus.unsubscribe(later)


async def test_a_trimmed_buffer_is_reported_as_a_gap(make_bus) -> None:  # type: ignore[no-untyped-def]
    bus = await make_bus(buffer_size=10)
    tenant = fresh("acme")
    sub = await bus.subscribe(tenant, "ch", None)
    first = sub.position
    published = [await bus.publish(tenant, "ch", "e", str(i)) for i in range(300)]
    assert not (await bus.replay(sub, first)).complete
    assert not (await bus.replay(sub, published[0].id)).complete
    recent = await bus.replay(sub, published[-2].id)
    assert recent.complete and [e.id for e in recent.events] == [published[-1].id]
    for odd in ("", "x", "1-²", "9" * 4400, "99999999999999-0"):
        assert not (await bus.replay(sub, odd)).complete
    await bus.unsubscribe(sub)
