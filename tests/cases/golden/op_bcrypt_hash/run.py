"""bcrypt_hash: the stored value is a bcrypt hash of the password at the node's cost."""

from __future__ import annotations

import bcrypt

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    status, body = await h.run("signup", {"email": "ann@example.com", "password": "hunter22"})
    assert status == 201, body
    [row] = await h.rows("SELECT secret FROM op_bcrypt_hash_account")
    stored = str(row["secret"])
    assert stored.startswith("$2b$04$") and bcrypt.checkpw(b"hunter22", stored.encode())
    status, body = await h.run("signup", {"email": "bob@example.com", "password": "x" * 73})
    assert (status, body["code"]) == (400, "PASSWORD_TOO_LONG"), body  # type: ignore[index]
