"""smtp-relay-send: the body as the text, or a template chosen by an expression among
templates/ (rendered with subject and body); queued in the outbox, sent after the commit."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    plain = {"to": "ann@example.com", "title": "Disk", "message": "90% full"}
    got = await h.run("alert", plain)
    assert got == (202, {"sent": True}), got
    boxed = {**plain, "template": "boxed", "message": "<b>95%</b> full"}
    assert await h.run("alert", boxed) == (202, {"sent": True})
    first, second = await h.outbox("email")
    assert first["payload"]["text"] == "90% full" and first["payload"]["html"] is None  # type: ignore[index]
    assert first["payload"]["from"] == "alerts@example.com" and first["max_attempts"] == 5  # type: ignore[index]
    assert second["payload"]["text"] == "[Disk] <b>95%</b> full\n"  # type: ignore[index]
    assert "&lt;b&gt;95%&lt;/b&gt;" in second["payload"]["html"]  # type: ignore[index,operator]
    status, body = await h.run("alert", {**plain, "to": "not an address"})
    assert (status, body["code"]) == (400, "INVALID_RECIPIENT"), body  # type: ignore[index]
