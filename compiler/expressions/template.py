"""Find ``{{ ... }}`` in parameter strings.

A string that is exactly one ``{{ expr }}`` (surrounding whitespace allowed) takes the
expression's value and type; any other text around ``{{ }}`` makes a string, as a JavaScript
template literal would.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler import messages
from compiler.expressions import ast as js
from compiler.expressions.parser import ExpressionError, Parser

Parts = list[str | js.Expr]  # literal text and parsed expressions of one string


@dataclass(frozen=True)
class Piece:
    """Literal text, or an expression whose text starts at ``offset`` in the string."""

    text: str
    offset: int
    is_expr: bool


def split_template(s: str) -> list[Piece] | None:
    """Pieces of ``s``, or None when it holds no ``{{``. Raises on an unclosed ``{{``."""
    if "{{" not in s:
        return None
    pieces: list[Piece] = []
    i = 0
    while i < len(s):
        open_ = s.find("{{", i)
        if open_ < 0:
            pieces.append(Piece(s[i:], i, False))
            break
        if open_ > i:
            pieces.append(Piece(s[i:open_], i, False))
        close = _find_close(s, open_ + 2)
        if close < 0:
            raise ExpressionError(
                messages.TEMPLATE_EXPRESSION_NOT_CLOSED.format().text,
                open_,
                open_ + 2,
                "SyntaxError",
                messages.HINT__CLOSE_THE_EXPRESSION,
                messages.TEMPLATE_EXPRESSION_NOT_CLOSED.code,
            )
        pieces.append(Piece(s[open_ + 2 : close], open_ + 2, True))
        i = close + 2
    for p in pieces:
        stray = p.text.find("}}") if not p.is_expr else -1
        if stray >= 0:  # `{{ a }}-thumbnail }}`: the text keeps a `}}` no expression opened
            raise ExpressionError(
                messages.TEMPLATE_STRAY_CLOSE.format().text,
                p.offset + stray,
                p.offset + stray + 2,
                "SyntaxError",
                messages.HINT__TEMPLATE_STRAY_CLOSE,
                messages.TEMPLATE_STRAY_CLOSE.code,
            )
    return pieces


def _find_close(s: str, start: int) -> int:
    """The `}}` that ends an expression, skipping string literals and nested braces."""
    depth = 0
    i = start
    quote: str | None = None
    while i < len(s):
        c = s[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "'\"`":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            if depth == 0 and s.startswith("}}", i):
                return i
            if depth > 0:
                depth -= 1
        i += 1
    return -1


def whole_expression(pieces: list[Piece]) -> Piece | None:
    """The single expression when the string is nothing but ``{{ expr }}``."""
    exprs = [p for p in pieces if p.is_expr]
    if len(exprs) == 1 and all(not p.text.strip() for p in pieces if not p.is_expr):
        return exprs[0]
    return None


def parse_parts(s: str) -> Parts:
    """The literal text and parsed expressions of a parameter string (no ``{{``: the text
    alone). Raises ExpressionError at the first problem."""
    pieces = split_template(s)
    if pieces is None:
        return [s]
    out: Parts = []
    for p in pieces:
        if p.is_expr:
            out.append(Parser(s[: p.offset + len(p.text)], p.offset).parse())
        elif p.text:
            out.append(p.text)
    return out
