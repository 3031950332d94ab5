"""The expression methods: one entry per supported string, array, Date and Math method.

An entry names the :mod:`runtime.js` helper a call translates to (``""``: the receiver
itself), how many arguments JavaScript reads (``None``: any number), the result type, and a
documentation example with the value Node.js gives for it (the test suite checks every
example against the translator and against Node). The translator's tables, the runtime's
dynamic dispatch (:func:`runtime.js.call_method`, checked to agree), the README's table and the
property tests' lists all come from here; a new method is one line.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.expressions.types import ANY, BOOL, NULL, NUM, STR, UNDEF, ArrayOf, Type, union


@dataclass(frozen=True)
class Method:
    receiver: str  # "string", "array", "Date", "number" or "Math"
    name: str
    helper: str  # the runtime.js function; "" when the call is the receiver itself
    arity: int | None  # the arguments JavaScript reads; None: any number
    result: Type
    example: str  # a JavaScript expression using the method
    value: str  # what Node.js gives for it, as JSON

    @property
    def call(self) -> str:
        return f"Math.{self.name}" if self.receiver == "Math" else f"{self.receiver}.{self.name}"


def _m(
    receiver: str,
    name: str,
    helper: str,
    arity: int | None,
    result: Type,
    example: str,
    value: str,
) -> Method:
    return Method(receiver, name, helper, arity, result, example, value)


_ARRAY = ArrayOf(ANY)

METHODS: tuple[Method, ...] = (
    _m("string", "includes", "str_includes", 2, BOOL, "'stream:1'.includes(':')", "true"),
    _m("string", "startsWith", "str_starts_with", 2, BOOL, "'stream:1'.startsWith('st')", "true"),
    _m("string", "endsWith", "str_ends_with", 2, BOOL, "'stream:1'.endsWith('1')", "true"),
    _m("string", "indexOf", "str_index_of", 2, NUM, "'a-b-c'.indexOf('-', 2)", "3"),
    _m("string", "slice", "str_slice", 2, STR, "'channel'.slice(-3)", '"nel"'),
    _m("string", "substring", "str_substring", 2, STR, "'channel'.substring(4, 1)", '"han"'),
    _m("string", "trim", "str_trim", 0, STR, "'  x '.trim()", '"x"'),
    _m("string", "trimStart", "str_trim_start", 0, STR, "'  x '.trimStart()", '"x "'),
    _m("string", "trimEnd", "str_trim_end", 0, STR, "'  x '.trimEnd()", '"  x"'),
    _m("string", "toUpperCase", "str_to_upper", 0, STR, "'Live'.toUpperCase()", '"LIVE"'),
    _m("string", "toLowerCase", "str_to_lower", 0, STR, "'Live'.toLowerCase()", '"live"'),
    _m("string", "split", "str_split", 2, _ARRAY, "'a,b,c'.split(',', 2)", '["a","b"]'),
    _m("string", "padStart", "str_pad_start", 2, STR, "'7'.padStart(3, '0')", '"007"'),
    _m("string", "padEnd", "str_pad_end", 2, STR, "'7'.padEnd(3, '.')", '"7.."'),
    _m("string", "repeat", "str_repeat", 1, STR, "'ab'.repeat(2)", '"abab"'),
    _m("string", "charAt", "str_char_at", 1, STR, "'abc'.charAt(1)", '"b"'),
    _m("string", "at", "str_at", 1, union(STR, UNDEF), "'abc'.at(-1)", '"c"'),
    _m("string", "concat", "str_concat", None, STR, "'a'.concat(1, null)", '"a1null"'),
    _m("string", "toString", "", 0, STR, "'abc'.toString()", '"abc"'),
    _m("string", "replace", "str_replace", 2, STR, "'a-b-c'.replace(/-/g, '+')", '"a+b+c"'),
    _m("string", "match", "str_match", 1, union(_ARRAY, NULL), "'a1b22'.match(/\\d+/g)",
       '["1","22"]'),
    _m("string", "search", "str_search", 1, NUM, "'abc'.search(/c/)", "2"),
    _m("array", "includes", "array_includes", 2, BOOL, "[1, 2].includes(2)", "true"),
    _m("array", "indexOf", "array_index_of", 2, NUM, "['a', 'b'].indexOf('b')", "1"),
    _m("array", "join", "array_join", 1, STR, "[1, null, 'x'].join('-')", '"1--x"'),
    _m("array", "slice", "array_slice", 2, _ARRAY, "[1, 2, 3].slice(1)", "[2,3]"),
    _m("array", "at", "array_at", 1, ANY, "[1, 2, 3].at(-1)", "3"),
    _m("array", "concat", "array_concat", None, _ARRAY, "[1].concat([2], 3)", "[1,2,3]"),
    _m("array", "toString", "array_join", 0, STR, "[1, [2, 3]].toString()", '"1,2,3"'),
    _m("Date", "toISOString", "iso_string", 0, STR, "new Date(0).toISOString()",
       '"1970-01-01T00:00:00.000Z"'),
    _m("Date", "toJSON", "date_to_json", 0, union(STR, NULL), "new Date(NaN).toJSON()", "null"),
    _m("Date", "getTime", "", 0, NUM, "new Date('2026-01-22T00:00:00Z').getTime()",
       "1769040000000"),
    _m("Date", "toString", "date_to_string", 0, STR, "String(new Date(NaN).toString())",
       '"Invalid Date"'),
    _m("Date", "toLocaleString", "date_to_locale_string", 1, STR,
       "new Date('2026-01-22T15:04:05Z').toLocaleString('en-US')", '"1/22/2026, 3:04:05 PM"'),
    _m("number", "toString", "number_to_string_radix", 1, STR, "(255).toString(16)", '"ff"'),
    _m("number", "toFixed", "number_to_fixed", 1, STR, "(1.005).toFixed(2)", '"1.00"'),
    _m("number", "toLocaleString", "number_to_locale_string", 1, STR,
       "(1234567.891).toLocaleString('en-US')", '"1,234,567.891"'),
    _m("Math", "abs", "math_abs", 1, NUM, "Math.abs(-2)", "2"),
    _m("Math", "ceil", "math_ceil", 1, NUM, "Math.ceil(1.2)", "2"),
    _m("Math", "floor", "math_floor", 1, NUM, "Math.floor(-1.2)", "-2"),
    _m("Math", "max", "math_max", None, NUM, "Math.max(1, 3, 2)", "3"),
    _m("Math", "min", "math_min", None, NUM, "Math.min()", "null"),
    _m("Math", "pow", "math_pow", 2, NUM, "Math.pow(2, 10)", "1024"),
    _m("Math", "random", "math_random", 0, NUM, "Math.random() < 1", "true"),
    _m("Math", "round", "math_round", 1, NUM, "Math.round(-2.5)", "-2"),
    _m("Math", "sign", "math_sign", 1, NUM, "Math.sign(-3)", "-1"),
    _m("Math", "sqrt", "math_sqrt", 1, NUM, "Math.sqrt(16)", "4"),
    _m("Math", "trunc", "math_trunc", 1, NUM, "Math.trunc(-4.7)", "-4"),
)  # fmt: skip

BY_RECEIVER: dict[str, dict[str, Method]] = {}
for _method in METHODS:
    BY_RECEIVER.setdefault(_method.receiver, {})[_method.name] = _method


def names(receiver: str) -> frozenset[str]:
    return frozenset(BY_RECEIVER.get(receiver, {}))


def lookup(receiver: str, name: str) -> Method | None:
    return BY_RECEIVER.get(receiver, {}).get(name)
