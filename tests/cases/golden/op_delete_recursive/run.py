"""delete_recursive: queued with the row's deletion and carried out after the commit, inside
the storage root only; a symbolic link is removed, never followed."""

from __future__ import annotations

import json

from runtime.effects.outbound import deliver_delete
from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    await h.sql(
        "INSERT INTO op_delete_recursive_account (id, tenant_id, email, created_at) "
        "VALUES ('a1', 'acme', 'ann@example.com', '2026-01-22T00:00:00.000Z')"
    )
    home = h.storage / "accounts" / "a1"
    (home / "docs").mkdir(parents=True)
    (home / "docs" / "cv.pdf").write_text("cv")
    outside = h.storage.parent / "keep"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    (home / "link").symlink_to(outside)
    (h.storage / "avatars").mkdir()
    (h.storage / "avatars" / "a1.png").write_text("png")
    assert await h.run("remove", {"id": "a1"}) == (200, {"deleted": "a1"})
    [row] = await h.outbox("delete")
    assert home.exists()  # nothing is deleted before the commit's delivery
    payload = row["payload"]
    assert isinstance(payload, dict)
    await deliver_delete(h.effects, json.loads(json.dumps(payload)))
    assert not home.exists() and not (h.storage / "avatars" / "a1.png").exists()
    assert (outside / "precious.txt").read_text() == "keep me"
    assert await h.rows("SELECT id FROM op_delete_recursive_account") == []
