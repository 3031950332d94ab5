"""metabuilder.validate: a user check (401), an input check with its own message (400 naming the
field), a type check; `rules` over the fields of `$json`, each rule its own 400."""

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

    good = {"email": "ada@example.com", "name": "Ada", "password": "lovelace1815",
            "confirm": "lovelace1815", "age": 36, "code": "abc-42", "tags": []}  # fmt: skip
    assert await h.run("register", good) == (201, {"ok": True})
    assert await h.run(
        "register", {"email": "ada@example.com", "name": "Ada", "password": "lovelace1815"}
    ) == (201, {"ok": True})
    for change, field, rule in (
        ({"email": None}, "email", "required"),
        ({"email": "ada"}, "email", "email"),
        ({"name": "A"}, "name", "minLength"),
        ({"name": "A" * 21}, "name", "maxLength"),
        ({"name": 5}, "name", "string"),
        ({"age": 12}, "age", "min"),
        ({"age": "36"}, "age", "number"),
        ({"code": "ab-1"}, "code", "regex"),
        ({"password": "short"}, "password", "minLength"),
        ({"password": "ada@example.com"}, "password", "different"),
        ({"confirm": "other"}, "confirm", "same"),
        ({"tags": "x"}, "tags", "array"),
    ):
        status, body = await h.run("register", {**good, **change})
        assert status == 400 and body["code"] == "VALIDATION_FAILED", (change, body)
        assert (body["field"], body["rule"]) == (field, rule), (change, body)
    status, body = await h.run("register", {"email": "x@example.com"})
    assert (status, body["field"], body["error"]) == (400, "name", "`name` is required")
    # unique:Item: an existence query in the request's tenant
    await h.sql(
        "INSERT INTO node_validate_item (id, tenant_id, name, group_name, qty, archived, "
        "created_at) VALUES ('t1', 'acme', 'Taken', 'g', 1, FALSE, '2026-01-22T00:00:00.000Z')"
    )
    status, body = await h.run("register", {**good, "name": "Taken"})
    assert (status, body["field"], body["rule"]) == (400, "name", "unique"), body
    assert body["error"] == "`name` is already taken"
    assert await h.run("register", {**good, "name": "Taken"}, h.ctx(tenant="globex")) == (
        201,
        {"ok": True},
    )
