"""generate_random_token: `length` random bytes, URL-safe base64 without padding."""

from __future__ import annotations

import base64
import hashlib

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    tokens = set()
    for n in range(3):
        status, body = await h.run("invite", {"email": f"u{n}@example.com"})
        assert status == 201 and isinstance(body, dict), body
        token = str(body["token"])
        assert len(token) == 32 and "=" not in token  # 24 bytes
        assert len(base64.urlsafe_b64decode(token)) == 24
        tokens.add(token)
    assert len(tokens) == 3
    rows = await h.rows("SELECT secret FROM op_generate_random_token_account")
    assert {r["secret"] for r in rows} == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
