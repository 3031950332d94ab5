"""JSON Script forEach: the mapItem node once per element ($item), the loop's own $json as
$parentJson; then the node after the loop, with the loop's $json."""

from __future__ import annotations

from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    people = [
        {"email": "ann@example.com", "name": "Ann"},
        {"email": "bob@example.com", "name": "Bob"},
    ]
    got = await h.run("import_accounts", {"source": "crm", "people": people})
    assert got == (200, {"status": "success", "source": "crm"}), got
    rows = await h.rows(
        "SELECT email, name, info FROM node_jsonscript_foreach_account ORDER BY email"
    )
    assert [(r["email"], r["name"]) for r in rows] == [
        ("ann@example.com", "Ann"),
        ("bob@example.com", "Bob"),
    ]
    assert all(r["info"] == "from crm" for r in rows)
    status, body = await h.run("import_accounts", {"source": "crm"})
    assert (status, body) == (
        400,
        {"status": "error", "message": "No people", "error": "NO_PEOPLE", "code": "NO_PEOPLE"},
    )
