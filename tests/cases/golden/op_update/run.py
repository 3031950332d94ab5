"""database_update: by a unique key one row (404 when missing; the output is the row); by
another filter every match (the output is how many)."""

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
            "VALUES (:i, :t, :n, :g, :q, FALSE, '2026-01-22T00:00:00.000Z')",
            {"i": id_, "t": tenant, "n": name, "g": group, "q": qty},
        )


async def check(h: Harness) -> None:
    await seed(h, "op_update_item")
    status, row = await h.run("rename", {"itemId": "i1", "name": "omega"})
    assert status == 200 and row["name"] == "omega", row
    status, body = await h.run("rename", {"itemId": "i4", "name": "stolen"})
    assert (status, body["code"]) == (404, "ITEM_NOT_FOUND")
    assert await h.run("archive_group", {"group": "g1"}) == (200, {"archived": 2})
    rows = await h.rows("SELECT id FROM op_update_item WHERE archived")
    assert sorted(r["id"] for r in rows) == ["i1", "i2"]  # not globex's i4
