"""action http_response: a custom status and a JSON body built from expressions; headers
whose values come from the request (a line break cannot start another header)."""

from __future__ import annotations

from runtime.results import JsonResult
from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    body = {"accepted": True, "echo": "hi", "tenant": "acme", "items": [2, "x-2"]}
    assert await h.run("accept", {"note": "hi"}, h.ctx(user=None)) == (202, body)
    body = {"accepted": True, "echo": "none", "tenant": "acme", "items": [2, "x-undefined"]}
    assert await h.run("accept", {}, h.ctx(user=None)) == (202, body)

    done = await h.engine.run(
        h.workflow("download"),
        h.ctx(user=None),
        {"name": "q3\r\nSet-Cookie: x=1", "rows": "a,b\n1,2\n"},
    )
    assert done.result == JsonResult(
        200,
        "a,b\n1,2\n",
        (
            ("Content-Type", "text/csv"),
            ("Content-Disposition", "attachment; filename=q3  Set-Cookie: x=1.csv"),
        ),
    )
