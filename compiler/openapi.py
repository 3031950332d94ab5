"""The OpenAPI 3.1 document of the compiled workflows (``openapi.json`` beside ``registry.py``).

Everything in it is read off the generated module, the code the runtime serves, so the
document cannot promise what the code does not do:

- each HTTP trigger's method and path; the tenant and the route's other path parameters;
- the input: ``Input``'s fields and how ``parse_input`` checks them (required or not, text,
  number or boolean), as a JSON body, or as query parameters for a GET;
- every answer the handler can give: its ``JsonResult`` bodies (the keys of the response
  node's object and the type of each value where the code fixes it), the ``{"ok"}`` body of a
  workflow without a response node, ``text/event-stream`` for a stream; and the errors, by
  status, with the codes the module raises (its ``raise`` statements and the runtime helpers
  it calls, followed into their source) and those the runtime adds for every route of its kind
  (the token, the body, the database, the deadline);
- the bearer scheme, the level and scope the route requires.

A workflow's part is computed with its module (and cached with it); :func:`document` puts
the parts together, sorted, so the same workflows give the same bytes.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from runtime import errors as runtime_errors

Json = dict[str, object]

ERROR_SCHEMA = "WorkflowError"
BEARER = "bearerAuth"
INTERNAL_KEY = "internalKey"

# One server-sent event of a stream (each event's fields; its data is JSON text).
SSE_EVENT: Json = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "event": {"type": "string", "description": "`connected`, an event, or `closed`"},
        "id": {"type": "string", "description": "Give it as Last-Event-ID to resume"},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "retry": {"type": "integer"},
    },
}

# What the runtime answers on every route of a kind, before or around the handler.
_ALWAYS = (
    (400, "INVALID_TENANT"),
    (503, "DATABASE_UNAVAILABLE"),
    (504, "EXECUTION_TIMEOUT"),
)
_TOKEN = ((401, "INVALID_TOKEN"),)  # a token that is given is verified on every route
_BODY = (
    (400, "BAD_REQUEST"),  # a Content-Length that is no number
    (400, "INVALID_JSON"),
    (400, "INVALID_BODY"),
    (408, "BODY_TIMEOUT"),
    (413, "PAYLOAD_TOO_LARGE"),
    (415, "UNSUPPORTED_MEDIA_TYPE"),
)
_STREAM = ((429, "TOO_MANY_STREAMS"),)
_GUARDED = ((401, "AUTH_REQUIRED"),)  # an open route served with OPEN_ROUTES=protect

_REASONS = {
    200: "The workflow's answer",
    400: "The request is malformed or its input invalid",
    401: "No valid token",
    403: "The token's user may not do this",
    404: "Not found (also another tenant's path)",
    408: "The body did not arrive in time",
    409: "Conflict",
    413: "The body is too large",
    415: "The body is not JSON",
    422: "The input was refused",
    429: "Too many requests",
    500: "The workflow failed",
    502: "An outbound call failed",
    503: "A service the workflow needs is unavailable",
    504: "The execution or an outbound call took too long",
}


def operations(module_text: str, package: str = "workflows") -> dict[str, dict[str, str]]:
    """The ``paths`` entries of one generated workflow module: ``{path: {method: op}}``,
    grouped under the workflow's package (its own tags are kept as ``x-workflow-tags``).
    Each operation is JSON text already, as the document writes it: a cached workflow's
    part is copied into the document, never read into objects and written again."""
    tree = ast.parse(module_text)
    info = _workflow_info(tree)
    if info is None:
        return {}
    inputs = _inputs(tree)
    run = _function(tree, "run")
    raised = _raises(run, _imports(tree)) if run is not None else set()
    known: dict[str, Json] = {f: sch for f, sch, _ in inputs}
    answers = _answers(run, known) if run is not None else []
    paths: dict[str, dict[str, str]] = {}
    triggers = info.get("triggers", [])
    assert isinstance(triggers, list)
    for method, path in triggers:
        op = _operation(info, method, path, inputs, raised, answers, package)
        paths.setdefault(path, {})[method.lower()] = json.dumps(op, indent=2, ensure_ascii=True)
    return dict(paths)


def document(parts: Iterable[dict[str, dict[str, str]]], title: str = "Compiled workflows") -> str:
    """The whole document as text: the parts merged, the paths sorted, a newline at the end
    (what ``json.dumps(..., indent=2)`` writes, the operations' text copied in)."""
    paths: dict[str, dict[str, str]] = {}
    for part in parts:
        for path, ops in part.items():
            paths.setdefault(path, {}).update(ops)
    doc: Json = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": "1",
            "description": (
                "Generated by the workflow compiler from the compiled workflows: every route, "
                "its input, and every answer its code can give. `{tenant}` is the tenant the "
                "token was issued for; another tenant's path answers 404."
            ),
        },
        "paths": _PATHS,
        "components": {
            "securitySchemes": {
                BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                INTERNAL_KEY: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Internal-Key",
                    "description": "Opens routes without a user check when the server runs "
                    "with OPEN_ROUTES=protect.",
                },
            },
            "schemas": {
                ERROR_SCHEMA: {
                    "type": "object",
                    "required": ["error", "code"],
                    "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
                }
            },
        },
    }
    # ASCII only: workflow text (a name, a code) may hold anything, lone surrogates included.
    text = json.dumps(doc, indent=2, ensure_ascii=True)
    entries = [
        f"    {json.dumps(path)}: {{\n"
        + ",\n".join(
            f"      {json.dumps(method)}: {op.replace(chr(10), chr(10) + ' ' * 6)}"
            for method, op in ops.items()
        )
        + "\n    }"
        for path, ops in sorted(paths.items())
    ]
    listed = "{\n" + ",\n".join(entries) + "\n  }" if entries else "{}"
    return text.replace(json.dumps(_PATHS), listed, 1) + "\n"


_PATHS = "\0paths\0"  # where the paths go in the document's text


# ----------------------------------------------------------------------------- the module


def _workflow_info(tree: ast.Module) -> Json | None:
    """``WORKFLOW = WorkflowInfo(...)``'s literal arguments (the triggers as pairs)."""
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.target.id == "WORKFLOW"
            and isinstance(stmt.value, ast.Call)
        ):
            out: Json = {}
            for kw in stmt.value.keywords:
                if kw.arg == "triggers" and isinstance(kw.value, ast.Tuple):
                    out["triggers"] = [
                        tuple(ast.literal_eval(a) for a in t.args)
                        for t in kw.value.elts
                        if isinstance(t, ast.Call)
                        and isinstance(t.func, ast.Name)
                        and t.func.id == "HttpTrigger"
                    ]
                elif kw.arg is not None:
                    try:
                        out[kw.arg] = ast.literal_eval(kw.value)
                    except ValueError:
                        continue  # Settings(...) and the like: not needed here
            return out
    return None


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    return next(
        (
            s
            for s in tree.body
            if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) and s.name == name
        ),
        None,
    )


def _imports(tree: ast.Module) -> dict[str, str]:
    """Imported name -> the runtime module it comes from."""
    return {
        alias.asname or alias.name: stmt.module
        for stmt in tree.body
        if isinstance(stmt, ast.ImportFrom) and stmt.module and stmt.module.startswith("runtime")
        for alias in stmt.names
    }


_PARSERS: dict[str, tuple[Json, bool]] = {  # parse_input's helper -> (schema, required)
    "require_str": ({"type": "string", "minLength": 1}, True),
    "present_str": ({"type": "string"}, False),
    "require_number": ({"type": ["number", "string"]}, True),
    "require_bool": (
        {"type": ["boolean", "string"], "enum": [True, False, "true", "false"]},
        True,
    ),
    "require_value": ({}, True),
    "optional_value": ({}, False),
}


def _inputs(tree: ast.Module) -> list[tuple[str, Json, bool]]:
    """(field, schema, required) of each input ``parse_input`` reads, in order."""
    fn = _function(tree, "parse_input")
    if fn is None:
        return []
    found: list[tuple[str, Json, bool]] = []
    optional = {
        _const(t.left)
        for t in ast.walk(fn)
        if isinstance(t, ast.Compare) and isinstance(t.ops[0], ast.In)
    }  # `if "x" in raw:` guards an optional number or boolean
    for call in ast.walk(fn):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id in _PARSERS
            and len(call.args) == 2
        ):
            name = _const(call.args[1])
            if not isinstance(name, str):
                continue
            schema, required = _PARSERS[call.func.id]
            if name in optional:
                required = False
            if all(f != name for f, _, _ in found):
                found.append((name, dict(schema), required))
    return found


def _const(node: ast.expr) -> object:
    return node.value if isinstance(node, ast.Constant) else None


# ----------------------------------------------------------------------------- errors


Error = tuple[int, str]  # (status, code)
Helper = tuple[str, str]  # (runtime module, name)


def _raises(fn: ast.AST, names: dict[str, str]) -> set[Error]:
    """(status, code) of every error ``fn`` raises, itself or through the runtime helpers it
    calls: ``names`` maps the names it can call to their runtime module, and every helper
    reachable from it is read (each once, however the helpers call one another)."""
    found, calls = _direct(fn, names)
    seen: set[Helper] = set()
    while calls:
        helper = calls.pop()
        if helper not in seen:
            seen.add(helper)
            errors, more = _helper(*helper)
            found |= errors
            calls |= more - seen
    return found


def _direct(
    fn: ast.AST, names: dict[str, str], itself: str | None = None
) -> tuple[set[Error], set[Helper]]:
    """The errors ``fn`` makes itself (raises, or, a helper, returns to be raised), and the
    runtime helpers it calls."""
    found: set[Error] = set()
    calls: set[Helper] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            found |= _error_of(node.exc)
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
            found |= _error_of(node.value)
        if isinstance(node, ast.Call):  # a raised or returned helper's call included
            name = _called(node)
            if name is not None and name in names and name != itself and not _is_error_class(name):
                calls.add((names[name], name))
    return found, calls


def _called(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _is_error_class(name: str) -> bool:
    cls = getattr(runtime_errors, name, None)
    return isinstance(cls, type) and issubclass(cls, runtime_errors.WorkflowError)


def _error_of(call: ast.Call) -> set[Error]:
    """The (status, code) a call that makes an error gives: ``Cls(message, "CODE")`` or
    ``Refused(message, "CODE", status)``; nothing for any other call."""
    name = _called(call)
    if name is None or not _is_error_class(name):
        return set()
    cls = getattr(runtime_errors, name)
    args = [_const(a) for a in call.args]
    kwargs = {k.arg: _const(k.value) for k in call.keywords}
    code = args[1] if len(args) > 1 and isinstance(args[1], str) else kwargs.get("code")
    if name == "Refused":
        status = args[2] if len(args) > 2 else kwargs.get("status")
        if isinstance(code, str) and isinstance(status, int):
            return {(status, code)}
        return set()
    return {(int(cls.status), code if isinstance(code, str) else str(cls.code))}


@functools.cache
def _module_tree(module: str) -> tuple[ast.Module, dict[str, str]] | None:
    """A runtime module's syntax tree and the names it can call (read from its file: the
    module is not imported, so reading it loads none of what it depends on)."""
    try:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            return None
        source = Path(spec.origin).read_text(encoding="utf-8")
    except (ImportError, OSError, ValueError):
        return None
    tree = ast.parse(source)
    here = {
        s.name: module
        for s in tree.body
        if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    imported = {
        alias.asname or alias.name: stmt.module or module
        for stmt in ast.walk(tree)
        if isinstance(stmt, ast.ImportFrom) and (stmt.module or "").startswith("runtime")
        for alias in stmt.names
    }
    return tree, {**imported, **here}


@functools.cache
def _helper(module: str, name: str) -> tuple[frozenset[Error], frozenset[Helper]]:
    """What ``module.name`` (a function, or a class's methods) raises itself, and the
    runtime helpers it calls."""
    loaded = _module_tree(module)
    if loaded is None:
        return frozenset(), frozenset()
    tree, names = loaded
    target = next(
        (
            s
            for s in tree.body
            if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and s.name == name
        ),
        None,
    )
    if target is None:
        return frozenset(), frozenset()
    errors, calls = _direct(target, names, name)
    return frozenset(errors), frozenset(calls)


# ----------------------------------------------------------------------------- answers


def _answers(fn: ast.AST, inputs: dict[str, Json]) -> list[tuple[int, str, Json]]:
    """(status, media type, schema) of each answer the handler returns."""
    out: list[tuple[int, str, Json]] = []
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Return) and isinstance(node.value, ast.Call)):
            continue
        kind = _called(node.value)
        args = node.value.args
        if kind == "JsonResult" and args:
            status = _const(args[0])
            if not isinstance(status, int):
                continue
            body = args[1] if len(args) > 1 else None
            media = _declared_type(node.value)
            if media is not None and not media.startswith("application/json"):
                out.append((status, media.split(";")[0].strip(), {"type": "string"}))
            else:
                out.append((status, "application/json", _schema_of(body, inputs)))
        elif kind == "OkResult":
            schema: Json = {
                "type": "object",
                "required": ["ok", "executionId"],
                "properties": {
                    "ok": {"const": True},
                    "executionId": {"type": "string"},
                    "items": {"type": "number"},
                },
            }
            out.append((200, "application/json", schema))
        elif kind == "StreamResult":
            out.append((200, "text/event-stream", SSE_EVENT))
    return out


def _declared_type(call: ast.Call) -> str | None:
    for value in [*call.args[2:], *(k.value for k in call.keywords)]:
        if isinstance(value, ast.Tuple | ast.List):
            for pair in value.elts:
                if isinstance(pair, ast.Tuple) and len(pair.elts) == 2:
                    k, v = _const(pair.elts[0]), _const(pair.elts[1])
                    if isinstance(k, str) and k.lower() == "content-type" and isinstance(v, str):
                        return v
    return None


_STRINGS = {("ctx", "tenantId"), ("user", "id"), ("user", "name"), ("user", "email")}


def _schema_of(node: ast.expr | None, inputs: dict[str, Json]) -> Json:
    """A JSON schema for a value the code builds, as precise as the code makes it: constants,
    objects, text, the clock, the input's fields and the user's and tenant's ids."""
    if node is None:
        return {}
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        key = _const(node.slice)
        if node.value.id == "json" and isinstance(key, str) and key in inputs:
            given = inputs[key]
            return {"type": "string"} if given.get("type") == "string" else {}
        if (node.value.id, key) in _STRINGS:
            return {"type": "string"}
        return {}
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            return {"type": "boolean"}
        if isinstance(v, int | float):
            return {"type": "number"}
        if isinstance(v, str):
            return {"type": "string"}
        if v is None:
            return {"type": "null"}
        return {}
    if isinstance(node, ast.Dict):
        props: dict[str, Json] = {}
        for k, value in zip(node.keys, node.values, strict=True):
            key = _const(k) if k is not None else None
            if not isinstance(key, str):
                return {"type": "object"}  # a spread or a computed key
            props[key] = _schema_of(value, inputs)
        return {"type": "object", "required": sorted(props), "properties": props}
    if isinstance(node, ast.List):
        return {"type": "array"}
    if isinstance(node, ast.JoinedStr):
        return {"type": "string"}
    if isinstance(node, ast.Call) and _is_iso_time(node):
        return {"type": "string", "format": "date-time"}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _schema_of(node.left, inputs), _schema_of(node.right, inputs)
        if "string" in (left.get("type"), right.get("type")):
            return {"type": "string"}
    return {}


def _is_iso_time(call: ast.Call) -> bool:
    """``now_iso()``: the current time as ``toISOString`` writes it."""
    return isinstance(call.func, ast.Name) and call.func.id == "now_iso" and not call.args


# ----------------------------------------------------------------------------- operation


def _operation(
    info: Json,
    method: str,
    path: str,
    inputs: list[tuple[str, Json, bool]],
    raised: set[tuple[int, str]],
    answers: list[tuple[int, str, Json]],
    package: str,
) -> Json:
    in_path = _path_params(path)
    reads_body = method not in ("GET", "HEAD", "DELETE")
    checks_user = bool(info.get("checks_user"))
    streams = bool(info.get("streams"))
    errors = set(raised) | set(_ALWAYS) | set(_TOKEN)
    if inputs:
        errors.add((400, "VALIDATION_FAILED"))
    if reads_body:
        errors |= set(_BODY)
    if streams:
        errors |= set(_STREAM)
    if not checks_user:
        errors |= set(_GUARDED)
    not_found = info.get("not_found")
    if isinstance(not_found, tuple) and len(not_found) == 2:
        errors.add((404, str(not_found[1])))  # another tenant's path
    else:
        errors.add((404, "NOT_FOUND"))
    parameters: list[Json] = [
        {
            "name": p,
            "in": "path",
            "required": True,
            "schema": {
                "type": "string",
                "minLength": 1,
                **({"maxLength": 128} if p == "tenant" else {}),
            },
            **({"description": "The tenant the token was issued for"} if p == "tenant" else {}),
        }
        for p in in_path
    ]
    body_fields = [(f, s, r) for f, s, r in inputs if f not in in_path]
    op: Json = {
        "operationId": _operation_id(str(info.get("id", "")), method, path),
        "summary": str(info.get("name") or info.get("id") or path),
        "tags": [package],
        "x-workflow-tags": sorted({str(t) for t in _items(info.get("tags"))}),
        "x-workflow": info.get("id"),
    }
    if method == "GET" or not reads_body:
        parameters += [
            {"name": f, "in": "query", "required": r, "schema": _query_schema(s)}
            for f, s, r in body_fields
        ]
    elif body_fields or reads_body:
        op["requestBody"] = {
            "required": any(r for _, _, r in body_fields),
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": [f for f, _, r in body_fields if r],
                        "properties": {f: s for f, s, _ in body_fields},
                    }
                }
            },
        }
    if parameters:
        op["parameters"] = parameters
    level, scope = info.get("minimum_user_level"), info.get("permissions_required")
    needs = []
    if isinstance(level, int):
        needs.append(f"level {level} or above")
    if isinstance(scope, str):
        needs.append(f"the scope `{scope}`")
    if checks_user:
        op["security"] = [{BEARER: []}]
        op["description"] = "Requires a bearer token" + (
            f" whose user has {' and '.join(needs)}." if needs else "."
        )
    else:
        op["security"] = [{}, {BEARER: []}, {INTERNAL_KEY: []}]
        op["description"] = (
            "Open: no user check (with OPEN_ROUTES=protect, a token or the internal key)."
        )
    if isinstance(scope, str):
        op["x-required-scopes"] = [scope]
    if isinstance(level, int):
        op["x-minimum-level"] = level
    op["responses"] = _responses(answers, errors)
    return op


def _query_schema(schema: Json) -> Json:
    """A query parameter is text: a number or a boolean arrives as its spelling."""
    t = schema.get("type")
    if t == ["number", "string"] or t == ["boolean", "string"]:
        return {"type": "string"}
    return schema or {"type": "string"}


def _responses(
    answers: list[tuple[int, str, Json]], errors: set[tuple[int, str]]
) -> dict[str, Json]:
    out: dict[str, Json] = {}
    by_status: dict[int, dict[str, list[Json]]] = {}
    for status, media, schema in answers:
        by_status.setdefault(status, {}).setdefault(media, []).append(schema)
    if not answers:
        by_status[200] = {"application/json": [{}]}
    for status, media_types in sorted(by_status.items()):
        content: Json = {}
        for media, schemas in sorted(media_types.items()):
            unique = _unique(schemas)
            content[media] = {"schema": unique[0] if len(unique) == 1 else {"anyOf": unique}}
        out[str(status)] = {"description": _REASONS.get(status, "An answer"), "content": content}
    codes: dict[int, set[str]] = {}
    for status, code in errors:
        codes.setdefault(status, set()).add(code)
    for status, names in sorted(codes.items()):
        if str(status) in out:  # a status the workflow also answers with a body of its own
            entry = out[str(status)]
            own = entry["content"]
            assert isinstance(own, dict)
            json_content = own.get("application/json", {})
            assert isinstance(json_content, dict)
            existing = json_content.get("schema", {})
            own["application/json"] = {"schema": {"anyOf": [existing, _error_schema(names)]}}
            continue
        out[str(status)] = {
            "description": _REASONS.get(status, "An error")
            + ": "
            + ", ".join(f"`{c}`" for c in sorted(names)),
            "content": {"application/json": {"schema": _error_schema(names)}},
        }
        if status == 429:
            out[str(status)]["headers"] = {
                "Retry-After": {"schema": {"type": "string"}, "required": False}
            }
    return out


def _items(value: object) -> tuple[object, ...]:
    return tuple(value) if isinstance(value, tuple | list) else ()


def _error_schema(names: set[str]) -> Json:
    return {
        "allOf": [
            {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"},
            {"properties": {"code": {"enum": sorted(names)}}},
        ]
    }


def _unique(schemas: list[Json]) -> list[Json]:
    seen: list[Json] = []
    for s in schemas:
        if s not in seen:
            seen.append(s)
    return seen


def _path_params(path: str) -> list[str]:
    return [seg[1:-1] for seg in path.split("/") if seg.startswith("{") and seg.endswith("}")]


def _operation_id(workflow_id: str, method: str, path: str) -> str:
    """The workflow's id, with the method where a workflow serves several routes."""
    return f"{workflow_id}__{method.lower()}" if workflow_id else f"{method.lower()} {path}"


def runtime_sources() -> Iterator[Path]:
    """The runtime's files the document reads (the errors and the helpers' raises): part of
    the compiler's identity for the cache."""
    root = Path(runtime_errors.__file__).resolve().parent
    yield root / "errors.py"
    yield root / "values.py"
    yield from sorted((root / "effects").glob("*.py"))
