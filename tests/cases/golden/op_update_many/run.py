"""database_update_many: updates every row of the tenant that matches, here by `$in` over a
list from the request (the output is how many)."""

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
    await seed(h, "op_update_many_item")
    assert await h.run("archive", {"ids": ["i1", "i3", "i4"]}) == (200, {"updated": 2})
    rows = await h.rows("SELECT id, archived FROM op_update_many_item ORDER BY id")
    assert [(r["id"], bool(r["archived"])) for r in rows] == [
        ("i1", True),
        ("i2", False),
        ("i3", True),
        ("i4", False),
    ]
    assert await h.run("archive", {"ids": []}) == (200, {"updated": 0})
    status, body = await h.run("archive", {"ids": "i1"})
    assert (status, body["code"], body["field"]) == (400, "VALIDATION_FAILED", "id")
