"""JSON Script email.smtp.send: the message queued after its params; the next node's $json
is the params with the messageId (the dialect's "previous node's output")."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    got = await h.run("send", {"to": ["ann@example.com"], "subject": "Hi", "body": "Hello"})
    assert got[0] == 200 and isinstance(got[1], dict), got
    [row] = await h.outbox("email")
    mail = row["payload"]
    assert isinstance(mail, dict) and mail["to"] == ["ann@example.com"] and mail["text"] == "Hello"
    assert got[1] == {"status": "success", "messageId": mail["messageId"], "subject": "Hi"}
