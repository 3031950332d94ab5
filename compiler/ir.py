"""The execution plan: a closed set of statement classes that codegen renders.

Each statement names the workflow node it comes from and declares its nested blocks in
``blocks``, so a pass is a transformer over :meth:`Stmt.children` and :meth:`Stmt.map_blocks`
and never needs to know which classes nest. Values are Python ``ast`` expressions until
codegen decides their spelling; SQL parameters are typed values ``(role, entity field,
expression)``, as sqlc's ``Parameter{Number, Column}``, so a pass can ask "does this
statement filter the tenant field on the context tenant" without reading generated text.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Self

from compiler.expressions.types import Record, Type
from runtime.values import COMPARISONS as COMPARISONS  # one table for compiler and runtime

if TYPE_CHECKING:
    from compiler.graph import Graph
    from compiler.model import Entity, Node, Workflow


class Role(Enum):
    """What a SQL parameter binds; its value is the parameter name's prefix."""

    FILTER = "f"
    DATA = "d"
    LIMIT = "limit"
    SKIP = "skip"
    MAX_ROWS = "max_rows"


MEMBERSHIP = ("$in",)


@dataclass(frozen=True)
class Param:
    role: Role
    field: str | None  # the entity field a filter or data parameter binds
    column: str | None
    value: ast.expr
    op: str = "$eq"  # a filter's operator: a key of COMPARISONS or "$in"

    @property
    def name(self) -> str:
        """The SQL parameter's name: ``:f_<column>``, ``:d_<column>``, ``:limit``...; a filter
        with another operator than equality adds it (``:flt_<column>``)."""
        if self.column is None:
            return self.role.value
        op = "" if self.op == "$eq" else self.op[1:]
        return f"{self.role.value}{op}_{self.column}"

    @property
    def equality(self) -> bool:
        return self.op == "$eq"


def context_tenant() -> ast.expr:
    """``ctx["tenantId"]``: the only value a tenant parameter may bind."""
    return ast.Subscript(ast.Name("ctx", ast.Load()), ast.Constant("tenantId"), ast.Load())


def same(a: ast.expr, b: ast.expr) -> bool:
    """Structural equality of two Python expressions."""
    return ast.dump(a) == ast.dump(b)


def binds_context_tenant(p: Param) -> bool:
    return p.field == "tenantId" and p.equality and same(p.value, context_tenant())


@dataclass(frozen=True)
class DynamicOrder:
    """A sort whose key or direction comes from an expression: the statement's ``{order}``
    becomes one column of ``columns`` (the allow-list, field to quoted column) at run time."""

    name: str  # the module constant holding ``columns``
    columns: tuple[tuple[str, str], ...]
    key: ast.expr
    direction: ast.expr


@dataclass(frozen=True)
class DynamicFilter:
    """A filter given as an expression (an object a transform built): the statement's
    ``{filter}`` becomes its conditions at run time, over the keys the compiler checked
    (``columns``: field, quoted column, kind); values are always parameters."""

    name: str  # the module constant holding ``columns``
    columns: tuple[tuple[str, str, str], ...]
    value: ast.expr


DYNAMIC = "$dynamic"  # the operator of the marker parameter where `{filter}` goes


@dataclass(frozen=True)
class SqlText:
    """A named SQL constant of the generated module and the parameters it is called with;
    ``postgres`` is the statement's PostgreSQL spelling where it differs (``$in``)."""

    name: str
    sql: str
    params: tuple[Param, ...]
    postgres: str | None = None
    order: DynamicOrder | None = None
    filter: DynamicFilter | None = None


# ----------------------------------------------------------------------------- statements


@dataclass(eq=False)
class StmtBase:
    """What every statement class has; :data:`Stmt` is the closed union of them."""

    node: Node
    blocks: ClassVar[tuple[str, ...]] = ()  # fields holding nested statement lists
    writes: ClassVar[bool] = False

    def children(self) -> Iterator[Stmt]:
        for name in self.blocks:
            yield from getattr(self, name) or ()

    def map_blocks(self, fn: Callable[[list[Stmt]], list[Stmt]]) -> Self:
        """A copy whose nested blocks are ``fn`` of the originals (None blocks stay None)."""
        changes: dict[str, Any] = {
            b: fn(v) for b in self.blocks if (v := getattr(self, b)) is not None
        }
        return replace(self, **changes) if changes else self


@dataclass(eq=False)
class Sql(StmtBase):
    """A statement that runs SQL on an entity's table."""

    entity: Entity
    query: SqlText
    task: str | None  # the task of a metabuilder.operation node
    var: str | None  # the local holding the output; None when nobody reads it

    @property
    def step(self) -> str:
        """The name the execution history gives this statement: the node, or node.task."""
        return f"{self.node.id}.{self.task}" if self.task else self.node.id

    @property
    def params(self) -> tuple[Param, ...]:
        return self.query.params

    def filters(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.role is Role.FILTER)

    def equalities(self) -> tuple[Param, ...]:
        return tuple(p for p in self.filters() if p.equality)


@dataclass(frozen=True)
class NotFound:
    message: str
    code: str


@dataclass(eq=False)
class Lookup(Sql):
    """One row by primary or unique key; none is a 404 (or, with ``not_found`` None, the
    output is null: a later condition tests the row for null)."""

    decoder: str | None  # None: nobody reads the row, the statement selects ``1``
    not_found: NotFound | None


@dataclass(eq=False)
class ForEach(Sql):
    """Rows by a non-unique filter; the body runs once per row (n8n's item semantics)."""

    decoder: str
    body: list[Stmt] = field(default_factory=list)
    blocks: ClassVar[tuple[str, ...]] = ("body",)


@dataclass(eq=False)
class Rows(Sql):
    """Rows by a non-unique filter, as one list (the output is the array of rows)."""

    decoder: str


@dataclass(eq=False)
class Count(Sql):
    pass


@dataclass(eq=False)
class Aggregate(Sql):
    """``database_aggregate``: with ``group``, one row per group; else one row."""

    group: str | None  # the grouped field
    group_decoder: str | None  # the db_* function that reads the group's value
    values: tuple[tuple[str, str], ...]  # (output name, "number" or "number|null")


@dataclass(eq=False)
class PerOwnerLimit:
    """``staticData.maxSubscriptionsPerUser`` on a create: at most ``limit`` rows whose
    ``owner`` fields hold the same values; creates of one owner are serialized."""

    limit: int
    owner: tuple[Param, ...]  # the data parameters that identify the owner (tenant, user)


@dataclass(eq=False)
class Insert(Sql):
    decoder: str
    existing: SqlText | None  # the row a unique conflict returns instead
    limit: PerOwnerLimit | None
    writes: ClassVar[bool] = True


@dataclass(eq=False)
class RowWrite(Sql):
    """An update or delete. By a unique key: one row, none is a 404, the output is the row
    (or nothing); by another filter: the output is how many rows it touched."""

    decoder: str | None
    not_found: NotFound | None
    release: str | None  # a deleted row's key column: it releases the streams it holds
    fused: list[Node] = field(default_factory=list)  # lookups this statement answers for
    writes: ClassVar[bool] = True


@dataclass(eq=False)
class Update(RowWrite):
    pass


@dataclass(eq=False)
class Delete(RowWrite):
    pass


@dataclass(eq=False)
class Reuse(StmtBase):
    """A primary-key lookup of a row an earlier statement of this execution already holds."""

    lookup: Lookup
    source: str  # the local holding that row


@dataclass(eq=False)
class Parallel(StmtBase):
    tasks: list[Stmt]
    blocks: ClassVar[tuple[str, ...]] = ("tasks",)


@dataclass(eq=False)
class Validate(StmtBase):
    value: ast.expr
    validator: str
    message: str
    field: str | None  # the `$json` field a VALIDATION_FAILED names
    auth: bool  # a check of `$context.user...`: failing is 401 AUTH_REQUIRED, else 400


@dataclass(frozen=True)
class RuleCheck:
    """One rule of a validate node's ``rules``: when ``fails`` holds, 400 naming the field."""

    rule: str
    fails: ast.expr
    message: str


@dataclass(frozen=True)
class FieldRules:
    """The rules of one field, read once into ``local``: ``required`` first; the others only
    when the value is present."""

    field: str
    local: str
    required: RuleCheck | None
    checks: tuple[RuleCheck, ...]


@dataclass(eq=False)
class CheckRules(StmtBase):
    """A validate node with ``rules``: its input in a local, then each rule as direct code."""

    var: str
    value: ast.expr
    fields: tuple[FieldRules, ...]
    queries: tuple[SqlText, ...] = ()  # `unique:Entity` existence queries


@dataclass(eq=False)
class RequireUser(StmtBase):
    """A validate node on ``$context.user``: binds the local ``user`` (401 when absent)."""

    attribute: str | None  # `$context.user.<attribute>` must also be truthy
    message: str


@dataclass(frozen=True)
class Refusal:
    """What a guard answers when its condition is false."""

    status: int
    code: str
    message: str


@dataclass(eq=False)
class Condition(StmtBase):
    test: ast.expr
    then: list[Stmt]
    otherwise: list[Stmt] | None  # None: a guard; false refuses the request
    required_level: int | None  # meta.permissions.minimumUserLevel: a 403 with details
    user_level: ast.expr
    refusal: Refusal | None = None  # a guard's answer; None: 403 CONDITION_FAILED
    blocks: ClassVar[tuple[str, ...]] = ("then", "otherwise")


@dataclass(eq=False)
class ScopeCheck(StmtBase):
    scope: str
    binds_user: bool  # no earlier node bound the user: check it here (401 first)


@dataclass(eq=False)
class Emit(StmtBase):
    channel: ast.expr
    event: str
    data: ast.expr


@dataclass(eq=False)
class Respond(StmtBase):
    status: int
    body: ast.expr
    headers: tuple[tuple[str, ast.expr], ...] = ()


@dataclass(eq=False)
class Stream(StmtBase):
    channel: ast.expr
    on_connect: ast.expr
    retry_ms: int | None
    timeout_ms: int | None
    held_by: tuple[str, ast.expr] | None  # (table, key) of the row that holds the stream


@dataclass(eq=False)
class Log(StmtBase):
    message: ast.expr
    level: str = "info"


@dataclass(eq=False)
class Let(StmtBase):
    """A value computed once for later nodes (a transform node's output)."""

    var: str
    value: ast.expr
    annotation: str | None = None  # the TypedDict of an object output


@dataclass(eq=False)
class Effect(StmtBase):
    """A call outside the database whose result the workflow may read: a rate limit, a hash,
    a token, an HTTP request, media analysis (``runtime/effects``)."""

    detail: str  # what it does, for the header comment and the picture
    call: ast.expr
    var: str | None  # the local holding the result; None when nobody reads it
    awaits: bool = True
    outside: bool = False  # waits on I/O: the placement pass may end the transaction first
    detach: bool = False  # set by the placement pass: nothing was written before it
    annotation: str | None = None


@dataclass(eq=False)
class Loop(StmtBase):
    """A JSON Script ``forEach``: its body once per element of a list (``$item``)."""

    var: str
    items: ast.expr
    body: list[Stmt] = field(default_factory=list)
    blocks: ClassVar[tuple[str, ...]] = ("body",)


@dataclass(eq=False)
class Queued(StmtBase):
    """An effect nobody waits for (a mail, an unread HTTP call, deleting files): written to
    the outbox in the execution's transaction, delivered after the commit."""

    detail: str
    call: ast.expr
    var: str | None
    writes: ClassVar[bool] = True


Stmt = (
    Validate
    | CheckRules
    | RequireUser
    | Lookup
    | ForEach
    | Rows
    | Count
    | Aggregate
    | Insert
    | Update
    | Delete
    | Reuse
    | Parallel
    | Condition
    | ScopeCheck
    | Emit
    | Respond
    | Stream
    | Log
    | Let
    | Effect
    | Queued
    | Loop
)

SqlStmt = Lookup | ForEach | Rows | Count | Aggregate | Insert | Update | Delete


def walk(stmts: list[Stmt]) -> Iterator[Stmt]:
    """Every statement, nested ones included, in execution order."""
    for s in stmts:
        yield s
        yield from walk(list(s.children()))


# ----------------------------------------------------------------------------- plan


@dataclass
class InputField:
    name: str
    type: Type
    required: bool
    description: str
    from_path: bool


@dataclass
class Plan:
    workflow: Workflow
    graph: Graph
    inputs: list[InputField]
    body: list[Stmt]
    checks_user: bool
    records: list[Record] = field(default_factory=list)  # TypedDicts of transform outputs
    constants: list[tuple[str, object]] = field(default_factory=list)  # mail templates...

    def sql(self) -> list[SqlText]:
        """The SQL constants the statements use, sorted by name."""
        out: dict[str, SqlText] = {}
        for s in walk(self.body):
            if isinstance(s, Sql):
                out[s.query.name] = s.query
            if isinstance(s, Insert) and s.existing is not None:
                out[s.existing.name] = s.existing
            if isinstance(s, CheckRules):
                out.update((q.name, q) for q in s.queries)
        return [out[k] for k in sorted(out)]

    @property
    def not_found(self) -> NotFound | None:
        """The first 404 the workflow can answer (what a caller from another tenant sees)."""
        for s in walk(self.body):
            if isinstance(s, Lookup | RowWrite) and s.not_found is not None:
                return s.not_found
        return None

    @property
    def writes(self) -> bool:
        return any(s.writes for s in walk(self.body))

    @property
    def streams(self) -> bool:
        """Whether an execution may answer with an event stream (the runtime checks its
        stream caps before running the workflow, so a refusal writes nothing)."""
        return any(isinstance(s, Stream) for s in walk(self.body))

    @property
    def auth_required(self) -> str | None:
        """The 401 message when every execution requires a user before anything that could
        branch: the runtime then refuses a request without one before reading its body."""
        for s in self.body:
            if isinstance(s, RequireUser):
                return s.message
            if isinstance(s, ScopeCheck) and s.binds_user:
                return "User authentication required"
            if isinstance(s, Condition | ForEach | Parallel | Respond | Stream):
                return None  # past here, not every path may need the user
        return None

    @property
    def fan_out(self) -> bool:
        return any(isinstance(s, ForEach) for s in walk(self.body))

    @property
    def returns(self) -> str:
        """ "stream", "json" when every path answers with http_response, else "ok"."""
        kinds = {type(s) for s in walk(self.body)}
        if Stream in kinds:
            return "stream"
        return "json" if Respond in kinds else "ok"

    @property
    def schedule_tenants(self) -> tuple[str, dict[str, object]] | None:
        """For a scheduled workflow that starts by reading rows with a constant filter, the
        query of the tenants that have such rows: a scheduled run is for each of them."""
        first = next((s for s in self.body if isinstance(s, Sql)), None)
        if not isinstance(first, ForEach) or "tenantId" not in first.entity.fields:
            return None
        from compiler import sql

        params: dict[str, object] = {}
        for p in first.filters():
            if binds_context_tenant(p):
                continue
            try:
                params[p.name] = ast.literal_eval(p.value)
            except ValueError:
                return None
        return (
            sql.tenants_with_rows(first.entity, [p for p in first.filters() if p.name in params]),
            params,
        )

    def tenant_nodes(self) -> set[str]:
        """The nodes whose statements bind the context tenant (the Mermaid picture marks
        them), a lookup fused into the update that answers for it included."""
        out: set[str] = set()
        for s in walk(self.body):
            if isinstance(s, Sql) and any(binds_context_tenant(p) for p in s.params):
                out.add(s.node.id)
                if isinstance(s, RowWrite):
                    out.update(f.id for f in s.fused)
        return out
