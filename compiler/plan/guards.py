"""Guards that contradict each other: a condition without a connected false branch refuses
the request when false, so two guards on one path that test the same value for opposite
outcomes (``x`` then ``!x``; ``x === 'a'`` then ``x === 'b'``) refuse every request. It is
usually an if/else written as a chain (upstream's ``mark-as-read``)."""

from __future__ import annotations

from dataclasses import fields

from compiler import messages
from compiler.diagnostics import Diagnostics, Related
from compiler.expressions import ast as jsast
from compiler.graph import Graph
from compiler.model import Node
from compiler.plan.binding import Binder

_POSITIONS = frozenset({"start", "end", "name_start", "op_start"})


def shape(e: object) -> object:
    """An expression's structure without its positions (equal for the same text anywhere)."""
    if isinstance(e, tuple):
        return tuple(shape(x) for x in e)
    if hasattr(e, "__dataclass_fields__"):
        parts: list[object] = [type(e).__name__]
        for f in fields(e):  # type: ignore[arg-type]
            if f.name not in _POSITIONS:
                parts.append(shape(getattr(e, f.name)))
        return tuple(parts)
    return e


def _facts(e: jsast.Expr) -> list[tuple[object, object]]:
    """What a guard requires, as (subject, value) pairs: ``x`` is truthy (True), ``!x`` falsy
    (False), ``x === 'a'`` equal to 'a'. Only ``&&`` splits a guard into several facts."""
    if isinstance(e, jsast.Logical) and e.op == "&&":
        return _facts(e.left) + _facts(e.right)
    if isinstance(e, jsast.Unary) and e.op == "!":
        return [(shape(e.operand), False)]
    if isinstance(e, jsast.Binary) and e.op == "===":
        for a, b in ((e.left, e.right), (e.right, e.left)):
            if isinstance(b, jsast.Str | jsast.Num | jsast.Bool) and not isinstance(
                a, jsast.Str | jsast.Num | jsast.Bool
            ):
                return [(shape(a), ("eq", b.value))]
        return []
    return [(shape(e), True)]


def _clash(a: object, b: object) -> str | None:
    if (a is True and b is False) or (a is False and b is True):
        return "one requires what the other forbids"
    if isinstance(a, tuple) and isinstance(b, tuple) and a[1] != b[1]:
        return f"the same value cannot equal both {a[1]!r} and {b[1]!r}"
    if (a is False and isinstance(b, tuple) and b[1] not in ("", 0, False)) or (
        b is False and isinstance(a, tuple) and a[1] not in ("", 0, False)
    ):
        return "a falsy value cannot equal a truthy constant"
    return None


def check_guards(nodes: list[Node], graph: Graph, bind: Binder, diags: Diagnostics) -> None:
    from compiler.nodes.condition import ConditionSpec

    guards: list[tuple[Node, list[tuple[object, object]]]] = []
    for node in nodes:
        spec = node.spec
        outputs = graph.outputs.get(node.id, [])
        if not isinstance(spec, ConditionSpec) or any(outputs[1:]):
            continue
        tree = bind.whole_expression(spec.condition)
        if tree is not None:
            guards.append((node, _facts(tree)))
    for later, later_facts in guards:
        for earlier, earlier_facts in guards:
            if not graph.is_upstream(earlier.id, later.id):
                continue
            why = next(
                (
                    w
                    for s1, v1 in earlier_facts
                    for s2, v2 in later_facts
                    if s1 == s2 and (w := _clash(v1, v2)) is not None
                ),
                None,
            )
            if why is None:
                continue
            assert isinstance(later.spec, ConditionSpec) and isinstance(
                earlier.spec, ConditionSpec
            )
            diags.add(
                messages.GUARDS_CONTRADICT.format(later.id, earlier.id, why),
                later.spec.condition.span,
                node_id=later.id,
                hint=messages.HINT__GUARDS_CONTRADICT.format(earlier.id),
                related=(Related(earlier.spec.condition.span, messages.LABEL__EARLIER_GUARD),),
            )
            break
