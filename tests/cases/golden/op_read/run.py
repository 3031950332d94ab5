"""database_read: by a unique key a lookup (404 when missing, `SELECT 1` when nobody reads the
row); otherwise the rows one by one, with limit and skip."""

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
    await seed(h, "op_read_item")
    sub = await h.subscribe("group:g1")
    assert await h.run("announce", {"group": "g1"}) == (200, {"ok": True, "items": 1})
    assert h.events(sub) == [("item", {"name": "beta"})]  # i1 skipped, i4 is globex's
    assert await h.run("lookup", {"itemId": "i3"}) == (200, {"exists": True})
    status, body = await h.run("lookup", {"itemId": "i4"})
    assert (status, body["code"]) == (404, "ITEM_NOT_FOUND")
