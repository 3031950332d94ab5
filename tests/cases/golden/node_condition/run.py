"""metabuilder.condition: both branches routed; a guard on the user's level (403 with the
levels); a guard on the input (403 CONDITION_FAILED naming the node)."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    assert await h.run("route", {}, h.ctx(level=3)) == (200, {"role": "admin"})
    assert await h.run("route", {}, h.ctx(level=1)) == (200, {"role": "viewer", "level": 1})
    status, body = await h.run("guard_level", {}, h.ctx(level=1))
    assert status == 403 and body["code"] == "AUTH_INSUFFICIENT_LEVEL", body
    assert await h.run("guard_level", {}, h.ctx(level=2)) == (200, {"ok": True})
    assert await h.run("guard_input", {"word": "now"}, h.ctx(user=None)) == (
        403,
        {"error": "Condition check_word is not met", "code": "CONDITION_FAILED"},
    )
    assert await h.run("guard_input", {"word": "please"}, h.ctx(user=None)) == (200, {"ok": True})
