"""Syntax tree of the ``{{ }}`` JavaScript subset.

Every node carries ``start`` and ``end``: character offsets into the expression text, which
:mod:`compiler.expressions.template` maps back to a line and column in the workflow file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Num:
    value: float
    start: int
    end: int


@dataclass(frozen=True)
class Str:
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Template:
    """A template literal: ``quasis[0] ${exprs[0]} quasis[1] ...``."""

    quasis: tuple[str, ...]
    exprs: tuple[Expr, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Bool:
    value: bool
    start: int
    end: int


@dataclass(frozen=True)
class Null:
    start: int
    end: int


@dataclass(frozen=True)
class Undefined:
    start: int
    end: int


@dataclass(frozen=True)
class Ident:
    """``$json``, ``$context``, ``$steps``, or a global such as ``Math`` or ``NaN``."""

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class Member:
    """``obj.name``, ``obj[expr]``; ``optional`` for ``?.``."""

    obj: Expr
    name: str | None
    computed: Expr | None
    optional: bool
    start: int
    end: int
    name_start: int = 0


@dataclass(frozen=True)
class Call:
    callee: Expr
    args: tuple[Expr, ...]
    optional: bool
    start: int
    end: int


@dataclass(frozen=True)
class New:
    callee: Ident
    args: tuple[Expr, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Chain:
    """The extent of an optional chain: ``a?.b.c`` short-circuits as a whole."""

    expr: Expr
    start: int
    end: int


@dataclass(frozen=True)
class Unary:
    op: str  # "!", "-", "+", "typeof"
    operand: Expr
    start: int
    end: int


@dataclass(frozen=True)
class Binary:
    op: str  # arithmetic, comparison, equality
    left: Expr
    right: Expr
    start: int
    end: int
    op_start: int = 0


@dataclass(frozen=True)
class Logical:
    op: str  # "&&", "||", "??"
    left: Expr
    right: Expr
    start: int
    end: int


@dataclass(frozen=True)
class Conditional:
    test: Expr
    then: Expr
    otherwise: Expr
    start: int
    end: int


@dataclass(frozen=True)
class Array:
    items: tuple[Expr, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Object:
    props: tuple[tuple[str, Expr], ...]
    start: int
    end: int


@dataclass(frozen=True)
class Regex:
    """A regular expression literal ``/pattern/flags``."""

    pattern: str
    flags: str
    start: int
    end: int


@dataclass(frozen=True)
class Spread:
    """``...value`` in an array or object literal (in an object: the key ``"..."``)."""

    value: Expr
    start: int
    end: int


@dataclass(frozen=True)
class Param:
    """An arrow function's parameter: a name, or ``[a, b]`` (``names``, None for a hole)."""

    name: str | None
    names: tuple[str | None, ...]
    start: int
    end: int
    by_name: bool = False  # `{ a, b }`: the argument's properties, not its elements


@dataclass(frozen=True)
class VarDecl:
    """``const name = init;`` or ``let name = init;`` in an arrow function's block."""

    name: str
    init: Expr | None
    const: bool
    start: int
    end: int


@dataclass(frozen=True)
class Assign:
    """``target = value;``: a local (``let``) or a property (``acc[key] = value``)."""

    target: Expr
    value: Expr
    start: int
    end: int


@dataclass(frozen=True)
class If:
    test: Expr
    then: tuple[Stmt, ...]
    otherwise: tuple[Stmt, ...] | None
    start: int
    end: int


@dataclass(frozen=True)
class Return:
    value: Expr | None
    start: int
    end: int


@dataclass(frozen=True)
class ExprStmt:
    expr: Expr
    start: int
    end: int


Stmt = VarDecl | Assign | If | Return | ExprStmt


@dataclass(frozen=True)
class Arrow:
    """``(a, b) => expr`` or ``x => { statements }``: only as the callback of an array
    method (``map``, ``filter``, ``reduce``...)."""

    params: tuple[Param, ...]
    body: Expr | tuple[Stmt, ...]
    start: int
    end: int


Expr = (
    Num
    | Str
    | Template
    | Bool
    | Null
    | Undefined
    | Ident
    | Member
    | Call
    | New
    | Chain
    | Unary
    | Binary
    | Logical
    | Conditional
    | Array
    | Object
    | Spread
    | Arrow
    | Regex
)


def children(e: Expr) -> list[Expr]:
    """The sub-expressions of ``e`` (object literal keys that are names are not)."""
    out: list[Expr] = []
    for v in vars(e).values():
        items = v if isinstance(v, tuple) else (v,)
        for x in items:
            if isinstance(x, tuple):  # object literal properties: (key, value)
                out.extend(y for y in x if not isinstance(y, str))
            elif hasattr(x, "start") and hasattr(x, "end"):
                out.append(x)
    return out


def walk(e: Expr) -> Iterator[Expr]:
    """``e`` and every expression inside it, without recursion."""
    stack = [e]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(children(x))


def depth(e: Expr) -> int:
    """How deep the tree is (a leaf is 1), without recursion."""
    deepest = 0
    stack = [(e, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in children(node))
    return deepest
