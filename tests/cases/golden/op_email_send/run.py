"""email_send: the template rendered (text, and HTML autoescaped) and queued in the
execution's transaction: a request that fails later queues nothing."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    status, body = await h.run("welcome", {"email": "ann@example.com", "name": "Ann <3"})
    assert status == 202 and isinstance(body, dict), body
    [row] = await h.outbox("email")
    mail = row["payload"]
    assert isinstance(mail, dict) and mail["messageId"] == body["messageId"]
    assert mail["to"] == ["ann@example.com"] and mail["subject"] == "Welcome"
    assert mail["text"] == "Hi Ann <3,\nstart here: https://app.example/start?u=ann@example.com\n"
    assert "<p>Hi Ann &lt;3,</p>" in mail["html"]
    # Refused after the mail node ran: rolled back with the rest, nothing queued.
    status, _ = await h.run("welcome", {"email": "bob@example.com", "name": "boom"})
    assert status == 422 and len(await h.outbox("email")) == 1
