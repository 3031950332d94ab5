"""An entity whose tenantId lives in another column (`org`): the tenant check, row reuse and
the tenant-filtered marks work on the field, not on a column name."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    for id_, org, name, live in [
        ("c1", "acme", "one", True),
        ("c2", "acme", "two", False),
        ("c3", "globex", "three", True),
    ]:
        await h.sql(
            "INSERT INTO tenant_column_channel (id, org, name, live) VALUES (:i, :o, :n, :l)",
            {"i": id_, "o": org, "n": name, "l": live},
        )
    for org, channel in [("acme", "c1"), ("acme", "c1"), ("globex", "c3")]:
        await h.sql(
            "INSERT INTO tenant_column_viewer (id, org, channel_id) VALUES "
            "(hex(randomblob(8)), :o, :c)",
            {"o": org, "c": channel},
        )
    sub = await h.subscribe("tally")
    assert await h.run("tally", {}, h.ctx(user=None)) == (200, {"ok": True, "items": 1})
    assert h.events(sub) == [("tally", {"channel": "one", "viewers": 2})]
