"""database_create: generated id and timestamp, a unique conflict returns the existing row,
and staticData.maxSubscriptionsPerUser limits the rows of the owner written from
$context.user.id (here a field named ownerId)."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    status, first = await h.run("join", {"groupId": "g1"})
    assert status == 201 and first["joinedAt"].endswith("Z"), first
    assert await h.run("join", {"groupId": "g1"}) == (201, first)  # the existing row
    assert (await h.run("join", {"groupId": "g2"}))[0] == 201
    assert await h.run("join", {"groupId": "g3"}) == (
        409,
        {
            "error": "Limit reached: a user may hold at most 2 memberships",
            "code": "MEMBERSHIP_LIMIT_REACHED",
            "limit": 2,
        },
    )
    assert (await h.run("join", {"groupId": "g3"}, h.ctx(user="u2")))[0] == 201  # another owner
    rows = await h.rows("SELECT owner_id FROM op_create_membership WHERE tenant_id = 'acme'")
    assert sorted(r["owner_id"] for r in rows) == ["u1", "u1", "u2"]
