"""Operations of ``metabuilder.operation`` outside the database: every module of this package
that defines ``EFFECT`` (``bcrypt_hash``, ``email_send``, ``analyze_image``...).

An effect lowers to an :class:`~compiler.ir.Effect` (a call whose result later nodes may read,
``outside`` when it waits on I/O) or a :class:`~compiler.ir.Queued` (written to the outbox,
delivered after the commit). The helpers here build the runtime calls the modules share.
"""

from __future__ import annotations

import ast
import functools
from typing import TYPE_CHECKING

from compiler.expressions.translate import TExpr
from compiler.expressions.types import Type
from compiler.ir import Effect, Queued, Stmt
from compiler.load import JValue
from compiler.model import Node
from compiler.nodes.base import Variant, variants

if TYPE_CHECKING:
    from compiler.plan.lower import Lowering


EffectOp = Variant


@functools.cache
def _effects() -> dict[str, Variant]:
    return variants(__name__, "EFFECT")


def __getattr__(name: str) -> object:
    if name == "EFFECTS":  # built on first use, once every stage has loaded
        return _effects()
    raise AttributeError(name)


EFFECTS: dict[str, Variant]


def call(function: str, *args: ast.expr) -> ast.Call:
    """``function(*args)``: a runtime function the module imports (``compiler.names``)."""
    return ast.Call(ast.Name(function, ast.Load()), list(args), [])


def ex() -> ast.Name:
    return ast.Name("ex", ast.Load())


def const(value: str | int | bool | None) -> ast.Constant:
    return ast.Constant(value)


def value(lw: Lowering, node: Node, v: JValue | None) -> ast.expr:
    """A parameter's value boxed as a JSON value (``js.UNDEFINED`` when absent)."""
    if v is None:
        return ast.Attribute(ast.Name("js", ast.Load()), "UNDEFINED", ast.Load())
    return lw.bind.boxed(v, node)


def read_by_later_nodes(lw: Lowering, node: Node) -> bool:
    return node.id in lw.bind.step_reads


def result(
    lw: Lowering,
    node: Node,
    detail: str,
    fn: ast.expr,
    out: Type,
    *,
    awaits: bool = True,
    outside: bool = False,
) -> list[Stmt]:
    """The effect as a statement; its result is ``$steps.<node>.output`` of type ``out``."""
    return [Effect(node, detail, fn, _output(lw, node, out), awaits=awaits, outside=outside)]


def queued(lw: Lowering, node: Node, detail: str, fn: ast.expr, out: Type | None) -> list[Stmt]:
    """An effect written to the outbox; what the queueing returns (a mail's Message-ID) is
    ``$steps.<node>.output`` of type ``out`` (None: nothing to read)."""
    return [Queued(node, detail, fn, _output(lw, node, out) if out is not None else None)]


def _output(lw: Lowering, node: Node, out: Type) -> str | None:
    """The local holding the node's output, when a later node reads it."""
    if not read_by_later_nodes(lw, node):
        return None
    var = lw.names.take(node.id)
    lw.bind.set_output(node, TExpr(ast.Name(var, ast.Load()), out))
    return var
