"""bcrypt_compare: true only for the password the hash was made from; a missing or
malformed hash is false (after the same work)."""

from __future__ import annotations

import bcrypt

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    hashed = bcrypt.hashpw(b"hunter22", bcrypt.gensalt(4)).decode()
    for id_, email, secret in (
        ("a1", "ann@example.com", hashed),
        ("a2", "bob@example.com", "junk"),
        ("a3", "cy@example.com", None),
    ):
        await h.sql(
            "INSERT INTO op_bcrypt_compare_account (id, tenant_id, email, secret, created_at) "
            "VALUES (:i, 'acme', :e, :s, '2026-01-22T00:00:00.000Z')",
            {"i": id_, "e": email, "s": secret},
        )
    anon = h.ctx(user=None)
    assert await h.run("signin", {"email": "ann@example.com", "password": "hunter22"}, anon) == (
        200,
        {"id": "a1"},
    )
    for email, password in (
        ("ann@example.com", "wrong"),
        ("bob@example.com", "junk"),
        ("cy@example.com", ""),
        ("dee@example.com", "hunter22"),
    ):
        status, body = await h.run("signin", {"email": email, "password": password}, anon)
        assert (status, body["code"]) == (401, "INVALID_CREDENTIALS"), (email, body)  # type: ignore[index]
