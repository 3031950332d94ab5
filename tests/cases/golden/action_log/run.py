"""action log: a message (or the node's name) recorded with the execution."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    assert await h.run("note", {"text": "hello"}, h.ctx(user=None)) == (
        200,
        {"ok": True, "items": None},
    )
