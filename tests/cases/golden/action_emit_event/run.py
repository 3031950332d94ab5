"""action emit_event: published on the tenant's channel after the commit; nothing for a
failed execution."""

from __future__ import annotations

from tests.golden_harness import Harness


async def seed(h: Harness, table: str) -> None:
    rows = [
        ("i1", "acme", "alpha", "g1", 1),
        ("i2", "acme", "beta", "g1", 2),
        ("i3", "acme", "gamma", "g2", 3),
        ("i4", "globex", "delta", "g1", 4),
    ]
    for id_, tenant, name, group, qty in rows:
        await h.sql(
            f"INSERT INTO {table} (id, tenant_id, name, group_name, qty, archived, created_at) "
            "VALUES (:i, :t, :n, :g, :q, 0, '2026-01-22T00:00:00.000Z')",
            {"i": id_, "t": tenant, "n": name, "g": group, "q": qty},
        )


async def check(h: Harness) -> None:
    await seed(h, "action_emit_event_item")
    mine = await h.subscribe("group:g1")
    theirs = await h.subscribe("group:g1", tenant="globex")
    assert await h.run("rename", {"itemId": "i1", "name": "omega"}) == (
        200,
        {"ok": True, "items": None},
    )
    assert h.events(mine) == [("item_renamed", {"id": "i1", "name": "omega"})]
    assert h.events(theirs) == []
    status, _ = await h.run("rename", {"itemId": "i4", "name": "stolen"})  # globex's row
    assert status == 404 and h.events(mine) == []
