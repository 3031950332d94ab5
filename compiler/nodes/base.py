"""What a node kind and a database operation are: the contract every module under
``compiler/nodes/`` fulfils.

A node kind (:class:`NodeKind`) describes itself (type, versions, output branches, parameters
for the documentation) and parses a node's parameters into a typed spec. The spec
(:class:`NodeSpec`) reports the expressions it reads (so ``$json`` inference cannot miss one),
the database operations it runs (so the one tenant check sees every one), its lowering into
plan statements and its label for the Mermaid picture. Every method is abstract: a kind that
forgets one cannot be instantiated, and mypy says so.

A database operation (:class:`Operation`) declares whether it writes, needs a filter, accepts
or requires data, and how it binds the tenant. An operation that declares no tenant binding
does not compile: the tenant check refuses it as an internal error naming the node.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, TypeVar

from compiler import messages
from compiler.diagnostics import Diagnostics, Span
from compiler.expressions.types import Type
from compiler.load import JArray, JNumber, JObject, JString, JValue
from compiler.suggest import did_you_mean, or_else

T = TypeVar("T")

if TYPE_CHECKING:
    from compiler.ir import Stmt
    from compiler.model import Node
    from compiler.plan.binding import Binder
    from compiler.plan.lower import Lowered, Lowering


# ----------------------------------------------------------------------------- discovery


def discover(package: str, attribute: str, kind: type[T]) -> list[T]:
    """``attribute`` of every module of ``package`` that defines one of type ``kind``, in
    module-name order: a registry is the modules present, so adding a kind or an operation is
    adding its module. Registries call this on first use (a module-level ``__getattr__``), so
    a kind's module may import any stage of the compiler."""
    found: list[T] = []
    path = importlib.import_module(package).__path__
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        value = getattr(importlib.import_module(f"{package}.{info.name}"), attribute, None)
        if isinstance(value, kind):
            found.append(value)
    return found


@dataclass(frozen=True)
class Variant:
    """One named variant of a node kind, parsed by its own module: an action of
    ``metabuilder.action`` (``ACTION``), an operation of ``metabuilder.operation`` outside the
    database (``EFFECT``)."""

    name: str
    summary: str
    parameters: tuple[ParamDoc, ...]
    parse: Callable[[ParamReader], NodeSpec | None]


def variants(package: str, attribute: str) -> dict[str, Variant]:
    """The variants the modules of ``package`` define as ``attribute``, by name."""
    return {v.name: v for v in discover(package, attribute, Variant)}


# ----------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class ParamDoc:
    """A parameter as the documentation lists it."""

    name: str
    required: bool
    description: str


class ParamReader:
    """Reads one node's parameters, reporting each problem at the parameter's location."""

    def __init__(self, node_id: str, params: JObject, span: Span, diags: Diagnostics) -> None:
        self.node = node_id
        self.params = params
        self.span = span
        self.diags = diags

    def require(self, key: str, what: str, obj: JObject | None = None) -> JValue | None:
        obj = obj if obj is not None else self.params
        v = obj.get(key)
        if v is None:
            self.diags.add(
                messages.PARAMETER_MISSING.format(self.node, key, what),
                Span(obj.span.path, obj.span.start, obj.span.start),
                node_id=self.node,
                hint=messages.HINT__ADD_TO_ITS_PARAMETERS.format(key),
            )
        return v

    def string(
        self, key: str, what: str, required: bool = True, obj: JObject | None = None
    ) -> tuple[str, Span] | None:
        obj = obj if obj is not None else self.params
        v = self.require(key, what, obj) if required else obj.get(key)
        if v is None:
            return None
        if not isinstance(v, JString):
            self.diags.add(
                messages.PARAMETER_NOT_A_STRING.format(key, self.node),
                v.span,
                node_id=self.node,
                hint=messages.HINT__WRITE_AS_A_STRING.format(what),
            )
            return None
        return v.value, v.span

    def choice(
        self, key: str, options: tuple[str, ...], obj: JObject | None = None
    ) -> tuple[str, Span] | None:
        got = self.string(key, "one of " + ", ".join(options), obj=obj)
        if got is None:
            return None
        if got[0] not in options:
            s = did_you_mean(got[0], options)
            self.diags.add(
                messages.PARAMETER_NOT_AN_OPTION.format(got[0], key, self.node),
                got[1],
                node_id=self.node,
                hint=(or_else(s, messages.HINT__USE_ONE_OF_2.format(", ".join(options)))),
            )
            return None
        return got

    def entries(self, key: str, obj: JObject) -> tuple[list[Entry], Span | None]:
        v = obj.get(key)
        if v is None:
            return [], None
        if not isinstance(v, JObject):
            self.diags.add(
                messages.PARAMETER_NOT_AN_OBJECT.format(key, self.node),
                v.span,
                node_id=self.node,
                hint=messages.HINT__WRITE_AS_FIELD_VALUE.format(key),
            )
            return [], v.span
        return [Entry(k.value, k.span, val) for k, val in v.entries], v.span

    def count(self, key: str, obj: JObject) -> int | None:
        v = obj.get(key)
        if v is None:
            return None
        if not isinstance(v, JNumber) or not isinstance(v.value, int) or v.value < 0:
            self.diags.add(
                messages.PARAMETER_NOT_A_COUNT.format(key, self.node),
                v.span,
                node_id=self.node,
                hint=messages.HINT__WRITE_E_G_100.format(key),
            )
            return None
        return v.value

    def bounded(self, key: str, low: int, high: int, default: int) -> int:
        """A whole-number parameter within ``low..high`` (``default`` when absent or, after
        reporting it, invalid)."""
        v = self.params.get(key)
        if v is None:
            return default
        if (
            not isinstance(v, JNumber)
            or not isinstance(v.value, int)
            or not low <= v.value <= high
        ):
            self.diags.add(
                messages.PARAMETER_OUT_OF_RANGE.format(key, self.node, low, high),
                v.span,
                node_id=self.node,
                hint=messages.HINT__WRITE_E_G.format(f'"{key}": {default}'),
            )
            return default
        return v.value

    def row_count(self, key: str, obj: JObject) -> int | JString | None:
        """A row count (``limit``, ``offset``): a whole number, or an expression the runtime
        clamps (see :func:`runtime.values.row_count`)."""
        v = obj.get(key)
        if v is None:
            return None
        if isinstance(v, JString) and "{{" in v.value:
            return v
        return self.count(key, obj)

    def status(self, key: str) -> int | None:
        """An HTTP status code parameter (200-599); None when absent or invalid."""
        v = self.params.get(key)
        if v is None:
            return None
        if not isinstance(v, JNumber) or not isinstance(v.value, int) or not 200 <= v.value <= 599:
            self.diags.add(
                messages.STATUS_OUT_OF_RANGE.format(self.node),
                v.span,
                node_id=self.node,
                hint=messages.HINT__WRITE_E_G_STATUS,
            )
            return None
        return v.value

    def array(self, key: str) -> JArray | None:
        v = self.params.get(key)
        return v if isinstance(v, JArray) else None

    def unknown_keys(self, obj: JObject, allowed: tuple[str, ...], what: str) -> None:
        for k, _ in obj.entries:
            if k.value not in allowed:
                s = did_you_mean(k.value, allowed)
                self.diags.add(
                    messages.PARAMETER_UNKNOWN.format(what, self.node, k.value),
                    k.span,
                    node_id=self.node,
                    hint=(or_else(s, messages.HINT__IT_TAKES.format(", ".join(allowed)))),
                )


# ----------------------------------------------------------------------------- database


class TenantBinding(Enum):
    """How an operation binds the tenant, checked by :mod:`compiler.plan.tenancy`."""

    FILTER = "filter"  # filter.tenantId is the context tenant; data may not move rows
    DATA = "data"  # data.tenantId is the context tenant (a create)


@dataclass(frozen=True)
class Operation:
    """A database operation (``database_read``...): one module each under ``nodes/db/``."""

    name: str
    summary: str
    writes: bool
    needs_filter: bool
    accepts_data: bool
    requires_data: bool
    lower: Callable[[Lowering, DbUse], Lowered | None]
    tenant: TenantBinding | None = None  # None: undeclared, and refused by the tenant check
    pages: bool = False  # takes ``sort``, ``limit`` and ``offset`` (a read)
    aggregates: bool = False  # takes ``groupBy`` and ``aggregations``

    @property
    def verb(self) -> str:
        return self.name.removeprefix("database_")


@dataclass(frozen=True)
class Entry:
    """A key/value pair of a filter or data object."""

    key: str
    key_span: Span
    value: JValue


@dataclass(frozen=True)
class SortKey:
    """One key of a read's ``sort``: a field (or an expression naming one, checked against
    the entity's columns at run time) and a direction (1, -1, "asc", "desc", or an
    expression giving one)."""

    field: str | None  # None: the key is the expression ``key``
    key: JString | None
    key_span: Span
    direction: int | None  # None: the expression ``direction_value``
    direction_value: JValue


@dataclass
class DbOp:
    operation: Operation
    operation_span: Span
    entity: str
    entity_span: Span
    filter: list[Entry]
    filter_span: Span | None
    data: list[Entry]
    data_span: Span | None
    limit: int | JString | None
    skip: int | JString | None
    span: Span
    sort: list[SortKey] = field(default_factory=list)
    sort_span: Span | None = None
    group: tuple[str, Span] | None = None  # an aggregate's `groupBy`
    aggregations: list[Entry] = field(default_factory=list)  # an aggregate's outputs
    aggregations_span: Span | None = None
    filter_expr: JString | None = None  # `"filter": "{{ $steps.build.output }}"`

    def values(self) -> Iterator[JValue]:
        """Every value of the operation that may hold expressions, besides filter and data."""
        if self.filter_expr is not None:
            yield self.filter_expr
        for v in (self.limit, self.skip):
            if isinstance(v, JString):
                yield v
        for k in self.sort:
            if k.key is not None:
                yield k.key
            if k.direction is None:
                yield k.direction_value


@dataclass(frozen=True)
class DbUse:
    """A database operation a node runs: for the tenant check and for lowering."""

    node: Node
    op: DbOp
    where: str  # "node `x`" or "task `t` of node `x`", for messages
    task: str | None


# ----------------------------------------------------------------------------- node kinds


@dataclass(frozen=True)
class ExprUse:
    """A parameter value a node reads, with the type its use expects (a column's type)."""

    value: JValue
    expected: Type | None = None
    optional: bool = False  # a `$json` field it reads as a whole may be absent (a template)


class NodeSpec(ABC):
    """A node's parsed parameters and everything the compiler needs to know about them."""

    @abstractmethod
    def expressions(self) -> Iterator[ExprUse]:
        """Every parameter value that may hold ``{{ }}`` expressions."""

    @abstractmethod
    def operations(self, node: Node) -> Iterator[DbUse]:
        """Every database operation the node runs (none for most kinds)."""

    @abstractmethod
    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        """The node's plan statements. A kind with several outputs lowers its branches
        itself (``lw.branch``); for the others the lowering appends what follows."""

    @abstractmethod
    def label(self) -> str:
        """What the node does, for the Mermaid picture (``read StreamChannel``)."""

    def secret(self) -> bool:
        """Whether the node's output is a secret (a hash, a token): never logged."""
        return False

    def json_fields(self, node: Node, bind: Binder) -> Iterator[str]:
        """``$json`` fields the node checks without naming them in an expression (a validate
        node's ``rules`` over ``$json``): optional inputs of the request."""
        return iter(())


@dataclass(frozen=True)
class NodeKind:
    """A node type: its description and its parser."""

    type: str
    versions: tuple[int, ...]
    summary: str
    parameters: tuple[ParamDoc, ...]
    parse: Callable[[ParamReader], NodeSpec | None]
    outputs: tuple[str, ...] = ("main",)  # a condition: ("true", "false")
    # The keys a node's parameters may have when they depend on its `operation` (an
    # operation of metabuilder.operation outside the database takes its own); None: all.
    keys: Callable[[JObject], tuple[str, ...] | None] | None = None

    @property
    def short(self) -> str:
        return self.type.removeprefix("metabuilder.")

    def allowed(self, params: JObject | None = None) -> tuple[str, ...]:
        if self.keys is not None and params is not None:
            own = self.keys(params)
            if own is not None:
                return own
        return tuple(p.name for p in self.parameters)
