"""A package exercising shapes the spec's four do not: a condition with both branches
answering, a validate node on the input, updates and counts by a non-unique filter, a paged
fan-out, log actions, custom status codes, ``errorHandler: log``."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    for i, (tenant, hidden) in enumerate(
        [("acme", False), ("acme", False), ("acme", True), ("globex", False)]
    ):
        await h.sql(
            "INSERT INTO moderation_comment (id, tenant_id, post_id, author_id, body, hidden, "
            "score, created_at) VALUES (:i, :t, 'p1', 'a', :b, :h, :s, "
            "'2026-01-22T00:00:00.000Z')",
            {"i": f"c{i}", "t": tenant, "b": f"comment number {i}", "h": hidden, "s": i},
        )
    sub = await h.subscribe("post:p1")
    # The hidden comment and the other tenant's are not read.
    assert await h.run("announce_comments", {"postId": "p1"}, h.ctx(user="mod")) == (
        200,
        {"ok": True, "items": 2},
    )
    assert h.events(sub) == [
        ("comment_announced", {"id": "c0", "preview": "comment number 0", "score": 0}),
        ("comment_announced", {"id": "c1", "preview": "comment number 1", "score": 2}),
    ]
    assert await h.run("hide_comments", {"postId": "p1", "reason": "spam"}, h.ctx(user="mod")) == (
        403,
        {"error": "Moderators only", "code": "MODERATORS_ONLY", "level": 1},
    )
    empty = await h.run(
        "hide_comments", {"postId": "p1", "reason": ""}, h.ctx(user="mod", level=3)
    )
    assert empty == (
        400,
        {
            "error": "Say why the comments are hidden",
            "code": "VALIDATION_FAILED",
            "field": "reason",
        },
    )
    hidden = await h.run(
        "hide_comments", {"postId": "p1", "reason": "spam"}, h.ctx(user="mod", level=3)
    )
    assert hidden == (200, {"hidden": 3, "visible": 0, "by": "Mod"})  # every row of p1
