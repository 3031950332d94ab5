"""Stage 3: the typed intermediate representation (IR) of workflows and entities.

Built from schema-valid JSON trees. Every element keeps its span so later stages can point
at it. Node parameters are parsed per node type here; anything a node type cannot use is
reported with the parameter's location.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from croniter import croniter

from compiler import messages
from compiler.diagnostics import Diagnostics, Related, Span
from compiler.escape import is_identifier
from compiler.expressions.parser import ExpressionError
from compiler.expressions.template import Parts, parse_parts
from compiler.load import JArray, JBool, JNull, JNumber, JObject, JString, JValue, SourceFile
from compiler.suggest import did_you_mean, or_else

if TYPE_CHECKING:
    from compiler.nodes.base import NodeKind, NodeSpec

STATIC_DATA_KEYS = {
    "reconnectInterval": "SSE `retry:` in milliseconds sent to clients",
    "subscriptionTimeout": "milliseconds after which an SSE stream is closed",
    "maxSubscriptionsPerUser": "largest number of subscriptions one user may hold",
    "updateInterval": "milliseconds between scheduled runs",
    "maxChannels": "largest number of items a scheduled fan-out handles per run",
}
# bigint: a 64-bit integer, epoch milliseconds where it is a time (DBAL's convention); json:
# any JSON value (JSONB on PostgreSQL, text on SQLite).
FIELD_TYPES = ("string", "integer", "number", "boolean", "datetime", "bigint", "json")


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
    sensitive: bool = False  # never a sort key from the request (an ordering oracle)
    # What the declaration says a written value must satisfy, checked on every write:
    # ("maxLength", 200), ("minLength", 1), ("pattern", "^[a-z]+$"), ("values", (...)),
    # ("email", True).
    checks: tuple[tuple[str, object], ...] = ()


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
        if not is_identifier(name_s.value):
            diags.add(
                messages.ENTITY_NAME_NOT_USABLE.format(name_s.value),
                name_s.span,
                hint=messages.HINT__RENAME_THE_ENTITY.format(name_s.value),
            )
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
                    messages.DEFAULT_DOES_NOT_FIT_TYPE.format(
                        repr(default), ftype, name_s.value, fname.value
                    ),
                    default_v.span,
                    hint=messages.HINT__USE_A_VALUE_OF,
                )

        columns: dict[str, EntityField] = {}
        for f in fields.values():
            if f.column in columns:
                first = columns[f.column]
                diags.add(
                    messages.COLUMN_OF_TWO_FIELDS.format(
                        first.name, f.name, name_s.value, f.column
                    ),
                    f.span,
                    hint=messages.HINT__ONE_COLUMN_ONE_FIELD,
                    related=(Related(first.span, messages.LABEL__MAPPED_HERE),),
                )
            columns.setdefault(f.column, f)
        pk_v = body.get("primaryKey")
        pk = _str(pk_v) or "id"
        if pk not in fields and pk_v is not None:
            diags.add(
                messages.PRIMARY_KEY_NOT_A_FIELD.format(pk, name_s.value),
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
                    messages.KEY_FIELD_NOT_DECLARED.format(x.value, entity),
                    x.span,
                    hint=(or_else(s, messages.HINT__LIST_DECLARED_FIELDS_ONLY)),
                )
        result.append(
            Key(_str(item.get("name")) or "", tuple(_str(x) or "" for x in parts), item.span)
        )
    return result


def _default_fits(ftype: str, v: object) -> bool:
    if v in ("uuid", "now"):
        return ftype in ("string", "datetime") or (v == "now" and ftype == "bigint")
    if ftype == "json":
        return True
    return {
        "bigint": isinstance(v, int) and not isinstance(v, bool),
        "string": isinstance(v, str),
        "datetime": isinstance(v, str),
        "boolean": isinstance(v, bool),
        "integer": isinstance(v, int) and not isinstance(v, bool),
        "number": isinstance(v, (int, float)) and not isinstance(v, bool),
    }.get(ftype, False)


# ----------------------------------------------------------------------------- nodes


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
    kind: NodeKind | None  # None: the type is unknown
    spec: NodeSpec | None  # None: the parameters could not be parsed

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
    cron: str | None = None  # a five-field cron expression, run in the workflow's timezone


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
    id_span: Span | None = None
    # Every parameter string, parsed once here: its text and expressions, or the error, by
    # the string's offset in the file. The plan stage reports an error where the string is used.
    env_names: frozenset[str] = frozenset()  # the `$env` names its expressions may read
    templates: dict[int, Parts | ExpressionError] = field(default_factory=dict)
    _index: dict[str, Node] = field(default_factory=dict, repr=False)
    entities: dict[str, Entity] = field(default_factory=dict)
    used_entities: set[str] = field(default_factory=set)  # what its database steps touch
    # JSON Script (compiler/jsonscript.py): whose output a node's `$json` is (absent: the
    # trigger's input), and the forEach node each per-item node runs in.
    json_from: dict[str, str] = field(default_factory=dict)
    loops: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.source.path

    def node(self, node_id: str) -> Node | None:
        if len(self._index) != len(self.nodes):
            self._index.clear()
            for n in self.nodes:
                self._index.setdefault(n.id, n)
        return self._index.get(node_id)


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
MIN_INTERVAL_MS = 1000  # a schedule runs at most once a second (a zero interval spins a core)
_SCHEDULE_EVERY = re.compile(r"every_(?P<n>\d+)_(?P<unit>milliseconds|seconds|minutes|hours)")
_UNIT_MS = {"milliseconds": 1, "seconds": 1000, "minutes": 60_000, "hours": 3_600_000}


def parse_trigger(text: JString, diags: Diagnostics) -> Trigger | None:
    s = text.value
    if s.startswith("SCHEDULED:"):
        rest = s.removeprefix("SCHEDULED:")
        m = _SCHEDULE_EVERY.fullmatch(rest)
        if not m and len(rest.split()) == 5 and croniter.is_valid(rest):
            return ScheduleTrigger(rest, None, text.span, cron=" ".join(rest.split()))
        if not m:
            diags.add(
                messages.SCHEDULE_UNREADABLE.format(rest),
                text.span,
                hint=messages.HINT__WRITE_SCHEDULED_EVERY_N,
            )
            return None
        every = int(m["n"][:12]) * _UNIT_MS[m["unit"]]
        if every < MIN_INTERVAL_MS:
            diags.add(
                messages.SCHEDULE_TOO_FREQUENT.format(rest, MIN_INTERVAL_MS),
                text.span,
                hint=messages.HINT__SCHEDULE_AT_MOST_ONCE_A_SECOND,
            )
            return None
        return ScheduleTrigger(rest, every, text.span)
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
            messages.TRIGGER_UNREADABLE.format(s),
            text.span,
            hint=hint,
        )
        return None
    path = m["path"]
    if not path.startswith("/api/v1/{tenant}/") or len(path) <= len("/api/v1/{tenant}/"):
        diags.add(
            messages.ROUTE_NOT_UNDER_TENANT.format(path),
            text.span,
            hint=messages.HINT__EVERY_ROUTE_IS_TENANT.format(),
        )
        return None
    segments = path.split("/")[4:]
    params: list[str] = []
    for seg in segments:
        if not seg:
            diags.add(
                messages.ROUTE_EMPTY_SEGMENT.format(path),
                text.span,
                hint=messages.HINT__REMOVE_THE_DOUBLED_OR,
            )
            return None
        if "{" in seg or "}" in seg:
            pm = re.fullmatch(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", seg)
            if not pm:
                diags.add(
                    messages.ROUTE_PARAMETER_MALFORMED.format(seg),
                    text.span,
                    hint=messages.HINT__A_PARAMETER_IS_A.format(),
                )
                return None
            if pm[1] == "tenant" or pm[1] in params:
                diags.add(
                    messages.ROUTE_PARAMETER_REPEATED.format(pm[1]),
                    text.span,
                    hint=messages.HINT__GIVE_EACH_PARAMETER_ITS,
                )
                return None
            params.append(pm[1])
        elif not re.fullmatch(r"[A-Za-z0-9_.~-]+", seg):
            diags.add(
                messages.ROUTE_SEGMENT_BAD_CHARACTERS.format(seg),
                text.span,
                hint=messages.HINT__USE_LETTERS_DIGITS_AND,
            )
            return None
    return HttpTrigger(m["method"], path, tuple(params), text.span)


def build_node(obj: JObject, diags: Diagnostics) -> Node | None:
    """A node with its kind and its parsed parameters, or None when its type is unknown."""
    from compiler.nodes import KINDS
    from compiler.nodes.base import ParamReader

    nid = obj.get("id")
    ntype = obj.get("type")
    params = obj.get("parameters")
    assert isinstance(nid, JString) and isinstance(ntype, JString) and isinstance(params, JObject)
    node = nid.value
    version = _int(obj.get("typeVersion")) or 0
    kind = KINDS.get(ntype.value)
    if kind is None:
        s = did_you_mean(ntype.value, KINDS)
        diags.add(
            messages.NODE_TYPE_UNKNOWN.format(node, ntype.value),
            ntype.span,
            node_id=node,
            hint=(or_else(s, messages.HINT__SUPPORTED_TYPES.format(", ".join(KINDS)))),
        )
        return None
    if version not in kind.versions:
        tv = obj.get("typeVersion")
        diags.add(
            messages.NODE_TYPE_VERSION_UNSUPPORTED.format(node, ntype.value, version),
            tv.span if tv else obj.span,
            node_id=node,
            hint=messages.HINT__SUPPORTED.format(", ".join(str(v) for v in kind.versions)),
        )
        return None
    reader = ParamReader(node, params, obj.span, diags)
    reader.unknown_keys(params, kind.allowed(params), "parameters")
    return Node(
        node,
        _str(obj.get("name")) or node,
        ntype.value,
        version,
        obj.span,
        nid.span,
        params,
        _str(obj.get("notes")) or "",
        kind,
        kind.parse(reader),
    )


def parse_templates(value: JValue | None, out: dict[int, Parts | ExpressionError]) -> None:
    """Parse every string of a parameter tree (``{{ }}`` templates) into ``out``."""
    if isinstance(value, JString):
        try:
            out[value.span.start.offset] = parse_parts(value.value)
        except ExpressionError as err:  # reported where the string is used
            out[value.span.start.offset] = err
    elif isinstance(value, JObject):
        for _, v in value.entries:
            parse_templates(v, out)
    elif isinstance(value, JArray):
        for v in value.items:
            parse_templates(v, out)


def build_workflow(
    source: SourceFile, root: JObject, package: str, module: str, diags: Diagnostics
) -> Workflow:
    nodes: list[Node] = []
    seen: dict[str, Node] = {}
    nodes_v = root.get("nodes")
    assert isinstance(nodes_v, JArray)
    for item in nodes_v.items:
        assert isinstance(item, JObject)
        node = build_node(item, diags)
        nid = item.get("id")
        assert isinstance(nid, JString)
        if nid.value in seen:
            diags.add(
                messages.NODE_ID_REPEATED.format(nid.value),
                nid.span,
                node_id=nid.value,
                hint=messages.HINT__RENAME_ONE_OF_THE_NODES,
                related=(
                    Related(seen[nid.value].id_span, messages.LABEL__FIRST.format(nid.value)),
                ),
            )
            continue
        if node is not None:
            seen[nid.value] = node
            nodes.append(node)
        else:
            # Keep a placeholder so the graph can still be checked.
            placeholder = Node(
                nid.value,
                nid.value,
                "",
                0,
                item.span,
                nid.span,
                JObject((), item.span),
                "",
                None,
                None,
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
                    messages.STATIC_DATA_KEY_UNKNOWN.format(k.value),
                    k.span,
                    hint=(
                        or_else(s, messages.HINT__KNOWN_KEYS.format(", ".join(STATIC_DATA_KEYS)))
                    ),
                )
            elif not isinstance(v, JNumber) or not isinstance(v.value, int) or v.value <= 0:
                diags.add(
                    messages.STATIC_DATA_NOT_POSITIVE.format(k.value),
                    v.span,
                    hint=messages.HINT__TEXT.format(k.value, STATIC_DATA_KEYS[k.value]),
                )
            elif k.value == "updateInterval" and v.value < MIN_INTERVAL_MS:
                diags.add(
                    messages.SCHEDULE_TOO_FREQUENT.format(
                        f"updateInterval {v.value}", MIN_INTERVAL_MS
                    ),
                    v.span,
                    hint=messages.HINT__SCHEDULE_AT_MOST_ONCE_A_SECOND,
                )
    conns = root.get("connections")
    assert isinstance(conns, JObject)
    wid = root.get("id")
    name = root.get("name")
    tags_v = root.get("tags")
    assert isinstance(wid, JString) and isinstance(name, JString)
    templates: dict[int, Parts | ExpressionError] = {}
    parse_templates(root.get("tenantId"), templates)
    for n in nodes:
        parse_templates(n.parameters, templates)
    return Workflow(
        source=source, package=package, module=module, id=wid.value, name=name.value,
        active=_bool(root.get("active")), version_id=_str(root.get("versionId")) or "",
        tenant_id=root.get("tenantId"),
            tags=[t.value for t in tags_v.items if isinstance(t, JString)] if isinstance(tags_v, JArray) else [],
        nodes=nodes, connections=conns, static_data=static,
        description=_str(meta.get("description")) or "", triggers=triggers, inputs=inputs,
        permissions_required=perm_req, minimum_user_level=min_level, schedule=schedule,
        settings=settings, span=root.span, active_span=root.key_span("active"), id_span=wid.span, templates=templates,
    )  # fmt: skip
