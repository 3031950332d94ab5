"""sha256: the hex digest of the value's text (UTF-8)."""

from __future__ import annotations

import hashlib

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    for text in ("", "abc", "żółw ✓"):
        want = hashlib.sha256(text.encode()).hexdigest()
        assert await h.run("digest", {"text": text}) == (200, {"hex": want})
