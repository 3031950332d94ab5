"""Small conversions generated code uses at its boundaries: request input, SQL values, rows."""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import NoReturn, TypeVar

from runtime import js
from runtime.errors import ValidationFailed
from runtime.js import now_ms as now_ms  # Date.now(): a bigint column's "now"


def require_str(raw: Mapping[str, object], name: str) -> str:
    value = raw.get(name)
    if value is None:
        raise ValidationFailed(f"`{name}` is required", field=name)
    if not isinstance(value, str):
        raise ValidationFailed(f"`{name}` must be a string", field=name)
    if not value:
        raise ValidationFailed(f"`{name}` must not be empty", field=name)
    return value


def require_value(raw: Mapping[str, object], name: str) -> object:
    if name not in raw or raw[name] is None:
        raise ValidationFailed(f"`{name}` is required", field=name)
    return js.from_json(raw[name])


def require_number(raw: Mapping[str, object], name: str) -> float:
    """An input the workflow uses as a number (it is written to or compared with a number
    column): a JSON number, or text JavaScript reads as one (a query string's ``"20"``)."""
    if name not in raw:
        raise ValidationFailed(f"`{name}` is required", field=name)
    value = raw[name]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value.strip():
        n = js.string_to_number(value)
        if not math.isnan(n):
            return n
    raise ValidationFailed(f"`{name}` must be a number", field=name)


def require_bool(raw: Mapping[str, object], name: str) -> bool:
    """An input the workflow uses as a boolean: JSON true/false, or the text "true"/"false"."""
    if name not in raw:
        raise ValidationFailed(f"`{name}` is required", field=name)
    value = raw[name]
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValidationFailed(f"`{name}` must be true or false", field=name)


def optional_value(raw: Mapping[str, object], name: str) -> object:
    return js.from_json(raw[name]) if name in raw else js.UNDEFINED


def present_str(raw: Mapping[str, object], name: str) -> str:
    """An optional input the workflow uses as text, when the request has it."""
    value = raw.get(name)
    if not isinstance(value, str):
        raise ValidationFailed(f"`{name}` must be a string", field=name)
    return value


def new_id() -> str:
    return str(uuid.uuid4())


def now_iso() -> str:
    """``new Date().toISOString()``: the current UTC time to the millisecond."""
    return js.iso_string(js.epoch_ms())


def sql_text(value: object) -> str | None:
    if value is None or value is js.UNDEFINED:
        return None
    return js.to_string(value)


def sql_bool(value: object) -> bool | None:
    if value is None or value is js.UNDEFINED:
        return None
    return js.truthy(value)


def sql_number(value: object) -> float | None:
    if value is None or value is js.UNDEFINED:
        return None
    n = js.to_number(value)
    return None if math.isnan(n) else n


def sql_json(value: object) -> str | None:
    """A JSON column's value: the JSON text of a JavaScript value (``JSON.stringify``)."""
    if value is None or value is js.UNDEFINED:
        return None
    return js.to_json_text(value)


def db_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return str(value)


def db_text_or_none(value: object) -> str | None:
    return None if value is None else db_text(value)


def db_bool(value: object) -> bool:
    return bool(value)


def db_bool_or_none(value: object) -> bool | None:
    return None if value is None else bool(value)


def db_number(value: object) -> float:
    return float(value)  # type: ignore[arg-type]


def db_number_or_none(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def db_json(value: object) -> object:
    """A JSON column as JavaScript sees it: text on SQLite and from asyncpg's ``jsonb``."""
    if isinstance(value, str | bytes):
        return js.from_json(json.loads(value))
    return js.from_json(value)


def db_json_or_none(value: object) -> object:
    return None if value is None else db_json(value)


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def check_value(validator: str, value: object) -> bool:
    """Whether ``value`` passes a validate node's ``validator``."""
    if validator == "required":
        return not (value is None or value is js.UNDEFINED or value == "")
    if validator == "nonEmpty":
        return js.truthy(value) and value != [] and value != {}
    if validator == "email":
        return isinstance(value, str) and _EMAIL.fullmatch(value) is not None
    if validator == "uuid":
        return isinstance(value, str) and _UUID.fullmatch(value) is not None
    if validator == "string":
        return isinstance(value, str)
    if validator == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if validator == "boolean":
        return isinstance(value, bool)
    raise ValueError(f"unknown validator {validator!r}")


# ----------------------------------------------------------------------------- validation rules
# What a validate node's `rules` compile to: each rule is a direct test in the handler.


def absent(value: object) -> bool:
    """``required`` fails: undefined, null or the empty string."""
    return value is None or value is js.UNDEFINED or value == ""


def is_email(value: object) -> bool:
    return isinstance(value, str) and _EMAIL.fullmatch(value) is not None


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def js_length(value: object) -> float:
    """``value.length`` for a string (UTF-16 code units) or an array; NaN otherwise."""
    if isinstance(value, str):
        return float(len(value.encode("utf-16-le")) // 2)
    if isinstance(value, list):
        return float(len(value))
    return math.nan


def is_number(value: object) -> bool:
    return isinstance(value, float | int) and not isinstance(value, bool)


def matches(pattern: str, value: object, ignore_case: bool) -> bool:
    """``/pattern/.test(value)`` for a string value (the pattern checked at compile time)."""
    flags = re.IGNORECASE if ignore_case else 0
    return isinstance(value, str) and re.search(pattern, value, flags) is not None


def header_value(value: object) -> str:
    """A response header's value from a workflow: its text, with line breaks and other control
    characters as spaces (a value from the request can never start another header)."""
    text = js.to_string(value)
    return "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text)


MAX_ROWS = 10_000  # the most rows a read returns, whatever its `limit` says
MAX_OFFSET = 2**53 - 1  # JavaScript's largest safe integer


def row_count(value: object, name: str, default: int) -> int:
    """A read's ``limit`` or ``offset`` from an expression, as a whole number of rows.

    Undefined or null is ``default``; a value JavaScript cannot read as a number (``"abc"``,
    ``NaN``) is a 400 naming the parameter; fractions round down; the result is clamped to
    0..MAX_ROWS (a limit) or 0..MAX_OFFSET (an offset)."""
    if value is None or value is js.UNDEFINED:
        return default
    n = js.to_number(value)
    if math.isnan(n):
        raise ValidationFailed(f"`{name}` must be a number", field=name, rule="number")
    top = MAX_ROWS if name == "limit" else MAX_OFFSET
    if n <= 0:
        return 0
    return top if n >= top else int(n)


_DIRECTIONS = {"asc": "ASC", "ascending": "ASC", "desc": "DESC", "descending": "DESC"}


def order_by(sql: str, columns: Mapping[str, str], key: object, direction: object) -> str:
    """``sql`` with its ``{order}`` replaced by the column of ``key`` and a direction.

    ``columns`` is the compiler's allow-list (field name to quoted column): the key from the
    request selects one of those texts and never enters the SQL itself. A key outside it, or
    a direction that is not 1, -1, "asc" or "desc", is a 400."""
    column = columns.get(key) if isinstance(key, str) else None
    if column is None:
        raise ValidationFailed(
            f"cannot sort by {js.to_string(key)!r}; sortable fields: {', '.join(columns)}",
            field="sort",
            rule="sort",
        )
    if isinstance(direction, str):
        word = _DIRECTIONS.get(direction.lower())
    elif isinstance(direction, float | int) and not isinstance(direction, bool):
        word = "ASC" if direction == 1 else "DESC" if direction == -1 else None
    else:
        word = None
    if word is None:
        raise ValidationFailed(
            f"sort direction {js.to_string(direction)!r} is not 1, -1, 'asc' or 'desc'",
            field="sort",
            rule="sort",
        )
    return sql.replace("{order}", f"{column} {word}", 1)


_KINDS: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "number": (int, float),
    "boolean": bool,
    "any": (str, int, float, bool),
}


def sql_list(value: object, name: str, kind: str) -> str:
    """The values of a filter's ``$in`` as JSON text (both dialects read a JSON array); a
    value that is not an array of the column's ``kind`` is a 400 naming the field."""
    if not isinstance(value, list):
        raise ValidationFailed(f"`{name}` must be a list for `$in`", field=name, rule="array")
    items: list[object] = []
    for v in value:
        if isinstance(v, float) and v.is_integer():
            v = int(v)  # 3.0 reads as 3 where the column is an integer
        wrong = isinstance(v, bool) and kind == "number"
        if wrong or not isinstance(v, _KINDS[kind]):
            raise ValidationFailed(
                f"`{name}` must list {kind} values for `$in`",
                field=name,
                rule="array",
            )
        items.append(v)
    return json.dumps(items, separators=(",", ":"))


def env_value(name: str) -> str | js.Undefined:
    """``$env.NAME``: the variable from the runtime's environment, undefined when unset (the
    compiler allows only the names a package lists)."""
    value = os.environ.get(name)
    return js.UNDEFINED if value is None else value


def missing(name: str) -> NoReturn:
    """A `$json` field a node on this path reads is absent: 400 naming it."""
    raise ValidationFailed(f"`{name}` is required", field=name)


# A filter's comparison operators: Mongo-style key, SQL operator (the compiler's too).
COMPARISONS = {"$eq": "=", "$ne": "<>", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}


def _filter_value(kind: str, value: object) -> object:
    if kind == "number":
        return sql_number(value)
    if kind == "boolean":
        return sql_bool(value)
    if kind == "json":
        return sql_json(value)
    return sql_text(value)


def filtered(
    sql: str, columns: Mapping[str, tuple[str, str]], value: object, tenant: str
) -> tuple[str, dict[str, object]]:
    """``sql`` with its ``{filter}`` replaced by the conditions of a filter object an
    expression built, and their parameters.

    ``columns`` is the compiler's list of the keys it checked (field: quoted column, kind):
    a key outside it is a 400, and no text of the object enters the SQL but the operators'
    fixed spellings. A key whose value is null or undefined is left out (optional keys, as
    MetaBuilder's workflows build them); a value may be an object of operators (``$eq $ne
    $lt $lte $gt $gte``). ``tenantId``, if present, must be the context tenant (the statement
    filters on it already)."""
    if not isinstance(value, dict):
        raise ValidationFailed("the filter must be an object", field="filter", rule="object")
    conditions: list[str] = []
    params: dict[str, object] = {}
    for key, v in value.items():
        if v is None or v is js.UNDEFINED:
            continue
        found = columns.get(key)
        if found is None:
            raise ValidationFailed(f"cannot filter on {key!r}", field="filter", rule="field")
        column, kind = found
        if key == "tenantId":
            if v != tenant:
                raise ValidationFailed(
                    "the filter names another tenant", field="tenantId", rule="tenant"
                )
            continue
        ops = (
            list(v.items())
            if isinstance(v, dict) and v and all(str(k).startswith("$") for k in v)
            else [("$eq", v)]
        )
        for op, operand in ops:
            sql_op = COMPARISONS.get(op)
            if sql_op is None:
                raise ValidationFailed(
                    f"unknown filter operator {op!r} on {key!r}", field="filter", rule="operator"
                )
            name = f"w{len(params)}"
            params[name] = _filter_value(kind, operand)
            conditions.append(f"{column} {sql_op} :{name}")
    return sql.replace("{filter}", " AND ".join(conditions) or "1 = 1", 1), params


V = TypeVar("V")


def checked(value: V, name: str, rules: tuple[tuple[str, object], ...]) -> V:
    """A value about to be written, once the column's declared constraints hold: a 400
    ``VALIDATION_FAILED`` naming the field and the rule otherwise. Null passes (whether a
    column may be null is the schema's own check, except for ``required``: an untyped value
    written into a NOT NULL column)."""
    if value is None:
        if ("required", True) in rules:
            raise ValidationFailed(f"`{name}` is required", field=name, rule="required")
        return value
    for rule, arg in rules:
        if rule == "values":
            assert isinstance(arg, tuple)
            if value not in arg:
                raise ValidationFailed(
                    f"`{name}` must be one of: {', '.join(map(str, arg))}", field=name, rule=rule
                )
        elif not isinstance(value, str):
            continue
        elif rule == "maxLength" and isinstance(arg, int) and js.str_length(value) > arg:
            raise ValidationFailed(
                f"`{name}` must be at most {arg} characters long", field=name, rule=rule
            )
        elif rule == "minLength" and isinstance(arg, int) and js.str_length(value) < arg:
            raise ValidationFailed(
                f"`{name}` must be at least {arg} characters long", field=name, rule=rule
            )
        elif rule == "pattern" and isinstance(arg, str) and re.search(arg, value) is None:
            raise ValidationFailed(f"`{name}` has the wrong format", field=name, rule=rule)
        elif rule == "email" and not is_email(value):
            raise ValidationFailed(f"`{name}` must be an email address", field=name, rule=rule)
    return value


def items_of(value: object, node: str) -> list[object]:
    """The elements a JSON Script ``forEach`` runs over; anything but a list is a 400."""
    if isinstance(value, list):
        return value
    raise ValidationFailed(
        f"node {node} runs over a list, and got {js.typeof(value)}", "NOT_A_LIST"
    )
