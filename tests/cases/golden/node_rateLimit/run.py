"""metabuilder.rateLimit: a fixed window per key in the tenant; 429 with Retry-After past it."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    who = {"email": "ann@example.com"}
    assert await h.run("login", who, h.ctx(user=None)) == (
        200,
        {"ok": True, "email": who["email"]},
    )
    assert (await h.run("login", who, h.ctx(user=None)))[0] == 200
    status, body = await h.run("login", who, h.ctx(user=None))
    assert status == 429 and isinstance(body, dict), body
    assert body["code"] == "RATE_LIMITED" and body["error"] == "Too many attempts"
    assert isinstance(body["retryAfter"], int) and 1 <= body["retryAfter"] <= 60
    # Another key, and the same key in another tenant, count apart.
    assert (await h.run("login", {"email": "bob@example.com"}, h.ctx(user=None)))[0] == 200
    assert (await h.run("login", who, h.ctx(tenant="globex", user=None)))[0] == 200
