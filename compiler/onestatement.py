"""Which handlers may run their database work as one statement, without BEGIN and COMMIT.

A transaction exists so that an execution either happens whole or not at all. A handler
whose only wait is one statement gets that from the statement itself (PostgreSQL applies a
statement completely or not at all), provided nothing after it can fail once it wrote. The
proof is made on the handler as emitted, by a whitelist: anything this module does not know
to be safe makes the handler an ordinary transaction.

- The handler awaits exactly once, at its top level: ``ex.fetch_one`` or ``ex.fetch_all``
  with one of the module's SQL constants.
- A ``SELECT`` writes nothing: whatever follows may fail.
- Otherwise (an ``INSERT``, ``UPDATE`` or ``DELETE`` with ``RETURNING``) every statement
  after it is one that cannot raise: progress marks, events, released streams and the answer,
  built from constants, the request's required inputs, the user and tenant, the returned
  row's own columns and the clock; or ``if row is None: raise ...``, which only happens when
  the statement changed nothing (no row returned: no row written).

The runtime then sends the statement alone on PostgreSQL (one round trip; the tenant binding
and the statement timeout are settings of the connection) and bounds it by PostgreSQL's
``statement_timeout`` rather than by cancelling it, so its outcome is always known.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping

_FETCH = frozenset({"fetch_one", "fetch_all"})
_MARKS = frozenset({"step", "emit", "release"})  # Execution methods that only record
_RESULTS = frozenset({"JsonResult", "OkResult"})
_RETURNING = re.compile(r"\bRETURNING\s+(.*)\Z", re.IGNORECASE | re.DOTALL)


def one_statement(
    body: str, constants: Mapping[str, object], required_inputs: frozenset[str]
) -> bool:
    """Whether the handler body (the statements of ``run``, as rendered) qualifies."""
    try:
        tree = ast.parse("async def run(ex, json):\n" + body)
    except SyntaxError:
        return False
    fn = tree.body[0]
    assert isinstance(fn, ast.AsyncFunctionDef)
    awaits = [n for n in ast.walk(fn) if isinstance(n, ast.Await)]
    if len(awaits) != 1:
        return False
    for i, stmt in enumerate(fn.body):
        target, call = _fetch(stmt)
        if call is None:
            continue
        if not (call.args and isinstance(call.args[0], ast.Name)):
            return False
        sql = constants.get(call.args[0].id)
        if not isinstance(sql, str):
            return False
        if sql.lstrip().upper().startswith("SELECT"):
            return True
        returning = _returned(sql)
        if returning is None:
            return False
        safe = _Safe(required_inputs, target, returning, _user_checked(fn.body[:i]))
        return all(safe.statement(s) for s in fn.body[i + 1 :])
    return False  # the await is nested (a branch, a loop): not a straight line


def _fetch(stmt: ast.stmt) -> tuple[str | None, ast.Call | None]:
    """``[name =] await ex.fetch_*(...)`` at the top level: (name, call)."""
    value: ast.expr | None = None
    target = None
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        if isinstance(stmt.targets[0], ast.Name):
            target = stmt.targets[0].id
        value = stmt.value
    elif isinstance(stmt, ast.Expr):
        value = stmt.value
    if not isinstance(value, ast.Await) or not isinstance(value.value, ast.Call):
        return None, None
    func = value.value.func
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "ex"
        and func.attr in _FETCH
    ):
        return target, value.value
    return None, None


def _returned(sql: str) -> frozenset[str] | None:
    """The column names a write's ``RETURNING`` gives (None: it returns nothing)."""
    m = _RETURNING.search(sql)
    if m is None:
        return None
    names = set()
    for item in m.group(1).split(","):
        name = re.split(r"\s+AS\s+", item.strip(), flags=re.IGNORECASE)[-1].strip()
        names.add(name.strip('"'))
    return frozenset(names)


def _user_checked(before: list[ast.stmt]) -> bool:
    """``user = ctx.get("user")`` then ``if user is None ...: raise`` at the top level: past
    them ``user`` is a User, every key of which is there."""
    assigned = False
    for stmt in before:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == "user"
        ):
            assigned = ast.dump(stmt.value) == _CTX_USER
        elif (
            assigned
            and isinstance(stmt, ast.If)
            and all(isinstance(b, ast.Raise) for b in stmt.body)
        ):
            test = stmt.test
            first = (
                test.values[0]
                if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or)
                else test
            )
            if ast.dump(first) == _USER_IS_NONE and not stmt.orelse:
                return True
    return False


_CTX_USER = ast.dump(ast.parse('ctx.get("user")', mode="eval").body)
_USER_IS_NONE = ast.dump(ast.parse("user is None", mode="eval").body)


class _Safe:
    """Statements and expressions after a write that cannot raise."""

    def __init__(
        self, required: frozenset[str], row: str | None, returned: frozenset[str], user: bool
    ) -> None:
        self.required = required
        self.row = row
        self.returned = returned
        self.user = user  # `user` is narrowed to a User before the statement

    def statement(self, s: ast.stmt) -> bool:
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
            f = s.value.func
            return (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and f.value.id == "ex"
                and f.attr in _MARKS
                and self.arguments(s.value)
            )
        if isinstance(s, ast.If):
            # `if row is None: raise ...`: the statement returned (and wrote) nothing.
            t = s.test
            return (
                self.row is not None
                and not s.orelse
                and isinstance(t, ast.Compare)
                and isinstance(t.left, ast.Name)
                and t.left.id == self.row
                and len(t.ops) == 1
                and isinstance(t.ops[0], ast.Is)
                and isinstance(t.comparators[0], ast.Constant)
                and t.comparators[0].value is None
                and all(isinstance(b, ast.Raise) for b in s.body)
            )
        if isinstance(s, ast.Return) and isinstance(s.value, ast.Call):
            f = s.value.func
            return isinstance(f, ast.Name) and f.id in _RESULTS and self.arguments(s.value)
        return False

    def arguments(self, call: ast.Call) -> bool:
        return all(self.expr(a) for a in call.args) and all(
            self.expr(k.value) for k in call.keywords
        )

    def expr(self, e: ast.expr) -> bool:
        if isinstance(e, ast.Constant):
            return True
        if isinstance(e, ast.Dict):
            return all(k is not None and self.expr(k) for k in e.keys) and all(
                self.expr(v) for v in e.values
            )
        if isinstance(e, ast.List | ast.Tuple):
            return all(self.expr(x) for x in e.elts)
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add):
            # Both sides are strings (the module is type-checked): concatenation.
            return (
                _is_text(e.left) and _is_text(e.right) and self.expr(e.left) and self.expr(e.right)
            )
        if isinstance(e, ast.Subscript):
            return self.subscript(e)
        return _is_now(e)

    def subscript(self, e: ast.Subscript) -> bool:
        if not (isinstance(e.value, ast.Name) and isinstance(e.slice, ast.Constant)):
            return False
        root, key = e.value.id, e.slice.value
        if root == "json":
            return key in self.required
        if root == "user":  # narrowed from ctx.get("user"): every User key is there
            return self.user and key in ("id", "name", "level", "email", "roles", "scopes")
        if root == "ctx":
            return key == "tenantId"
        return root == self.row and key in self.returned


def _is_text(e: ast.expr) -> bool:
    """A string literal, a subscript or a concatenation of them (their type is str)."""
    if isinstance(e, ast.Constant):
        return isinstance(e.value, str)
    if isinstance(e, ast.BinOp):
        return _is_text(e.left) and _is_text(e.right)
    return isinstance(e, ast.Subscript)


def _is_now(e: ast.expr) -> bool:
    """``now_iso()``: the current time, which the statement does not depend on."""
    return ast.dump(e) == _NOW


_NOW = ast.dump(ast.parse("now_iso()", mode="eval").body)
