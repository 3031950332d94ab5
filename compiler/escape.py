"""The only ways text from a workflow or entity file reaches generated code: one function per
context. Workflow files may come from people the operator does not trust, so every string
they hold is data until one of these turns it into code:

- :func:`literal`: a Python literal (``repr``: quotes, backslashes and every character that
  is not printable, line breaks, NUL, U+2028, lone surrogates, become escapes);
- :func:`comment`: the rest of one ``#`` line (no character can end the line);
- :func:`docstring`: text inside ``\"\"\"...\"\"\"`` (no quote or backslash can end it early);
- :func:`identifier`: a Python name, accepted only when it is one (ASCII, not a keyword);
- :func:`sql_identifier`: a table or column name in SQL, accepted only in its safe shape and
  quoted when it is a reserved word of SQLite or PostgreSQL;
- :func:`markdown`: text in the Markdown page beside each module (no HTML, no line break, no
  character a UTF-8 file cannot hold).

The templates enforce it: every ``{{ }}`` of a template must produce :class:`Code` (what these
functions, or the compiler's own emitter, return), and anything else is an error at render
time, so an unescaped value cannot slip into a module unnoticed.
"""

from __future__ import annotations

import keyword
import re
import unicodedata

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"})


class Code(str):
    """Text that is Python code: produced by the compiler or escaped for its context."""

    __slots__ = ()


def literal(value: object) -> Code:
    """A Python literal for a string, number, boolean, None, or a tuple/list/dict of them."""
    if isinstance(value, str):
        return Code(repr(value))  # repr escapes quotes, backslashes and every unprintable
    if value is None or isinstance(value, bool | int | float):
        return Code(repr(value))
    if isinstance(value, tuple):
        items = ", ".join(literal(v) for v in value)
        return Code(f"({items},)" if len(value) == 1 else f"({items})")
    if isinstance(value, list):
        return Code("[" + ", ".join(literal(v) for v in value) + "]")
    if isinstance(value, dict):
        pairs = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items())
        return Code("{" + pairs + "}")
    raise TypeError(f"no Python literal for {type(value).__name__}")


def _escape(ch: str) -> str:
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def comment(text: str) -> Code:
    """``text`` safe on one ``#`` line: line breaks and other control, format, separator or
    surrogate characters become ``\\uXXXX`` escapes, so nothing can end the comment."""
    return Code(
        "".join(
            _escape(ch) if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in text
        )
    )


def docstring(text: str) -> Code:
    """``text`` safe inside a triple-quoted docstring: backslashes and double quotes are
    escaped (no ``\"\"\"`` can close it, no escape can be formed); an unsafe character is
    shown as the text of its escape (a class's docstring must encode to UTF-8, so a lone
    surrogate may not be in it even as an escape); newlines and tabs stay."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch in "\n\t":
            out.append(ch)
        elif ch == "\r" or unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            out.append("\\" + _escape(ch))
        else:
            out.append(ch)
    return Code("".join(out))


def is_identifier(text: str) -> bool:
    """A Python name that is safe to emit as is: ASCII (no normalization surprises), not a
    keyword (``class``, ``None``...), not a soft keyword used as a statement (``match``)."""
    return (
        text.isascii()
        and text.isidentifier()
        and not keyword.iskeyword(text)
        and not keyword.issoftkeyword(text)
    )


def identifier(text: str) -> Code:
    """``text`` as a Python name. Earlier stages reject or rename everything else, so a name
    that fails here is a compiler bug, raised, never emitted."""
    if not is_identifier(text):
        raise ValueError(f"not a safe Python identifier: {text!r}")
    return Code(text)


_SQL_NAME = re.compile(r"[a-z_][a-z0-9_]*")

# Reserved words of SQLite and PostgreSQL (and SQL:2016 words both treat specially): a table or
# column with one of these names is quoted wherever it appears.
SQL_RESERVED = frozenset(
    [
        "abort",
        "action",
        "add",
        "after",
        "all",
        "alter",
        "always",
        "analyze",
        "and",
        "as",
        "asc",
        "attach",
        "autoincrement",
        "before",
        "begin",
        "between",
        "both",
        "by",
        "cascade",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "commit",
        "conflict",
        "constraint",
        "create",
        "cross",
        "current",
        "current_catalog",
        "current_date",
        "current_role",
        "current_time",
        "current_timestamp",
        "current_user",
        "database",
        "default",
        "deferrable",
        "deferred",
        "delete",
        "desc",
        "detach",
        "distinct",
        "do",
        "drop",
        "each",
        "else",
        "end",
        "escape",
        "except",
        "exclude",
        "exclusive",
        "exists",
        "explain",
        "fetch",
        "filter",
        "first",
        "following",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "generated",
        "glob",
        "group",
        "groups",
        "having",
        "if",
        "ilike",
        "ignore",
        "immediate",
        "in",
        "index",
        "indexed",
        "initially",
        "inner",
        "insert",
        "instead",
        "intersect",
        "into",
        "is",
        "isnull",
        "join",
        "key",
        "last",
        "lateral",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "match",
        "materialized",
        "natural",
        "no",
        "not",
        "nothing",
        "notnull",
        "null",
        "nulls",
        "of",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "others",
        "outer",
        "over",
        "overlaps",
        "partition",
        "placing",
        "plan",
        "pragma",
        "preceding",
        "primary",
        "query",
        "raise",
        "range",
        "recursive",
        "references",
        "regexp",
        "reindex",
        "release",
        "rename",
        "replace",
        "restrict",
        "returning",
        "right",
        "rollback",
        "row",
        "rows",
        "savepoint",
        "select",
        "session_user",
        "set",
        "similar",
        "some",
        "symmetric",
        "table",
        "temp",
        "temporary",
        "then",
        "ties",
        "to",
        "trailing",
        "transaction",
        "trigger",
        "unbounded",
        "union",
        "unique",
        "update",
        "user",
        "using",
        "vacuum",
        "values",
        "variadic",
        "verbose",
        "view",
        "virtual",
        "when",
        "where",
        "window",
        "with",
        "without",
    ]
)


def is_sql_name(name: str) -> bool:
    return _SQL_NAME.fullmatch(name) is not None and len(name) <= 63


def sql_identifier(name: str) -> str:
    """A table, column, index or policy name in SQL: only lower-case letters, digits and
    underscores (at most 63, PostgreSQL's limit) are accepted, and a reserved word is quoted
    (``"order"``). Anything else was rejected with a located error before; here it is a
    compiler bug, raised, never emitted."""
    if not is_sql_name(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return f'"{name}"' if name in SQL_RESERVED else name


def markdown(text: str) -> str:
    """``text`` in the Markdown page beside each module, or in a Mermaid label: no HTML
    (``<``, ``>``, ``&`` become entities, ``"`` Mermaid's ``#quot;``), no line break or
    unsafe character (shown as the text of its escape)."""
    out = []
    for ch in text:
        if ch in _HTML:
            out.append(_HTML[ch])
        elif unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            out.append("\\" + _escape(ch))
        else:
            out.append(ch)
    return "".join(out)


def markdown_code(text: str) -> str:
    """``text`` inside a Markdown code span (backticks): no backtick can end it early."""
    return "".join(
        (
            "'"
            if ch == "`"
            else "\\" + _escape(ch) if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch
        )
        for ch in text
    )


_HTML = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "#quot;"}
