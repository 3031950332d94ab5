"""Stage 2: validate a file's structure with JSON Schema, each failure at its location."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from compiler import messages
from compiler.diagnostics import Diagnostics, Span
from compiler.load import JArray, JObject, JValue, to_python
from compiler.suggest import did_you_mean, or_else

_SCHEMAS = Path(__file__).parent / "schemas"
_JSON_TYPES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _whole_pattern(
    validator: Any, pattern: str, instance: object, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``pattern`` matched against the whole string: ECMAScript's ``$`` (the JSON Schema
    dialect) does not match before a trailing newline, Python's does, so ``"name\n"`` would
    pass ``^[a-z_]+$`` and reach generated code. Patterns are anchored, so full match is the
    meaning."""
    whole = pattern.removeprefix("^").removesuffix("$")
    if isinstance(instance, str) and re.fullmatch(whole, instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Strict = validators.extend(Draft202012Validator, {"pattern": _whole_pattern})  # type: ignore[no-untyped-call]


@cache
def _validator(name: str) -> Any:
    schema = json.loads((_SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return _Strict(schema)


def _locate(root: JValue, path: list[str | int]) -> JValue:
    node = root
    for part in path:
        if isinstance(node, JObject) and isinstance(part, str):
            child = node.get(part)
        elif isinstance(node, JArray) and isinstance(part, int) and part < len(node.items):
            child = node.items[part]
        else:
            child = None
        if child is None:
            break
        node = child
    return node


def _where(path: list[str | int]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out or "the file"


def _json_type(v: object) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    return {dict: "object", list: "array", str: "string", float: "number", type(None): "null"}.get(
        type(v), "value"
    )


def validate(kind: str, root: JValue, diags: Diagnostics) -> bool:
    """Validate ``root`` against the ``kind`` schema ("workflow" or "entities")."""
    validator = _validator(kind)
    instance = to_python(root)
    errors = sorted(
        validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]
    )
    before = len(diags.items)
    for err in errors:
        _report(err, root, diags)
    return len(diags.items) == before


def _report(err: ValidationError, root: JValue, diags: Diagnostics) -> None:
    path = list(err.absolute_path)
    node = _locate(root, path)
    where = _where(path)
    if err.validator == "additionalProperties" and isinstance(node, JObject):
        props = err.schema.get("properties") if isinstance(err.schema, dict) else None
        allowed = list(props.keys()) if isinstance(props, dict) else []
        for key in node.key_names():
            if key not in allowed and allowed:
                span = node.key_span(key) or node.span
                s = did_you_mean(key, allowed)
                hint = or_else(s, messages.HINT__ALLOWED_KEYS.format(", ".join(allowed)))
                diags.add(
                    messages.KEY_NOT_IN_FORMAT.format(key, where),
                    span,
                    hint=hint,
                )
        return
    if err.validator == "required" and isinstance(err.validator_value, list):
        present = set(node.key_names()) if isinstance(node, JObject) else set()
        for key in err.validator_value:
            if key not in present:
                near = [k for k in present if did_you_mean(k, [key])]
                hint = (
                    messages.HINT__LOOKS_LIKE_A_MISSPELLING.format(near[0], key)
                    if near
                    else messages.HINT__ADD_KEY.format(key)
                )
                span = Span(node.span.path, node.span.start, node.span.start)
                diags.add(
                    messages.REQUIRED_KEY_MISSING.format(where, key),
                    span,
                    hint=hint,
                )
        return
    if err.validator == "type":
        expected = err.validator_value
        names = (
            [expected]
            if isinstance(expected, str)
            else [str(n) for n in expected] if isinstance(expected, list) else [str(expected)]
        )
        want = " or ".join(_JSON_TYPES.get(n, n) for n in names)
        got = _JSON_TYPES.get(_json_type(err.instance), "a value")
        diags.add(
            messages.VALUE_OF_WRONG_JSON_TYPE.format(where, want, got),
            node.span,
            hint=messages.HINT__WRITE_HERE.format(want),
        )
        return
    if err.validator == "enum" and isinstance(err.validator_value, list):
        options = ", ".join(json.dumps(v) for v in err.validator_value)
        s = did_you_mean(str(err.instance), [str(v) for v in err.validator_value])
        diags.add(
            messages.VALUE_NOT_ONE_OF.format(where, options),
            node.span,
            hint=(
                messages.HINT__DID_YOU_MEAN.format(json.dumps(s))
                if s
                else messages.HINT__USE_ONE_OF.format(options)
            ),
        )
        return
    if err.validator == "pattern":
        diags.add(
            messages.VALUE_DOES_NOT_MATCH_PATTERN.format(where, json.dumps(err.instance)),
            node.span,
            hint=messages.HINT__IT_MUST_MATCH.format(err.validator_value),
        )
        return
    diags.add(
        messages.VALUE_VIOLATES_FORMAT.format(where, err.message),
        node.span,
        hint=messages.HINT__SEE_COMPILER_SCHEMAS_FOR,
    )
