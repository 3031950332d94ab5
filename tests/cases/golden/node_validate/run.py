"""metabuilder.validate: a user check (401), an input check with its own message (400 naming the
field), a type check."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    ok = {"email": "ada@example.com", "count": 2}
    assert await h.run("check_input", ok, h.ctx(user=None)) == (
        401,
        {"error": "User authentication required", "code": "AUTH_REQUIRED"},
    )
    assert await h.run("check_input", {**ok, "email": "nope"}) == (
        400,
        {"error": "Give a valid email address", "code": "VALIDATION_FAILED", "field": "email"},
    )
    assert await h.run("check_input", {**ok, "count": "2"}) == (
        400,
        {"error": "`count` is invalid", "code": "VALIDATION_FAILED", "field": "count"},
    )
    assert await h.run("check_input", ok) == (
        200,
        {"email": "ada@example.com", "count": 2, "by": "U1"},
    )
