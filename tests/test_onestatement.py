"""The compiler's proof that a handler's database work is one statement nothing after it can
undo (compiler/onestatement.py): what qualifies, and each reason a handler does not."""

from __future__ import annotations

import pytest

from compiler.onestatement import one_statement

UPDATE = "UPDATE t SET a = :a WHERE id = :id AND tenant_id = :t RETURNING 1 AS found"
DELETE = "DELETE FROM t WHERE id = :id AND tenant_id = :t RETURNING id AS key"
SQL = {
    "SQL_UPDATE": UPDATE,
    "SQL_DELETE": DELETE,
    "SQL_READ": "SELECT id, a FROM t WHERE tenant_id = :t",
    "SQL_PLAIN": "UPDATE t SET a = :a WHERE tenant_id = :t",
}
REQUIRED = frozenset({"id", "a"})

HEAD = """\
    ctx = ex.context
    user = ctx.get("user")
    if user is None:
        raise AuthRequired("x")
"""
WRITE = """\
    row = await ex.fetch_one(SQL_UPDATE, {"a": json["a"], "id": json["id"], "t": ctx["tenantId"]})
"""


def qualifies(body: str) -> bool:
    return one_statement(body, SQL, REQUIRED)


def test_an_update_answered_from_the_request_qualifies() -> None:
    assert qualifies(HEAD + WRITE + """\
    if row is None:
        raise NotFound("gone", "GONE")
    ex.step("emit")
    ex.emit("stream:" + json["id"], "changed", {"by": user["id"], "tenant": ctx["tenantId"]})
    return JsonResult(200, {"ok": True, "at": now_iso()})
""")


def test_a_read_qualifies_whatever_follows() -> None:
    assert qualifies(HEAD + """\
    rows = await ex.fetch_all(SQL_READ, {"t": ctx["tenantId"]})
    total = js.add(rows[0]["a"], json["maybe"])
    return JsonResult(200, {"total": total})
""")


def test_a_returned_column_may_be_read_after_a_delete() -> None:
    body = """\
    row = await ex.fetch_one(SQL_DELETE, {"id": json["id"], "t": ctx["tenantId"]})
    if row is None:
        raise NotFound("gone", "GONE")
    ex.release("t", row["key"])
    return JsonResult(200, {"removed": json["id"]})
"""
    assert qualifies(body)
    assert not qualifies(body.replace('row["key"]', 'row["other"]'))


@pytest.mark.parametrize(
    "after, why",
    [
        ('    return JsonResult(200, {"n": js.add(json["a"], 1.0)})\n', "a helper may raise"),
        ('    return JsonResult(200, {"n": json["optional"]})\n', "an optional input"),
        ('    raise Refused("no", "NO", 409)\n', "a refusal after the write"),
        ('    if row["found"]:\n        raise Refused("no", "NO", 409)\n', "a test of the row"),
        ('    other = await ex.fetch_one(SQL_READ, {"t": ctx["tenantId"]})\n', "a second await"),
        ('    ex.log("n", "message " + str(row))\n', "an unknown call"),
        ('    return JsonResult(200, {"n": ctx["user"]})\n', "a context key that may be missing"),
    ],
)
def test_what_may_fail_after_a_write_disqualifies(after: str, why: str) -> None:
    assert not qualifies(HEAD + WRITE + after), why


def test_a_write_without_returning_or_a_nested_await_does_not_qualify() -> None:
    assert not qualifies(
        '    await ex.fetch_all(SQL_PLAIN, {"a": json["a"], "t": ctx["tenantId"]})\n'
    )
    assert not qualifies(
        '    if json["a"]:\n'
        '        row = await ex.fetch_one(SQL_UPDATE, {"a": json["a"], "id": json["id"], "t": ""})\n'
    )
    assert not qualifies(
        "    row = await ex.fetch_one(SQL_UPDATE if ex.postgres else SQL_READ, {})\n"
    )
    assert not qualifies("    row = await ex.create(SQL_UPDATE, {}, None, {})\n")  # two statements


def test_the_spec_workflows_that_qualify() -> None:
    from generated.stream_cast import scene_transition, subscribe, unsubscribe, viewer_count

    assert scene_transition.WORKFLOW.one_statement and unsubscribe.WORKFLOW.one_statement
    assert not subscribe.WORKFLOW.one_statement  # lookup, count and insert
    assert not viewer_count.WORKFLOW.one_statement  # a statement per channel


def test_the_user_is_safe_to_read_only_once_it_is_checked() -> None:
    after = '    return JsonResult(200, {"by": user["id"]})\n'
    assert qualifies(HEAD + WRITE + after)
    unchecked = '    ctx = ex.context\n    user = ctx.get("user")\n'
    assert not qualifies(unchecked + WRITE + after)  # user may be None
    assert not qualifies(HEAD.replace('ctx.get("user")', "other") + WRITE + after)
