"""action http_response: a custom status and a JSON body built from expressions."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    body = {"accepted": True, "echo": "hi", "tenant": "acme", "items": [2, "x-2"]}
    assert await h.run("accept", {"note": "hi"}, h.ctx(user=None)) == (202, body)
    body = {"accepted": True, "echo": "none", "tenant": "acme", "items": [2, "x-undefined"]}
    assert await h.run("accept", {}, h.ctx(user=None)) == (202, body)
