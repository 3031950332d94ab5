"""``x ** y`` computed the way V8 computes it.

V8 evaluates ``**`` and ``Math.pow`` with its adaptation of the fdlibm algorithm (Sun
Microsystems, 1993, freely distributable), which is not always correctly rounded; the C
library Python calls differs from it in the last bit for about one input in twenty
(``255 ** -0.1``). This is that algorithm, step for step as V8 writes it (including one
grouping that differs from fdlibm's e_pow.c), operating on the high and low 32-bit words of
IEEE doubles as the original does. ``tests/test_expressions_node.py`` checks it bit for bit
against Node.js on random doubles.
"""

from __future__ import annotations

import math
import struct
from typing import Final

_BP: Final = (1.0, 1.5)
_DP_H: Final = (0.0, 5.84962487220764160156e-01)
_DP_L: Final = (0.0, 1.35003920212974897128e-08)
_TWO53: Final = 9007199254740992.0
_HUGE: Final = 1.0e300
_TINY: Final = 1.0e-300
_L1, _L2, _L3 = 5.99999999999994648725e-01, 4.28571428578550184252e-01, 3.33333329818377432918e-01
_L4, _L5, _L6 = 2.72728123808534006489e-01, 2.30660745775561754067e-01, 2.06975017800338417784e-01
_P1, _P2, _P3 = 1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05
_P4, _P5 = -1.65339022054652515390e-06, 4.13813679705723846039e-08
_LG2: Final = 6.93147180559945286227e-01
_LG2_H: Final = 6.93147182464599609375e-01
_LG2_L: Final = -1.90465429995776804525e-09
_OVT: Final = 8.0085662595372944372e-17
_CP: Final = 9.61796693925975554329e-01
_CP_H: Final = 9.61796700954437255859e-01
_CP_L: Final = -7.02846165095275826516e-09
_IVLN2: Final = 1.44269504088896338700e00
_IVLN2_H: Final = 1.44269502162933349609e00
_IVLN2_L: Final = 1.92596299112661746887e-08


def _words(x: float) -> tuple[int, int]:
    """(signed high word, unsigned low word)."""
    (bits,) = struct.unpack("<q", struct.pack("<d", x))
    hi = bits >> 32
    return hi, bits & 0xFFFFFFFF


def _from_words(hi: int, lo: int) -> float:
    bits = ((hi & 0xFFFFFFFF) << 32) | (lo & 0xFFFFFFFF)
    (x,) = struct.unpack("<d", struct.pack("<Q", bits))
    return float(x)


def _with_low(x: float, lo: int) -> float:
    return _from_words(_words(x)[0], lo)


def _with_high(x: float, hi: int) -> float:
    return _from_words(hi, _words(x)[1])


def _mul(a: float, b: float) -> float:
    try:
        return a * b
    except OverflowError:  # pragma: no cover - float products saturate to inf
        return math.inf


def pow_ieee(x: float, y: float) -> float:
    hx, lx = _words(x)
    hy, ly = _words(y)
    ix, iy = hx & 0x7FFFFFFF, hy & 0x7FFFFFFF

    if iy == 0 and ly == 0:
        return 1.0
    if math.isnan(x) or math.isnan(y):
        return math.nan

    # yisint: 0 not an integer, 1 odd, 2 even (only needed when x < 0)
    yisint = 0
    if hx < 0:
        if iy >= 0x43400000:
            yisint = 2
        elif iy >= 0x3FF00000:
            k = (iy >> 20) - 0x3FF
            if k > 20:
                j = ly >> (52 - k)
                if (j << (52 - k)) == ly:
                    yisint = 2 - (j & 1)
            elif ly == 0:
                j = iy >> (20 - k)
                if (j << (20 - k)) == iy:
                    yisint = 2 - (j & 1)

    if ly == 0:
        if iy == 0x7FF00000:  # y is +-inf
            if ((ix - 0x3FF00000) | lx) == 0:
                return math.nan  # (-1) ** +-inf; V8 answers NaN as ECMAScript requires
            if ix >= 0x3FF00000:
                return y if hy >= 0 else 0.0
            return -y if hy < 0 else 0.0
        if iy == 0x3FF00000:
            return (1.0 / x if x != 0 else math.copysign(math.inf, x)) if hy < 0 else x
        if hy == 0x40000000:
            return _mul(x, x)
        if hy == 0x3FE00000 and hx >= 0:
            return math.sqrt(x)

    ax = abs(x)
    if lx == 0 and (ix == 0x7FF00000 or ix == 0 or ix == 0x3FF00000):
        z = ax
        if hy < 0:
            z = 1.0 / z if z != 0 else math.inf
        if hx < 0:
            if ((ix - 0x3FF00000) | yisint) == 0:
                return math.nan
            if yisint == 1:
                z = -z
        return z

    n = ((hx & 0xFFFFFFFF) >> 31) - 1
    if (n | yisint) == 0:
        return math.nan  # negative ** non-integer

    s = 1.0
    if (n | (yisint - 1)) == 0:
        s = -1.0

    if iy > 0x41E00000:  # |y| > 2**31
        if iy > 0x43F00000:
            if ix <= 0x3FEFFFFF:
                return math.inf if hy < 0 else 0.0
            if ix >= 0x3FF00000:
                return math.inf if hy > 0 else 0.0
        if ix < 0x3FEFFFFF:
            return s * math.inf if hy < 0 else s * 0.0
        if ix > 0x3FF00000:
            return s * math.inf if hy > 0 else s * 0.0
        t = ax - 1.0
        w = (t * t) * (0.5 - t * (0.3333333333333333333333 - t * 0.25))
        u = _IVLN2_H * t
        v = t * _IVLN2_L - w * _IVLN2
        t1 = _with_low(u + v, 0)
        t2 = v - (t1 - u)
    else:
        n = 0
        if ix < 0x00100000:
            ax *= _TWO53
            n -= 53
            ix = _words(ax)[0]
        n += (ix >> 20) - 0x3FF
        j = ix & 0x000FFFFF
        ix = j | 0x3FF00000
        if j <= 0x3988E:
            k = 0
        elif j < 0xBB67A:
            k = 1
        else:
            k = 0
            n += 1
            ix -= 0x00100000
        ax = _with_high(ax, ix)

        u = ax - _BP[k]
        v = 1.0 / (ax + _BP[k])
        ss = u * v
        s_h = _with_low(ss, 0)
        t_h = _from_words(((ix >> 1) | 0x20000000) + 0x00080000 + (k << 18), 0)
        t_l = ax - (t_h - _BP[k])
        s_l = v * ((u - s_h * t_h) - s_h * t_l)
        s2 = ss * ss
        r = s2 * s2 * (_L1 + s2 * (_L2 + s2 * (_L3 + s2 * (_L4 + s2 * (_L5 + s2 * _L6)))))
        r += s_l * (s_h + ss)
        s2 = s_h * s_h
        t_h = _with_low(3.0 + s2 + r, 0)
        t_l = r - ((t_h - 3.0) - s2)
        u = s_h * t_h
        v = s_l * t_h + t_l * ss
        p_h = _with_low(u + v, 0)
        p_l = v - (p_h - u)
        z_h = _CP_H * p_h
        z_l = _CP_L * p_h + p_l * _CP + _DP_L[k]
        t = float(n)
        t1 = _with_low(((z_h + z_l) + _DP_H[k]) + t, 0)
        t2 = z_l - (((t1 - t) - _DP_H[k]) - z_h)

    y1 = _with_low(y, 0)
    p_l = (y - y1) * t1 + y * t2
    p_h = y1 * t1
    z = p_l + p_h
    j, i = _words(z)
    if j >= 0x40900000:
        if ((j - 0x40900000) | i) != 0 or p_l + _OVT > z - p_h:
            return s * math.inf
    elif (j & 0x7FFFFFFF) >= 0x4090CC00:  # noqa: SIM102 - a merged `if` would fall into this elif
        if ((j - 0xC090CC00) | i) & 0xFFFFFFFF != 0 or p_l <= z - p_h:
            return s * 0.0
    i = j & 0x7FFFFFFF
    k = (i >> 20) - 0x3FF
    n = 0
    if i > 0x3FE00000:
        n = j + (0x00100000 >> (k + 1))
        k = ((n & 0x7FFFFFFF) >> 20) - 0x3FF
        t = _from_words(n & ~(0x000FFFFF >> k), 0)
        n = ((n & 0x000FFFFF) | 0x00100000) >> (20 - k)
        if j < 0:
            n = -n
        p_h -= t
    t = _with_low(p_l + p_h, 0)
    u = t * _LG2_H
    v = (p_l - (t - p_h)) * _LG2 + t * _LG2_L
    z = u + v
    w = v - (z - u)
    t = z * z
    t1 = z - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    # V8 groups this as z*t1 / ((t1 - 2) - (w + z*w)), where fdlibm's e_pow.c has
    # z*t1/(t1 - 2) - (w + z*w): V8's grouping is the one JavaScript engines answer with.
    r = (z * t1) / ((t1 - 2.0) - (w + z * w))
    z = 1.0 - (r - z)
    j = _words(z)[0]
    j += n << 20
    z = math.ldexp(z, n) if j >> 20 <= 0 else _with_high(z, j)
    return s * z
