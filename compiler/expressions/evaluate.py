"""The ``expr`` command: translate one expression, and evaluate it on sample data.

This is an authoring and testing tool of the compiler. The translated Python is compiled
into a function once per expression; the served application never evaluates text.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from dataclasses import dataclass

from compiler.expressions.parser import ExpressionError, parse_expression
from compiler.expressions.translate import Scope, TExpr, Translator
from compiler.expressions.types import ANY, CONTEXT, DATE
from compiler.names import imported
from runtime import js
from runtime.context import context_from_json

Evaluator = Callable[[object, object, object], object]


@dataclass(frozen=True)
class Translation:
    source: str  # the Python expression
    evaluator: Evaluator


def expr_scope() -> Scope:
    return Scope(
        json=TExpr(ast.Name("json", ast.Load()), ANY),
        context=TExpr(ast.Name("context", ast.Load()), CONTEXT),
        steps=None,
    )


def translate_expression(text: str) -> Translation:
    """Translate ``text``; raises ExpressionError when it is not in the subset."""
    tree = parse_expression(text)
    tr = Translator(expr_scope())
    result = tr.translate(tree)
    node = tr.box(result) if result.type == DATE else result.node
    expr = ast.Expression(node)
    ast.fix_missing_locations(expr)
    source = ast.unparse(expr)
    fn = ast.Lambda(
        ast.arguments(
            [], [ast.arg("json"), ast.arg("context"), ast.arg("steps")], None, [], [], None, []
        ),
        node,
    )
    module = ast.Expression(fn)
    ast.fix_missing_locations(module)
    code = compile(module, "<expression>", "eval")
    namespace = imported({"js", "math", *tr.imports})
    evaluator: Evaluator = eval(code, namespace)
    return Translation(source, evaluator)


def result_line(value: object) -> dict[str, object]:
    if value is js.UNDEFINED:
        return {"undefined": True}
    return {"value": json.loads(js.to_json_text(value))}


def evaluate(
    translation: Translation, data: object, context: object, steps: object
) -> dict[str, object]:
    """Run a translation on JSON data: ``{"value": v}``, ``{"undefined": true}`` or ``{"error": kind}``."""
    try:
        ctx = context_from_json(context if context is not None else {"tenantId": ""})
    except ValueError as err:
        return {"error": "InvalidContext", "message": str(err)}
    try:
        value = translation.evaluator(js.from_json(data), ctx, js.from_json(steps))
        return result_line(value)
    except js.JsError as err:
        return {"error": err.kind}
    except RecursionError:
        return {"error": "RangeError"}


def run_line(
    line: dict[str, object], cache: dict[str, Translation | ExpressionError]
) -> dict[str, object]:
    text = line.get("expr")
    if not isinstance(text, str):
        return {"error": "InvalidInput", "message": "each line needs a string `expr`"}
    entry = cache.get(text)
    if entry is None:
        try:
            entry = translate_expression(text)
        except ExpressionError as err:
            entry = err
        cache[text] = entry
    if isinstance(entry, ExpressionError):
        return {"error": entry.kind, "message": entry.message}
    data = line.get("json", {})
    steps = line.get("steps", {})
    return evaluate(entry, data, line.get("context"), steps)
