"""Type-check an expression against its scope and translate it to a Python ``ast`` expression.

Where the static types settle JavaScript's meaning the output is plain Python
(``'stream:' + $json.channelId`` becomes ``"stream:" + json["channelId"]``); elsewhere it calls
the helpers of :mod:`runtime.js`. Temporaries for operands used twice are named from a
counter (``_t1``) and bound with ``:=``, so every operand is evaluated once, left to right.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from compiler import messages
from compiler.expressions import ast as js
from compiler.expressions import methods
from compiler.expressions.parser import ExpressionError
from compiler.expressions.types import (
    ANY,
    BOOL,
    DATE,
    NULL,
    NUM,
    OBJ,
    REGEXP,
    STR,
    UNDEF,
    ArrayOf,
    MapOf,
    Record,
    Type,
    UnionT,
    may_be_nullish,
    may_be_string,
    members,
    union,
    without,
)
from compiler.messages import Message, Text
from compiler.suggest import did_you_mean, or_else
from runtime import js as rt
from runtime import jsregex as regex


@dataclass(frozen=True)
class TExpr:
    node: ast.expr
    type: Type


@dataclass
class StepInfo:
    """What ``$steps.<id>`` refers to in generated code."""

    node_id: str
    output: TExpr | None
    tasks: dict[str, TExpr] = field(default_factory=dict)


@dataclass
class Scope:
    json: TExpr
    context: TExpr
    steps: Mapping[str, StepInfo] | None  # None: `$steps` is an untyped value (expr command)
    all_node_ids: frozenset[str] = frozenset()
    current_node: str | None = None
    # Paths proved present by an upstream validate node, bound to a local name:
    # ("$context", "user") -> TExpr(Name("user"), USER)
    narrowed: dict[tuple[str, ...], TExpr] = field(default_factory=dict)
    # Nodes upstream of this one that failed to compile (their error is already reported).
    failed: Callable[[str], bool] = lambda _: False
    # The `$env` names the package may read (an overlay's `env`, or the project's
    # configuration); None: `$env` is any value (the expr command).
    env: frozenset[str] | None = frozenset()
    # `$json` fields optional in `Input` that this node needs (a 400 naming one if absent).
    needed: frozenset[str] = frozenset()
    # Further roots of this node: a JSON Script loop's `$item` and `$parentJson`.
    roots: dict[str, TExpr] = field(default_factory=dict)


def _err(
    message: Message | Text,
    node: js.Expr | tuple[int, int],
    hint: str | None = None,
    kind: str = "CompileError",
) -> ExpressionError:
    start, end = (node.start, node.end) if not isinstance(node, tuple) else node
    text = message.format() if isinstance(message, Message) else message
    return ExpressionError(text.text, start, end, kind, hint, text.code)


def _name(n: str) -> ast.Name:
    return ast.Name(n, ast.Load())


def _attr(obj: str, name: str) -> ast.expr:
    return ast.Attribute(_name(obj), name, ast.Load())


def _call(fn: ast.expr, *args: ast.expr) -> ast.Call:
    return ast.Call(fn, list(args), [])


def _js(fn: str, *args: ast.expr) -> ast.Call:
    return _call(_attr("js", fn), *args)


def _const(v: float | str | bool | None) -> ast.expr:
    if isinstance(v, float):
        if math.isnan(v):
            return _attr("math", "nan")
        if math.isinf(v):
            return _attr("math", "inf") if v > 0 else ast.UnaryOp(ast.USub(), _attr("math", "inf"))
        if v == 0 and math.copysign(1.0, v) < 0:
            return ast.UnaryOp(ast.USub(), ast.Constant(0.0))
    return ast.Constant(v)


def _index(obj: ast.expr, key: str) -> ast.expr:
    return ast.Subscript(obj, ast.Constant(key), ast.Load())


def _ifexp(test: ast.expr, body: ast.expr, orelse: ast.expr) -> ast.expr:
    return ast.IfExp(test, body, orelse)


_GLOBALS = (
    "Math", "JSON", "Date", "Array", "Object", "String", "Number", "Boolean", "NaN", "Infinity",
)  # fmt: skip
_MATH_FUNCS = tuple(sorted(methods.names("Math")))
_MATH_CONSTS = {"PI": math.pi, "E": math.e}
_ROOTS = ("$json", "$context", "$steps")
_BLOCKED_PROPS = frozenset(
    ["constructor", "__proto__", "prototype", "__defineGetter__", "__defineSetter__",
     "__lookupGetter__", "__lookupSetter__", "hasOwnProperty", "isPrototypeOf",
     "propertyIsEnumerable", "valueOf"]
)  # fmt: skip
_KNOWN_METHODS = (
    methods.names("string")
    | methods.names("array")
    | methods.names("Date")
    | methods.names("number")
)
_ALL_PROTO_NAMES = _KNOWN_METHODS | frozenset(
    [
        "at",
        "charAt",
        "charCodeAt",
        "codePointAt",
        "concat",
        "endsWith",
        "includes",
        "indexOf",
        "lastIndexOf",
        "localeCompare",
        "match",
        "matchAll",
        "normalize",
        "padEnd",
        "padStart",
        "repeat",
        "replace",
        "replaceAll",
        "search",
        "slice",
        "split",
        "startsWith",
        "substring",
        "substr",
        "toLowerCase",
        "toUpperCase",
        "trim",
        "trimEnd",
        "trimStart",
        "every",
        "filter",
        "find",
        "findIndex",
        "findLast",
        "findLastIndex",
        "flat",
        "flatMap",
        "forEach",
        "keys",
        "map",
        "pop",
        "push",
        "reduce",
        "reduceRight",
        "reverse",
        "shift",
        "some",
        "sort",
        "splice",
        "unshift",
        "values",
        "entries",
        "fill",
        "copyWithin",
        "with",
        "toSorted",
        "toReversed",
        "toSpliced",
        "getFullYear",
        "getMonth",
        "getDate",
        "getDay",
        "getHours",
        "getMinutes",
        "getSeconds",
        "getMilliseconds",
        "getUTCFullYear",
        "getTimezoneOffset",
        "toDateString",
        "toUTCString",
        "toJSON",
    ]
)


class Translator:
    """Translates expressions of one handler; temporaries are numbered across the handler."""

    def __init__(self, scope: Scope, temp_prefix: str = "_t") -> None:
        self.scope = scope
        self.counter = 0
        self.prefix = temp_prefix
        self.imports: set[str] = set()
        self.locals: list[dict[str, TExpr]] = []  # arrow function scopes, innermost last

    # ------------------------------------------------------------------ helpers

    def temp(self) -> str:
        self.counter += 1
        return f"{self.prefix}{self.counter}"

    def bind(self, e: TExpr) -> tuple[ast.expr, ast.expr]:
        """Return (binding expression, later reference) for a value used twice."""
        if isinstance(e.node, (ast.Name, ast.Constant)):
            return e.node, e.node
        t = self.temp()
        return ast.NamedExpr(ast.Name(t, ast.Store()), e.node), _name(t)

    def box(self, e: TExpr) -> ast.expr:
        """The value as a JavaScript-domain object (unboxed Dates become JsDate)."""
        return self.boxed(e).node

    def boxed(self, e: TExpr) -> TExpr:
        """The value boxed, with its type: a boxed Date is a JsDate object, typed as any value.

        DATE is the only unboxed type, and it is never part of a union: operators that join
        operand types (``??``, ``&&``, ``||``, ``?:``) join boxed types.
        """
        if e.type == DATE:
            return TExpr(_js("JsDate", e.node), ANY)
        return e

    def truthy(self, e: TExpr) -> ast.expr:
        if e.type in (BOOL,):
            return e.node
        if all(m in (BOOL, STR) for m in members(e.type)):
            return e.node  # Python's truthiness of bool and str is JavaScript's
        return _js("truthy", self.box(e))

    def nullish_test(self, ref: ast.expr, t: Type) -> ast.expr:
        ms = members(t)
        tests: list[ast.expr] = []
        if t == ANY:
            return _js("is_nullish", ref)
        if NULL in ms:
            tests.append(ast.Compare(ref, [ast.Is()], [ast.Constant(None)]))
        if UNDEF in ms:
            tests.append(_call(_name("isinstance"), ref, _attr("js", "Undefined")))
        if not tests:
            return ast.Constant(False)
        return tests[0] if len(tests) == 1 else ast.BoolOp(ast.Or(), tests)

    def require_present(self, e: TExpr, key: str) -> TExpr:
        """Narrow away null/undefined, raising JavaScript's TypeError when the value is one."""
        if e.type == ANY or not may_be_nullish(e.type):
            return e
        rest = without(e.type, NULL, UNDEF)
        if rest == UNDEF:  # always null or undefined
            return TExpr(_js("present", e.node, ast.Constant(key)), ANY)
        bound, ref = self.bind(e)
        test = self.nullish_test(bound, e.type)
        raise_ = _js("present", ref, ast.Constant(key))
        return TExpr(_ifexp(test, raise_, ref), rest)

    # ------------------------------------------------------------------ entry point

    def translate(self, expr: js.Expr) -> TExpr:
        return self.tr(expr, [])

    def tr(self, e: js.Expr, guards: list[ast.expr]) -> TExpr:
        method = getattr(self, "tr_" + type(e).__name__)
        result: TExpr = method(e, guards)
        return result

    # ------------------------------------------------------------------ literals

    def tr_Num(self, e: js.Num, g: list[ast.expr]) -> TExpr:
        return TExpr(_const(e.value), NUM)

    def tr_Str(self, e: js.Str, g: list[ast.expr]) -> TExpr:
        return TExpr(ast.Constant(e.value), STR)

    def tr_Bool(self, e: js.Bool, g: list[ast.expr]) -> TExpr:
        return TExpr(ast.Constant(e.value), BOOL)

    def tr_Null(self, e: js.Null, g: list[ast.expr]) -> TExpr:
        return TExpr(ast.Constant(None), NULL)

    def tr_Undefined(self, e: js.Undefined, g: list[ast.expr]) -> TExpr:
        return TExpr(_attr("js", "UNDEFINED"), UNDEF)

    def to_str(self, e: TExpr) -> ast.expr:
        if e.type == STR:
            return e.node
        if e.type == NUM:
            return _js("number_to_string", e.node)
        if e.type == BOOL:
            return _ifexp(e.node, ast.Constant("true"), ast.Constant("false"))
        if e.type == DATE:
            return _js("date_to_string", e.node)
        return _js("to_string", self.box(e))

    def tr_Template(self, e: js.Template, g: list[ast.expr]) -> TExpr:
        parts: list[ast.expr] = []
        for i, q in enumerate(e.quasis):
            if q:
                parts.append(ast.Constant(q))
            if i < len(e.exprs):
                parts.append(self.to_str(self.tr(e.exprs[i], [])))
        if not parts:
            return TExpr(ast.Constant(""), STR)
        node = parts[0]
        if len(parts) == 1 and not isinstance(node, ast.Constant):
            return TExpr(node, STR)
        for p in parts[1:]:
            node = ast.BinOp(node, ast.Add(), p)
        return TExpr(node, STR)

    def tr_Array(self, e: js.Array, g: list[ast.expr]) -> TExpr:
        elts: list[ast.expr] = []
        for i in e.items:
            if isinstance(i, js.Spread):  # `...x`: x's elements (a TypeError if not iterable)
                elts.append(
                    ast.Starred(_js("spread_items", self.box(self.tr(i.value, []))), ast.Load())
                )
            else:
                elts.append(self.box(self.tr(i, [])))
        return TExpr(ast.List(elts, ast.Load()), ArrayOf(ANY))

    def tr_Object(self, e: js.Object, g: list[ast.expr]) -> TExpr:
        keys: list[ast.expr | None] = []
        values: list[ast.expr] = []
        for k, v in e.props:
            if isinstance(v, js.Spread):  # `...x`: x's own enumerable properties
                keys.append(None)
                values.append(_js("spread_props", self.box(self.tr(v.value, []))))
                continue
            keys.append(ast.Constant(k))
            values.append(self.box(self.tr(v, [])))
        return TExpr(ast.Dict(keys, values), OBJ)

    def tr_Regex(self, e: js.Regex, g: list[ast.expr]) -> TExpr:
        try:
            pattern, py_flags = regex.to_python(e.pattern, e.flags)
        except regex.RegexUnsupported as err:
            raise _err(
                messages.REGEX_FEATURE_UNSUPPORTED.format(err), e, messages.HINT__REGEX_FEATURES
            ) from None
        args = [ast.Constant(x) for x in (pattern, py_flags, e.pattern, e.flags)]
        return TExpr(_js("regexp", *args), REGEXP)

    def tr_Spread(self, e: js.Spread, g: list[ast.expr]) -> TExpr:
        raise _err(messages.SPREAD_UNSUPPORTED, e)

    def tr_Arrow(self, e: js.Arrow, g: list[ast.expr]) -> TExpr:
        raise _err(
            messages.ARROW_FUNCTION_PLACE,
            e,
            messages.HINT__ARROW_FUNCTION_PLACE.format(", ".join(sorted(CALLBACK_METHODS))),
        )

    # ------------------------------------------------------------------ names

    def tr_Ident(self, e: js.Ident, g: list[ast.expr]) -> TExpr:
        for frame in reversed(self.locals):
            if e.name in frame:
                return frame[e.name]
        if e.name == "$json":
            return self.scope.json
        if e.name in self.scope.roots:
            return self.scope.roots[e.name]
        if e.name == "$context":
            return self.scope.context
        if e.name == "$steps":
            return self.steps_value()
        if e.name == "NaN":
            return TExpr(_const(math.nan), NUM)
        if e.name == "Infinity":
            return TExpr(_const(math.inf), NUM)
        if e.name in _GLOBALS:
            raise _err(
                messages.ONLY_CALLABLE_AS_METHOD.format(e.name, e.name),
                e,
                (
                    messages.HINT__CALL_IT_E_G.format(e.name)
                    if e.name in ("String", "Number", "Boolean")
                    else None
                ),
            )
        suggestion = did_you_mean(e.name, _ROOTS + _GLOBALS)
        hint = or_else(suggestion, messages.HINT__EXPRESSIONS_READ_ROOTS)
        if e.name.startswith("$") and e.name[1:] in ("user", "tenantId", "tenant", "request"):
            field = e.name[1:] if e.name != "$tenant" else "tenantId"
            hint = messages.HINT__WRITE_CONTEXT_FIELD.format(field)
        raise _err(
            messages.ROOT_NOT_DEFINED.format(e.name),
            e,
            hint,
            kind="ReferenceError",
        )

    def steps_value(self) -> TExpr:
        if self.scope.steps is None:
            return TExpr(_name("steps"), ANY)
        keys: list[ast.expr | None] = []
        values: list[ast.expr] = []
        for sid, info in sorted(self.scope.steps.items()):
            keys.append(ast.Constant(sid))
            values.append(self.step_object(info))
        return TExpr(ast.Dict(keys, values), OBJ)

    def step_object(self, info: StepInfo) -> ast.expr:
        keys: list[ast.expr | None] = []
        values: list[ast.expr] = []
        if info.output is not None:
            keys.append(ast.Constant("output"))
            values.append(self.box(info.output))
        if info.tasks:
            keys.append(ast.Constant("tasks"))
            values.append(
                ast.Dict(
                    [ast.Constant(k) for k in sorted(info.tasks)],
                    [
                        ast.Dict([ast.Constant("output")], [self.box(info.tasks[k])])
                        for k in sorted(info.tasks)
                    ],
                )
            )
        return ast.Dict(keys, values)

    # ------------------------------------------------------------------ member access

    def static_key(self, e: js.Member) -> str | None:
        if e.name is not None:
            return e.name
        if isinstance(e.computed, js.Str):
            return e.computed.value
        if isinstance(e.computed, js.Num):
            return rt.number_to_string(e.computed.value)
        return None

    def path_of(self, e: js.Expr) -> tuple[str, ...] | None:
        if isinstance(e, js.Ident) and e.name in _ROOTS:
            return (e.name,)
        if isinstance(e, js.Member) and not e.optional:
            base = self.path_of(e.obj)
            key = self.static_key(e)
            if base is not None and key is not None:
                return (*base, key)
        return None

    def tr_Chain(self, e: js.Chain, g: list[ast.expr]) -> TExpr:
        guards: list[ast.expr] = []
        inner = self.tr(e.expr, guards)
        if not guards:
            return inner
        node = inner.node
        for test in reversed(guards):
            node = _ifexp(test, _attr("js", "UNDEFINED"), node)
        return TExpr(node, union(inner.type, UNDEF))

    def optional_base(self, base: TExpr, guards: list[ast.expr]) -> TExpr:
        """``base?.`` : short-circuit the chain when base is nullish; return the narrowed base."""
        if base.type != ANY and not may_be_nullish(base.type):
            return base
        bound, ref = self.bind(base)
        guards.append(self.nullish_test(bound, base.type))
        return TExpr(ref, without(base.type, NULL, UNDEF) if base.type != ANY else ANY)

    def tr_Member(self, e: js.Member, g: list[ast.expr]) -> TExpr:
        task = self.try_task(e)
        if task is not None:
            return task
        path = self.path_of(e)
        if path is not None and path in self.scope.narrowed:
            return self.scope.narrowed[path]
        key = self.static_key(e)
        if isinstance(e.obj, js.Ident) and e.obj.name == "$env" and not self.is_local("$env"):
            return self.env_value(e, key)
        if (
            isinstance(e.obj, js.Ident)
            and e.obj.name == "$json"
            and key in self.scope.needed
            and not e.optional
            and not self.is_local("$json")
            and isinstance(self.scope.json.type, Record)
        ):
            f = self.scope.json.type.field(key)
            if f is not None and not f.required:  # required here: present, or a 400
                jnode = self.scope.json.node
                test = ast.Compare(ast.Constant(key), [ast.In()], [jnode])
                absent = _call(_name("missing"), ast.Constant(key))
                return TExpr(_ifexp(test, _index(jnode, key), absent), f.type)
        if key is not None and key in _BLOCKED_PROPS:
            raise _err(
                messages.PROPERTY_BLOCKED.format(key),
                (e.name_start, e.end),
                messages.HINT__READ_DATA_FIELDS_ONLY,
            )
        # $steps.<id>... is resolved statically.
        if (
            isinstance(e.obj, js.Ident)
            and e.obj.name == "$steps"
            and self.scope.steps is not None
            and not e.optional
        ):
            return self.step_ref(e, key)
        if (
            isinstance(e.obj, js.Member)
            and isinstance(e.obj.obj, js.Ident)
            and e.obj.obj.name == "$steps"
            and self.scope.steps is not None
        ):
            return self.step_member(e, key, g)
        base = self.tr(e.obj, g)
        if e.optional:
            base = self.optional_base(base, g)
        if key is None:
            assert e.computed is not None
            # js.get raises JavaScript's TypeError, naming the key, when base is nullish.
            return self.dynamic_get(base, self.box(self.tr(e.computed, [])))
        return self.get_static(base, key, e)

    def is_local(self, name: str) -> bool:
        return any(name in frame for frame in self.locals)

    def env_value(self, e: js.Member, key: str | None) -> TExpr:
        """``$env.NAME``: the runtime's environment variable, for names the package allows
        (text, or undefined when the variable is not set)."""
        allowed = self.scope.env
        if key is None:
            raise _err(messages.ENV_COMPUTED, e, messages.HINT__ENV_NAME)
        if allowed is not None and key not in allowed:
            listed = ", ".join(sorted(allowed)) or "none"
            raise _err(
                messages.ENV_NOT_ALLOWED.format(key),
                (e.name_start, e.end),
                messages.HINT__ENV_ALLOW.format(key, listed),
            )
        return TExpr(_call(_name("env_value"), ast.Constant(key)), union(STR, UNDEF))

    def dynamic_get(self, base: TExpr, key: ast.expr) -> TExpr:
        return TExpr(_js("get", self.box(base), key), ANY)

    def get_static(self, base: TExpr, key: str, e: js.Member) -> TExpr:
        t = base.type
        if t == ANY:
            # A value of unknown type is read as a data object: `$json.search` is the field
            # `search`, not String.prototype.search (a method is only ever called).
            return TExpr(_js("get", base.node, ast.Constant(key)), ANY)
        base = self.require_present(base, key)
        t = base.type
        if isinstance(t, Record):
            f = t.field(key)
            if f is None:
                names = [x.name for x in t.fields]
                s = did_you_mean(key, names)
                hint = or_else(s, messages.HINT__RECORD_HAS.format(t.label, ", ".join(names)))
                raise _err(
                    messages.PROPERTY_NOT_IN_RECORD.format(t.label, key),
                    (e.name_start, e.end),
                    hint,
                )
            if f.required:
                return TExpr(_index(base.node, key), f.type)
            return TExpr(
                ast.Call(
                    ast.Attribute(base.node, "get", ast.Load()),
                    [ast.Constant(key), _attr("js", "UNDEFINED")],
                    [],
                ),
                union(f.type, UNDEF),
            )
        if isinstance(t, MapOf):
            return TExpr(
                ast.Call(
                    ast.Attribute(base.node, "get", ast.Load()),
                    [ast.Constant(key), _attr("js", "UNDEFINED")],
                    [],
                ),
                union(t.value, UNDEF),
            )
        if t == STR and key == "length":
            return TExpr(_js("str_length", base.node), NUM)
        if isinstance(t, ArrayOf) and key == "length":
            return TExpr(_call(_name("float"), _call(_name("len"), base.node)), NUM)
        self.check_not_method_ref(key, e)
        return TExpr(_js("get", self.box(base), ast.Constant(key)), ANY)

    def check_not_method_ref(self, key: str, e: js.Member) -> None:
        if key in _ALL_PROTO_NAMES:
            raise _err(
                messages.METHOD_NOT_CALLED.format(key, key),
                (e.name_start, e.end),
                messages.HINT__FUNCTIONS_ARE_NOT_VALUES,
            )

    def step_ref(self, e: js.Member, key: str | None) -> TExpr:
        steps = self.scope.steps
        assert steps is not None
        if key is None:
            raise _err(
                messages.STEPS_NEEDS_NODE_ID,
                e,
                messages.HINT__WRITE_STEPS_NODE_ID,
            )
        info = steps.get(key)
        if info is None and self.scope.failed(key):
            silent = _err(messages.STEP_NOT_ON_EVERY_PATH.format(key), (e.name_start, e.end))
            silent.silent = True  # its own error was reported at that node: no cascade
            raise silent
        if info is None:
            here = (
                messages.HINT__BEFORE_NODE.format(self.scope.current_node)
                if self.scope.current_node
                else ""
            )
            if key in self.scope.all_node_ids:
                msg = messages.STEP_NOT_ON_EVERY_PATH.format(key)
                hint = messages.HINT__STEPS_READS_ONLY_NODES.format(here)
            else:
                s = did_you_mean(key, sorted(steps))
                msg = messages.STEP_NOT_UPSTREAM.format(key)
                hint = or_else(
                    s,
                    (
                        messages.HINT__UPSTREAM_NODES.format(", ".join(sorted(steps)))
                        if steps
                        else messages.HINT__NO_NODE_RUNS_BEFORE
                    ),
                )
            raise _err(msg, (e.name_start, e.end), hint)
        return TExpr(self.step_object(info), OBJ)

    def step_member(self, e: js.Member, key: str | None, g: list[ast.expr]) -> TExpr:
        assert isinstance(e.obj, js.Member)
        steps = self.scope.steps
        assert steps is not None
        node_key = self.static_key(e.obj)
        self.step_ref(e.obj, node_key)  # reports unknown nodes
        assert node_key is not None
        info = steps[node_key]
        if key == "output" and info.output is not None:
            return info.output
        if key == "tasks" and info.tasks:
            raise _err(
                messages.TASK_OUTPUT_NOT_READ,
                e,
            )
        has = ["output"] if info.output is not None else []
        if info.tasks:
            has.append("tasks")
        s = did_you_mean(key or "", has)
        raise _err(
            messages.STEP_PROPERTY_UNKNOWN.format(node_key, key),
            (e.name_start, e.end),
            (or_else(s, messages.HINT__IT_HAS.format(", ".join(has) or "no output"))),
        )

    # ------------------------------------------------------------------ tasks: $steps.op.tasks.t.output

    def try_task(self, e: js.Member) -> TExpr | None:
        # e = $steps.<op>.tasks.<task>.output
        if self.scope.steps is None or e.name != "output" or not isinstance(e.obj, js.Member):
            return None
        t = e.obj
        if not (
            isinstance(t.obj, js.Member)
            and t.obj.name == "tasks"
            and isinstance(t.obj.obj, js.Member)
        ):
            return None
        op = t.obj.obj
        if not (isinstance(op.obj, js.Ident) and op.obj.name == "$steps"):
            return None
        op_key = self.static_key(op)
        self.step_ref(op, op_key)
        assert op_key is not None
        info = self.scope.steps[op_key]
        task = self.static_key(t)
        if task is None or task not in info.tasks:
            s = did_you_mean(task or "", sorted(info.tasks))
            raise _err(
                messages.TASK_NOT_DECLARED.format(op_key, task),
                (t.name_start, t.end),
                (
                    or_else(
                        s, messages.HINT__ITS_TASKS.format(", ".join(sorted(info.tasks)) or "none")
                    )
                ),
            )
        return info.tasks[task]

    # ------------------------------------------------------------------ calls

    def tr_New(self, e: js.New, g: list[ast.expr]) -> TExpr:
        if not e.args:
            return TExpr(_js("now_ms"), DATE)
        arg = self.tr(e.args[0], [])
        for extra in e.args[1:]:
            raise _err(
                messages.NEW_DATE_TOO_MANY_ARGUMENTS,
                extra,
                messages.HINT__PASS_AN_ISO_8601,
            )
        if arg.type == DATE:
            return arg
        if arg.type == STR:
            return TExpr(_js("date_parse", arg.node), DATE)
        return TExpr(_js("date_value", self.box(arg)), DATE)

    def tr_Call(self, e: js.Call, g: list[ast.expr]) -> TExpr:
        callee = e.callee
        if e.optional:
            raise _err(
                messages.OPTIONAL_CALL_UNSUPPORTED,
                e,
                messages.HINT__CALL_METHODS_DIRECTLY_A,
            )
        if isinstance(callee, js.Ident):
            return self.call_global(callee.name, e)
        if isinstance(callee, js.Member) and callee.name is not None:
            if (
                isinstance(callee.obj, js.Ident)
                and callee.obj.name in ("Math", "JSON", "Date", "Array", "Object")
                and not callee.optional
            ):
                return self.call_static(callee.obj.name, callee.name, e)
            receiver = self.tr(callee.obj, g)
            if callee.optional:
                receiver = self.optional_base(receiver, g)
            if callee.name in CALLBACK_METHODS and any(isinstance(a, js.Arrow) for a in e.args):
                return self.callback_method(receiver, callee.name, e)
            return self.call_method(receiver, callee.name, e)
        raise _err(
            messages.ONLY_BUILT_INS_CALLABLE,
            e,
            messages.HINT__SEE_PYTHON_M_COMPILER,
        )

    # ------------------------------------------------------------------ callbacks

    def callback_method(self, recv: TExpr, name: str, e: js.Call) -> TExpr:
        """``arr.map(x => ...)`` and the other array methods that take a function: the arrow
        becomes a Python lambda with JavaScript's callback arguments, typed from the array."""
        fn = e.args[0]
        if not isinstance(fn, js.Arrow):
            raise _err(messages.CALLBACK_NOT_FIRST, e.args[0], messages.HINT__CALLBACK_FIRST)
        rest = [self.tr(a, []) for a in e.args[1:]]
        recv = self.require_present(recv, name)
        t = recv.type
        if isinstance(t, ArrayOf):
            elem, arr = t.elem, recv.node
        elif t == ANY or isinstance(t, UnionT):
            elem, arr = ANY, _js("as_array", self.box(recv), ast.Constant(name))
            t = ArrayOf(ANY)
        else:
            raise _err(
                messages.PRIMITIVE_HAS_NO_METHOD.format(t, name),
                e,
                kind="TypeError",
            )
        if name == "reduce":
            kinds: list[Type] = [ANY, elem, NUM, t]
        elif name == "sort":
            kinds = [elem, elem]
        else:
            kinds = [elem, NUM, t]
        lam = self.arrow(fn, kinds, truth=name in _TRUTH_CALLBACKS, boxed=name != "sort")
        if name == "map":
            return TExpr(_js("array_map", arr, lam), ArrayOf(ANY))
        if name == "filter":
            return TExpr(_js("array_filter", arr, lam), t)
        if name in ("every", "some"):
            return TExpr(_js(f"array_{name}", arr, lam), BOOL)
        if name == "find":
            return TExpr(_js("array_find", arr, lam), union(elem, UNDEF))
        if name == "findIndex":
            return TExpr(_js("array_find_index", arr, lam), NUM)
        if name == "forEach":
            return TExpr(_js("array_for_each", arr, lam), UNDEF)
        if name == "flatMap":
            return TExpr(_js("array_flat_map", arr, lam), ArrayOf(ANY))
        if name == "sort":
            return TExpr(_js("array_sort", arr, lam), t)
        # reduce
        init = [self.box(rest[0])] if rest else []
        return TExpr(_js("array_reduce", arr, lam, *init), ANY)

    def arrow(self, fn: js.Arrow, kinds: list[Type], truth: bool, boxed: bool) -> ast.expr:
        """The lambda for ``fn`` given arguments of types ``kinds``; its body's value is
        boxed (a JavaScript value), a boolean (``truth``: filter, every...) or a number (a
        comparator)."""
        names = [self.temp() for _ in kinds]
        frame: dict[str, TExpr] = {}
        prologue: list[ast.expr] = []
        for i, p in enumerate(fn.params):
            value = TExpr(_name(names[i]), kinds[i]) if i < len(kinds) else None
            if p.name is not None:
                frame[p.name] = value or TExpr(_attr("js", "UNDEFINED"), UNDEF)
                continue
            source = self.box(value) if value is not None else _attr("js", "UNDEFINED")
            for j, n in enumerate(p.names):  # `[key, value]`: elements of the argument
                if n is None:
                    continue
                local = self.temp()
                item = _js("get", source, ast.Constant(n if p.by_name else str(j)))
                prologue.append(ast.NamedExpr(ast.Name(local, ast.Store()), item))
                frame[n] = TExpr(_name(local), ANY)
        self.locals.append(frame)
        try:
            if isinstance(fn.body, tuple):
                body = self.block(list(fn.body), fn)
            else:
                body = self.tr(fn.body, [])
        finally:
            self.locals.pop()
        if truth:
            value_node = self.truthy(body)
        elif boxed:
            value_node = self.box(body)
        else:
            value_node = self.to_num(body)
        if prologue:
            value_node = _sequence([*prologue, value_node])
        args = ast.arguments(
            posonlyargs=[],
            args=[ast.arg(n) for n in names],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        )
        return ast.Lambda(args, value_node)

    def block(self, stmts: list[js.Stmt], fn: js.Arrow) -> TExpr:
        """A function body as one expression: ``const``/``let`` bind locals (assignment
        expressions inside the lambda), ``if`` chooses, ``return`` ends; statements in order
        become a tuple whose last element is the value."""
        assigned = _assigned_names(stmts)
        frame: dict[str, TExpr] = {}
        self.locals.append(frame)
        try:
            return self._block(stmts, frame, assigned)
        finally:
            self.locals.pop()

    def _block(self, stmts: list[js.Stmt], frame: dict[str, TExpr], assigned: set[str]) -> TExpr:
        effects: list[ast.expr] = []
        for i, st in enumerate(stmts):
            if isinstance(st, js.Return):
                value = self.tr(st.value, []) if st.value is not None else _undef()
                return _then(effects, value)
            if isinstance(st, js.If) and _returns(st):
                test = self.truthy(self.tr(st.test, []))
                after = stmts[i + 1 :]
                then = self._branch([*st.then, *after], frame, assigned)
                other = self._branch([*(st.otherwise or ()), *after], frame, assigned)
                joined = self.join_types(then, other)
                return _then(effects, TExpr(_ifexp(test, joined[0], joined[1]), joined[2]))
            effects.append(self.effect(st, frame, assigned))
        return _then(effects, _undef())

    def _branch(self, stmts: list[js.Stmt], frame: dict[str, TExpr], assigned: set[str]) -> TExpr:
        inner = dict(frame)
        self.locals.append(inner)
        try:
            return self._block(stmts, inner, assigned)
        finally:
            self.locals.pop()

    def join_types(self, a: TExpr, b: TExpr) -> tuple[ast.expr, ast.expr, Type]:
        if a.type == b.type and a.type != DATE:
            return a.node, b.node, a.type
        return self.box(a), self.box(b), ANY

    def effect(self, st: js.Stmt, frame: dict[str, TExpr], assigned: set[str]) -> ast.expr:
        """A statement without ``return`` as an expression evaluated for what it does."""
        if isinstance(st, js.VarDecl):
            if st.const and st.name in assigned:
                raise _err(
                    messages.CONST_ASSIGNED.format(st.name),
                    (st.start, st.end),
                    messages.HINT__DECLARE_WITH_LET.format(st.name),
                    kind="TypeError",
                )
            local = self.temp()
            value = self.tr(st.init, []) if st.init is not None else _undef()
            if st.name in assigned:  # reassigned later: any value
                node: ast.expr = self.box(value)
                frame[st.name] = TExpr(_name(local), ANY)
            else:
                node = value.node
                frame[st.name] = TExpr(_name(local), value.type)
            return ast.NamedExpr(ast.Name(local, ast.Store()), node)
        if isinstance(st, js.Assign):
            new_value = self.box(self.tr(st.value, []))
            target = st.target
            if isinstance(target, js.Ident):
                cur = frame.get(target.name)
                if cur is None or not isinstance(cur.node, ast.Name):
                    raise _err(
                        messages.ASSIGNMENT_TO_UNDECLARED.format(target.name),
                        target,
                        messages.HINT__DECLARE_WITH_LET.format(target.name),
                    )
                return ast.NamedExpr(ast.Name(cur.node.id, ast.Store()), new_value)
            assert isinstance(target, js.Member)
            obj = self.box(self.tr(target.obj, []))
            key = (
                ast.Constant(target.name)
                if target.name is not None
                else (
                    self.box(self.tr(target.computed, []))
                    if target.computed is not None
                    else ast.Constant("undefined")
                )
            )
            return _js("set_prop", obj, key, new_value)
        if isinstance(st, js.If):
            test = self.truthy(self.tr(st.test, []))
            then = self.effects(st.then, frame, assigned)
            other = self.effects(st.otherwise or (), frame, assigned)
            return _ifexp(test, then, other)
        if isinstance(st, js.ExprStmt):
            return self.box(self.tr(st.expr, []))
        raise AssertionError(st)

    def effects(
        self, stmts: tuple[js.Stmt, ...], frame: dict[str, TExpr], assigned: set[str]
    ) -> ast.expr:
        """A branch without ``return``: its statements in their own block scope."""
        inner = dict(frame)
        self.locals.append(inner)
        try:
            return _sequence([self.effect(x, inner, assigned) for x in stmts] or [_const(None)])
        finally:
            self.locals.pop()

    def args(self, e: js.Call) -> list[TExpr]:
        return [self.tr(a, []) for a in e.args]

    def call_global(self, name: str, e: js.Call) -> TExpr:
        args = self.args(e)
        if name == "String":
            if len(args) == 1:
                return TExpr(self.to_str(args[0]), STR)
            return TExpr(_js("string_", *[self.box(a) for a in args]), STR)
        if name == "Number":
            if len(args) == 1 and args[0].type == NUM:
                return args[0]
            if len(args) == 1 and args[0].type == STR:
                return TExpr(_js("string_to_number", args[0].node), NUM)
            return TExpr(_js("number_", *[self.box(a) for a in args]), NUM)
        if name == "Boolean":
            if len(args) == 1 and args[0].type == BOOL:
                return args[0]
            return TExpr(_js("boolean_", *[self.box(a) for a in args]), BOOL)
        if name in ("Math", "JSON", "Date"):
            raise _err(
                messages.NOT_A_FUNCTION.format(name),
                e.callee,
                (messages.HINT__CALL_ONE_OF_ITS if name == "Date" else None),
                kind="TypeError",
            )
        if name in _ROOTS:
            raise _err(
                messages.NOT_A_FUNCTION.format(name),
                e.callee,
                kind="TypeError",
            )
        self.tr_Ident(js.Ident(name, e.callee.start, e.callee.end), [])
        raise _err(
            messages.NOT_CALLABLE.format(name),
            e,
        )

    def call_static(self, obj: str, name: str, e: js.Call) -> TExpr:
        args = self.args(e)
        boxed = [self.box(a) for a in args]
        if obj == "Math":
            if name not in _MATH_FUNCS:
                if name in _MATH_CONSTS:
                    raise _err(
                        messages.MATH_CONSTANT_CALLED.format(name),
                        e,
                        messages.HINT__WRITE_MATH_WITHOUT_PARENTHESES.format(name),
                        kind="TypeError",
                    )
                s = did_you_mean(name, _MATH_FUNCS)
                raise _err(
                    messages.MATH_FUNCTION_UNKNOWN.format(name),
                    e,
                    (
                        messages.HINT__DID_YOU_MEAN_MATH.format(s)
                        if s
                        else messages.HINT__SUPPORTED_MATH.format(", Math.".join(_MATH_FUNCS))
                    ),
                )
            m = methods.lookup("Math", name)
            assert m is not None
            return self.apply(m, None, boxed)
        if obj == "Array":
            if name != "isArray":
                raise _err(
                    messages.STATIC_FUNCTION_UNKNOWN.format(obj, name),
                    e,
                    messages.HINT__STATIC_FUNCTIONS.format("Array.isArray(value)"),
                )
            if not args:
                return TExpr(_const(False), BOOL)
            t = args[0].type
            if isinstance(t, ArrayOf):
                return TExpr(_js("first", _const(True), boxed[0]), BOOL)
            return TExpr(_js("is_array", boxed[0]), BOOL)
        if obj == "Object":
            if name not in ("keys", "values", "entries"):
                raise _err(
                    messages.STATIC_FUNCTION_UNKNOWN.format(obj, name),
                    e,
                    messages.HINT__STATIC_FUNCTIONS.format(
                        "Object.keys, Object.values, Object.entries"
                    ),
                )
            arg = boxed[0] if boxed else _attr("js", "UNDEFINED")
            result: Type = ArrayOf(STR) if name == "keys" else ArrayOf(ANY)
            return TExpr(_js(f"object_{name}", arg), result)
        if obj == "JSON":
            if name == "parse":
                # Any JSON value, never undefined (so JSON.stringify of it is a string).
                parsed = union(STR, NUM, BOOL, NULL, OBJ, ArrayOf(ANY))
                if not args:
                    return TExpr(_js("json_parse", _const("undefined")), parsed)
                return TExpr(_js("json_parse", self.to_str(args[0])), parsed)
            if name != "stringify":
                raise _err(
                    messages.JSON_FUNCTION_UNKNOWN.format(name),
                    e,
                    messages.HINT__ONLY_JSON_STRINGIFY_VALUE,
                )
            if len(args) > 1:
                raise _err(
                    messages.JSON_STRINGIFY_EXTRA_ARGUMENTS,
                    e.args[1],
                    messages.HINT__REPLACERS_AND_INDENTATION_ARE,
                )
            if not args:
                return TExpr(_attr("js", "UNDEFINED"), UNDEF)
            t = args[0].type
            result = STR if t != ANY and UNDEF not in members(t) else union(STR, UNDEF)
            fn = "to_json_text" if result == STR else "json_stringify"
            return TExpr(_js(fn, boxed[0]), result)
        # Date
        if name == "now":
            return TExpr(_js("now_ms"), NUM)
        if name == "parse" and args:
            return TExpr(_js("date_parse", self.to_str(args[0])), NUM)
        raise _err(
            messages.DATE_FUNCTION_UNKNOWN.format(name),
            e,
            messages.HINT__USE_DATE_NOW_DATE,
        )

    def call_method(self, recv: TExpr, name: str, e: js.Call) -> TExpr:
        if name in _BLOCKED_PROPS:
            raise _err(
                messages.PROPERTY_BLOCKED.format(name),
                e,
            )
        args = self.args(e)
        boxed = [self.box(a) for a in args]
        t = recv.type
        if t == ANY or (isinstance(t, UnionT) and not may_be_nullish(t)):
            if name not in _KNOWN_METHODS:
                self.unknown_method(name, _KNOWN_METHODS, "value", e)
            return TExpr(_js("call_method", self.box(recv), ast.Constant(name), *boxed), ANY)
        recv = self.require_present(recv, name)
        t = recv.type
        if t == REGEXP:
            if name != "test":
                self.unknown_method(name, frozenset(["test"]), "a regular expression", e)
            arg = [self.to_str(args[0])] if args else []
            return TExpr(_js("regexp_test", recv.node, *arg), BOOL)
        if t == STR:
            return self.string_method(recv.node, name, args, boxed, e)
        if isinstance(t, ArrayOf):
            return self.array_method(recv.node, name, args, boxed, e)
        if t == DATE:
            is_now = isinstance(recv.node, ast.Call) and _is_js_call(recv.node, "now_ms")
            if name == "toISOString" and not args and is_now:
                # The current time is always valid: formatted without a Date in between.
                self.imports.add("now_iso")
                return TExpr(_call(_name("now_iso")), STR)
            self.check_locale(name, e)
            m = methods.lookup("Date", name)
            if m is None:
                self.unknown_method(name, methods.names("Date"), "Date", e)
                raise AssertionError
            return self.apply(m, recv.node, boxed)
        if t == NUM and name in methods.names("number"):
            self.check_locale(name, e)
            m = methods.lookup("number", name)
            assert m is not None
            return self.apply(m, recv.node, boxed)
        if t in (NUM, BOOL):
            raise _err(
                messages.PRIMITIVE_HAS_NO_METHOD.format(t, name),
                e,
                (
                    messages.HINT__CONVERT_FIRST_E_G.format(name)
                    if name in methods.names("string")
                    else None
                ),
                kind="TypeError",
            )
        if name not in _KNOWN_METHODS:
            self.unknown_method(name, _KNOWN_METHODS, str(t), e)
        return TExpr(_js("call_method", self.box(recv), ast.Constant(name), *boxed), ANY)

    def check_locale(self, name: str, e: js.Call) -> None:
        """``toLocaleString`` formats as en-US: another locale is refused, not ignored."""
        if name != "toLocaleString" or not e.args:
            return
        arg = e.args[0]
        if not (isinstance(arg, js.Str) and arg.value == "en-US"):
            raise _err(
                messages.LOCALE_UNSUPPORTED,
                arg,
                messages.HINT__LOCALE_EN_US,
            )

    def unknown_method(self, name: str, known: frozenset[str], what: str, e: js.Call) -> None:
        s = did_you_mean(name, sorted(known))
        hint = or_else(s, messages.HINT__SUPPORTED_METHODS.format(", ".join(sorted(known))))
        start = e.callee.name_start if isinstance(e.callee, js.Member) else e.start
        raise _err(
            messages.METHOD_UNKNOWN.format(what, name),
            (start, e.callee.end),
            hint,
            kind="TypeError",
        )

    def string_method(
        self, s: ast.expr, name: str, args: list[TExpr], boxed: list[ast.expr], e: js.Call
    ) -> TExpr:
        plain_literal = (
            len(args) == 1
            and isinstance(args[0].node, ast.Constant)
            and isinstance(args[0].node.value, str)
            and not any(0xD800 <= ord(c) <= 0xDFFF for c in args[0].node.value)
        )
        if not args and name in ("toUpperCase", "toLowerCase"):
            py = "upper" if name == "toUpperCase" else "lower"
            return TExpr(_call(ast.Attribute(s, py, ast.Load())), STR)
        if name == "includes" and plain_literal:
            return TExpr(ast.Compare(args[0].node, [ast.In()], [s]), BOOL)
        if name in ("startsWith", "endsWith") and plain_literal:
            py = "startswith" if name == "startsWith" else "endswith"
            return TExpr(_call(ast.Attribute(s, py, ast.Load()), args[0].node), BOOL)
        m = methods.lookup("string", name)
        if m is None:
            self.unknown_method(name, methods.names("string"), "string", e)
            raise AssertionError
        return self.apply(m, s, boxed)

    def array_method(
        self, a: ast.expr, name: str, args: list[TExpr], boxed: list[ast.expr], e: js.Call
    ) -> TExpr:
        m = methods.lookup("array", name)
        if m is None:
            self.unknown_method(name, methods.names("array"), "array", e)
            raise AssertionError
        return self.apply(m, a, boxed)

    def apply(self, m: methods.Method, recv: ast.expr | None, args: list[ast.expr]) -> TExpr:
        """A call of method ``m`` on ``recv`` (None for Math): its helper with the arguments it
        reads; arguments past those are still evaluated, in order, and then dropped."""
        before = [] if recv is None else [recv]
        if not m.helper:
            assert recv is not None
            return TExpr(_js("first", recv, *args) if args else recv, m.result)
        if m.arity is None or len(args) <= m.arity:
            return TExpr(_js(m.helper, *before, *args), m.result)
        n = ast.Constant(len(before) + m.arity)
        return TExpr(_js("call_n", _attr("js", m.helper), n, *before, *args), m.result)

    # ------------------------------------------------------------------ operators

    def tr_Unary(self, e: js.Unary, g: list[ast.expr]) -> TExpr:
        x = self.tr(e.operand, [])
        if e.op == "!":
            if x.type in (BOOL, STR):
                return TExpr(ast.UnaryOp(ast.Not(), x.node), BOOL)
            return TExpr(_js("not_", self.box(x)), BOOL)
        if e.op == "-":
            if x.type == NUM:
                if isinstance(x.node, ast.Constant) and isinstance(x.node.value, float):
                    return TExpr(_const(-x.node.value), NUM)
                return TExpr(ast.UnaryOp(ast.USub(), x.node), NUM)
            return TExpr(_js("neg", self.box(x)), NUM)
        if e.op == "+":
            if x.type in (NUM, DATE):
                return TExpr(x.node, NUM)
            return TExpr(_js("to_number", self.box(x)), NUM)
        assert e.op == "typeof"
        return TExpr(_js("typeof", self.box(x)), STR)

    def tr_Binary(self, e: js.Binary, g: list[ast.expr]) -> TExpr:
        a = self.tr(e.left, [])
        b = self.tr(e.right, [])
        op = e.op
        if op == "+":
            return self.plus(a, b)
        numeric = {"-": ast.Sub(), "*": ast.Mult()}
        if op in numeric:
            if a.type in (NUM, DATE) and b.type in (NUM, DATE):
                return TExpr(ast.BinOp(a.node, numeric[op], b.node), NUM)
            return TExpr(_js({"-": "sub", "*": "mul"}[op], self.box(a), self.box(b)), NUM)
        if op in ("/", "%", "**"):
            fn = {"/": "div", "%": "mod", "**": "pow_"}[op]
            return TExpr(_js(fn, self.box(a), self.box(b)), NUM)
        if op in ("<", ">", "<=", ">="):
            if a.type in (NUM, DATE) and b.type in (NUM, DATE):
                rel: ast.cmpop = {"<": ast.Lt(), ">": ast.Gt(), "<=": ast.LtE(), ">=": ast.GtE()}[
                    op
                ]
                return TExpr(ast.Compare(self.cmp_operand(a), [rel], [self.cmp_operand(b)]), BOOL)
            fn = {"<": "lt", ">": "gt", "<=": "le", ">=": "ge"}[op]
            return TExpr(_js(fn, self.box(a), self.box(b)), BOOL)
        if (
            op in ("===", "!==", "==", "!=")
            and a.type == UNDEF
            and b.type == UNDEF
            and not isinstance(e.left, js.Undefined)
            and not isinstance(e.right, js.Undefined)
        ):  # two reads that can only be undefined: the answer never depends on the data
            raise _err(
                messages.COMPARES_UNDEFINED.format(op, "true" if op in ("===", "==") else "false"),
                e,
                messages.HINT__COMPARES_UNDEFINED,
            )
        if op in ("===", "!=="):
            same = a.type == b.type and a.type in (NUM, STR, BOOL)
            if same:
                pyop: ast.cmpop = ast.Eq() if op == "===" else ast.NotEq()
                return TExpr(ast.Compare(self.cmp_operand(a), [pyop], [self.cmp_operand(b)]), BOOL)
            call = _js("strict_eq", self.box(a), self.box(b))
            return TExpr(call if op == "===" else ast.UnaryOp(ast.Not(), call), BOOL)
        if op in ("==", "!="):
            same = a.type == b.type and a.type in (NUM, STR, BOOL)
            if same:
                pyop = ast.Eq() if op == "==" else ast.NotEq()
                return TExpr(ast.Compare(self.cmp_operand(a), [pyop], [self.cmp_operand(b)]), BOOL)
            call = _js("loose_eq", self.box(a), self.box(b))
            return TExpr(call if op == "==" else ast.UnaryOp(ast.Not(), call), BOOL)
        raise AssertionError(op)

    def cmp_operand(self, x: TExpr) -> ast.expr:
        # Integral number literals read better as ints in comparisons (`level >= 2`).
        if isinstance(x.node, ast.Constant) and isinstance(x.node.value, float):
            v = x.node.value
            if v.is_integer() and abs(v) < 2**53 and not (v == 0 and math.copysign(1, v) < 0):
                return ast.Constant(int(v))
        return x.node

    def plus(self, a: TExpr, b: TExpr) -> TExpr:
        if a.type == STR and b.type == STR:
            return TExpr(ast.BinOp(a.node, ast.Add(), b.node), STR)
        if a.type == NUM and b.type == NUM:
            return TExpr(ast.BinOp(a.node, ast.Add(), b.node), NUM)
        if a.type == STR:
            return TExpr(ast.BinOp(a.node, ast.Add(), self.to_str(b)), STR)
        if b.type == STR:
            return TExpr(ast.BinOp(self.to_str(a), ast.Add(), b.node), STR)
        if not may_be_string(a.type) and not may_be_string(b.type):
            return TExpr(ast.BinOp(self.to_num(a), ast.Add(), self.to_num(b)), NUM)
        return TExpr(_js("add", self.box(a), self.box(b)), union(STR, NUM))

    def to_num(self, x: TExpr) -> ast.expr:
        if x.type == NUM:
            return x.node
        return _js("to_number", self.box(x))

    def tr_Logical(self, e: js.Logical, g: list[ast.expr]) -> TExpr:
        a = self.tr(e.left, [])
        b = self.boxed(self.tr(e.right, []))
        if e.op == "??":
            if a.type != ANY and not may_be_nullish(a.type):
                return a
            bound, ref = self.bind(a)
            test = self.nullish_test(bound, a.type)
            if a.type in (NULL, UNDEF):  # always nullish: the value is the right side's
                return TExpr(_ifexp(test, b.node, ref), b.type)
            kept = without(a.type, NULL, UNDEF) if a.type != ANY else ANY
            return TExpr(_ifexp(test, b.node, ref), union(kept, b.type))
        if all(m in (BOOL, STR) for m in members(a.type)):
            # Python's `and`/`or` return operands with JavaScript's truthiness for bool and str.
            op: ast.boolop = ast.And() if e.op == "&&" else ast.Or()
            return TExpr(ast.BoolOp(op, [a.node, b.node]), union(a.type, b.type))
        left = self.boxed(a)
        bound, ref = self.bind(left)
        test = _js("truthy", bound)
        node = _ifexp(test, b.node, ref) if e.op == "&&" else _ifexp(test, ref, b.node)
        return TExpr(node, union(left.type, b.type))

    def tr_Conditional(self, e: js.Conditional, g: list[ast.expr]) -> TExpr:
        test = self.truthy(self.tr(e.test, []))
        then = self.tr(e.then, [])
        other = self.tr(e.otherwise, [])
        if then.type == DATE and other.type == DATE:
            return TExpr(_ifexp(test, then.node, other.node), DATE)
        then, other = self.boxed(then), self.boxed(other)
        return TExpr(_ifexp(test, then.node, other.node), union(then.type, other.type))


CALLBACK_METHODS = frozenset(
    ["map", "filter", "every", "some", "find", "findIndex", "forEach", "flatMap", "reduce", "sort"]
)
_TRUTH_CALLBACKS = frozenset(["filter", "every", "some", "find", "findIndex"])


def _undef() -> TExpr:
    return TExpr(_attr("js", "UNDEFINED"), UNDEF)


def _sequence(items: list[ast.expr]) -> ast.expr:
    """``(a, b, c)[-1]``: each item evaluated in order, the value of the last."""
    if len(items) == 1:
        return items[0]
    return ast.Subscript(ast.Tuple(items, ast.Load()), ast.Constant(-1), ast.Load())


def _then(effects: list[ast.expr], value: TExpr) -> TExpr:
    return TExpr(_sequence([*effects, value.node]), value.type) if effects else value


def _returns(st: js.Stmt) -> bool:
    """Whether a statement holds a ``return`` (so what follows it depends on its branch)."""
    if isinstance(st, js.Return):
        return True
    if isinstance(st, js.If):
        return any(_returns(x) for x in (*st.then, *(st.otherwise or ())))
    return False


def _assigned_names(stmts: list[js.Stmt] | tuple[js.Stmt, ...]) -> set[str]:
    out: set[str] = set()
    for st in stmts:
        if isinstance(st, js.Assign) and isinstance(st.target, js.Ident):
            out.add(st.target.name)
        elif isinstance(st, js.If):
            out |= _assigned_names(st.then) | _assigned_names(st.otherwise or ())
    return out


def _is_js_call(node: ast.Call, fn: str) -> bool:
    f = node.func
    return (
        isinstance(f, ast.Attribute)
        and f.attr == fn
        and isinstance(f.value, ast.Name)
        and f.value.id == "js"
    )
