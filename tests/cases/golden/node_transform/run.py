"""metabuilder.transform: an object of expressions read field by field downstream (limits
clamped as upstream's list workflows do); one expression as the whole output."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    assert await h.run("paginate", {}, h.ctx()) == (
        200,
        {"limit": 100, "offset": 0, "label": "page 1"},
    )
    assert await h.run("paginate", {"limit": 900, "page": 3}, h.ctx()) == (
        200,
        {"limit": 500, "offset": 1000, "label": "page 3"},
    )
    assert await h.run("shout", {"word": "hey"}, h.ctx()) == (200, {"shout": "HEY!", "length": 4})
