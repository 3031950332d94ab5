"""The credential operations' shared parsing: a duration (``expiresIn``), a bounded count."""

from __future__ import annotations

import re

from compiler import messages
from compiler.load import JNumber, JString
from compiler.nodes.base import ParamReader

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31557600}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)?\s*$")


def bounded(r: ParamReader, key: str, low: int, high: int, default: int) -> int:
    """A whole-number parameter within ``low..high`` (``default`` when absent)."""
    v = r.params.get(key)
    if v is None:
        return default
    if not isinstance(v, JNumber) or not isinstance(v.value, int) or not low <= v.value <= high:
        r.diags.add(
            messages.PARAMETER_OUT_OF_RANGE.format(key, r.node, low, high),
            v.span,
            node_id=r.node,
            hint=messages.HINT__WRITE_E_G.format(f'"{key}": {default}'),
        )
        return default
    return v.value


def duration_s(r: ParamReader, key: str, default: int) -> int:
    """A duration in seconds: milliseconds as a number, or text such as ``"24h"`` (the
    ``ms`` package's spelling upstream uses)."""
    v = r.params.get(key)
    if v is None:
        return default
    seconds: float | None = None
    if isinstance(v, JNumber) and not isinstance(v.value, bool) and v.value > 0:
        seconds = v.value / 1000
    elif isinstance(v, JString) and (m := _DURATION.match(v.value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2) or "ms"]
    if seconds is None or not 1 <= seconds <= 10 * 31557600:
        shown = v.value if isinstance(v, JString | JNumber) else "?"
        r.diags.add(
            messages.DURATION_INVALID.format(key, r.node, shown),
            v.span,
            node_id=r.node,
            hint=messages.HINT__DURATION,
        )
        return default
    return int(seconds)
