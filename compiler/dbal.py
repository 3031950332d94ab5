"""Entities from DBAL YAML, MetaBuilder's entity schemas
(``dbal/shared/api/schema/entities/**/*.yaml``), and from the overlays that add what the YAML
lacks.

The YAML is read with its positions (PyYAML's composer), so every problem points into the file
it came from. A document declares one entity::

    entity: StreamChannel
    fields:
      id: {type: cuid, primary: true, generated: true}
      tenantId: {type: uuid, required: true, index: true}
      status: {type: enum, values: [offline, live], default: offline}
    indexes:
      - {fields: [tenantId, slug], unique: true, name: tenant_slug}

Types: ``cuid``, ``uuid``, ``string``, ``text``, ``email`` and ``enum`` are text (``enum``
keeps its values, ``email`` its format); ``integer``/``int`` integers; ``bigint`` epoch
milliseconds (a 64-bit integer); ``boolean``; ``json`` any JSON value. A field is nullable
when it says ``nullable``/``optional`` or does not say ``required`` (upstream's rule in
``gen_prisma_schema.js``). ``acl`` is read but not enforced: access is what the workflows
check. Documents of other shapes (no ``entity`` key) are not entity declarations and are
skipped.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from compiler import messages
from compiler.diagnostics import Diagnostic, Diagnostics, Position, Related, Span
from compiler.escape import is_identifier
from compiler.load import (
    JArray,
    JBool,
    JNull,
    JNumber,
    JObject,
    JString,
    JValue,
    SourceFile,
    display_path,
    load_file,
    to_python,
)
from compiler.model import Entity, EntityField, Key, snake_case
from compiler.suggest import did_you_mean, or_else

ENTITY_DIR = Path("dbal/shared/api/schema/entities")

DBAL_TYPES = {
    "cuid": "string",
    "uuid": "string",
    "string": "string",
    "text": "string",
    "email": "string",
    "enum": "string",
    "integer": "integer",
    "int": "integer",
    "bigint": "bigint",
    "boolean": "boolean",
    "json": "json",
}
FIELD_KEYS = frozenset(
    {
        "type", "primary", "generated", "required", "nullable", "optional", "default",
        "unique", "index", "max_length", "min_length", "pattern", "values", "description",
        "sensitive", "foreign_key", "min", "max",
    }
)  # fmt: skip
ENTITY_KEYS = frozenset(
    {"entity", "version", "description", "package", "fields", "indexes", "acl", "security"}
)
OVERLAY_TYPES = ("string", "integer", "number", "boolean", "datetime", "json", "bigint")


@dataclass
class Constraints:
    """What a field's declaration says about the values it may hold, checked on write."""

    values: tuple[str, ...] = ()  # enum
    max_length: int | None = None
    min_length: int | None = None
    pattern: str | None = None
    email: bool = False
    sensitive: bool = False


@dataclass
class Declared:
    """The entities of the YAML tree and overlays, by name, and where each came from."""

    entities: dict[str, Entity] = field(default_factory=dict)
    # Declarations that could not be read, with their diagnostics: upstream's tree holds
    # entities in other dialects that no workflow uses, so these are reported only when a
    # compiled workflow names the entity (pipeline.report_unusable).
    problems: dict[str, list[Diagnostic]] = field(default_factory=dict)
    constraints: dict[tuple[str, str], Constraints] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # path -> text, for diagnostics


# ----------------------------------------------------------------------------- YAML with spans


class _Reader:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.source = SourceFile(path, text)

    def span(self, node: yaml.Node) -> Span:
        return Span(self.path, self._pos(node.start_mark), self._pos(node.end_mark))

    def _pos(self, mark: yaml.Mark) -> Position:
        return Position(mark.line + 1, mark.column + 1, mark.index)

    def value(self, node: yaml.Node) -> JValue:
        span = self.span(node)
        if isinstance(node, yaml.MappingNode):
            entries = []
            for k, v in node.value:
                key = self.value(k)
                name = key if isinstance(key, JString) else JString(str(k.value), key.span)
                entries.append((name, self.value(v)))
            return JObject(tuple(entries), span)
        if isinstance(node, yaml.SequenceNode):
            return JArray(tuple(self.value(v) for v in node.value), span)
        assert isinstance(node, yaml.ScalarNode)
        tag, text = node.tag, node.value
        if tag.endswith(":null"):
            return JNull(span)
        if tag.endswith(":bool"):
            return JBool(text.lower() in ("true", "yes", "on"), span)
        if tag.endswith(":int"):
            try:
                return JNumber(int(text.replace("_", ""), 0), span)
            except ValueError:
                return JString(text, span, ())
        if tag.endswith(":float"):
            try:
                return JNumber(float(text.replace("_", "")), span)
            except ValueError:
                return JString(text, span, ())
        return JString(text, span, ())


def read_yaml(
    path: Path, display: str, diags: Diagnostics, sources: dict[str, str]
) -> list[JValue]:
    """The documents of a YAML file as spanned values; a syntax error is reported at its
    place and yields no documents."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        diags.add(
            messages.FILE_NOT_READABLE.format(getattr(err, "strerror", None) or str(err)),
            Span.whole_file(display),
            hint=messages.HINT__CHECK_THAT_EXISTS_AND.format(display),
        )
        return []
    sources[display] = text
    reader = _Reader(display, text)
    try:
        return [reader.value(doc) for doc in yaml.compose_all(text, Loader=yaml.SafeLoader)]
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        at = Position(mark.line + 1, mark.column + 1, mark.index) if mark else Position(1, 1, 0)
        diags.add(
            messages.YAML_SYNTAX.format(err.problem or err.context or "invalid YAML"),
            Span(display, at, at),
            hint=messages.HINT__FIX_THE_YAML_SYNTAX,
        )
        return []
    except yaml.YAMLError as err:
        diags.add(
            messages.YAML_SYNTAX.format(str(err).splitlines()[0]),
            Span.whole_file(display),
            hint=messages.HINT__FIX_THE_YAML_SYNTAX,
        )
        return []


# ----------------------------------------------------------------------------- entities


def _text(v: JValue | None) -> str | None:
    return v.value if isinstance(v, JString) else None


def _flag(v: JValue | None) -> bool:
    return isinstance(v, JBool) and v.value


def _compiles(pattern: str) -> bool:
    """Whether a YAML ``pattern`` is a regular expression Python reads the same way (one
    that is not is left unchecked rather than checked wrongly)."""
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _int(v: JValue | None) -> int | None:
    return v.value if isinstance(v, JNumber) and isinstance(v.value, int) else None


def _label(name: str) -> str:
    """``StreamChannel`` -> ``Stream channel`` (its 404 code: ``STREAM_CHANNEL_NOT_FOUND``)."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).split()
    return " ".join([words[0], *(w.lower() for w in words[1:])]) if words else name


def _literal(v: JValue) -> object:
    if isinstance(v, JNull):
        return None
    if isinstance(v, JObject | JArray):
        return to_python(v)
    return v.value


def entity_from_yaml(doc: JObject, diags: Diagnostics, declared: Declared) -> Entity | None:
    name_v = doc.get("entity")
    name = _text(name_v)
    assert name_v is not None
    if name is None or not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name) or not is_identifier(name):
        diags.add(
            messages.DBAL_ENTITY_NAME.format(name if name is not None else name_v),
            name_v.span,
            hint=messages.HINT__DBAL_ENTITY_NAME,
        )
        return None
    for key, _ in doc.entries:
        if key.value not in ENTITY_KEYS:
            diags.add(
                messages.DBAL_UNKNOWN_KEY.format(key.value, name),
                key.span,
                hint=or_else(did_you_mean(key.value, ENTITY_KEYS), messages.HINT__DBAL_KEYS),
            )
    fields_v = doc.get("fields")
    if not isinstance(fields_v, JObject) or not fields_v.entries:
        diags.add(
            messages.DBAL_NO_FIELDS.format(name),
            (fields_v or name_v).span,
            hint=messages.HINT__DBAL_FIELDS,
        )
        return None
    table = snake_case(name)
    fields: dict[str, EntityField] = {}
    primary: str | None = None
    unique: list[Key] = []
    indexes: list[Key] = []
    for fname, fdef in fields_v.entries:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", fname.value):
            diags.add(
                messages.DBAL_FIELD_NAME.format(fname.value, name),
                fname.span,
                hint=messages.HINT__DBAL_FIELD_NAME,
            )
            continue
        if not isinstance(fdef, JObject):
            diags.add(
                messages.DBAL_FIELD_NOT_MAPPING.format(fname.value, name),
                fdef.span,
                hint=messages.HINT__DBAL_FIELDS,
            )
            continue
        for key, _ in fdef.entries:
            if key.value not in FIELD_KEYS:
                diags.add(
                    messages.DBAL_UNKNOWN_FIELD_KEY.format(key.value, name, fname.value),
                    key.span,
                    hint=or_else(did_you_mean(key.value, FIELD_KEYS), messages.HINT__DBAL_KEYS),
                )
        type_v = fdef.get("type")
        dbal_type = _text(type_v)
        ftype = DBAL_TYPES.get(dbal_type or "")
        if ftype is None:
            diags.add(
                messages.DBAL_UNKNOWN_TYPE.format(dbal_type or type_v, fname.value, name),
                (type_v or fname).span,
                hint=or_else(did_you_mean(dbal_type or "", DBAL_TYPES), messages.HINT__DBAL_TYPES),
            )
            continue
        is_primary = _flag(fdef.get("primary"))
        generated = _flag(fdef.get("generated"))
        nullable = (
            _flag(fdef.get("nullable"))
            or _flag(fdef.get("optional"))
            or not (_flag(fdef.get("required")) or is_primary)
        )
        default_v = fdef.get("default")
        default: object = None
        if generated:
            default = "uuid" if ftype == "string" else "now" if ftype == "bigint" else None
        elif default_v is not None:
            default = _literal(default_v)
        column = snake_case(fname.value)
        fields[fname.value] = EntityField(
            fname.value,
            ftype,
            nullable and not is_primary,
            default,
            default is not None or generated,
            column,
            fname.span,
            _flag(fdef.get("sensitive")) or "password" in fname.value.lower(),
        )
        values_v = fdef.get("values")
        values = (
            tuple(str(_literal(v)) for v in values_v.items) if isinstance(values_v, JArray) else ()
        )
        if dbal_type == "enum" and not values:
            diags.add(
                messages.DBAL_ENUM_WITHOUT_VALUES.format(fname.value, name),
                (values_v or type_v or fname).span,
                hint=messages.HINT__DBAL_ENUM_VALUES,
            )
        found = Constraints(
            values=values,
            max_length=_int(fdef.get("max_length")),
            min_length=_int(fdef.get("min_length")),
            pattern=_text(fdef.get("pattern")),
            email=dbal_type == "email",
            sensitive=_flag(fdef.get("sensitive")),
        )
        declared.constraints[(name, fname.value)] = found
        checks: list[tuple[str, object]] = []
        if found.max_length is not None:
            checks.append(("maxLength", found.max_length))
        if found.min_length is not None:
            checks.append(("minLength", found.min_length))
        if found.pattern is not None and _compiles(found.pattern):
            checks.append(("pattern", found.pattern))
        if found.values:
            checks.append(("values", found.values))
        if found.email:
            checks.append(("email", True))
        fields[fname.value] = dataclasses.replace(fields[fname.value], checks=tuple(checks))
        if is_primary:
            if primary is not None:
                diags.add(
                    messages.DBAL_TWO_PRIMARY_KEYS.format(name, primary, fname.value),
                    fname.span,
                    hint=messages.HINT__DBAL_ONE_PRIMARY_KEY,
                )
            primary = primary or fname.value
        if _flag(fdef.get("unique")) and not is_primary:
            unique.append(Key(f"{table}_{column}_key", (fname.value,), fname.span))
        if _flag(fdef.get("index")) and not is_primary:
            indexes.append(Key(f"idx_{table}_{column}", (fname.value,), fname.span))
    if primary is None:
        if "id" not in fields:
            diags.add(
                messages.DBAL_NO_PRIMARY_KEY.format(name),
                name_v.span,
                hint=messages.HINT__DBAL_ONE_PRIMARY_KEY,
            )
            return None
        primary = "id"
    idx_v = doc.get("indexes")
    for i, item in enumerate(idx_v.items if isinstance(idx_v, JArray) else ()):
        if not isinstance(item, JObject):
            continue
        fs = item.get("fields")
        parts = [x for x in (fs.items if isinstance(fs, JArray) else ()) if isinstance(x, JString)]
        for x in parts:
            if x.value not in fields:
                diags.add(
                    messages.KEY_FIELD_NOT_DECLARED.format(x.value, name),
                    x.span,
                    hint=or_else(
                        did_you_mean(x.value, fields), messages.HINT__LIST_DECLARED_FIELDS_ONLY
                    ),
                )
        named = _text(item.get("name"))
        columns = "_".join(snake_case(x.value) for x in parts) or str(i)
        is_unique = _flag(item.get("unique"))
        key_name = (
            named
            if named and re.fullmatch(r"[a-z_][a-z0-9_]*", named)
            else f"{table}_{columns}_{'key' if is_unique else 'idx'}"
        )
        declared_key = Key(key_name, tuple(x.value for x in parts), item.span)
        (unique if is_unique else indexes).append(declared_key)
    description = _text(doc.get("description")) or ""
    return Entity(
        name=name,
        label=_label(name),
        description=description,
        table=table,
        primary_key=primary,
        fields=fields,
        unique=unique,
        indexes=indexes,
        span=name_v.span,
    )


def load_yaml_entities(root: Path, diags: Diagnostics, declared: Declared) -> None:
    """Every entity declared under ``root/dbal/shared/api/schema/entities``; two declarations
    of one entity must agree."""
    base = root / ENTITY_DIR
    for path in sorted(base.rglob("*.yaml")) + sorted(base.rglob("*.yml")):
        display = display_path(path)
        for doc in read_yaml(path, display, diags, declared.sources):
            if not isinstance(doc, JObject) or doc.get("entity") is None:
                continue  # another dialect of upstream's tree, or not an entity at all
            local = Diagnostics()
            entity = entity_from_yaml(doc, local, declared)
            if entity is None or local.has_errors:
                name = doc.get("entity")
                key = name.value if isinstance(name, JString) else str(name)
                declared.problems.setdefault(key, []).extend(local.errors())
                continue
            diags.extend(local.items)
            add(entity, diags, declared)


def add(entity: Entity, diags: Diagnostics, declared: Declared) -> None:
    """Register ``entity``; an identical redeclaration is fine, a different one an error at
    both places."""
    seen = declared.entities.get(entity.name)
    if seen is None:
        declared.entities[entity.name] = entity
        return
    if _shape(seen) != _shape(entity):
        diags.add(
            messages.DBAL_ENTITY_REDECLARED.format(entity.name),
            entity.span,
            hint=messages.HINT__DBAL_ONE_DECLARATION,
            related=(Related(seen.span, messages.LABEL__FIRST.format(entity.name)),),
        )


def _shape(e: Entity) -> tuple[object, ...]:
    return (
        e.table,
        e.primary_key,
        tuple(sorted((f.name, f.type, f.nullable, repr(f.default)) for f in e.fields.values())),
    )


# ----------------------------------------------------------------------------- overlays


@dataclass
class Overlay:
    """``OVERLAY_DIR/<package>.json``: the routes of a package's workflows (by file stem), the
    environment variables its expressions may read, and entities or fields the YAML lacks."""

    package: str
    routes: dict[str, tuple[str, Span]] = field(default_factory=dict)
    env: tuple[str, ...] = ()


def load_overlay(
    path: Path, package: str, diags: Diagnostics, declared: Declared
) -> Overlay | None:
    display = display_path(path)
    if not path.exists():
        return Overlay(package)
    loaded = load_file(str(path), display, diags)
    if loaded is None:
        return None
    source, root = loaded
    declared.sources[display] = source.text
    if not isinstance(root, JObject):
        diags.add(messages.OVERLAY_NOT_OBJECT, root.span, hint=messages.HINT__OVERLAY_SHAPE)
        return None
    overlay = Overlay(package)
    for key, value in root.entries:
        if key.value == "_note":
            continue
        if key.value == "routes" and isinstance(value, JObject):
            for stem, route in value.entries:
                if isinstance(route, JString):
                    overlay.routes[stem.value] = (route.value, route.span)
                else:
                    diags.add(
                        messages.OVERLAY_ROUTE_NOT_TEXT.format(stem.value),
                        route.span,
                        hint=messages.HINT__OVERLAY_SHAPE,
                    )
        elif key.value == "env" and isinstance(value, JArray):
            overlay.env = tuple(v.value for v in value.items if isinstance(v, JString))
        elif key.value == "entities" and isinstance(value, JObject):
            for name, body in value.entries:
                if isinstance(body, JObject):
                    _overlay_entity(name, body, diags, declared)
        else:
            diags.add(
                messages.OVERLAY_UNKNOWN_KEY.format(key.value),
                key.span,
                hint=messages.HINT__OVERLAY_SHAPE,
            )
    return overlay


def _overlay_entity(name: JString, body: JObject, diags: Diagnostics, declared: Declared) -> None:
    fields_v = body.get("fields")
    entries = fields_v.entries if isinstance(fields_v, JObject) else ()
    new: dict[str, EntityField] = {}
    for fname, fdef in entries:
        if not isinstance(fdef, JObject):
            continue
        ftype = _text(fdef.get("type")) or "string"
        if ftype not in OVERLAY_TYPES:
            diags.add(
                messages.DBAL_UNKNOWN_TYPE.format(ftype, fname.value, name.value),
                (fdef.get("type") or fname).span,
                hint=or_else(did_you_mean(ftype, OVERLAY_TYPES), messages.HINT__DBAL_TYPES),
            )
            continue
        nullable_v = fdef.get("nullable")
        nullable = not isinstance(nullable_v, JBool) or nullable_v.value
        new[fname.value] = EntityField(
            fname.value, ftype, nullable, None, False, snake_case(fname.value), fname.span
        )
    existing = declared.entities.get(name.value)
    if existing is not None:
        for fname_s, f in new.items():
            have = existing.fields.get(fname_s)
            if have is None:
                existing.fields[fname_s] = f
            elif (have.type, have.nullable) != (f.type, f.nullable):
                diags.add(
                    messages.DBAL_FIELD_REDECLARED.format(fname_s, name.value),
                    f.span,
                    hint=messages.HINT__DBAL_ONE_DECLARATION,
                    related=(Related(have.span, messages.LABEL__FIRST.format(fname_s)),),
                )
        return
    pk = _text(body.get("primaryKey")) or "id"
    if pk not in new:
        diags.add(
            messages.PRIMARY_KEY_NOT_A_FIELD.format(pk, name.value),
            (body.get("primaryKey") or name).span,
            hint=messages.HINT__NAME_ONE_OF_THE,
        )
        return
    pkf = new[pk]
    new[pk] = EntityField(pkf.name, pkf.type, False, "uuid", True, pkf.column, pkf.span)
    table = snake_case(name.value)
    unique = []
    uv = body.get("unique")
    for item in uv.items if isinstance(uv, JArray) else ():
        if isinstance(item, JArray):
            cols = tuple(x.value for x in item.items if isinstance(x, JString))
            key_name = f"{table}_{'_'.join(snake_case(c) for c in cols)}_key"
            unique.append(Key(key_name, cols, item.span))
    add(
        Entity(
            name=name.value,
            label=_label(name.value),
            description="",
            table=table,
            primary_key=pk,
            fields=new,
            unique=unique,
            indexes=[],
            span=name.span,
        ),
        diags,
        declared,
    )
