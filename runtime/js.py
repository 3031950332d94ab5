"""JavaScript semantics for translated expressions.

The compiler emits plain Python where the types it knows make the meaning clear (two strings:
``a + b``). Where they do not, it calls these helpers, which implement the ECMAScript rules
exactly for the supported subset: truthiness, ``+`` and number formatting, ``==`` coercion,
relational comparison by UTF-16 code units, ``typeof``, property reads that raise TypeError
on ``undefined``, Date parsing and ``toISOString``, ``JSON.stringify``.

Values of the JavaScript domain are represented as:

=================  ==========================================
JavaScript         Python
=================  ==========================================
undefined          :data:`UNDEFINED`
null               ``None``
boolean            ``bool``
number             ``float`` (``int`` accepted on input)
string             ``str`` (may hold lone surrogates)
array              ``list``
object             ``dict`` with ``str`` keys
Date               :class:`JsDate`
=================  ==========================================
"""

from __future__ import annotations

import inspect
import json
import math
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import cmp_to_key, lru_cache
from json.encoder import encode_basestring
from typing import Final, NoReturn, TypeVar

from runtime.jsmath import pow_ieee

T = TypeVar("T")

__all__ = [
    "UNDEFINED",
    "JsDate",
    "JsError",
    "JsRangeError",
    "JsRegExp",
    "JsSyntaxError",
    "JsTypeError",
    "JsonTextError",
    "Undefined",
]


class Undefined:
    """The JavaScript ``undefined`` value; a singleton."""

    _instance: Undefined | None = None

    def __new__(cls) -> Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "undefined"

    def __reduce__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Final = Undefined()


class JsError(Exception):
    """An exception JavaScript would throw; ``kind`` is its constructor name."""

    kind = "Error"


class JsTypeError(JsError):
    kind = "TypeError"


class JsRangeError(JsError):
    kind = "RangeError"


class JsSyntaxError(JsError):
    kind = "SyntaxError"


class JsonTextError(JsError):
    """``JSON.parse`` of text that is not JSON: the text came from the request, so the
    engine answers 400 ``INVALID_JSON_TEXT``, not a workflow failure."""

    kind = "SyntaxError"


# --------------------------------------------------------------------------- Dates

_MS_PER_DAY: Final = 86_400_000
_MAX_TIME: Final = 8.64e15
_DAY_NAMES: Final = ("Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed")  # 1970-01-01 was a Thursday
_MONTH_NAMES: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    y -= m <= 2
    era = y // 400  # floor division: the algorithm's C form adjusts truncation to it
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


def time_clip(t: float) -> float:
    if not math.isfinite(t) or abs(t) > _MAX_TIME:
        return math.nan
    return float(math.trunc(t)) + 0.0


def _make_time(
    y: int, mo: int, d: int, h: int, mi: int, s: int, ms: int, offset_min: int
) -> float:
    days = _days_from_civil(y, mo, 1) + d - 1
    t = days * _MS_PER_DAY + ((h * 60 + mi - offset_min) * 60 + s) * 1000 + ms
    return time_clip(t)


_ISO_DATE: Final = re.compile(
    r"(?P<y>[+-]\d{6}|\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2}))?)?"
    r"(?:[Tt](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?"
    r"(?P<z>[Zz]|[+-]\d{2}:?\d{2})?)?"
)
_LEGACY_NUMERIC: Final = re.compile(
    r"(?P<y>\d{4})[-/](?P<mo>\d{1,2})[-/](?P<d>\d{1,2})"
    r"(?:[ Tt]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?)?"
    r"\s*(?P<z>[Zz]|(?:GMT|UTC)?[+-]\d{2}:?\d{2}|GMT|UTC)?"
)
_LEGACY_NAMED: Final = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?"
    r"(?:(?P<mn1>[A-Za-z]{3})[a-z]*\.?\s+(?P<d1>\d{1,2}),?|(?P<d2>\d{1,2})\s+(?P<mn2>[A-Za-z]{3})[a-z]*\.?,?)"
    r"\s+(?P<y>\d{4})"
    r"(?:\s+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?)?"
    r"\s*(?P<z>[Zz]|(?:GMT|UTC)?[+-]\d{2}:?\d{2}|GMT|UTC)?(?:\s*\([^)]*\))?"
)


def _offset_minutes(z: str | None) -> int:
    if not z or z in ("Z", "z", "GMT", "UTC"):
        return 0  # No offset means local time; the runtime's local time zone is UTC.
    z = z.removeprefix("GMT").removeprefix("UTC")
    sign = -1 if z[0] == "-" else 1
    digits = z[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4]))


def _fields_time(
    y: int, mo: int, d: int, h: int, mi: int, s: int, frac: str | None, z: str | None
) -> float:
    if not (1 <= mo <= 12 and 1 <= d <= 31 and mi <= 59 and s <= 59):
        return math.nan
    if h > 24 or (h == 24 and (mi or s or (frac and int(frac)))):
        return math.nan
    ms = int((frac or "0")[:3].ljust(3, "0"))
    offset = _offset_minutes(z)
    if abs(offset) >= 24 * 60:
        return math.nan
    return _make_time(y, mo, d, h, mi, s, ms, offset)


@lru_cache(maxsize=4096)
def date_parse(text: str) -> float:
    """``Date.parse``: milliseconds since the epoch, NaN when the text is not a date.

    The ISO 8601 format of ECMAScript (``2026-01-22T00:00:00.000Z``, date-only forms are UTC)
    plus the legacy forms V8 accepts most often (``2026/01/22``, ``Jan 22 2026``,
    ``Thu, 22 Jan 2026 00:00:00 GMT``). The runtime's local time zone is UTC.
    """
    s = text.strip(_JS_WHITESPACE)
    m = _ISO_DATE.fullmatch(s)
    if m:
        ys = m["y"]
        if ys in ("-000000",):
            return math.nan
        return _fields_time(
            int(ys), int(m["mo"] or 1), int(m["d"] or 1), int(m["h"] or 0), int(m["mi"] or 0),
            int(m["s"] or 0), m["f"], m["z"],
        )  # fmt: skip
    m = _LEGACY_NUMERIC.fullmatch(s)
    if m:
        return _fields_time(
            int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"] or 0), int(m["mi"] or 0),
            int(m["s"] or 0), m["f"], m["z"],
        )  # fmt: skip
    m = _LEGACY_NAMED.fullmatch(s)
    if m:
        name = (m["mn1"] or m["mn2"]).title()
        if name not in _MONTH_NAMES:
            return math.nan
        return _fields_time(
            int(m["y"]), _MONTH_NAMES.index(name) + 1, int(m["d1"] or m["d2"]),
            int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0), None, m["z"],
        )  # fmt: skip
    return math.nan


def _split_time(t: float) -> tuple[int, int, int, int, int, int, int, int]:
    ms_total = int(t)
    days, ms_of_day = divmod(ms_total, _MS_PER_DAY)
    y, mo, d = _civil_from_days(days)
    h, rem = divmod(ms_of_day, 3_600_000)
    mi, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return y, mo, d, h, mi, s, ms, days


_second: tuple[int, str] = (0, "1970-01-01T00:00:00")  # the last second written, its text


def iso_string(t: float) -> str:
    """``Date.prototype.toISOString`` of a time value; RangeError when it is NaN. The date
    and time of day are worked out once a second (the times written come in order, mostly:
    the current time, a history's start times), the milliseconds every time."""
    global _second
    if math.isnan(t):
        raise JsRangeError("Invalid time value")
    second, ms = divmod(int(t), 1000)
    done, head = _second
    if second != done:
        y, mo, d, h, mi, s, _, _ = _split_time(second * 1000)
        year = f"{y:04d}" if 0 <= y <= 9999 else f"{'+' if y > 0 else '-'}{abs(y):06d}"
        head = f"{year}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"
        _second = (second, head)
    return f"{head}.{ms:03d}Z"


def date_to_json(t: float) -> str | None:
    """``Date.prototype.toJSON``: the ISO string, or null for an invalid date."""
    return iso_string(t) if math.isfinite(t) else None


def date_to_string(t: float) -> str:
    """``Date.prototype.toString`` in UTC, the runtime's time zone."""
    if math.isnan(t):
        return "Invalid Date"
    y, mo, d, h, mi, s, _, days = _split_time(t)
    year = f"-{abs(y):06d}" if y < 0 else f"{y:04d}"
    return (
        f"{_DAY_NAMES[days % 7]} {_MONTH_NAMES[mo - 1]} {d:02d} {year} "
        f"{h:02d}:{mi:02d}:{s:02d} GMT+0000 (Coordinated Universal Time)"
    )


def date_to_locale_string(t: float, locale: object = UNDEFINED) -> str:
    """``Date.prototype.toLocaleString('en-US')`` in UTC, the runtime's time zone:
    ``1/22/2026, 3:04:05 PM``. Only the en-US form exists (the compiler refuses others)."""
    if math.isnan(t):
        return "Invalid Date"
    y, mo, d, h, mi, s, _, _ = _split_time(t)
    hour = h % 12 or 12
    return f"{mo}/{d}/{y}, {hour}:{mi:02d}:{s:02d} {'AM' if h < 12 else 'PM'}"


def number_to_string_radix(x: float, radix: object = UNDEFINED) -> str:
    """``Number.prototype.toString(radix)``: base 10 as ``String(x)``; another base (2-36)
    for whole numbers. A fraction in another base is a RangeError here (JavaScript would
    print its binary expansion)."""
    base = 10 if radix is UNDEFINED else to_integer(radix)
    if not 2 <= base <= 36:
        raise JsRangeError("toString() radix must be between 2 and 36")
    if base == 10 or not math.isfinite(x):
        return to_string(x)
    if not x.is_integer():
        raise JsRangeError("toString() with a radix other than 10 takes a whole number here")
    n = int(abs(x))
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, int(base))
        out = digits[r] + out
        if n == 0:
            break
    return ("-" if x < 0 else "") + out


def number_to_fixed(x: float, digits: object = UNDEFINED) -> str:
    """``Number.prototype.toFixed``: the exact decimal value of ``x`` rounded half up to
    ``digits`` places (0-100), as ``(1.005).toFixed(2) === "1.00"``."""
    f = 0 if digits is UNDEFINED else to_integer(digits)
    if not 0 <= f <= 100:
        raise JsRangeError("toFixed() digits argument must be between 0 and 100")
    if math.isnan(x):
        return "NaN"
    if abs(x) >= 1e21 or math.isinf(x):
        return to_string(x)
    q = Decimal(abs(x)).quantize(Decimal(1).scaleb(-int(f)), rounding=ROUND_HALF_UP)
    text = f"{q:.{int(f)}f}"
    return ("-" if x < 0 else "") + text


def number_to_locale_string(x: float, locale: object = UNDEFINED) -> str:
    """``Number.prototype.toLocaleString('en-US')``: thousands grouped with commas, at most
    three fraction digits, rounded half away from zero from the shortest decimal form."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    q = Decimal(repr(abs(x))).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    whole, _, frac = f"{q:f}".partition(".")
    frac = frac.rstrip("0")
    text = f"{int(whole):,}" + (f".{frac}" if frac else "")
    return ("-" if math.copysign(1.0, x) < 0 else "") + text


class JsDate:
    """A JavaScript Date: a time value in milliseconds since the epoch, or NaN."""

    __slots__ = ("time",)

    def __init__(self, time: float) -> None:
        self.time = time

    def __repr__(self) -> str:
        return f"JsDate({date_to_string(self.time)!r})"


def epoch_ms() -> int:
    """The clock in whole epoch milliseconds, as ``Date.now()`` reads it."""
    return time.time_ns() // 1_000_000


def now_ms() -> float:
    """``Date.now()``."""
    return float(epoch_ms())


def new_date(*args: object) -> JsDate:
    """``new Date()`` and ``new Date(value)``."""
    if not args:
        return JsDate(now_ms())
    value = args[0]
    if isinstance(value, JsDate):
        return JsDate(value.time)
    prim = to_primitive(value)
    if isinstance(prim, str):
        return JsDate(date_parse(prim))
    return JsDate(time_clip(to_number(prim)))


def date_value(value: object) -> float:
    """The time value ``new Date(value)`` would hold, without building the Date."""
    if isinstance(value, str):
        return date_parse(value)
    return new_date(value).time


# --------------------------------------------------------------------------- conversions

_MAX_STRING_LENGTH: Final = 2**29 - 24  # V8's limit on 64-bit machines
_JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL: Final = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Infinity)")
_RADIX: Final = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")


def string_to_number(s: str) -> float:
    s = s.strip(_JS_WHITESPACE)
    if not s:
        return 0.0
    if _DECIMAL.fullmatch(s):
        if s.endswith("Infinity"):
            return -math.inf if s[0] == "-" else math.inf
        return float(s)
    if _RADIX.fullmatch(s):
        return float(int(s[2:], {"x": 16, "o": 8, "b": 2}[s[1].lower()]))
    return math.nan


def to_number(x: object) -> float:
    """ToNumber."""
    if isinstance(x, bool):
        return 1.0 if x else 0.0
    if isinstance(x, float):
        return x
    if isinstance(x, int):
        return _int_to_float(x)
    if isinstance(x, str):
        return string_to_number(x)
    if x is None:
        return 0.0
    if x is UNDEFINED:
        return math.nan
    return to_number(to_primitive(x, "number"))


def _int_to_float(x: int) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def to_integer(x: object) -> float:
    """ToIntegerOrInfinity."""
    n = to_number(x)
    if math.isnan(n):
        return 0.0
    if math.isinf(n):
        return n
    return float(math.trunc(n))


def number_to_string(x: float) -> str:
    """Number::toString(10): the shortest digits that round-trip, placed as ECMAScript says."""
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) < 10**21:
        return str(x)
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if x == 0:
        return "0"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x < 0:
        return "-" + number_to_string(-x)
    r = repr(x)
    mantissa, _, exp = r.partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # n: position of the decimal point relative to the start of `digits`.
    n = len(int_part) + (int(exp) if exp else 0)
    if int_part == "0":
        stripped = frac_part.lstrip("0")
        n = -(len(frac_part) - len(stripped)) + (int(exp) if exp else 0)
        digits = stripped
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    if k == 1:
        return f"{digits}e{sign}{abs(e)}"
    return f"{digits[0]}.{digits[1:]}e{sign}{abs(e)}"


def to_primitive(x: object, hint: str = "default") -> object:
    """ToPrimitive for the object kinds of the subset (plain objects, arrays, Dates)."""
    if isinstance(x, dict):
        return "[object Object]"
    if isinstance(x, list):
        return array_join(x, ",")
    if isinstance(x, JsDate):
        return x.time if hint == "number" else date_to_string(x.time)
    return x


def to_string(x: object) -> str:
    """ToString (``String(x)`` and template literal parts)."""
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, (int, float)):
        return number_to_string(x)
    if x is None:
        return "null"
    if x is UNDEFINED:
        return "undefined"
    return to_string(to_primitive(x, "string"))


def to_property_key(x: object) -> str:
    return x if isinstance(x, str) else to_string(x)


def truthy(x: object) -> bool:
    """ToBoolean: ``[]`` and ``{}`` are truthy; ``""``, ``0``, ``-0``, ``NaN`` are not."""
    if isinstance(x, bool):
        return x
    if isinstance(x, str):
        return x != ""
    if isinstance(x, (int, float)):
        return not (x == 0 or x != x)
    return not (x is None or x is UNDEFINED)


def typeof(x: object) -> str:
    if isinstance(x, str):
        return "string"
    if isinstance(x, bool):
        return "boolean"
    if isinstance(x, (int, float)):
        return "number"
    if x is UNDEFINED:
        return "undefined"
    return "object"


def is_nullish(x: object) -> bool:
    return x is None or x is UNDEFINED


# --------------------------------------------------------------------------- operators


def add(a: object, b: object) -> str | float:
    """The ``+`` operator."""
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    pa, pb = to_primitive(a), to_primitive(b)
    if isinstance(pa, str) or isinstance(pb, str):
        return to_string(pa) + to_string(pb)
    return to_number(pa) + to_number(pb)


def sub(a: object, b: object) -> float:
    return to_number(a) - to_number(b)


def mul(a: object, b: object) -> float:
    return to_number(a) * to_number(b)


def div(a: object, b: object) -> float:
    x, y = to_number(a), to_number(b)
    if y == 0:
        if x == 0 or math.isnan(x):
            return math.nan
        negative = (math.copysign(1.0, x) < 0) != (math.copysign(1.0, y) < 0)
        return -math.inf if negative else math.inf
    return x / y


def mod(a: object, b: object) -> float:
    x, y = to_number(a), to_number(b)
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or y == 0:
        return math.nan
    if math.isinf(y):
        return x
    if x == 0:
        return x
    return math.fmod(x, y)


def pow_(a: object, b: object) -> float:
    """``a ** b`` (and ``Math.pow``), with V8's algorithm rather than the C library's."""
    x, y = to_number(a), to_number(b)
    if math.isnan(y):
        return math.nan
    if (x == 1 or x == -1) and math.isinf(y):
        return math.nan
    return pow_ieee(x, y)


def neg(a: object) -> float:
    return -to_number(a)


def not_(a: object) -> bool:
    return not truthy(a)


def same_value_zero(a: object, b: object) -> bool:
    if _is_number(a) and _is_number(b):
        x, y = float(a), float(b)  # type: ignore[arg-type]
        return x == y or (x != x and y != y)
    return strict_eq(a, b)


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def strict_eq(a: object, b: object) -> bool:
    """``===``."""
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if a is None or b is None or a is UNDEFINED or b is UNDEFINED:
        return a is b
    if _is_number(a) or _is_number(b) or isinstance(a, str) or isinstance(b, str):
        return False
    return a is b


def loose_eq(a: object, b: object) -> bool:
    """``==`` with its coercions."""
    while True:
        if is_nullish(a) or is_nullish(b):
            return is_nullish(a) and is_nullish(b)
        a_prim = not isinstance(a, (dict, list, JsDate))
        b_prim = not isinstance(b, (dict, list, JsDate))
        if a_prim and b_prim:
            if type(a) is type(b) or (_is_number(a) and _is_number(b)):
                return strict_eq(a, b)
            if isinstance(a, bool):
                a = to_number(a)
                continue
            if isinstance(b, bool):
                b = to_number(b)
                continue
            # number and string
            return to_number(a) == to_number(b)
        if not a_prim and not b_prim:
            return a is b
        if a_prim:
            b = to_primitive(b)
        else:
            a = to_primitive(a)


def _utf16_key(s: str) -> str | bytes:
    if s.isascii() or all(ord(c) < 0x10000 for c in s):
        return s
    return s.encode("utf-16-be", "surrogatepass")


def _less_than(a: object, b: object, left_first: bool) -> bool | None:
    """IsLessThan; None stands for ``undefined`` (a NaN was involved)."""
    if left_first:
        pa = to_primitive(a, "number")
        pb = to_primitive(b, "number")
    else:
        pb = to_primitive(b, "number")
        pa = to_primitive(a, "number")
    if isinstance(pa, str) and isinstance(pb, str):
        ka, kb = _utf16_key(pa), _utf16_key(pb)
        if type(ka) is not type(kb):
            ka = pa.encode("utf-16-be", "surrogatepass")
            kb = pb.encode("utf-16-be", "surrogatepass")
        return ka < kb  # type: ignore[operator]
    x, y = to_number(pa), to_number(pb)
    if math.isnan(x) or math.isnan(y):
        return None
    return x < y


def lt(a: object, b: object) -> bool:
    return _less_than(a, b, True) is True


def gt(a: object, b: object) -> bool:
    return _less_than(b, a, False) is True


def le(a: object, b: object) -> bool:
    r = _less_than(b, a, False)
    return r is False


def ge(a: object, b: object) -> bool:
    r = _less_than(a, b, True)
    return r is False


# --------------------------------------------------------------------------- properties


def _describe_nullish(x: object) -> str:
    return "undefined" if x is UNDEFINED else "null"


def get(obj: object, key: object) -> object:
    """Property read ``obj[key]``; TypeError on ``undefined`` and ``null``."""
    if obj is None or obj is UNDEFINED:
        raise JsTypeError(
            f"Cannot read properties of {_describe_nullish(obj)} "
            f"(reading '{to_property_key(key)}')"
        )
    k = to_property_key(key)
    if isinstance(obj, dict):
        return obj.get(k, UNDEFINED)
    if isinstance(obj, str):
        if k == "length":
            return float(str_length(obj))
        i = _array_index(k)
        if i is not None:
            units = _units(obj)
            return units[i] if i < len(units) else UNDEFINED
        return UNDEFINED
    if isinstance(obj, list):
        if k == "length":
            return float(len(obj))
        i = _array_index(k)
        if i is not None and i < len(obj):
            return obj[i]
        return UNDEFINED
    return UNDEFINED


def present(obj: object, key: str) -> NoReturn:
    """Raise the TypeError of reading ``key`` from ``undefined`` or ``null``."""
    raise JsTypeError(f"Cannot read properties of {_describe_nullish(obj)} (reading '{key}')")


def _array_index(k: str) -> int | None:
    if k.isdigit() and (k == "0" or not k.startswith("0")) and k.isascii():
        i = int(k)
        return i if i < 2**32 - 1 else None
    return None


def own_keys(obj: Mapping[str, object]) -> list[str]:
    """Keys in JavaScript's order: array indices ascending, then strings as inserted."""
    indices = sorted((int(k), k) for k in obj if _array_index(k) is not None)
    if not indices:
        return list(obj)
    index_keys = {k for _, k in indices}
    return [k for _, k in indices] + [k for k in obj if k not in index_keys]


# --------------------------------------------------------------------------- strings


def _units(s: str) -> str:
    """The string as UTF-16 code units, one Python character each."""
    if all(ord(c) < 0x10000 for c in s):
        return s
    out: list[str] = []
    for c in s:
        o = ord(c)
        if o < 0x10000:
            out.append(c)
        else:
            o -= 0x10000
            out.append(chr(0xD800 + (o >> 10)) + chr(0xDC00 + (o & 0x3FF)))
    return "".join(out)


def _from_units(u: str) -> str:
    """Join surrogate pairs back into code points (lone surrogates stay)."""
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in u):
        return u
    return u.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "surrogatepass")


def str_length(s: str) -> int:
    return len(_units(s))


def _relative_index(value: object, length: int, default: int) -> int:
    if value is UNDEFINED:
        return default
    n = to_integer(value)
    if n < 0:
        return int(max(length + n, 0))
    return int(min(n, length))


def str_slice(s: str, start: object = UNDEFINED, end: object = UNDEFINED) -> str:
    u = _units(s)
    a = _relative_index(start, len(u), 0)
    b = _relative_index(end, len(u), len(u))
    return _from_units(u[a:b]) if a < b else ""


def str_substring(s: str, start: object = UNDEFINED, end: object = UNDEFINED) -> str:
    u = _units(s)
    a = int(min(max(to_integer(start), 0), len(u)))
    b = len(u) if end is UNDEFINED else int(min(max(to_integer(end), 0), len(u)))
    a, b = min(a, b), max(a, b)
    return _from_units(u[a:b])


def str_includes(s: str, search: object = UNDEFINED, position: object = UNDEFINED) -> bool:
    u = _units(s)
    start = int(min(max(to_integer(position), 0), len(u)))
    return _units(to_string(search)) in u[start:]


def str_starts_with(s: str, search: object = UNDEFINED, position: object = UNDEFINED) -> bool:
    u = _units(s)
    start = int(min(max(to_integer(position), 0), len(u)))
    return u.startswith(_units(to_string(search)), start)


def str_ends_with(s: str, search: object = UNDEFINED, end_position: object = UNDEFINED) -> bool:
    u = _units(s)
    end = (
        len(u) if end_position is UNDEFINED else int(min(max(to_integer(end_position), 0), len(u)))
    )
    return u[:end].endswith(_units(to_string(search)))


def str_index_of(s: str, search: object = UNDEFINED, position: object = UNDEFINED) -> float:
    u = _units(s)
    start = int(min(max(to_integer(position), 0), len(u)))
    return float(u.find(_units(to_string(search)), start))


def str_trim(s: str) -> str:
    return s.strip(_JS_WHITESPACE)


def str_trim_start(s: str) -> str:
    return s.lstrip(_JS_WHITESPACE)


def str_trim_end(s: str) -> str:
    return s.rstrip(_JS_WHITESPACE)


def str_split(s: str, sep: object = UNDEFINED, limit: object = UNDEFINED) -> list[object]:
    lim = (
        2**32 - 1
        if limit is UNDEFINED
        else int(to_number(limit)) % 2**32 if math.isfinite(to_number(limit)) else 0
    )
    if lim == 0:
        return []
    if sep is UNDEFINED:
        return [s]
    if isinstance(sep, JsRegExp):
        return _split_regexp(s, sep)[:lim]
    sep_s = _units(to_string(sep))
    u = _units(s)
    parts: list[object]
    if sep_s == "":
        parts = [_from_units(c) for c in u]
    else:
        parts = [_from_units(p) for p in u.split(sep_s)]
    return parts[:lim]


def _split_regexp(s: str, rx: JsRegExp) -> list[object]:
    """``split`` by a literal, as the specification's SplitMatcher walks: a match anchored
    at each position, empty matches at the start of a piece skipped, groups kept."""
    pattern = rx.compiled
    if not s:
        return [] if pattern.match(s) is not None else [s]
    out: list[object] = []
    p = q = 0
    while q < len(s):
        m = pattern.match(s, q)
        if m is None or m.end() == p:
            q += 1
            continue
        out.append(s[p:q])
        out.extend(UNDEFINED if g is None else g for g in m.groups())
        p = q = m.end()
    out.append(s[p:])
    return out


def str_pad(s: str, max_length: object, fill: object, at_start: bool) -> str:
    n = to_integer(max_length)
    target = 0 if n <= 0 else min(n, 2.0**53 - 1)  # ToLength
    u = _units(s)
    if target <= len(u):
        return s
    filler = " " if fill is UNDEFINED else _units(to_string(fill))
    if filler == "":
        return s
    if target > _MAX_STRING_LENGTH:
        raise JsRangeError("Invalid string length")
    need = int(target) - len(u)
    pad = (filler * (need // len(filler) + 1))[:need]
    return _from_units(pad + u if at_start else u + pad)


def str_pad_start(s: str, max_length: object = UNDEFINED, fill: object = UNDEFINED) -> str:
    return str_pad(s, max_length, fill, True)


def str_pad_end(s: str, max_length: object = UNDEFINED, fill: object = UNDEFINED) -> str:
    return str_pad(s, max_length, fill, False)


def str_to_upper(s: str) -> str:
    return s.upper()


def str_to_lower(s: str) -> str:
    return s.lower()


def str_repeat(s: str, count: object = UNDEFINED) -> str:
    n = to_integer(count)
    if n < 0 or math.isinf(n):
        raise JsRangeError(f"Invalid count value: {to_string(count)}")
    if n * str_length(s) > _MAX_STRING_LENGTH:
        raise JsRangeError("Invalid string length")
    return s * int(n)


def str_char_at(s: str, index: object = UNDEFINED) -> str:
    u = _units(s)
    i = to_integer(index)
    return u[int(i)] if 0 <= i < len(u) else ""


def str_at(s: str, index: object = UNDEFINED) -> object:
    u = _units(s)
    i = to_integer(index)
    if i < 0:
        i += len(u)
    return u[int(i)] if 0 <= i < len(u) else UNDEFINED


def str_concat(s: str, *args: object) -> str:
    return s + "".join(to_string(a) for a in args)


# --------------------------------------------------------------------------- arrays


def array_join(items: Sequence[object], sep: object = UNDEFINED) -> str:
    sep_s = "," if sep is UNDEFINED else to_string(sep)
    return sep_s.join("" if is_nullish(x) else to_string(x) for x in items)


def array_includes(
    items: Sequence[object], value: object = UNDEFINED, start: object = UNDEFINED
) -> bool:
    i = _relative_index(start, len(items), 0)
    return any(same_value_zero(x, value) for x in items[i:])


def array_index_of(
    items: Sequence[object], value: object = UNDEFINED, start: object = UNDEFINED
) -> float:
    i = _relative_index(start, len(items), 0)
    for j in range(i, len(items)):
        if strict_eq(items[j], value):
            return float(j)
    return -1.0


def array_slice(
    items: Sequence[object], start: object = UNDEFINED, end: object = UNDEFINED
) -> list[object]:
    a = _relative_index(start, len(items), 0)
    b = _relative_index(end, len(items), len(items))
    return list(items[a:b])


def array_at(items: Sequence[object], index: object = UNDEFINED) -> object:
    i = to_integer(index)
    if i < 0:
        i += len(items)
    return items[int(i)] if 0 <= i < len(items) else UNDEFINED


def array_join_all(items: Sequence[object]) -> str:
    """``Array.prototype.toString``: the items joined with commas."""
    return array_join(items)


def array_concat(items: Sequence[object], *args: object) -> list[object]:
    out = list(items)
    for a in args:
        if isinstance(a, list):
            out.extend(a)
        else:
            out.append(a)
    return out


# --------------------------------------------------------------------------- regular expressions
# The compiler translates a literal's pattern to Python's syntax (compiler/expressions/regex.py)
# and refuses what it cannot translate exactly; here are the objects and the string methods.


class JsRegExp:
    """A regular expression literal: its JavaScript source and flags, and the compiled
    Python pattern with the same meaning."""

    __slots__ = ("compiled", "flags", "source")

    def __init__(self, compiled: re.Pattern[str], source: str, flags: str) -> None:
        self.compiled, self.source, self.flags = compiled, source, flags

    @property
    def is_global(self) -> bool:
        return "g" in self.flags


@lru_cache(maxsize=256)
def _compiled(pattern: str, py_flags: str) -> re.Pattern[str]:
    flags = (re.IGNORECASE if "i" in py_flags else 0) | (re.DOTALL if "s" in py_flags else 0)
    return re.compile(pattern, flags)


def regexp(pattern: str, py_flags: str, source: str, flags: str) -> JsRegExp:
    """A literal's object (a new one per evaluation, as in JavaScript; compiled once)."""
    return JsRegExp(_compiled(pattern, py_flags), source, flags)


def as_regexp(pattern: object) -> JsRegExp:
    """``match``/``search`` take any value: anything but a literal becomes
    ``new RegExp(String(value))`` (undefined: the empty pattern)."""
    if isinstance(pattern, JsRegExp):
        return pattern
    from runtime import jsregex

    source = "(?:)" if pattern is UNDEFINED else to_string(pattern)
    try:
        py, py_flags = jsregex.to_python(source, "")
    except jsregex.RegexUnsupported as err:
        raise JsSyntaxError(f"Invalid regular expression: /{source}/: {err}") from None
    return regexp(py, py_flags, source, "")


def regexp_test(rx: JsRegExp, value: object = UNDEFINED) -> bool:
    """``RegExp.prototype.test`` of a literal (its lastIndex starts at 0)."""
    return rx.compiled.search(to_string(value)) is not None


def _all_matches(rx: JsRegExp, s: str) -> list[re.Match[str]]:
    """The matches a global literal finds, as JavaScript walks them: each search starts
    where the last match ended, one further after an empty match."""
    found: list[re.Match[str]] = []
    pos = 0
    while pos <= len(s):
        m = rx.compiled.search(s, pos)
        if m is None:
            break
        found.append(m)
        pos = m.end() + 1 if m.end() == m.start() else m.end()
    return found


def _expand(template: str, m: re.Match[str], text: str) -> str:
    """JavaScript's replacement patterns: $$, $&, $`, $', $n, $nn, $<name>."""
    out: list[str] = []
    i, groups = 0, m.re.groups
    while i < len(template):
        c = template[i]
        nxt = template[i + 1] if i + 1 < len(template) else ""
        if c != "$" or not nxt:
            out.append(c)
            i += 1
        elif nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "&":
            out.append(m.group(0))
            i += 2
        elif nxt == "`":
            out.append(text[: m.start()])
            i += 2
        elif nxt == "'":
            out.append(text[m.end() :])
            i += 2
        elif nxt.isdigit():
            two = template[i + 1 : i + 3]
            if len(two) == 2 and two.isdigit() and 1 <= int(two) <= groups:
                out.append(m.group(int(two)) or "")
                i += 3
            elif 1 <= int(nxt) <= groups:
                out.append(m.group(int(nxt)) or "")
                i += 2
            else:
                out.append(c)
                i += 1
        elif nxt == "<" and m.re.groupindex and ">" in template[i:]:
            end = template.index(">", i)
            name = template[i + 2 : end]
            out.append((m.group(name) or "") if name in m.re.groupindex else "")
            i = end + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def str_replace(s: str, pattern: object = UNDEFINED, replacement: object = UNDEFINED) -> str:
    """``String.prototype.replace``: a literal's first match (every match with ``g``), or
    the first occurrence of a string; the replacement's ``$`` patterns expanded."""
    template = to_string(replacement)
    if isinstance(pattern, JsRegExp):
        if not pattern.is_global:
            first = pattern.compiled.search(s)
            found = [first] if first is not None else []
        else:
            found = _all_matches(pattern, s)
        out: list[str] = []
        at = 0
        for m in found:
            out += [s[at : m.start()], _expand(template, m, s)]
            at = m.end()
        return "".join(out) + s[at:]
    needle = to_string(pattern)
    at = s.find(needle)
    if at < 0:
        return s
    hit = re.compile(re.escape(needle)).match(s, at)
    assert hit is not None
    return s[:at] + _expand(template, hit, s) + s[at + len(needle) :]


def str_match(s: str, pattern: object = UNDEFINED) -> list[object] | None:
    """``String.prototype.match`` with a literal: the first match and its groups (undefined
    for a group that took no part), or with ``g`` every match; null when none."""
    pattern = as_regexp(pattern)
    if pattern.is_global:
        found: list[object] = [m.group(0) for m in _all_matches(pattern, s)]
        return found or None
    m = pattern.compiled.search(s)
    if m is None:
        return None
    return [m.group(0), *(UNDEFINED if g is None else g for g in m.groups())]


def str_search(s: str, pattern: object = UNDEFINED) -> float:
    """``String.prototype.search`` with a literal: the index of the first match, or -1."""
    m = as_regexp(pattern).compiled.search(s)
    return -1.0 if m is None else float(len(_units(s[: m.start()])))


# --------------------------------------------------------------------------- method dispatch

_STRING_METHODS: Final[dict[str, Callable[..., object]]] = {
    "includes": str_includes,
    "startsWith": str_starts_with,
    "endsWith": str_ends_with,
    "indexOf": str_index_of,
    "slice": str_slice,
    "substring": str_substring,
    "trim": str_trim,
    "trimStart": str_trim_start,
    "trimEnd": str_trim_end,
    "toUpperCase": str_to_upper,
    "toLowerCase": str_to_lower,
    "split": str_split,
    "padStart": str_pad_start,
    "padEnd": str_pad_end,
    "repeat": str_repeat,
    "charAt": str_char_at,
    "at": str_at,
    "concat": str_concat,
    "toString": to_string,
    "replace": str_replace,
    "match": str_match,
    "search": str_search,
}
_ARRAY_METHODS: Final[dict[str, Callable[..., object]]] = {
    "includes": array_includes,
    "indexOf": array_index_of,
    "join": array_join,
    "slice": array_slice,
    "at": array_at,
    "concat": array_concat,
    "toString": array_join_all,
}
_DATE_METHODS: Final[dict[str, Callable[..., object]]] = {
    "toISOString": lambda d: iso_string(d.time),
    "toJSON": lambda d: date_to_json(d.time),
    "getTime": lambda d: d.time,
    "toString": lambda d: date_to_string(d.time),
    "toLocaleString": lambda d, locale=UNDEFINED: date_to_locale_string(d.time, locale),
}
_NUMBER_METHODS: Final[dict[str, Callable[..., object]]] = {
    "toString": number_to_string_radix,
    "toFixed": number_to_fixed,
    "toLocaleString": number_to_locale_string,
}
STRING_METHODS: Final = frozenset(_STRING_METHODS)
ARRAY_METHODS: Final = frozenset(_ARRAY_METHODS)
DATE_METHODS: Final = frozenset(_DATE_METHODS)
NUMBER_METHODS: Final = frozenset(_NUMBER_METHODS)


def _arity(fn: Callable[..., object]) -> int | None:
    """How many arguments a method helper reads after its receiver (None: any number)."""
    params = list(inspect.signature(fn).parameters.values())[1:]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return len(params)


_ARITY: Final = {
    (kind, name): _arity(fn)
    for kind, table in (("string", _STRING_METHODS), ("array", _ARRAY_METHODS),
                        ("Date", _DATE_METHODS), ("number", _NUMBER_METHODS))
    for name, fn in table.items()
}  # fmt: skip


def is_array(value: object) -> bool:
    """``Array.isArray``."""
    return isinstance(value, list)


def _own_keys(obj: object) -> list[str]:
    """An object's own enumerable string keys in JavaScript's order: integer-like keys
    ascending, then the others in insertion order."""
    if obj is None or obj is UNDEFINED:
        raise JsTypeError("Cannot convert undefined or null to object")
    if isinstance(obj, dict):
        keys = [str(k) for k in obj]
        ints = sorted((k for k in keys if _array_index(k) is not None), key=int)
        return ints + [k for k in keys if _array_index(k) is None]
    if isinstance(obj, list):
        return [str(i) for i in range(len(obj))]
    if isinstance(obj, str):
        return [str(i) for i in range(len(_units(obj)))]
    return []


def object_keys(obj: object) -> list[str]:
    """``Object.keys``."""
    return _own_keys(obj)


def object_values(obj: object) -> list[object]:
    """``Object.values``."""
    return [get(obj, k) for k in _own_keys(obj)]


def object_entries(obj: object) -> list[object]:
    """``Object.entries``: ``[key, value]`` pairs."""
    return [[k, get(obj, k)] for k in _own_keys(obj)]


# --------------------------------------------------------------------------- callbacks
# The array methods that take a function: the compiler passes a lambda that takes
# JavaScript's callback arguments (element, index, array; for reduce the accumulator first).


def as_array(value: object, name: str) -> list[object]:
    """The receiver of a callback method whose type the compiler could not tell."""
    if value is None or value is UNDEFINED:
        present(value, name)
    if not isinstance(value, list):
        raise JsTypeError(f"{typeof(value)}.{name} is not a function")
    return value


def array_map(arr: list[T], fn: Callable[[T, float, list[T]], object]) -> list[object]:
    return [fn(arr[i], float(i), arr) for i in range(len(arr))]


def array_filter(arr: list[T], fn: Callable[[T, float, list[T]], object]) -> list[T]:
    return [arr[i] for i in range(len(arr)) if fn(arr[i], float(i), arr)]


def array_every(arr: list[T], fn: Callable[[T, float, list[T]], object]) -> bool:
    return all(fn(arr[i], float(i), arr) for i in range(len(arr)))


def array_some(arr: list[T], fn: Callable[[T, float, list[T]], object]) -> bool:
    return any(fn(arr[i], float(i), arr) for i in range(len(arr)))


def array_find(arr: list[T], fn: Callable[[T, float, list[T]], object]) -> T | Undefined:
    for i in range(len(arr)):
        if fn(arr[i], float(i), arr):
            return arr[i]
    return UNDEFINED


def array_find_index(arr: list[T], fn: Callable[[T, float, list[T]], object]) -> float:
    for i in range(len(arr)):
        if fn(arr[i], float(i), arr):
            return float(i)
    return -1.0


def array_for_each(arr: list[T], fn: Callable[[T, float, list[T]], object]) -> Undefined:
    for i in range(len(arr)):
        fn(arr[i], float(i), arr)
    return UNDEFINED


def array_flat_map(arr: list[T], fn: Callable[[T, float, list[T]], object]) -> list[object]:
    out: list[object] = []
    for i in range(len(arr)):
        v = fn(arr[i], float(i), arr)
        if isinstance(v, list):
            out.extend(v)
        else:
            out.append(v)
    return out


def array_reduce(
    arr: list[T], fn: Callable[[object, T, float, list[T]], object], *init: object
) -> object:
    """``reduce``; without an initial value the first element is, and an empty array is
    JavaScript's TypeError."""
    if init:
        acc, start = init[0], 0
    elif arr:
        acc, start = arr[0], 1
    else:
        raise JsTypeError("Reduce of empty array with no initial value")
    for i in range(start, len(arr)):
        acc = fn(acc, arr[i], float(i), arr)
    return acc


def array_sort(arr: list[T], fn: Callable[[T, T], float] | None = None) -> list[T]:
    """``sort``, in place, stable: by the comparator's sign (NaN counts as 0), or without one
    by the elements' strings (UTF-16 order), undefined last."""
    if fn is None:
        defined = [x for x in arr if x is not UNDEFINED]
        defined.sort(key=lambda x: _units(to_string(x)))
        arr[:] = defined + [x for x in arr if x is UNDEFINED]
        return arr

    def compare(a: T, b: T) -> int:
        if a is UNDEFINED or b is UNDEFINED:
            return (a is UNDEFINED) - (b is UNDEFINED)
        n = fn(a, b)
        return 0 if math.isnan(n) or n == 0 else (1 if n > 0 else -1)

    arr.sort(key=cmp_to_key(compare))
    return arr


def spread_items(value: object) -> list[object]:
    """``[...value]``: an array's elements, a string's characters (code points)."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, str):
        return list(value)
    if value is None or value is UNDEFINED:
        raise JsTypeError(f"{to_string(value)} is not iterable")
    raise JsTypeError(f"{typeof(value)} is not iterable")


def spread_props(value: object) -> dict[str, object]:
    """``{...value}``: the own enumerable properties (none for null, undefined, numbers)."""
    if value is None or value is UNDEFINED or not isinstance(value, dict | list | str):
        return {}
    return {k: get(value, k) for k in _own_keys(value)}


def set_prop(obj: object, key: object, value: object) -> object:
    """``obj[key] = value`` (strict mode: a TypeError on null and undefined)."""
    k = to_property_key(key)
    if obj is None or obj is UNDEFINED:
        raise JsTypeError(f"Cannot set properties of {_describe_nullish(obj)} (setting '{k}')")
    if isinstance(obj, dict):
        obj[k] = value
    elif isinstance(obj, list):
        i = _array_index(k)
        if i is not None:
            obj.extend([UNDEFINED] * (i + 1 - len(obj)))
            obj[i] = value
    return value


def first(value: T, *ignored: object) -> T:
    """``value``, once the ignored arguments of a call have been evaluated."""
    return value


def call_n(fn: Callable[..., T], n: int, *args: object) -> T:
    """``fn`` called with the first ``n`` of ``args``: JavaScript evaluates every argument
    of a call and the method reads the ones it declares."""
    return fn(*args[:n])


def call_method(obj: object, name: str, *args: object) -> object:
    """``obj.name(...args)`` where the compiler could not tell the receiver's type."""
    if obj is None or obj is UNDEFINED:
        present(obj, name)
    table: Mapping[str, Callable[..., object]] | None = None
    if isinstance(obj, str):
        table = _STRING_METHODS
    elif isinstance(obj, list):
        table = _ARRAY_METHODS
    elif isinstance(obj, JsDate):
        table = _DATE_METHODS
    elif isinstance(obj, float | int) and not isinstance(obj, bool):
        table = _NUMBER_METHODS
        obj = float(obj)
    fn = table.get(name) if table is not None else None
    if fn is None:
        raise JsTypeError(f"{typeof(obj)}.{name} is not a function")
    kind = (
        "string"
        if isinstance(obj, str)
        else "array" if isinstance(obj, list) else "number" if isinstance(obj, float) else "Date"
    )
    n = _ARITY[(kind, name)]
    return fn(obj, *(args if n is None else args[:n]))


# --------------------------------------------------------------------------- built-ins


def math_min(*args: object) -> float:
    nums = [to_number(a) for a in args]
    result = math.inf
    for n in nums:
        if math.isnan(n):
            return math.nan
        if n < result or (n == 0 and result == 0 and math.copysign(1.0, n) < 0):
            result = n
    return result


def math_max(*args: object) -> float:
    nums = [to_number(a) for a in args]
    result = -math.inf
    for n in nums:
        if math.isnan(n):
            return math.nan
        if n > result or (n == 0 and result == 0 and math.copysign(1.0, n) > 0):
            result = n
    return result


def math_round(x: object = UNDEFINED) -> float:
    n = to_number(x)
    if not math.isfinite(n) or n == 0:
        return n
    if -0.5 <= n < 0:
        return -0.0
    r = math.floor(n + 0.5)
    # n + 0.5 can round up in floating point (0.49999999999999994): correct it.
    if r - n > 0.5:
        r -= 1
    return float(r)


def math_floor(x: object = UNDEFINED) -> float:
    n = to_number(x)
    return n if not math.isfinite(n) or n == 0 else float(math.floor(n))


def math_ceil(x: object = UNDEFINED) -> float:
    n = to_number(x)
    if not math.isfinite(n) or n == 0:
        return n
    r = float(math.ceil(n))
    return -0.0 if r == 0 and n < 0 else r


def math_trunc(x: object = UNDEFINED) -> float:
    n = to_number(x)
    if not math.isfinite(n) or n == 0:
        return n
    r = float(math.trunc(n))
    return -0.0 if r == 0 and n < 0 else r


def math_abs(x: object = UNDEFINED) -> float:
    return abs(to_number(x))


def math_sign(x: object = UNDEFINED) -> float:
    n = to_number(x)
    if math.isnan(n) or n == 0:
        return n
    return 1.0 if n > 0 else -1.0


def math_sqrt(x: object = UNDEFINED) -> float:
    n = to_number(x)
    if math.isnan(n) or n < 0:
        return math.nan
    return math.sqrt(n)


def math_pow(x: object = UNDEFINED, y: object = UNDEFINED) -> float:
    return pow_(x, y)


def math_random() -> float:
    return random.random()


def string_(*args: object) -> str:
    return to_string(args[0]) if args else ""


def number_(*args: object) -> float:
    return to_number(args[0]) if args else 0.0


def boolean_(*args: object) -> bool:
    return truthy(args[0]) if args else False


# --------------------------------------------------------------------------- JSON

_JSON_ESCAPES: Final = {
    '"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
}  # fmt: skip
_NEEDS_ESCAPE: Final = re.compile(r'["\\\x00-\x1f\ud800-\udfff]')
_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")
_DIGITS: Final = frozenset("0123456789")


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    return _JSON_ESCAPES.get(c) or f"\\u{ord(c):04x}"


def _quote(s: str) -> str:
    """A string as ``JSON.stringify`` writes it. The standard library's encoder (C) escapes
    as JavaScript does; a string with a surrogate code unit, which it would leave as it is,
    has it written as ``\\uXXXX``."""
    if s.isascii() or _SURROGATE.search(s) is None:
        return encode_basestring(s)
    return '"' + _NEEDS_ESCAPE.sub(_escape, s) + '"'


def _serialize(value: object, stack: list[object]) -> str | None:
    kind = type(value)  # exact types first (nearly every value is one), subclasses below
    if kind is str:
        return _quote(value)  # type: ignore[arg-type]
    if kind is dict:
        return _object(value, stack)  # type: ignore[arg-type]
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is float or kind is int:
        return number_to_string(value) if math.isfinite(value) else "null"  # type: ignore[arg-type]
    if kind is list:
        return _array(value, stack)  # type: ignore[arg-type]
    if isinstance(value, JsDate):
        return _quote(iso_string(value.time)) if math.isfinite(value.time) else "null"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, (int, float)):
        return number_to_string(value) if math.isfinite(value) else "null"
    if isinstance(value, list):
        return _array(value, stack)
    if isinstance(value, dict):
        return _object(value, stack)
    return None  # undefined


def _entered(value: object, stack: list[object]) -> None:
    for outer in stack:
        if outer is value:
            raise JsTypeError("Converting circular structure to JSON")
    stack.append(value)


def _array(value: list[object], stack: list[object]) -> str:
    _entered(value, stack)
    items = [_serialize(v, stack) for v in value]
    stack.pop()
    return "[" + ",".join("null" if i is None else i for i in items) + "]"


def _object(value: dict[str, object], stack: list[object]) -> str:
    _entered(value, stack)
    keys: Iterable[str] = value
    for k in value:
        if k[:1] in _DIGITS:  # an array index, perhaps: those come first, ascending
            keys = own_keys(value)
            break
    parts = []
    for k in keys:
        s = _serialize(value[k], stack)
        if s is not None:
            parts.append(_quote(k) + ":" + s)
    stack.pop()
    return "{" + ",".join(parts) + "}"


def _json_number(text: str) -> float:
    return float(text)


def _json_constant(name: str) -> object:
    raise ValueError(f"Unexpected token '{name[0]}'")


def json_parse(text: str) -> object:
    """``JSON.parse``: objects as dicts, arrays as lists, numbers as floats. Python's own
    extensions (NaN, Infinity) are refused as JavaScript refuses them."""
    try:
        return json.loads(text, parse_int=_json_number, parse_constant=_json_constant)
    except ValueError as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise JsonTextError(f"JSON.parse: {message}") from None
    except RecursionError:
        raise JsonTextError("JSON.parse: the text is nested too deeply") from None


def json_stringify(value: object) -> str | Undefined:
    """``JSON.stringify(value)``: a string, or ``undefined`` for ``undefined``."""
    out = _serialize(value, [])
    return UNDEFINED if out is None else out


def to_json_text(value: object) -> str:
    """Serialize a value for an HTTP body or event: JSON.stringify, ``null`` for undefined."""
    out = _serialize(value, [])
    return "null" if out is None else out


def from_json(value: object) -> object:
    """Turn ``json.loads`` output into JavaScript-domain values (numbers become floats)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return to_number(value)
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): from_json(v) for k, v in value.items()}
    raise TypeError(f"not a JSON value: {type(value).__name__}")
