"""Stage 3: the typed intermediate representation (IR) of workflows and entities.

Built from schema-valid JSON trees. Every element keeps its span so later stages can point
at it. Node parameters are parsed per node type here; anything a node type cannot use is
reported with the parameter's location.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from compiler import codes, messages
from compiler.diagnostics import Diagnostics, Span
from compiler.load import JArray, JBool, JNull, JNumber, JObject, JString, JValue, SourceFile
from compiler.suggest import did_you_mean, or_else

NODE_TYPES: dict[str, tuple[int, ...]] = {
    "metabuilder.validate": (1,),
    "metabuilder.database": (1,),
    "metabuilder.condition": (1,),
    "metabuilder.action": (1,),
    "metabuilder.operation": (1,),
}
DB_OPERATIONS = (
    "database_read",
    "database_create",
    "database_update",
    "database_delete",
    "database_count",
)
ACTIONS = ("http_response", "sse_stream", "emit_event", "log")
VALIDATORS = ("required", "email", "uuid", "string", "number", "boolean", "nonEmpty")
STATIC_DATA_KEYS = {
    "reconnectInterval": "SSE `retry:` in milliseconds sent to clients",
    "subscriptionTimeout": "milliseconds after which an SSE stream is closed",
    "maxSubscriptionsPerUser": "largest number of subscriptions one user may hold",
    "updateInterval": "milliseconds between scheduled runs",
    "maxChannels": "largest number of items a scheduled fan-out handles per run",
}
FIELD_TYPES = ("string", "integer", "number", "boolean", "datetime")
_DB_ARGS = ("filter", "data", "limit", "skip")


# ----------------------------------------------------------------------------- entities


@dataclass(frozen=True)
class EntityField:
    name: str
    type: str
    nullable: bool
    default: object  # None, a JSON literal, or "uuid" / "now" generators
    has_default: bool
    column: str
    span: Span


@dataclass(frozen=True)
class Key:
    name: str
    fields: tuple[str, ...]
    span: Span


@dataclass
class Entity:
    name: str
    label: str
    description: str
    table: str
    primary_key: str
    fields: dict[str, EntityField]
    unique: list[Key]
    indexes: list[Key]
    span: Span

    def unique_keys(self) -> list[tuple[str, ...]]:
        return [(self.primary_key,), *(k.fields for k in self.unique)]

    @property
    def not_found_code(self) -> str:
        return re.sub(r"[^A-Z0-9]+", "_", self.label.upper()).strip("_") + "_NOT_FOUND"


def snake_case(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    return s.lower()


def build_entities(root: JObject, diags: Diagnostics) -> dict[str, Entity]:
    out: dict[str, Entity] = {}
    ents = root.get("entities")
    assert isinstance(ents, JObject)
    for name_s, body in ents.entries:
        assert isinstance(body, JObject)
        fields: dict[str, EntityField] = {}
        fobj = body.get("fields")
        assert isinstance(fobj, JObject)
        for fname, fdef in fobj.entries:
            assert isinstance(fdef, JObject)
            ftype = _str(fdef.get("type")) or "string"
            default_v = fdef.get("default")
            default = _literal(default_v) if default_v is not None else None
            col = _str(fdef.get("column")) or snake_case(fname.value)
            fields[fname.value] = EntityField(
                fname.value,
                ftype,
                _bool(fdef.get("nullable")),
                default,
                default_v is not None,
                col,
                fname.span,
            )
            if default_v is not None and default is not None and not _default_fits(ftype, default):
                diags.add(
                    codes.INVALID_ENTITY,
                    messages.INVALID_ENTITY__DEFAULT_DOES_NOT_FIT.format(
                        repr(default), ftype, name_s.value, fname.value
                    ),
                    default_v.span,
                    hint=messages.HINT__USE_A_VALUE_OF,
                )

        pk_v = body.get("primaryKey")
        pk = _str(pk_v) or "id"
        if pk not in fields and pk_v is not None:
            diags.add(
                codes.INVALID_ENTITY,
                messages.INVALID_ENTITY__PRIMARY_KEY_IS_NOT.format(pk, name_s.value),
                pk_v.span,
                hint=messages.HINT__NAME_ONE_OF_THE,
            )
        out[name_s.value] = Entity(
            name=name_s.value,
            label=_str(body.get("label")) or name_s.value,
            description=_str(body.get("description")) or "",
            table=_str(body.get("table")) or snake_case(name_s.value),
            primary_key=pk,
            fields=fields,
            unique=_keys(body, "unique", name_s.value, fields, diags),
            indexes=_keys(body, "indexes", name_s.value, fields, diags),
            span=name_s.span,
        )
    return out


def _keys(
    body: JObject, key: str, entity: str, fields: dict[str, EntityField], diags: Diagnostics
) -> list[Key]:
    """The unique keys or indexes of an entity, each field checked against ``fields``."""
    result: list[Key] = []
    arr = body.get(key)
    for item in arr.items if isinstance(arr, JArray) else ():
        assert isinstance(item, JObject)
        fs = item.get("fields")
        parts = fs.items if isinstance(fs, JArray) else ()
        for x in parts:
            if isinstance(x, JString) and x.value not in fields:
                s = did_you_mean(x.value, fields)
                diags.add(
                    codes.INVALID_ENTITY,
                    messages.INVALID_ENTITY__IS_NOT_A_FIELD.format(x.value, entity),
                    x.span,
                    hint=(or_else(s, messages.HINT__LIST_DECLARED_FIELDS_ONLY)),
                )
        result.append(
            Key(_str(item.get("name")) or "", tuple(_str(x) or "" for x in parts), item.span)
        )
    return result


def _default_fits(ftype: str, v: object) -> bool:
    if v in ("uuid", "now"):
        return ftype in ("string", "datetime")
    return {
        "string": isinstance(v, str),
        "datetime": isinstance(v, str),
        "boolean": isinstance(v, bool),
        "integer": isinstance(v, int) and not isinstance(v, bool),
        "number": isinstance(v, (int, float)) and not isinstance(v, bool),
    }.get(ftype, False)


# ----------------------------------------------------------------------------- nodes


@dataclass(frozen=True)
class Entry:
    """A key/value pair of a filter or data object."""

    key: str
    key_span: Span
    value: JValue


@dataclass
class DbOp:
    operation: str  # read, create, update, delete, count
    entity: str
    entity_span: Span
    filter: list[Entry]
    filter_span: Span | None
    data: list[Entry]
    data_span: Span | None
    limit: int | None
    skip: int | None
    span: Span


@dataclass
class ValidateSpec:
    input: JValue
    validator: str
    validator_span: Span
    error_message: str | None


@dataclass
class DatabaseSpec:
    op: DbOp


@dataclass
class ConditionSpec:
    condition: JValue


@dataclass
class ActionSpec:
    action: str
    status: int
    body: JValue | None
    data: JValue | None
    event: str | None
    channel: JValue | None
    on_connect: JValue | None
    message: JValue | None


@dataclass
class Task:
    id: str
    id_span: Span
    op: DbOp


@dataclass
class OperationSpec:
    mode: str  # parallel or sequential
    tasks: list[Task]


Spec = ValidateSpec | DatabaseSpec | ConditionSpec | ActionSpec | OperationSpec


@dataclass
class Node:
    id: str
    name: str
    type: str
    type_version: int
    span: Span
    id_span: Span
    parameters: JObject
    notes: str
    spec: Spec | None

    @property
    def short_type(self) -> str:
        return self.type.removeprefix("metabuilder.")


# ----------------------------------------------------------------------------- workflow


@dataclass(frozen=True)
class HttpTrigger:
    method: str
    path: str  # /api/v1/{tenant}/...
    params: tuple[str, ...]  # path parameters other than tenant
    span: Span


@dataclass(frozen=True)
class ScheduleTrigger:
    text: str
    every_ms: int | None
    span: Span


Trigger = HttpTrigger | ScheduleTrigger


@dataclass
class Settings:
    timezone: str = "UTC"
    execution_timeout: int = 3600
    save_execution_progress: bool = False
    save_data_error_execution: str = "all"
    save_data_success_execution: str = "all"
    error_handler: str = "throw"


@dataclass
class Workflow:
    source: SourceFile
    package: str
    module: str  # file stem, the generated module's name
    id: str
    name: str
    active: bool
    version_id: str
    tenant_id: JValue | None
    tags: list[str]
    nodes: list[Node]
    connections: JObject
    static_data: dict[str, tuple[object, Span]]
    description: str
    triggers: list[Trigger]
    inputs: dict[str, tuple[str, Span]]
    permissions_required: str | None
    minimum_user_level: int | None
    schedule: tuple[str, Span] | None
    settings: Settings
    span: Span
    active_span: Span | None = None
    entities: dict[str, Entity] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.source.path

    def node(self, node_id: str) -> Node | None:
        for n in self.nodes:
            if n.id == node_id:
                return n
        return None


def _str(v: JValue | None) -> str | None:
    return v.value if isinstance(v, JString) else None


def _bool(v: JValue | None) -> bool:
    return isinstance(v, JBool) and v.value


def _int(v: JValue | None) -> int | None:
    return v.value if isinstance(v, JNumber) and isinstance(v.value, int) else None


def _literal(v: JValue) -> object:
    if isinstance(v, (JString, JNumber, JBool)):
        return v.value
    if isinstance(v, JNull):
        return None
    return None


_TRIGGER = re.compile(r"(?P<method>GET|POST|PUT|PATCH|DELETE) (?P<path>/\S*)")
_SCHEDULE_EVERY = re.compile(r"every_(?P<n>\d+)_(?P<unit>milliseconds|seconds|minutes|hours)")
_UNIT_MS = {"milliseconds": 1, "seconds": 1000, "minutes": 60_000, "hours": 3_600_000}


def parse_trigger(text: JString, diags: Diagnostics) -> Trigger | None:
    s = text.value
    if s.startswith("SCHEDULED:"):
        rest = s.removeprefix("SCHEDULED:")
        m = _SCHEDULE_EVERY.fullmatch(rest)
        if not m:
            diags.add(
                codes.INVALID_TRIGGER,
                messages.INVALID_TRIGGER__CANNOT_READ_THE_SCHEDULE.format(rest),
                text.span,
                hint=messages.HINT__WRITE_SCHEDULED_EVERY_N,
            )
            return None
        return ScheduleTrigger(rest, int(m["n"]) * _UNIT_MS[m["unit"]], text.span)
    m = _TRIGGER.fullmatch(s)
    if not m:
        method = s.split(" ", 1)[0]
        hint = messages.HINT__WRITE_METHOD_API_V1.format()
        if (
            method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE")
            and method != method.upper()
        ):
            hint = messages.HINT__WRITE_THE_METHOD_IN.format(method.upper())
        diags.add(
            codes.INVALID_TRIGGER,
            messages.INVALID_TRIGGER__CANNOT_READ_THE_TRIGGER.format(s),
            text.span,
            hint=hint,
        )
        return None
    path = m["path"]
    if not path.startswith("/api/v1/{tenant}/") or len(path) <= len("/api/v1/{tenant}/"):
        diags.add(
            codes.INVALID_TRIGGER,
            messages.INVALID_TRIGGER__ROUTE_DOES_NOT_START.format(path),
            text.span,
            hint=messages.HINT__EVERY_ROUTE_IS_TENANT.format(),
        )
        return None
    segments = path.split("/")[4:]
    params: list[str] = []
    for seg in segments:
        if not seg:
            diags.add(
                codes.INVALID_TRIGGER,
                messages.INVALID_TRIGGER__ROUTE_HAS_AN_EMPTY.format(path),
                text.span,
                hint=messages.HINT__REMOVE_THE_DOUBLED_OR,
            )
            return None
        if "{" in seg or "}" in seg:
            pm = re.fullmatch(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", seg)
            if not pm:
                diags.add(
                    codes.INVALID_TRIGGER,
                    messages.INVALID_TRIGGER__ROUTE_SEGMENT_IS_NOT.format(seg),
                    text.span,
                    hint=messages.HINT__A_PARAMETER_IS_A.format(),
                )
                return None
            if pm[1] == "tenant" or pm[1] in params:
                diags.add(
                    codes.INVALID_TRIGGER,
                    messages.INVALID_TRIGGER__ROUTE_PARAMETER_APPEARS_TWICE.format(pm[1]),
                    text.span,
                    hint=messages.HINT__GIVE_EACH_PARAMETER_ITS,
                )
                return None
            params.append(pm[1])
        elif not re.fullmatch(r"[A-Za-z0-9_.~-]+", seg):
            diags.add(
                codes.INVALID_TRIGGER,
                messages.INVALID_TRIGGER__ROUTE_SEGMENT_HAS_CHARACTERS.format(seg),
                text.span,
                hint=messages.HINT__USE_LETTERS_DIGITS_AND,
            )
            return None
    return HttpTrigger(m["method"], path, tuple(params), text.span)


class _NodeBuilder:
    def __init__(self, wf_path: str, diags: Diagnostics) -> None:
        self.diags = diags
        self.path = wf_path

    def require(self, params: JObject, key: str, node: str, what: str) -> JValue | None:
        v = params.get(key)
        if v is None:
            self.diags.add(
                codes.MISSING_PARAMETER,
                messages.MISSING_PARAMETER__NODE_NEEDS_THE_PARAMETER.format(node, key, what),
                Span(params.span.path, params.span.start, params.span.start),
                node_id=node,
                hint=messages.HINT__ADD_TO_ITS_PARAMETERS.format(key),
            )
        return v

    def string(
        self, params: JObject, key: str, node: str, what: str, required: bool = True
    ) -> tuple[str, Span] | None:
        v = self.require(params, key, node, what) if required else params.get(key)
        if v is None:
            return None
        if not isinstance(v, JString):
            self.diags.add(
                codes.INVALID_PARAMETER,
                messages.INVALID_PARAMETER__PARAMETER_OF_NODE_MUST.format(key, node),
                v.span,
                node_id=node,
                hint=messages.HINT__WRITE_AS_A_STRING.format(what),
            )
            return None
        return v.value, v.span

    def choice(
        self, params: JObject, key: str, node: str, options: tuple[str, ...]
    ) -> tuple[str, Span] | None:
        got = self.string(params, key, node, "one of " + ", ".join(options))
        if got is None:
            return None
        if got[0] not in options:
            s = did_you_mean(got[0], options)
            self.diags.add(
                codes.INVALID_PARAMETER,
                messages.INVALID_PARAMETER__IS_NOT_A_VALID.format(got[0], key, node),
                got[1],
                node_id=node,
                hint=(or_else(s, messages.HINT__USE_ONE_OF_2.format(", ".join(options)))),
            )
            return None
        return got

    def entries(self, params: JObject, key: str, node: str) -> tuple[list[Entry], Span | None]:
        v = params.get(key)
        if v is None:
            return [], None
        if not isinstance(v, JObject):
            self.diags.add(
                codes.INVALID_PARAMETER,
                messages.INVALID_PARAMETER__PARAMETER_OF_NODE_MUST_BE.format(key, node),
                v.span,
                node_id=node,
                hint=messages.HINT__WRITE_AS_FIELD_VALUE.format(key),
            )
            return [], v.span
        return [Entry(k.value, k.span, val) for k, val in v.entries], v.span

    def count(self, params: JObject, key: str, node: str) -> int | None:
        v = params.get(key)
        if v is None:
            return None
        if not isinstance(v, JNumber) or not isinstance(v.value, int) or v.value < 0:
            self.diags.add(
                codes.INVALID_PARAMETER,
                messages.INVALID_PARAMETER__PARAMETER_OF_NODE_MUST_BE_A.format(key, node),
                v.span,
                node_id=node,
                hint=messages.HINT__WRITE_E_G_100.format(key),
            )
            return None
        return v.value

    def unknown_keys(self, obj: JObject, allowed: tuple[str, ...], node: str, what: str) -> None:
        for k, _ in obj.entries:
            if k.value not in allowed:
                s = did_you_mean(k.value, allowed)
                self.diags.add(
                    codes.INVALID_PARAMETER,
                    messages.INVALID_PARAMETER__OF_NODE_HAS_NO.format(what, node, k.value),
                    k.span,
                    node_id=node,
                    hint=(or_else(s, messages.HINT__IT_TAKES.format(", ".join(allowed)))),
                )

    def db_op(
        self, head: JObject, args: JObject, node: str, op_key: str, span: Span
    ) -> DbOp | None:
        """A database operation. ``head`` holds the operation and entity; ``args`` the filter,
        data, limit and skip: the same object for a database node, ``params`` for a task."""
        if args is head:
            self.unknown_keys(head, (op_key, "entity", *_DB_ARGS), node, "parameters")
        else:
            self.unknown_keys(head, ("id", op_key, "entity", "params"), node, "a task")
            self.unknown_keys(args, _DB_ARGS, node, "a task's params")
        op = self.choice(head, op_key, node, DB_OPERATIONS)
        ent = self.string(head, "entity", node, "the entity name")
        filt, fspan = self.entries(args, "filter", node)
        data, dspan = self.entries(args, "data", node)
        limit = self.count(args, "limit", node)
        skip = self.count(args, "skip", node)
        if op is None or ent is None:
            return None
        kind = op[0].removeprefix("database_")
        if kind in ("create", "update") and not data:
            self.diags.add(
                codes.MISSING_PARAMETER,
                messages.MISSING_PARAMETER__NODE_RUNS_BUT_HAS.format(node, op[0]),
                op[1],
                node_id=node,
                hint=messages.HINT__ADD_DATA_FIELD_VALUE.format(),
            )
        if kind in ("read", "update", "delete", "count") and fspan is None:
            self.diags.add(
                codes.TENANT_FILTER_MISSING,
                messages.TENANT_FILTER_MISSING__NODE_RUNS_WITHOUT_A.format(node, op[0]),
                op[1],
                node_id=node,
                hint=messages.HINT__ADD_FILTER_TENANTID_CONTEXT.format(),
            )
        if kind == "create" and fspan is not None:
            self.diags.add(
                codes.INVALID_PARAMETER,
                messages.INVALID_PARAMETER__NODE_CREATES_A_ROW.format(node),
                fspan,
                node_id=node,
                hint=messages.HINT__REMOVE_FILTER_THE_ROW,
            )
        if kind in ("read", "delete", "count") and dspan is not None:
            self.diags.add(
                codes.INVALID_PARAMETER,
                messages.INVALID_PARAMETER__NODE_RUNS_DATA_HAS.format(node, op[0]),
                dspan,
                node_id=node,
                hint=messages.HINT__REMOVE_DATA,
            )
        return DbOp(kind, ent[0], ent[1], filt, fspan, data, dspan, limit, skip, span)

    def build(self, obj: JObject) -> Node | None:
        nid = obj.get("id")
        ntype = obj.get("type")
        params = obj.get("parameters")
        assert (
            isinstance(nid, JString) and isinstance(ntype, JString) and isinstance(params, JObject)
        )
        node = nid.value
        version = _int(obj.get("typeVersion")) or 0
        if ntype.value not in NODE_TYPES:
            s = did_you_mean(ntype.value, NODE_TYPES)
            self.diags.add(
                codes.UNKNOWN_NODE_TYPE,
                messages.UNKNOWN_NODE_TYPE__NODE_HAS_THE_UNKNOWN.format(node, ntype.value),
                ntype.span,
                node_id=node,
                hint=(or_else(s, messages.HINT__SUPPORTED_TYPES.format(", ".join(NODE_TYPES)))),
            )
            return None
        if version not in NODE_TYPES[ntype.value]:
            tv = obj.get("typeVersion")
            self.diags.add(
                codes.UNSUPPORTED_TYPE_VERSION,
                messages.UNSUPPORTED_TYPE_VERSION__NODE_HAS_NO_TYPEVERSION.format(
                    node, ntype.value, version
                ),
                tv.span if tv else obj.span,
                node_id=node,
                hint=messages.HINT__SUPPORTED.format(
                    ", ".join(str(v) for v in NODE_TYPES[ntype.value])
                ),
            )
            return None
        spec = self.spec(ntype.value, params, node, obj.span)
        return Node(
            node,
            _str(obj.get("name")) or node,
            ntype.value,
            version,
            obj.span,
            nid.span,
            params,
            _str(obj.get("notes")) or "",
            spec,
        )

    def spec(self, ntype: str, p: JObject, node: str, span: Span) -> Spec | None:
        if ntype == "metabuilder.validate":
            inp = self.require(p, "input", node, "the value to check")
            validator = self.string(p, "validator", node, "the validator name")
            if validator is not None and validator[0] not in VALIDATORS:
                s = did_you_mean(validator[0], VALIDATORS)
                self.diags.add(
                    codes.UNKNOWN_VALIDATOR,
                    messages.UNKNOWN_VALIDATOR__UNKNOWN_VALIDATOR_IN_NODE.format(
                        validator[0], node
                    ),
                    validator[1],
                    node_id=node,
                    hint=(or_else(s, messages.HINT__VALIDATORS.format(", ".join(VALIDATORS)))),
                )
                return None
            msg = self.string(p, "errorMessage", node, "the error message", required=False)
            if inp is None or validator is None:
                return None
            return ValidateSpec(inp, validator[0], validator[1], msg[0] if msg else None)
        if ntype == "metabuilder.database":
            op = self.db_op(p, p, node, "operation", span)
            return DatabaseSpec(op) if op else None
        if ntype == "metabuilder.condition":
            cond = self.require(p, "condition", node, "a boolean expression")
            return ConditionSpec(cond) if cond is not None else None
        if ntype == "metabuilder.action":
            action = self.choice(p, "action", node, ACTIONS)
            if action is None:
                return None
            status_v = p.get("status")
            status = 200
            if status_v is not None:
                if (
                    not isinstance(status_v, JNumber)
                    or not isinstance(status_v.value, int)
                    or not 200 <= status_v.value <= 599
                ):
                    self.diags.add(
                        codes.INVALID_PARAMETER,
                        messages.INVALID_PARAMETER__STATUS_OF_NODE_MUST.format(node),
                        status_v.span,
                        node_id=node,
                        hint=messages.HINT__WRITE_E_G_STATUS,
                    )
                else:
                    status = status_v.value
            event = self.string(
                p, "event", node, "the event name", required=action[0] == "emit_event"
            )
            channel = p.get("channel")
            if action[0] in ("emit_event", "sse_stream") and channel is None:
                self.require(p, "channel", node, "the event channel")
                return None
            return ActionSpec(
                action[0],
                status,
                p.get("body"),
                p.get("data"),
                event[0] if event else None,
                channel,
                p.get("onConnect"),
                p.get("message"),
            )
        if ntype == "metabuilder.operation":
            mode = self.choice(p, "operation", node, ("parallel", "sequential"))
            tasks_v = self.require(p, "tasks", node, "the list of tasks")
            if mode is None or tasks_v is None:
                return None
            if not isinstance(tasks_v, JArray) or not tasks_v.items:
                self.diags.add(
                    codes.INVALID_PARAMETER,
                    messages.INVALID_PARAMETER__TASKS_OF_NODE_MUST.format(node),
                    tasks_v.span,
                    node_id=node,
                    hint=messages.HINT__LIST_THE_TASKS_AS,
                )
                return None
            tasks: list[Task] = []
            seen: set[str] = set()
            for t in tasks_v.items:
                if not isinstance(t, JObject):
                    self.diags.add(
                        codes.INVALID_PARAMETER,
                        messages.INVALID_PARAMETER__EACH_TASK_OF_NODE.format(node),
                        t.span,
                        node_id=node,
                        hint=messages.HINT__WRITE_ID_OP_ENTITY.format(),
                    )
                    continue
                tid = self.string(t, "id", node, "the task id")
                params_v = t.get("params")
                params_o = params_v if isinstance(params_v, JObject) else JObject((), t.span)
                op = self.db_op(t, params_o, node, "op", t.span)
                if tid is None or op is None:
                    continue
                if tid[0] in seen:
                    self.diags.add(
                        codes.INVALID_PARAMETER,
                        messages.INVALID_PARAMETER__NODE_HAS_TWO_TASKS.format(node, tid[0]),
                        tid[1],
                        node_id=node,
                        hint=messages.HINT__GIVE_EACH_TASK_ITS,
                    )
                seen.add(tid[0])
                tasks.append(Task(tid[0], tid[1], op))
            return OperationSpec(mode[0], tasks)
        return None


def build_workflow(
    source: SourceFile, root: JObject, package: str, module: str, diags: Diagnostics
) -> Workflow:
    builder = _NodeBuilder(source.path, diags)
    nodes: list[Node] = []
    seen: dict[str, Node] = {}
    nodes_v = root.get("nodes")
    assert isinstance(nodes_v, JArray)
    for item in nodes_v.items:
        assert isinstance(item, JObject)
        node = builder.build(item)
        nid = item.get("id")
        assert isinstance(nid, JString)
        if nid.value in seen:
            diags.add(
                codes.DUPLICATE_NODE_ID,
                messages.DUPLICATE_NODE_ID__TWO_NODES_HAVE_THE.format(nid.value),
                nid.span,
                node_id=nid.value,
                hint=messages.HINT__THE_FIRST_IS_AT_LINE.format(seen[nid.value].span.start.line),
            )
            continue
        if node is not None:
            seen[nid.value] = node
            nodes.append(node)
        else:
            # Keep a placeholder so the graph can still be checked.
            placeholder = Node(
                nid.value, nid.value, "", 0, item.span, nid.span, JObject((), item.span), "", None
            )
            seen[nid.value] = placeholder
            nodes.append(placeholder)
    meta = root.get("meta")
    meta = meta if isinstance(meta, JObject) else JObject((), root.span)
    triggers: list[Trigger] = []
    trig_v = meta.get("triggers")
    if isinstance(trig_v, JArray):
        for t in trig_v.items:
            if isinstance(t, JString):
                parsed = parse_trigger(t, diags)
                if parsed is not None:
                    triggers.append(parsed)
    inputs: dict[str, tuple[str, Span]] = {}
    inp_v = meta.get("inputs")
    if isinstance(inp_v, JObject):
        for k, v in inp_v.entries:
            inputs[k.value] = (_str(v) or "", k.span)
    perms = meta.get("permissions")
    perm_req = _str(perms.get("required")) if isinstance(perms, JObject) else None
    min_level = _int(perms.get("minimumUserLevel")) if isinstance(perms, JObject) else None
    sched_v = meta.get("schedule")
    schedule = (sched_v.value, sched_v.span) if isinstance(sched_v, JString) else None
    settings = Settings()
    set_v = root.get("settings")
    if isinstance(set_v, JObject):
        settings = Settings(
            timezone=_str(set_v.get("timezone")) or "UTC",
            execution_timeout=_int(set_v.get("executionTimeout")) or 3600,
            save_execution_progress=_bool(set_v.get("saveExecutionProgress")),
            save_data_error_execution=_str(set_v.get("saveDataErrorExecution")) or "all",
            save_data_success_execution=_str(set_v.get("saveDataSuccessExecution")) or "all",
            error_handler=_str(set_v.get("errorHandler")) or "throw",
        )
    static: dict[str, tuple[object, Span]] = {}
    sd = root.get("staticData")
    if isinstance(sd, JObject):
        for k, v in sd.entries:
            static[k.value] = (_literal(v), k.span)
            if k.value not in STATIC_DATA_KEYS:
                s = did_you_mean(k.value, STATIC_DATA_KEYS)
                diags.add(
                    codes.UNKNOWN_STATIC_DATA,
                    messages.UNKNOWN_STATIC_DATA__STATICDATA_KEY_HAS_NO.format(k.value),
                    k.span,
                    hint=(
                        or_else(s, messages.HINT__KNOWN_KEYS.format(", ".join(STATIC_DATA_KEYS)))
                    ),
                )
            elif not isinstance(v, JNumber) or not isinstance(v.value, int) or v.value <= 0:
                diags.add(
                    codes.INVALID_PARAMETER,
                    messages.INVALID_PARAMETER__STATICDATA_MUST_BE_A.format(k.value),
                    v.span,
                    hint=messages.HINT__TEXT.format(k.value, STATIC_DATA_KEYS[k.value]),
                )
    conns = root.get("connections")
    assert isinstance(conns, JObject)
    wid = root.get("id")
    name = root.get("name")
    tags_v = root.get("tags")
    assert isinstance(wid, JString) and isinstance(name, JString)
    return Workflow(
        source=source, package=package, module=module, id=wid.value, name=name.value,
        active=_bool(root.get("active")), version_id=_str(root.get("versionId")) or "",
        tenant_id=root.get("tenantId"),
            tags=[t.value for t in tags_v.items if isinstance(t, JString)] if isinstance(tags_v, JArray) else [],
        nodes=nodes, connections=conns, static_data=static,
        description=_str(meta.get("description")) or "", triggers=triggers, inputs=inputs,
        permissions_required=perm_req, minimum_user_level=min_level, schedule=schedule,
        settings=settings, span=root.span, active_span=root.key_span("active"),
    )  # fmt: skip
