"""``metabuilder.validate``: check one value with a validator; a failure answers 401 (the
user) or 400 ``VALIDATION_FAILED`` naming the ``$json`` field.

With ``rules`` (``{"email": "required|email", "name": "string|minLength:2"}``) it checks the
fields of ``input`` instead, each rule compiled to a direct test: ``required``, ``string``,
``number``, ``boolean``, ``array``, ``email``, ``uuid``, ``minLength:n``, ``maxLength:n``,
``min:n``, ``max:n``, ``regex:/.../flags``, ``same:field``, ``different:field``. Rules other
than ``required`` pass when the field is absent. A failure is 400 ``VALIDATION_FAILED`` with
the ``field`` and the ``rule``."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from compiler import messages, sql
from compiler.diagnostics import Span
from compiler.expressions import ast as jsast
from compiler.expressions.translate import TExpr
from compiler.expressions.types import ANY, DATE, USER
from compiler.ir import (
    CheckRules,
    FieldRules,
    Param,
    RequireUser,
    Role,
    RuleCheck,
    SqlText,
    Stmt,
    Validate,
    context_tenant,
)  # fmt: skip
from compiler.load import JObject, JString, JValue
from compiler.model import Node
from compiler.nodes.base import DbUse, ExprUse, NodeKind, NodeSpec, ParamDoc, ParamReader
from compiler.plan.binding import column_type, is_path
from compiler.plan.lower import param_value
from compiler.suggest import did_you_mean, or_else

if TYPE_CHECKING:
    from compiler.plan.binding import Binder
    from compiler.plan.lower import Lowering

VALIDATORS = ("required", "email", "uuid", "string", "number", "boolean", "nonEmpty")
RULES = (
    "required", "string", "number", "boolean", "array", "email", "uuid", "minLength",
    "maxLength", "min", "max", "regex", "same", "different",
)  # fmt: skip
_WITH_NUMBER = ("minLength", "maxLength", "min", "max")
_WITH_FIELD = ("same", "different")


@dataclass(frozen=True)
class Rule:
    name: str
    arg: str | None


@dataclass
class RulesSpec(NodeSpec):
    input: JValue
    rules: list[tuple[str, list[Rule]]]
    error_message: str | None
    spans: dict[str, Span] = field(default_factory=dict)  # each field's rules text

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.input)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return "rules"

    def json_fields(self, node: Node, bind: Binder) -> Iterator[str]:
        """The checked fields, when the input is ``$json`` itself: inputs of the request."""
        if isinstance(bind.whole_expression(self.input), jsast.Ident):
            yield from (name for name, _ in self.rules)

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        t = lw.bind.value(self.input, node)
        if t is None:
            return []
        var = lw.names.take("checked")
        value = lw.bind.translator_for(node).box(t)
        lw.bind.set_output(node, None)
        locals_ = {fname: lw.names.take(f"{fname}_value") for fname, _ in self.rules}

        def read(name: str) -> ast.expr:  # `same:`/`different:` may name an unchecked field
            if name in locals_:
                return ast.Name(locals_[name], ast.Load())
            return _call_js("get", ast.Name(var, ast.Load()), ast.Constant(name))

        fields: list[FieldRules] = []
        queries: list[SqlText] = []
        for fname, rules in self.rules:
            checks: list[RuleCheck] = []
            for r in rules:
                message = self.error_message or _message(fname, r)
                if r.name != "unique":
                    checks.append(RuleCheck(r.name, _fails(r, read(fname), read), message))
                    continue
                query = self.unique_query(node, lw, fname, r, read(fname))
                if query is None:
                    return []
                queries.append(query)
                found = ast.Await(
                    ast.Call(
                        ast.Attribute(ast.Name("ex", ast.Load()), "fetch_one", ast.Load()),
                        [ast.Name(query.name, ast.Load()), _params(query)],
                        [],
                    )
                )
                fails = ast.Compare(found, [ast.IsNot()], [ast.Constant(None)])
                checks.append(RuleCheck(r.name, fails, message))
            required = next((c for c in checks if c.rule == "required"), None)
            others = tuple(c for c in checks if c.rule != "required")
            fields.append(FieldRules(fname, locals_[fname], required, others))
        return [CheckRules(node, var, value, tuple(fields), tuple(queries))]

    def unique_query(
        self, node: Node, lw: Lowering, fname: str, rule: Rule, value: ast.expr
    ) -> SqlText | None:
        """``unique:Entity``: a row of the entity, in the request's tenant, whose field of
        the same name holds the value (the rule fails when there is one)."""
        span = self.spans.get(fname, node.span)
        ent = lw.entities.get(rule.arg or "")
        if ent is None:
            s = did_you_mean(rule.arg or "", lw.entities)
            lw.diags.add(
                messages.ENTITY_NOT_DECLARED.format(rule.arg),
                span,
                node_id=node.id,
                hint=or_else(s, messages.HINT__DECLARED.format(", ".join(sorted(lw.entities)))),
            )
            return None
        if fname not in ent.fields:
            s = did_you_mean(fname, ent.fields)
            lw.diags.add(
                messages.FIELD_NOT_DECLARED.format(ent.name, fname),
                span,
                node_id=node.id,
                hint=or_else(s, messages.HINT__FIELDS.format(", ".join(ent.fields))),
            )
            return None
        bound = param_value(TExpr(value, ANY), column_type(ent, fname), value)
        params = [Param(Role.FILTER, fname, ent.fields[fname].column, bound)]
        if "tenantId" in ent.fields:
            params.append(Param(Role.FILTER, "tenantId", ent.fields["tenantId"].column,
                                context_tenant()))  # fmt: skip
        text = sql.select(ent, params, lookup=True, need_row=False)
        name = lw.names.take(f"SQL_{node.id}_UNIQUE_{fname}".upper())
        return SqlText(name, text, tuple(params))


def _params(query: SqlText) -> ast.expr:
    return ast.Dict([ast.Constant(p.name) for p in query.params], [p.value for p in query.params])


def _call(fn: str, *args: ast.expr) -> ast.expr:
    return ast.Call(ast.Name(fn, ast.Load()), list(args), [])


def _call_js(fn: str, *args: ast.expr) -> ast.expr:
    return ast.Call(ast.Attribute(ast.Name("js", ast.Load()), fn, ast.Load()), list(args), [])


def _not(e: ast.expr) -> ast.expr:
    return ast.UnaryOp(ast.Not(), e)


def _isinstance(e: ast.expr, *types: str) -> ast.expr:
    kinds: ast.expr = (
        ast.Name(types[0], ast.Load())
        if len(types) == 1
        else ast.Tuple([ast.Name(t, ast.Load()) for t in types], ast.Load())
    )
    return _call("isinstance", e, kinds)


def _fails(rule: Rule, value: ast.expr, other: Callable[[str], ast.expr]) -> ast.expr:
    """The test that is true when ``value`` breaks ``rule``."""
    name, arg = rule.name, rule.arg
    if name == "required":
        return _call("absent", value)
    if name == "string":
        return _not(_isinstance(value, "str"))
    if name == "number":
        return _not(_call("is_number", value))
    if name == "boolean":
        return _not(_isinstance(value, "bool"))
    if name == "array":
        return _not(_isinstance(value, "list"))
    if name in ("email", "uuid"):
        return _not(_call(f"is_{name}", value))
    if name in _WITH_NUMBER:
        assert arg is not None
        bound = ast.Constant(float(arg))
        measured = (
            _call("js_length", value) if name.endswith("Length") else _call_js("to_number", value)
        )
        # NaN fails both bounds, as a value that is not a number or has no length should.
        op: ast.cmpop = ast.GtE() if name.startswith("min") else ast.LtE()
        return _not(ast.Compare(measured, [op], [bound]))
    if name == "regex":
        assert arg is not None
        pattern, flags = _js_regex(arg)
        return _not(_call("matches", ast.Constant(pattern), value, ast.Constant("i" in flags)))
    assert arg is not None and name in _WITH_FIELD
    equal = _call_js("strict_eq", value, other(arg))
    return _not(equal) if name == "same" else equal


def _js_regex(text: str) -> tuple[str, str]:
    """``/pattern/flags`` (or a bare pattern) as Python's pattern and JavaScript's flags."""
    if text.startswith("/") and text.rfind("/") > 0:
        end = text.rfind("/")
        return text[1:end], text[end + 1 :]
    return text, ""


def _message(field: str, rule: Rule) -> str:
    arg = rule.arg
    return {
        "required": f"`{field}` is required",
        "string": f"`{field}` must be a string",
        "number": f"`{field}` must be a number",
        "boolean": f"`{field}` must be true or false",
        "array": f"`{field}` must be an array",
        "email": f"`{field}` must be an email address",
        "uuid": f"`{field}` must be a UUID",
        "minLength": f"`{field}` must be at least {arg} characters long",
        "maxLength": f"`{field}` must be at most {arg} characters long",
        "min": f"`{field}` must be at least {arg}",
        "max": f"`{field}` must be at most {arg}",
        "regex": f"`{field}` has the wrong format",
        "same": f"`{field}` must match `{arg}`",
        "different": f"`{field}` must differ from `{arg}`",
        "unique": f"`{field}` is already taken",
    }[rule.name]


@dataclass
class ValidateSpec(NodeSpec):
    input: JValue
    validator: str
    validator_span: Span
    error_message: str | None

    def expressions(self) -> Iterator[ExprUse]:
        yield ExprUse(self.input)

    def operations(self, node: Node) -> Iterator[DbUse]:
        return iter(())

    def label(self) -> str:
        return self.validator

    def on_user(self, lw: Lowering) -> bool:
        """Whether the node checks ``$context.user`` or one of its fields."""
        tree = lw.bind.whole_expression(self.input)
        return is_path(tree, "$context", "user") or (
            isinstance(tree, jsast.Member) and is_path(tree.obj, "$context", "user")
        )

    def lower(self, node: Node, lw: Lowering) -> list[Stmt]:
        tree = lw.bind.whole_expression(self.input)
        on_user = self.on_user(lw)
        if on_user and lw.bind.user_bound_by is None and self.validator == "required":
            lw.bind.user_bound_by = node.id
            lw.bind.set_output(node, TExpr(ast.Name("user", ast.Load()), USER))
            attribute = (
                tree.name
                if isinstance(tree, jsast.Member) and is_path(tree.obj, "$context", "user")
                else None
            )
            message = self.error_message or "User authentication required"
            return [RequireUser(node, attribute, message)]
        field = (
            tree.name if isinstance(tree, jsast.Member) and is_path(tree.obj, "$json") else None
        )
        t = lw.bind.value(self.input, node)
        value = lw.bind.translator_for(node).box(t) if t is not None else ast.Constant(None)
        lw.bind.set_output(node, t if t is not None and t.type != DATE else None)
        if on_user:
            default = "User authentication required"
        elif field:
            default = f"`{field}` is {'required' if self.validator == 'required' else 'invalid'}"
        else:
            default = "Validation failed"
        return [
            Validate(
                node,
                value,
                self.validator,
                self.error_message or default,
                None if on_user else field,
                auth=on_user,
            )
        ]


def parse_rules(r: ParamReader, inp: JValue, rules_v: JValue) -> RulesSpec | None:
    if not isinstance(rules_v, JObject):
        r.diags.add(
            messages.RULES_NOT_OBJECT.format(r.node),
            rules_v.span,
            node_id=r.node,
            hint=messages.HINT__RULES_SHAPE,
        )
        return None
    rules: list[tuple[str, list[Rule]]] = []
    spans: dict[str, Span] = {}
    ok = True
    for fname, text_v in rules_v.entries:
        if not isinstance(text_v, JString):
            r.diags.add(
                messages.RULES_NOT_OBJECT.format(r.node),
                text_v.span,
                node_id=r.node,
                hint=messages.HINT__RULES_SHAPE,
            )
            ok = False
            continue
        parsed: list[Rule] = []
        for token in (t.strip() for t in text_v.value.split("|")):
            name, sep, arg = token.partition(":")
            problem = _rule_problem(name, arg if sep else None)
            if problem is not None:
                r.diags.add(
                    messages.RULE_UNKNOWN.format(token, fname.value, r.node),
                    text_v.span,
                    node_id=r.node,
                    hint=problem,
                )
                ok = False
                continue
            parsed.append(Rule(name, arg if sep else None))
        rules.append((fname.value, parsed))
        spans[fname.value] = text_v.span
    msg = r.string("errorMessage", "the error message", required=False)
    return RulesSpec(inp, rules, msg[0] if msg else None, spans) if ok else None


def _rule_problem(name: str, arg: str | None) -> str | None:
    """Why a rule cannot be compiled (a hint), or None."""
    if name == "unique":
        return None if arg else messages.HINT__RULE_UNIQUE
    if name not in RULES:
        return or_else(did_you_mean(name, RULES), messages.HINT__RULES.format(", ".join(RULES)))
    if name in _WITH_NUMBER:
        try:
            float(arg or "")
        except ValueError:
            return messages.HINT__RULE_NEEDS_NUMBER.format(name)
    if name in _WITH_FIELD and not arg:
        return messages.HINT__RULE_NEEDS_FIELD.format(name)
    if name == "regex":
        try:
            re.compile(_js_regex(arg or "")[0])
        except re.error as err:
            return messages.HINT__RULE_REGEX.format(err)
    return None


def parse(r: ParamReader) -> ValidateSpec | RulesSpec | None:
    inp = r.require("input", "the value to check")
    rules_v = r.params.get("rules")
    if rules_v is not None:
        return parse_rules(r, inp, rules_v) if inp is not None else None
    validator = r.string("validator", "the validator name")
    if validator is not None and validator[0] not in VALIDATORS:
        s = did_you_mean(validator[0], VALIDATORS)
        r.diags.add(
            messages.VALIDATOR_UNKNOWN.format(validator[0], r.node),
            validator[1],
            node_id=r.node,
            hint=(or_else(s, messages.HINT__VALIDATORS.format(", ".join(VALIDATORS)))),
        )
        return None
    msg = r.string("errorMessage", "the error message", required=False)
    if inp is None or validator is None:
        return None
    return ValidateSpec(inp, validator[0], validator[1], msg[0] if msg else None)


KIND = NodeKind(
    type="metabuilder.validate",
    versions=(1,),
    summary="checks one value; on `$context.user` a failure is 401, on `$json` 400",
    parameters=(
        ParamDoc("operation", False, "`validate` (decorative)"),
        ParamDoc("input", True, "the value to check, usually `{{ $json.field }}`"),
        ParamDoc("validator", False, "one of " + ", ".join(VALIDATORS) + " (or `rules`)"),
        ParamDoc("rules", False, "field: `rule|rule:arg` checks on the fields of `input`"),
        ParamDoc("errorMessage", False, "the message of the 400 or 401"),
    ),
    parse=parse,
)
