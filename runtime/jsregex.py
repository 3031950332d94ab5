"""JavaScript regular expression literals as Python ``re`` patterns with the same meaning.

The compiler translates each literal once (``match`` and ``search`` of a string that is
not a literal translate it at run time, as ``new RegExp(text)`` does); a construct whose
meaning differs and that is not rewritten here is refused (``RegexUnsupported``), never
passed through:

- ``\\d``, ``\\w``, ``\\b`` are ASCII in JavaScript (Unicode in Python): written out;
- ``\\s`` is JavaScript's whitespace set (Unicode spaces and line terminators);
- ``.`` stops at ``\\n``, ``\\r``, U+2028 and U+2029 (Python: ``\\n`` only), unless ``s``;
- ``$`` without ``m`` is the end of the input (Python's also matches before a final ``\\n``);
- ``(?<name>...)`` and ``\\k<name>`` are Python's ``(?P<name>...)`` and ``(?P=name)``;
- ``[^]`` is any character; ``\\cX``, ``\\p{...}`` and the ``y`` flag are refused.
"""

from __future__ import annotations

import re

JS_SPACE = (
    "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)
_WORD = "A-Za-z0-9_"
_CLASS_ESCAPES = {"d": "0-9", "w": _WORD, "s": JS_SPACE}
_ESCAPES = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "s": f"[{JS_SPACE}]",
    "S": f"[^{JS_SPACE}]",
    "b": f"(?:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))",
    "B": f"(?:(?<=[{_WORD}])(?=[{_WORD}])|(?<![{_WORD}])(?![{_WORD}]))",
}


class RegexUnsupported(Exception):
    """A construct outside the translated subset; the message names it."""


def to_python(pattern: str, flags: str) -> tuple[str, str]:
    """(Python pattern, flags among "ims") for a JavaScript literal's pattern and flags."""
    if "y" in flags:
        raise RegexUnsupported("the sticky flag `y`")
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 >= len(pattern):
                raise RegexUnsupported("a trailing backslash")
            n = pattern[i + 1]
            i += 2
            if in_class and n in _CLASS_ESCAPES:
                out.append(_CLASS_ESCAPES[n])
            elif in_class and n in "DWSbB":
                raise RegexUnsupported(f"`\\{n}` inside a class")
            elif n in _ESCAPES:
                out.append(_ESCAPES[n])
            elif n == "k" and pattern.startswith("<", i):
                end = pattern.index(">", i)
                out.append(f"(?P={pattern[i + 1 : end]})")
                i = end + 1
            elif n == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", pattern[i : i + 4]):
                out.append(re.escape(chr(int(pattern[i : i + 4], 16))))
                i += 4
            elif n == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", pattern[i : i + 2]):
                out.append(re.escape(chr(int(pattern[i : i + 2], 16))))
                i += 2
            elif n == "0" and not pattern[i : i + 1].isdigit():
                out.append("\\x00")
            elif n.isdigit() or n in "nrtfv":
                out.append("\\" + n)
            elif n in "cpPu":
                raise RegexUnsupported(f"`\\{n}`")
            elif n.isalnum():
                raise RegexUnsupported(f"`\\{n}`")  # an identity escape JavaScript allows
            else:
                out.append(re.escape(n))
            continue
        if in_class:
            if c == "]":
                in_class = False
            elif c == "[":
                out.append("\\[")
                i += 1
                continue
            out.append(c)
            i += 1
            continue
        if pattern.startswith("[^]", i):
            out.append("[\\s\\S]")
            i += 3
        elif pattern.startswith("[]", i):
            out.append("(?!)")
            i += 2
        elif c == "[":
            in_class = True
            out.append(c)
            i += 1
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):  # `[]a]` in JavaScript is an empty class, then a]
                raise RegexUnsupported("`]` first in a class")
        elif pattern.startswith("(?<", i) and not pattern.startswith(("(?<=", "(?<!"), i):
            out.append("(?P<")
            i += 3
        elif c == "." and "s" not in flags:
            out.append("[^\\n\\r\\u2028\\u2029]")
            i += 1
        elif c == "$" and "m" not in flags:
            out.append("\\Z")
            i += 1
        elif c == "$":
            out.append("(?=[\\n\\r\\u2028\\u2029]|\\Z)")
            i += 1
        elif c == "^" and "m" in flags:
            out.append("(?:(?<=[\\n\\r\\u2028\\u2029])|\\A)")
            i += 1
        elif c == "{" and not re.match(r"\{\d+(,\d*)?\}", pattern[i:]):
            out.append("\\{")  # a brace that is not a quantifier is a literal in JavaScript
            i += 1
        elif c == "}":
            out.append("\\}" if not _closes_quantifier(pattern, i) else "}")
            i += 1
        else:
            out.append(c)
            i += 1
    if in_class:
        raise RegexUnsupported("an unclosed class")
    text = "".join(out)
    py_flags = "".join(f for f in "is" if f in flags)  # m is written out above
    try:
        re.compile(text, _flags(py_flags))
    except re.error as err:
        raise RegexUnsupported(f"a construct Python reads otherwise ({err})") from None
    return text, py_flags


def _closes_quantifier(pattern: str, i: int) -> bool:
    start = pattern.rfind("{", 0, i)
    return start >= 0 and re.fullmatch(r"\{\d+(,\d*)?\}", pattern[start : i + 1]) is not None


def _flags(py_flags: str) -> int:
    value = 0
    if "i" in py_flags:
        value |= re.IGNORECASE
    if "s" in py_flags:
        value |= re.DOTALL
    return value
