"""Static types of expression values, and their Python representation.

The translator uses them to pick plain Python where JavaScript's meaning is certain.

=============  =====================  ==========================================
type           Python annotation      meaning
=============  =====================  ==========================================
STR            ``str``                a string
NUM            ``float``              a number
BOOL           ``bool``               a boolean
NULL           ``None``               null
UNDEF          ``Undefined``          undefined
DATE           ``float``              a Date, unboxed to its time value (ms)
ANY            ``object``             any JavaScript value
OBJ            ``dict[str, object]``  an object of unknown shape (never nullish)
Array(e)       ``list[e]``            an array
MapOf(v)       ``dict[str, v]``       an object used as a dictionary
Record         a TypedDict            an object with known fields
Union          ``A | B``              one of several
=============  =====================  ==========================================
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prim:
    kind: str  # string, number, boolean, null, undefined, date, any, object

    def __str__(self) -> str:
        return self.kind


@dataclass(frozen=True)
class ArrayOf:
    elem: Type

    def __str__(self) -> str:
        return f"{self.elem}[]"


@dataclass(frozen=True)
class MapOf:
    value: Type

    def __str__(self) -> str:
        return f"{{[key]: {self.value}}}"


@dataclass(frozen=True)
class Field:
    name: str
    type: Type
    required: bool = True


@dataclass(frozen=True)
class Record:
    """An object with known fields, represented by the TypedDict ``py_name``."""

    py_name: str
    label: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class UnionT:
    members: tuple[Type, ...]

    def __str__(self) -> str:
        return " | ".join(str(m) for m in self.members)


Type = Prim | ArrayOf | MapOf | Record | UnionT

STR = Prim("string")
NUM = Prim("number")
BOOL = Prim("boolean")
NULL = Prim("null")
UNDEF = Prim("undefined")
DATE = Prim("date")
ANY = Prim("any")
OBJ = Prim("object")
REGEXP = Prim("regexp")


def union(*types: Type) -> Type:
    members: list[Type] = []
    for t in types:
        for m in t.members if isinstance(t, UnionT) else (t,):
            if m == ANY:
                return ANY
            if m not in members:
                members.append(m)
    if len(members) == 1:
        return members[0]
    order = {STR: 0, NUM: 1, BOOL: 2, DATE: 3, OBJ: 4, NULL: 8, UNDEF: 9}
    members.sort(key=lambda m: (order.get(m, 5) if isinstance(m, Prim) else 5, str(m)))
    return UnionT(tuple(members))


def members(t: Type) -> tuple[Type, ...]:
    return t.members if isinstance(t, UnionT) else (t,)


def without(t: Type, *drop: Type) -> Type:
    kept = [m for m in members(t) if m not in drop]
    return union(*kept) if kept else UNDEF


def may_be_nullish(t: Type) -> bool:
    return t == ANY or any(m in (NULL, UNDEF) for m in members(t))


def is_object_like(t: Type) -> bool:
    """Values of this type are always objects (truthy, typeof 'object', never nullish)."""
    return all(
        isinstance(m, (ArrayOf, MapOf, Record)) or m in (OBJ, DATE, REGEXP) for m in members(t)
    )


def may_be_string(t: Type) -> bool:
    """Whether ToPrimitive of a value of this type may be a string (so `+` may concatenate)."""
    return any(m not in (NUM, BOOL, NULL, UNDEF) for m in members(t))


def python_type(t: Type) -> str:
    if isinstance(t, Prim):
        return {
            "string": "str",
            "number": "float",
            "boolean": "bool",
            "null": "None",
            "undefined": "js.Undefined",
            "date": "float",
            "any": "object",
            "object": "dict[str, object]",
            "regexp": "js.JsRegExp",
        }[t.kind]
    if isinstance(t, ArrayOf):
        return f"list[{python_type(t.elem)}]"
    if isinstance(t, MapOf):
        return f"dict[str, {python_type(t.value)}]"
    if isinstance(t, Record):
        return t.py_name
    if DATE in t.members:
        return "object"
    return " | ".join(python_type(m) for m in t.members)


def describe(t: Type) -> str:
    return str(t)


# The $context object, as the spec's Context interface defines it.
USER = Record(
    "User",
    "User",
    (
        Field("id", STR),
        Field("name", STR),
        Field("level", NUM),
        Field("email", STR),
        Field("roles", ArrayOf(STR)),
        Field("scopes", ArrayOf(STR)),
    ),
)
REQUEST = Record(
    "RequestInfo",
    "Request",
    (Field("method", STR), Field("headers", MapOf(STR)), Field("path", STR)),
)
CONTEXT = Record(
    "Context",
    "$context",
    (
        Field("tenantId", STR),
        Field("user", USER, required=False),
        Field("request", REQUEST),
        Field("token", STR),  # the bearer token ("" without one)
        Field("sessionId", STR),  # the token's `sid` claim ("" without one)
    ),
)
