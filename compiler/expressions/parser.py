"""Lexer and recursive-descent parser for the ``{{ }}`` JavaScript subset.

The grammar is ECMAScript's expression grammar restricted to what DESIGN.md lists; strict
mode rules apply (no legacy octal). Anything JavaScript accepts but the subset does not
(assignment, arrow functions, ``this``, regular expressions, ...) is an
:class:`ExpressionError` of kind ``"CompileError"`` that says what to write instead; text
that is not JavaScript at all is kind ``"SyntaxError"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, NoReturn

from compiler import codes, messages
from compiler.expressions import ast as js
from compiler.messages import Message, Text


@dataclass
class ExpressionError(Exception):
    message: str
    start: int
    end: int
    kind: str = "SyntaxError"  # the JavaScript error, or "CompileError" outside the subset
    hint: str | None = None
    code: codes.Code = codes.EXPRESSION_SYNTAX  # the diagnostic it is reported under
    # A consequence of an error reported elsewhere (a read of a node that failed to
    # compile): the expression is not translated, and nothing more is said.
    silent: bool = False

    def __str__(self) -> str:
        return self.message

    @property
    def text(self) -> Text:
        """The message with its code, as diagnostics report it."""
        return Text(self.code, self.message)


# Limits, each a located `expression-too-deep` error: how deeply expressions may nest inside
# each other (the parser, the translator and Python's own compiler recurse on it) and how deep
# the whole tree may grow through chains (`a + b + c ...`, `x.a.b.c ...`).
MAX_NESTING: Final = 32
MAX_DEPTH: Final = 64

_ASSIGNMENT_OPS: Final = frozenset(
    [
        "=",
        "+=",
        "-=",
        "*=",
        "/=",
        "%=",
        "**=",
        "<<=",
        ">>=",
        ">>>=",
        "&=",
        "|=",
        "^=",
        "&&=",
        "||=",
        "??=",
    ]
)
_PUNCTUATORS: Final = sorted(
    [
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "...",
        ".",
        ";",
        ",",
        "<=",
        ">=",
        "===",
        "!==",
        "==",
        "!=",
        "<",
        ">",
        "**",
        "+",
        "-",
        "*",
        "/",
        "%",
        "++",
        "--",
        "<<",
        ">>>",
        ">>",
        "&",
        "|",
        "^",
        "!",
        "~",
        "&&",
        "||",
        "??",
        "?.",
        "?",
        ":",
        "=>",
        "#",
        *_ASSIGNMENT_OPS,
    ],
    key=len,
    reverse=True,
)
_IDENT: Final = re.compile(r"[A-Za-z_$\u00c0-\uffff][\w$\u00c0-\uffff]*")
_RESERVED: Final = frozenset(
    [
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "export",
        "extends",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "let",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "try",
        "var",
        "void",
        "while",
        "with",
        "yield",
        "await",
        "async",
        "static",
        "enum",
        "implements",
        "interface",
        "package",
        "private",
        "protected",
        "public",
        "arguments",
        "eval",
    ]
)
_STATEMENT_WORDS: Final = frozenset(
    ["for", "while", "do", "switch", "try", "throw", "break", "continue", "var", "function"]
)
_WORDS: Final = frozenset(["const", "let", "if", "else", "return"])

_UNSUPPORTED_WORDS: Final = {
    "function": "functions cannot be defined in an expression",
    "this": "`this` has no meaning here; read $json, $context or $steps",
    "void": "`void` is not supported; use `undefined`",
    "delete": "expressions cannot modify data",
    "in": "the `in` operator is not supported; use `?.` or `!== undefined`",
    "instanceof": "`instanceof` is not supported; use `typeof`",
    "eval": "`eval` is not available in expressions",
    "arguments": "`arguments` is not available in expressions",
    "await": "expressions are evaluated synchronously; `await` is not supported",
    "yield": "`yield` is not supported",
    "class": "classes cannot be defined in an expression",
}
_WHITESPACE: Final = frozenset(
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "str", "ident", "punct", "template", "eof"
    text: str
    start: int
    end: int
    value: object = None


class Parser:
    """Parses one expression; ``parse()`` returns the tree or raises ExpressionError."""

    def __init__(self, text: str, base: int = 0) -> None:
        self.text = text
        self.pos = base
        self._parens: set[int] = set()  # ids of nodes written in parentheses
        self._nesting = 0  # expressions inside expressions, now
        self.tok = self._lex()
        self.prev_end = base

    # ------------------------------------------------------------------ errors

    def fail(
        self, message: Message | Text, start: int, end: int | None = None, hint: str | None = None
    ) -> NoReturn:
        """A JavaScript SyntaxError (``expression-syntax``)."""
        text = message.format() if isinstance(message, Message) else message
        raise ExpressionError(
            text.text, start, max(end or start + 1, start + 1), "SyntaxError", hint, text.code
        )

    def unsupported(
        self, message: Message | Text, start: int, end: int, hint: str | None = None
    ) -> NoReturn:
        """Valid JavaScript outside the subset (``unsupported-expression``)."""
        text = message.format() if isinstance(message, Message) else message
        raise ExpressionError(
            text.text, start, max(end, start + 1), "CompileError", hint, text.code
        )

    def unexpected(self, tok: Token | None = None) -> NoReturn:
        tok = tok or self.tok
        if tok.kind == "eof":
            self.fail(messages.EXPRESSION_ENDS_EARLY, tok.start)
        if tok.kind == "punct" and tok.text in _ASSIGNMENT_OPS:
            self.unsupported(
                messages.ASSIGNMENT_UNSUPPORTED.format(tok.text),
                tok.start,
                tok.end,
                (messages.HINT__EXPRESSIONS_ONLY_COMPUTE_VALUES if tok.text == "=" else None),
            )
        if tok.kind == "punct" and tok.text == "=>":
            self.unsupported(
                messages.ARROW_FUNCTION_UNSUPPORTED,
                tok.start,
                tok.end,
                messages.HINT__COMPUTE_THE_VALUE_DIRECTLY,
            )
        if tok.kind == "punct" and tok.text in ("&", "|", "^", "~", "<<", ">>", ">>>"):
            self.unsupported(
                messages.BITWISE_OPERATOR_UNSUPPORTED.format(tok.text),
                tok.start,
                tok.end,
                (messages.HINT__USE_AND_FOR_LOGIC if tok.text in "&|" else None),
            )
        if tok.kind == "punct" and tok.text == ",":
            self.unsupported(
                messages.COMMA_OPERATOR_UNSUPPORTED,
                tok.start,
                tok.end,
                messages.HINT__AN_EXPRESSION_COMPUTES_ONE,
            )
        if tok.kind == "punct" and tok.text == "...":
            self.unsupported(messages.SPREAD_UNSUPPORTED, tok.start, tok.end)
        self.fail(messages.UNEXPECTED_TEXT.format(tok.text), tok.start, tok.end)

    # ------------------------------------------------------------------ lexer

    def _skip_space(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            if c in _WHITESPACE:
                self.pos += 1
            elif text.startswith("//", self.pos):
                nl = text.find("\n", self.pos)
                self.pos = n if nl < 0 else nl
            elif text.startswith("/*", self.pos):
                close = text.find("*/", self.pos + 2)
                if close < 0:
                    self.fail(messages.COMMENT_NOT_CLOSED, self.pos)
                self.pos = close + 2
            else:
                break

    def _lex(self) -> Token:
        self._skip_space()
        text, start = self.text, self.pos
        if start >= len(text):
            return Token("eof", "", start, start)
        c = text[start]
        if c.isdigit() or (c == "." and text[start + 1 : start + 2].isdigit()):
            return self._number()
        if c in "'\"":
            return self._string(c)
        if c == "`":
            self.pos += 1
            return Token("template", "`", start, start + 1)
        m = _IDENT.match(text, start)
        if m:
            self.pos = m.end()
            return Token("ident", m.group(), start, m.end())
        if c == "\\":
            self.unsupported(messages.UNICODE_ESCAPE_IN_NAME_UNSUPPORTED, start, start + 2)
        for p in _PUNCTUATORS:
            if text.startswith(p, start):
                if p == "?." and text[start + 2 : start + 3].isdigit():
                    continue  # `a ?.5 : b` is a conditional
                self.pos = start + len(p)
                return Token("punct", p, start, self.pos)
        self.fail(messages.INVALID_CHARACTER.format(c), start)

    def _number(self) -> Token:
        text, start = self.text, self.pos
        m = re.compile(r"0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+").match(text, start)
        if m:
            raw = m.group()
            body = raw[2:]
            if body.startswith("_") or body.endswith("_") or "__" in body:
                self.fail(messages.NUMERIC_SEPARATOR_MISPLACED, start, m.end())
            value = float(int(body.replace("_", ""), {"x": 16, "o": 8, "b": 2}[raw[1].lower()]))
            end = m.end()
        else:
            m = re.compile(r"(\d[\d_]*)?(\.[\d_]*)?([eE][+-]?[\d_]+)?").match(text, start)
            assert m is not None
            raw = m.group()
            end = m.end()
            int_part = m.group(1) or ""
            if len(int_part) > 1 and int_part[0] == "0":
                what = (
                    messages.WHAT_OCTAL_LITERALS
                    if all(ch in "01234567_" for ch in int_part)
                    else messages.WHAT_DECIMALS_WITH_LEADING_ZEROS
                )
                self.fail(messages.NOT_ALLOWED_IN_STRICT_MODE.format(what), start, end)
            for part in (
                m.group(1),
                m.group(2) and m.group(2)[1:],
                m.group(3) and m.group(3).lstrip("eE+-"),
            ):
                if part and (part.startswith("_") or part.endswith("_") or "__" in part):
                    self.fail(messages.NUMERIC_SEPARATOR_MISPLACED, start, end)
            value = float(raw.replace("_", ""))
        nxt = text[end : end + 1]
        if nxt == "n":
            self.unsupported(
                messages.BIGINT_UNSUPPORTED,
                start,
                end + 1,
                messages.HINT__WRITE_A_PLAIN_NUMBER,
            )
        if nxt and (nxt.isalnum() or nxt in "_$\\"):
            self.fail(
                messages.INVALID_OR_UNEXPECTED_TOKEN,
                start,
                end + 1,
                (messages.HINT__PUT_THE_NUMBER_IN if nxt.isalpha() else None),
            )
        self.pos = end
        return Token("num", text[start:end], start, end, value)

    def _escape(self, quote: str) -> str:
        """Decode one escape sequence at ``self.pos`` (just after the backslash)."""
        text = self.text
        esc_start = self.pos - 1
        if self.pos >= len(text):
            self.fail(messages.JSON_STRING_NOT_CLOSED, esc_start)
        e = text[self.pos]
        self.pos += 1
        simple = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}
        if e in simple:
            return simple[e]
        if e == "0" and not text[self.pos : self.pos + 1].isdigit():
            return "\0"
        if e.isdigit():
            kind = "Octal escape sequences" if e in "01234567" else "\\8 and \\9"
            self.fail(messages.NOT_ALLOWED_IN_STRICT_MODE.format(kind), esc_start, self.pos)
        if e == "x":
            h = text[self.pos : self.pos + 2]
            if len(h) < 2 or not all(ch in "0123456789abcdefABCDEF" for ch in h):
                self.fail(messages.BAD_HEX_ESCAPE, esc_start, self.pos)
            self.pos += 2
            return chr(int(h, 16))
        if e == "u":
            if text.startswith("{", self.pos):
                close = text.find("}", self.pos)
                h = text[self.pos + 1 : close] if close > 0 else ""
                if (
                    not h
                    or not all(ch in "0123456789abcdefABCDEF" for ch in h)
                    or int(h, 16) > 0x10FFFF
                ):
                    self.fail(
                        messages.BAD_UNICODE_ESCAPE,
                        esc_start,
                        max(self.pos, close + 1),
                    )
                self.pos = close + 1
                return chr(int(h, 16))
            h = text[self.pos : self.pos + 4]
            if len(h) < 4 or not all(ch in "0123456789abcdefABCDEF" for ch in h):
                self.fail(messages.BAD_UNICODE_ESCAPE, esc_start, self.pos)
            self.pos += 4
            return chr(int(h, 16))
        if e == "\r":
            if text.startswith("\n", self.pos):
                self.pos += 1
            return ""
        if e in "\n\u2028\u2029":
            return ""
        return e

    def _string(self, quote: str) -> Token:
        text, start = self.text, self.pos
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(text) or text[self.pos] in "\n\r":
                self.fail(
                    messages.INVALID_OR_UNEXPECTED_TOKEN,
                    start,
                    self.pos,
                    messages.HINT__CLOSE_THE_STRING_WITH_2.format(quote),
                )
            c = text[self.pos]
            if c == quote:
                self.pos += 1
                break
            if c == "\\":
                self.pos += 1
                out.append(self._escape(quote))
                continue
            out.append(c)
            self.pos += 1
        return Token(
            "str", text[start : self.pos], start, self.pos, _join_surrogates("".join(out))
        )

    # ------------------------------------------------------------------ token helpers

    def advance(self) -> Token:
        tok = self.tok
        self.prev_end = tok.end
        self.tok = self._lex()
        return tok

    def at(self, text: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == text

    def expect(self, text: str, hint: str | None = None) -> Token:
        if not self.at(text):
            if self.tok.kind == "eof":
                self.fail(
                    messages.TOKEN_EXPECTED_BEFORE_END.format(text),
                    self.tok.start,
                    hint=hint,
                )
            if hint is None:
                self.unexpected()
            self.fail(
                messages.TOKEN_EXPECTED.format(text, self.tok.text),
                self.tok.start,
                self.tok.end,
                hint,
            )
        return self.advance()

    # ------------------------------------------------------------------ grammar

    def parse(self) -> js.Expr:
        if self.tok.kind == "eof":
            self.fail(
                messages.EXPRESSION_EMPTY,
                self.tok.start,
                hint=messages.HINT__WRITE_AN_EXPRESSION_BETWEEN.format(),
            )
        expr = self.expression()
        if self.tok.kind != "eof":
            self.unexpected()
        if js.depth(expr) > MAX_DEPTH:
            self.too_deep(expr.start, expr.end)
        return expr

    def too_deep(self, start: int, end: int) -> NoReturn:
        text = messages.EXPRESSION_TOO_DEEP.format(MAX_NESTING, MAX_DEPTH)
        raise ExpressionError(
            text.text,
            start,
            max(end, start + 1),
            "CompileError",
            messages.HINT__SPLIT_THE_EXPRESSION,
            text.code,
        )

    def nested(self) -> None:
        """One more level of nesting (parentheses, brackets, operands of `!`, `**`, `?:`)."""
        self._nesting += 1
        if self._nesting > MAX_NESTING:
            self.too_deep(self.tok.start, self.tok.end)

    def expression(self) -> js.Expr:
        expr = self.conditional()
        if self.tok.kind == "punct" and (
            self.tok.text in _ASSIGNMENT_OPS or self.tok.text in (",", "=>")
        ):
            self.unexpected()
        return expr

    def conditional(self) -> js.Expr:
        """Every sub-expression (parenthesized, an element, an argument) starts here: this is
        where nesting is counted."""
        self.nested()
        try:
            return self._conditional()
        finally:
            self._nesting -= 1

    def _conditional(self) -> js.Expr:
        start = self.tok.start
        test = self.coalesce()
        if not self.at("?"):
            return test
        self.advance()
        then = self.expression()
        self.expect(":", "a conditional is `test ? then : otherwise`")
        otherwise = self.expression()
        return js.Conditional(test, then, otherwise, start, self.prev_end)

    def coalesce(self) -> js.Expr:
        start = self.tok.start
        left = self.logical_or()
        if not self.at("??"):
            return left
        if (
            isinstance(left, js.Logical)
            and left.op in ("&&", "||")
            and not self._parenthesized(left)
        ):
            self.fail(
                messages.NULLISH_MIXED_WITH_LOGICAL,
                self.tok.start,
                self.tok.end,
                messages.HINT__ADD_PARENTHESES_TO_SAY,
            )
        while self.at("??"):
            self.advance()
            right = self.bitwise_or_operand()
            if self.at("&&") or self.at("||"):
                self.fail(
                    messages.NULLISH_MIXED_WITH_LOGICAL,
                    self.tok.start,
                    self.tok.end,
                    messages.HINT__ADD_PARENTHESES_TO_SAY,
                )
            left = js.Logical("??", left, right, start, self.prev_end)
        if self.at("&&") or self.at("||"):
            self.fail(
                messages.NULLISH_MIXED_WITH_LOGICAL,
                self.tok.start,
                self.tok.end,
                messages.HINT__ADD_PARENTHESES_TO_SAY,
            )
        return left

    def _parenthesized(self, node: js.Expr) -> bool:
        return id(node) in self._parens

    def bitwise_or_operand(self) -> js.Expr:
        return self.equality()

    def logical_or(self) -> js.Expr:
        start = self.tok.start
        left = self.logical_and()
        while self.at("||"):
            self.advance()
            right = self.logical_and()
            left = js.Logical("||", left, right, start, self.prev_end)
        return left

    def logical_and(self) -> js.Expr:
        start = self.tok.start
        left = self.equality()
        while self.at("&&"):
            self.advance()
            right = self.equality()
            left = js.Logical("&&", left, right, start, self.prev_end)
        return left

    def _binary_level(self, ops: tuple[str, ...], next_level: str) -> js.Expr:
        start = self.tok.start
        sub = getattr(self, next_level)
        left: js.Expr = sub()
        while self.tok.kind == "punct" and self.tok.text in ops:
            op_tok = self.advance()
            right = sub()
            left = js.Binary(op_tok.text, left, right, start, self.prev_end, op_tok.start)
        return left

    def equality(self) -> js.Expr:
        return self._binary_level(("===", "!==", "==", "!="), "relational")

    def relational(self) -> js.Expr:
        start = self.tok.start
        left = self.additive()
        while True:
            if self.tok.kind == "punct" and self.tok.text in ("<", ">", "<=", ">="):
                op_tok = self.advance()
                right = self.additive()
                left = js.Binary(op_tok.text, left, right, start, self.prev_end, op_tok.start)
            elif self.tok.kind == "ident" and self.tok.text in ("in", "instanceof"):
                self.unsupported(
                    messages.OPERATOR_UNSUPPORTED.format(self.tok.text),
                    self.tok.start,
                    self.tok.end,
                    _UNSUPPORTED_WORDS[self.tok.text],
                )
            else:
                return left

    def additive(self) -> js.Expr:
        return self._binary_level(("+", "-"), "multiplicative")

    def multiplicative(self) -> js.Expr:
        return self._binary_level(("*", "/", "%"), "exponent")

    def exponent(self) -> js.Expr:
        start = self.tok.start
        unary_start = self.tok
        left = self.unary()
        if not self.at("**"):
            return left
        if (
            isinstance(left, js.Unary)
            and unary_start.kind in ("punct", "ident")
            and unary_start.start == left.start
        ):
            self.fail(
                messages.UNARY_BEFORE_EXPONENT,
                left.start,
                self.tok.end,
                messages.HINT__ADD_PARENTHESES_A_B,
            )
        op_tok = self.advance()
        self.nested()
        right = self.exponent()  # right-associative
        self._nesting -= 1
        return js.Binary("**", left, right, start, self.prev_end, op_tok.start)

    def unary(self) -> js.Expr:
        tok = self.tok
        if tok.kind == "punct" and tok.text in ("!", "-", "+"):
            self.advance()
            self.nested()
            operand = self.unary()
            self._nesting -= 1
            return js.Unary(tok.text, operand, tok.start, self.prev_end)
        if tok.kind == "ident" and tok.text == "typeof":
            self.advance()
            operand = self.unary()
            return js.Unary("typeof", operand, tok.start, self.prev_end)
        if tok.kind == "punct" and tok.text in ("++", "--"):
            self.advance()
            operand_start = self.tok.start
            operand = self.unary()
            if isinstance(operand, (js.Call, js.New)):
                raise ExpressionError(
                    messages.INVALID_PREFIX_TARGET.format().text,
                    tok.start,
                    self.prev_end,
                    "ReferenceError",
                    code=messages.INVALID_PREFIX_TARGET.code,
                )
            if not isinstance(operand, (js.Member, js.Ident)) or self.text[operand_start] == "(":
                self.fail(
                    messages.INVALID_ASSIGNMENT_TARGET,
                    tok.start,
                    self.prev_end,
                )
            self.unsupported(
                messages.UPDATE_OPERATOR_UNSUPPORTED.format(tok.text),
                tok.start,
                tok.end,
                messages.HINT__WRITE_X_1_OR,
            )
        if tok.kind == "punct" and tok.text == "~":
            self.unexpected()
        if tok.kind == "ident" and tok.text in ("void", "delete", "await"):
            self.unsupported(
                messages.OPERATOR_UNSUPPORTED.format(tok.text),
                tok.start,
                tok.end,
                _UNSUPPORTED_WORDS[tok.text],
            )
        expr = self.postfix()
        if (
            self.tok.kind == "punct"
            and self.tok.text in ("++", "--")
            and not self._newline_before(self.tok)
        ):
            self.unsupported(
                messages.UPDATE_OPERATOR_UNSUPPORTED.format(self.tok.text),
                self.tok.start,
                self.tok.end,
                messages.HINT__WRITE_X_1_OR,
            )
        return expr

    def _newline_before(self, tok: Token) -> bool:
        return "\n" in self.text[self.prev_end : tok.start]

    def postfix(self) -> js.Expr:
        start = self.tok.start
        expr = self.primary()
        in_chain = False
        while True:
            if self.at("."):
                self.advance()
                name_tok = self.tok
                if name_tok.kind != "ident":
                    if name_tok.kind == "punct" and name_tok.text == "#":
                        self.unsupported(
                            messages.PRIVATE_NAME_UNSUPPORTED,
                            name_tok.start,
                            name_tok.end,
                        )
                    self.fail(
                        messages.PROPERTY_NAME_EXPECTED,
                        name_tok.start,
                        name_tok.end,
                    )
                self.advance()
                expr = js.Member(
                    expr, name_tok.text, None, False, start, self.prev_end, name_tok.start
                )
            elif self.at("?."):
                self.advance()
                in_chain = True
                if self.at("("):
                    args = self.arguments()
                    expr = js.Call(expr, args, True, start, self.prev_end)
                elif self.at("["):
                    self.advance()
                    key = self.expression()
                    self.expect("]")
                    expr = js.Member(expr, None, key, True, start, self.prev_end, key.start)
                elif self.tok.kind == "ident":
                    name_tok = self.advance()
                    expr = js.Member(
                        expr, name_tok.text, None, True, start, self.prev_end, name_tok.start
                    )
                else:
                    self.fail(
                        messages.PROPERTY_NAME_EXPECTED_AFTER,
                        self.tok.start,
                        self.tok.end,
                    )
            elif self.at("["):
                self.advance()
                key = self.expression()
                self.expect("]", "close the property access with `]`")
                expr = js.Member(expr, None, key, False, start, self.prev_end, key.start)
            elif self.at("("):
                args = self.arguments()
                expr = js.Call(expr, args, False, start, self.prev_end)
            elif self.tok.kind == "template":
                self.unsupported(
                    messages.TAGGED_TEMPLATE_UNSUPPORTED,
                    self.tok.start,
                    self.tok.end,
                )
            else:
                break
        if in_chain:
            return js.Chain(expr, start, self.prev_end)
        return expr

    def arguments(self) -> tuple[js.Expr, ...]:
        self.expect("(")
        args: list[js.Expr] = []
        while not self.at(")"):
            if self.at("..."):
                self.unexpected()
            args.append(self.conditional())
            if self.tok.kind == "punct" and self.tok.text in _ASSIGNMENT_OPS:
                self.unexpected()
            if not self.at(","):
                break
            self.advance()
        self.expect(")", "close the argument list with `)`")
        return tuple(args)

    def primary(self) -> js.Expr:
        tok = self.tok
        if tok.kind == "num":
            self.advance()
            assert isinstance(tok.value, float)
            return js.Num(tok.value, tok.start, tok.end)
        if tok.kind == "str":
            self.advance()
            assert isinstance(tok.value, str)
            return js.Str(tok.value, tok.start, tok.end)
        if tok.kind == "template":
            return self.template(tok)
        if tok.kind == "ident":
            return self.identifier(tok)
        if tok.kind == "punct":
            if tok.text == "(":
                arrow = self.try_arrow(tok)
                if arrow is not None:
                    return arrow
                self.advance()
                if self.at(")"):
                    self.advance()
                    self.fail(messages.PARENTHESES_EMPTY, tok.start, self.prev_end)
                inner = self.expression()
                self.expect(")", "close the parenthesis")
                if self.at("=>"):
                    self.unexpected()
                self._parens.add(id(inner))
                return inner
            if tok.text == "[":
                return self.array()
            if tok.text == "{":
                return self.object()
            if tok.text in ("/", "/="):
                return self.regex(tok)
        self.unexpected()

    def regex(self, tok: Token) -> js.Regex:
        """``/pattern/flags``: the lexer read the opening ``/`` as division; read on from it."""
        text, i, in_class = self.text, tok.start + 1, False
        while True:
            if i >= len(text) or text[i] in "\n\r":
                self.fail(messages.REGEX_NOT_CLOSED, tok.start, i)
            c = text[i]
            if c == "\\":
                i += 2
                continue
            if in_class:
                in_class = c != "]"
            elif c == "[":
                in_class = True
            elif c == "/":
                break
            i += 1
        j = i + 1
        while j < len(text) and (text[j].isalnum() or text[j] in "_$"):
            j += 1
        flags = text[i + 1 : j]
        if any(f not in "dgimsuy" for f in flags) or len(set(flags)) < len(flags):
            self.fail(messages.REGEX_FLAGS_INVALID.format(flags), i + 1, j)
        if i == tok.start + 1:
            self.fail(messages.REGEX_NOT_CLOSED, tok.start, j)
        self.pos = j
        self.prev_end = j
        self.tok = self._lex()
        return js.Regex(text[tok.start + 1 : i], flags, tok.start, j)

    # ------------------------------------------------------------------ arrow functions

    def try_arrow(self, open_tok: Token) -> js.Arrow | None:
        """``(params) => body`` when the parenthesis starts one, else None with nothing
        consumed (the parser backs up to the parenthesis)."""
        saved = (self.pos, self.tok, self.prev_end)
        self.advance()
        params: list[js.Param] = []
        ok = True
        while not self.at(")"):
            p = self.param()
            if p is None:
                ok = False
                break
            params.append(p)
            if not self.at(","):
                break
            self.advance()
        if ok and self.at(")"):
            self.advance()
            if self.at("=>"):
                return self.arrow_body(tuple(params), open_tok.start)
        self.pos, self.tok, self.prev_end = saved
        return None

    def param(self) -> js.Param | None:
        tok = self.tok
        if tok.kind == "ident" and tok.text not in _RESERVED and tok.text not in _WORDS:
            self.advance()
            return js.Param(tok.text, (), tok.start, tok.end)
        if tok.kind == "punct" and tok.text == "{":  # `{ id, name }`: properties by name
            self.advance()
            props: list[str | None] = []
            while not self.at("}"):
                t = self.tok
                if t.kind != "ident" or t.text in _RESERVED or t.text in _WORDS:
                    return None
                props.append(t.text)
                self.advance()
                if not self.at(","):
                    break
                self.advance()
            if not self.at("}"):
                return None
            self.advance()
            return js.Param(None, tuple(props), tok.start, self.prev_end, by_name=True)
        if tok.kind == "punct" and tok.text == "[":
            self.advance()
            names: list[str | None] = []
            while not self.at("]"):
                if self.at(","):
                    names.append(None)
                    self.advance()
                    continue
                t = self.tok
                if t.kind != "ident" or t.text in _RESERVED or t.text in _WORDS:
                    return None
                names.append(t.text)
                self.advance()
                if not self.at(","):
                    break
                self.advance()
            if not self.at("]"):
                return None
            self.advance()
            return js.Param(None, tuple(names), tok.start, self.prev_end)
        return None

    def arrow_body(self, params: tuple[js.Param, ...], start: int) -> js.Arrow:
        self.expect("=>")
        seen: set[str] = set()
        for p in params:
            for n in (p.name,) if p.name is not None else p.names:
                if n is not None and n in seen:
                    self.fail(messages.ARROW_PARAMETER_REPEATED.format(n), p.start, p.end)
                if n is not None:
                    seen.add(n)
        if self.at("{"):
            self.advance()
            body = self.statements("}")
            self.expect("}", "close the function body with `}`")
            return js.Arrow(params, tuple(body), start, self.prev_end)
        value = self.conditional()
        return js.Arrow(params, value, start, self.prev_end)

    def statements(self, close: str) -> list[js.Stmt]:
        out: list[js.Stmt] = []
        while not self.at(close) and self.tok.kind != "eof":
            out.append(self.statement())
        return out

    def statement(self) -> js.Stmt:
        tok = self.tok
        if self.at(";"):
            self.advance()
            return js.ExprStmt(js.Undefined(tok.start, tok.end), tok.start, tok.end)
        if self.at("{"):
            self.advance()
            inner = self.statements("}")
            self.expect("}", "close the block with `}`")
            return js.If(
                js.Bool(True, tok.start, tok.end), tuple(inner), None, tok.start, self.prev_end
            )
        if tok.kind == "ident" and tok.text in ("const", "let"):
            self.advance()
            name = self.tok
            if name.kind != "ident" or name.text in _RESERVED or name.text in _WORDS:
                self.unsupported(
                    messages.DECLARATION_FORM, name.start, name.end, messages.HINT__DECLARATION
                )
            self.advance()
            init: js.Expr | None = None
            if self.at("="):
                self.advance()
                init = self.conditional()
            elif tok.text == "const":
                self.fail(messages.CONST_WITHOUT_VALUE.format(name.text), name.start, name.end)
            self.end_statement()
            return js.VarDecl(name.text, init, tok.text == "const", tok.start, self.prev_end)
        if tok.kind == "ident" and tok.text == "if":
            self.advance()
            self.expect("(", "write `if (condition)`")
            test = self.expression()
            self.expect(")", "close the condition with `)`")
            then = self.branch()
            otherwise: tuple[js.Stmt, ...] | None = None
            if self.tok.kind == "ident" and self.tok.text == "else":
                self.advance()
                otherwise = self.branch()
            return js.If(test, then, otherwise, tok.start, self.prev_end)
        if tok.kind == "ident" and tok.text == "return":
            self.advance()
            value: js.Expr | None = None
            if not self.at(";") and not self.at("}"):
                value = self.expression()
            self.end_statement()
            return js.Return(value, tok.start, self.prev_end)
        if tok.kind == "ident" and tok.text in _STATEMENT_WORDS:
            self.unsupported(
                messages.STATEMENT_UNSUPPORTED.format(tok.text),
                tok.start,
                tok.end,
                messages.HINT__STATEMENTS,
            )
        target = self.conditional()
        if self.at("="):
            self.advance()
            if not isinstance(target, js.Ident | js.Member):
                self.fail(messages.ASSIGNMENT_TARGET, target.start, target.end)
            value_ = self.conditional()
            self.end_statement()
            return js.Assign(target, value_, tok.start, self.prev_end)
        if self.tok.kind == "punct" and self.tok.text in _ASSIGNMENT_OPS:
            self.unexpected()
        self.end_statement()
        return js.ExprStmt(target, tok.start, self.prev_end)

    def branch(self) -> tuple[js.Stmt, ...]:
        if self.at("{"):
            self.advance()
            inner = self.statements("}")
            self.expect("}", "close the block with `}`")
            return tuple(inner)
        return (self.statement(),)

    def end_statement(self) -> None:
        if self.at(";"):
            self.advance()

    def identifier(self, tok: Token) -> js.Expr:
        name = tok.text
        self.advance()
        if name == "true" or name == "false":
            return js.Bool(name == "true", tok.start, tok.end)
        if name == "null":
            return js.Null(tok.start, tok.end)
        if name == "undefined":
            return js.Undefined(tok.start, tok.end)
        if name == "new":
            return self.new_expression(tok)
        if name in _UNSUPPORTED_WORDS:
            self.unsupported(
                messages.OPERATOR_UNSUPPORTED.format(name),
                tok.start,
                tok.end,
                _UNSUPPORTED_WORDS[name],
            )
        if name in _RESERVED:
            if name in (
                "let",
                "static",
                "implements",
                "interface",
                "package",
                "private",
                "protected",
                "public",
                "yield",
            ):
                self.fail(
                    messages.RESERVED_WORD.format(name),
                    tok.start,
                    tok.end,
                )
            self.fail(messages.UNEXPECTED_TOKEN.format(name), tok.start, tok.end)
        if self.at("=>"):
            param = js.Param(name, (), tok.start, tok.end)
            return self.arrow_body((param,), tok.start)
        return js.Ident(name, tok.start, tok.end)

    def new_expression(self, new_tok: Token) -> js.Expr:
        callee_tok = self.tok
        if callee_tok.kind != "ident":
            self.unsupported(messages.NEW_ONLY_FOR_DATE, new_tok.start, callee_tok.end)
        self.advance()
        if callee_tok.text != "Date" or self.at("."):
            self.unsupported(
                messages.NEW_UNSUPPORTED.format(callee_tok.text),
                new_tok.start,
                self.prev_end,
                messages.HINT__THE_ONLY_CONSTRUCTOR_AVAILABLE,
            )
        callee = js.Ident("Date", callee_tok.start, callee_tok.end)
        args = self.arguments() if self.at("(") else ()
        return js.New(callee, args, new_tok.start, self.prev_end)

    def array(self) -> js.Expr:
        start = self.advance().start
        items: list[js.Expr] = []
        while not self.at("]"):
            if self.at(","):
                self.unsupported(
                    messages.ARRAY_HOLE_UNSUPPORTED,
                    self.tok.start,
                    self.tok.end,
                    messages.HINT__WRITE_NULL_OR_UNDEFINED,
                )
            if self.at("..."):
                dots = self.advance()
                value = self.conditional()
                items.append(js.Spread(value, dots.start, self.prev_end))
            else:
                items.append(self.conditional())
            if self.tok.kind == "punct" and self.tok.text in _ASSIGNMENT_OPS:
                self.unexpected()
            if not self.at(","):
                break
            self.advance()
        self.expect("]", "close the array with `]`")
        return js.Array(tuple(items), start, self.prev_end)

    def object(self) -> js.Expr:
        start = self.advance().start
        props: list[tuple[str, js.Expr]] = []
        while not self.at("}"):
            tok = self.tok
            if tok.kind == "ident" or tok.kind == "str":
                key = tok.text if tok.kind == "ident" else str(tok.value)
            elif tok.kind == "num":
                from runtime.js import number_to_string

                assert isinstance(tok.value, float)
                key = number_to_string(tok.value)
            elif tok.kind == "punct" and tok.text == "[":
                self.unsupported(
                    messages.COMPUTED_KEY_UNSUPPORTED,
                    tok.start,
                    tok.end,
                    messages.HINT__WRITE_THE_KEY_AS,
                )
            elif tok.kind == "punct" and tok.text == "...":
                self.advance()
                value = self.conditional()
                props.append(("...", js.Spread(value, tok.start, self.prev_end)))
                if not self.at(","):
                    break
                self.advance()
                continue
            else:
                self.unexpected()
            self.advance()
            if not self.at(":"):
                if self.at("(") or (
                    tok.kind == "ident" and tok.text in ("get", "set") and self.tok.kind == "ident"
                ):
                    self.unsupported(
                        messages.OBJECT_METHOD_UNSUPPORTED,
                        tok.start,
                        self.tok.end,
                    )
                if tok.kind == "ident" and (self.at(",") or self.at("}")):
                    # `{ name }` is `{ name: name }`
                    props.append((key, js.Ident(key, tok.start, tok.end)))
                    if not self.at(","):
                        break
                    self.advance()
                    continue
                self.expect(":")
            self.advance()
            if key == "__proto__":
                self.unsupported(messages.PROTO_KEY_UNSUPPORTED, tok.start, tok.end)
            props.append((key, self.conditional()))
            if self.tok.kind == "punct" and self.tok.text in _ASSIGNMENT_OPS:
                self.unexpected()
            if not self.at(","):
                break
            self.advance()
        self.expect("}", "close the object with `}`")
        return js.Object(tuple(props), start, self.prev_end)

    def template(self, tok: Token) -> js.Expr:
        # The lexer stopped just after the opening backtick.
        text = self.text
        start = tok.start
        self.pos = tok.end
        quasis: list[str] = []
        exprs: list[js.Expr] = []
        buf: list[str] = []
        while True:
            if self.pos >= len(text):
                self.fail(
                    messages.TEMPLATE_NOT_CLOSED,
                    start,
                    self.pos,
                    messages.HINT__CLOSE_IT_WITH_A,
                )
            c = text[self.pos]
            if c == "`":
                self.pos += 1
                quasis.append(_join_surrogates("".join(buf)))
                break
            if c == "\\":
                self.pos += 1
                buf.append(self._escape("`"))
                continue
            if text.startswith("${", self.pos):
                quasis.append(_join_surrogates("".join(buf)))
                buf = []
                self.pos += 2
                self.tok = self._lex()
                exprs.append(self.expression())
                if not self.at("}"):
                    self.fail(
                        messages.CLOSING_TOKEN_EXPECTED.format(),
                        self.tok.start,
                        self.tok.end,
                    )
                self.pos = self.tok.end
                continue
            if c == "\r":
                buf.append("\n")
                self.pos += 2 if text.startswith("\r\n", self.pos) else 1
                continue
            buf.append(c)
            self.pos += 1
        end = self.pos
        self.prev_end = end
        self.tok = self._lex()
        return js.Template(tuple(quasis), tuple(exprs), start, end)


def _join_surrogates(s: str) -> str:
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in s):
        return s
    return s.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "surrogatepass")


def parse_expression(text: str) -> js.Expr:
    """Parse a whole expression; offsets in the tree index into ``text``."""
    return Parser(text).parse()
