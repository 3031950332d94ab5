"""database_read: by a unique key a lookup (404 when missing, `SELECT 1` when nobody reads the
row); otherwise, when later nodes read fields of the row, the rows one by one (a fan-out, with
limit and skip); otherwise the list of rows, sorted (statically, or by a key and direction
from the request checked against the entity's columns), paged by expressions (clamped), and
filtered with operators ($gte, $lte, $in)."""

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
    await seed(h, "op_read_item")
    sub = await h.subscribe("group:g1")
    assert await h.run("announce", {"group": "g1"}) == (200, {"ok": True, "items": 1})
    assert h.events(sub) == [("item", {"name": "beta"})]  # i1 skipped, i4 is globex's
    assert await h.run("lookup", {"itemId": "i3"}) == (200, {"exists": True})
    status, body = await h.run("lookup", {"itemId": "i4"})
    assert (status, body["code"]) == (404, "ITEM_NOT_FOUND")

    # A list: sorted by qty descending, paged by expressions from the query string.
    status, body = await h.run("page", {"limit": "2"})
    assert status == 200 and isinstance(body, dict)
    assert body["count"] == 2 and [i["id"] for i in body["items"]] == ["i3", "i2"]
    status, body = await h.run("page", {"limit": "2", "offset": "2"})
    assert [i["id"] for i in body["items"]] == ["i1"]
    status, body = await h.run("page", {"most": "2", "limit": "-5"})  # clamped to 0
    assert body == {"count": 0, "items": []}
    status, body = await h.run("page", {"limit": "many"})
    assert (status, body["code"], body["field"]) == (400, "VALIDATION_FAILED", "limit")
    # A sort key from the request selects one of the entity's columns, or is refused.
    status, body = await h.run("sorted", {"by": "qty", "dir": "desc"})
    assert [i["id"] for i in body["items"]] == ["i3", "i2", "i1"]
    status, body = await h.run("sorted", {})
    assert [i["name"] for i in body["items"]] == ["alpha", "beta", "gamma"]
    status, body = await h.run("sorted", {"by": "name; DROP TABLE op_read_item"})
    assert (status, body["code"], body["field"]) == (400, "VALIDATION_FAILED", "sort")
    status, body = await h.run("sorted", {"by": "qty", "dir": "sideways"})
    assert (status, body["code"]) == (400, "VALIDATION_FAILED")
    # A lookup whose output a condition compares with null yields the row or null.
    assert await h.run("exists", {"itemId": "i1"}) == (200, {"found": True, "name": "alpha"})
    assert await h.run("exists", {"itemId": "i4"}) == (200, {"found": False})  # globex's
