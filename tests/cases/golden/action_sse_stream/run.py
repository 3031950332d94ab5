"""action sse_stream: the channel, the first event, retry and timeout from staticData."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    assert await h.run("watch", {"group": "g1"}) == (
        "stream",
        ("group:g1", {"watching": "g1", "user": "u1"}, 2000, 60000),
    )
    status, body = await h.run("watch", {"group": "g1"}, h.ctx(user=None))
    assert (status, body["code"]) == (401, "AUTH_REQUIRED")
