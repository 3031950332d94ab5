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
from compiler.ir import Effect, Stmt
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
    t = lw.bind.value(v, node)
    if t is None:
        return const(None)
    return lw.bind.translator_for(node).box(t)


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
    var = lw.names.take(node.id) if read_by_later_nodes(lw, node) else None
    if var is not None:
        lw.bind.set_output(node, TExpr(ast.Name(var, ast.Load()), out))
    return [Effect(node, detail, fn, var, awaits=awaits, outside=outside)]
