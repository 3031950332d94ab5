"""metabuilder.condition: both branches routed; a guard answers by what it tests: the user's
level (403 with the levels), the input (400 VALIDATION_FAILED naming the node), a row a node
read (404 <LABEL>_NOT_FOUND), anything else (422 CONDITION_FAILED); errorStatus, errorCode and
errorMessage override it."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    assert await h.run("route", {}, h.ctx(level=3)) == (200, {"role": "admin"})
    assert await h.run("route", {}, h.ctx(level=1)) == (200, {"role": "viewer", "level": 1})
    status, body = await h.run("guard_level", {}, h.ctx(level=1))
    assert status == 403 and body["code"] == "AUTH_INSUFFICIENT_LEVEL", body
    assert await h.run("guard_level", {}, h.ctx(level=2)) == (200, {"ok": True})
    assert await h.run("guard_input", {"word": "now"}, h.ctx(user=None)) == (
        400,
        {
            "error": "Condition check_word is not met",
            "code": "VALIDATION_FAILED",
            "node": "check_word",
        },
    )
    assert await h.run("guard_input", {"word": "please"}, h.ctx(user=None)) == (200, {"ok": True})
    for id_, archived in (("i1", False), ("i2", True)):
        await h.sql(
            "INSERT INTO node_condition_item (id, tenant_id, name, group_name, qty, archived, "
            "created_at) VALUES (:i, 'acme', :i, 'g', 1, :a, '2026-01-22T00:00:00.000Z')",
            {"i": id_, "a": archived},
        )
    assert await h.run("guard_row", {"itemId": "i1"}) == (200, {"name": "i1"})
    assert await h.run("guard_row", {"itemId": "i2"}) == (
        404,
        {"error": "Item not found", "code": "ITEM_NOT_FOUND", "node": "check_active"},
    )
    assert await h.run("guard_count", {"name": "x"}, h.ctx(tenant="globex")) == (200, {"ok": True})
    assert await h.run("guard_count", {"name": "taken"}, h.ctx(tenant="globex")) == (
        409,
        {"error": "That name is taken", "code": "NAME_TAKEN", "node": "check_named"},
    )
    status, body = await h.run("guard_count", {"name": "x"})  # acme holds 2 items
    assert (status, body["code"], body["node"]) == (422, "CONDITION_FAILED", "check_room")
