"""Property-based differential test: generated expressions, translator against Node.js.

CI runs a bounded number with a fixed seed; set EXPR_EXAMPLES to run more by hand.
"""

from __future__ import annotations

import json
import math
import os
import random
import struct
import subprocess

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from compiler.expressions import methods
from compiler.expressions.evaluate import run_line
from runtime import js
from tests.jsoracle import node_available, node_eval, same

EXAMPLES = int(os.environ.get("EXPR_EXAMPLES", "1000"))

JSON_DATA = {
    "channelId": "c-123", "sceneId": "intro", "count": 3, "ratio": 0.5, "flag": True, "empty": "",
    "zero": 0, "tags": ["a", "b"], "nested": {"x": 1, "y": None}, "startedAt": "2026-01-21T23:00:00.500Z",
    "nothing": None, "neg": -2.5, "big": 1e21, "small": 1.5e-7, "text": " Hello, World ",
}  # fmt: skip
CONTEXTS = [
    {"tenantId": "acme", "request": {"method": "POST", "path": "/x", "headers": {}},
     "user": {"id": "u1", "name": "Ada", "level": 2, "email": "ada@example.com", "roles": ["moderator"],
              "scopes": ["stream_cast:scenes:manage"]}},
    {"tenantId": "", "request": {"method": "POST", "path": "/x", "headers": {}}},
]  # fmt: skip
STEPS = {"create_subscription": {"output": {"id": "sub-1", "subscribedAt": "2026-01-22T00:00:00.000Z"}},
         "fetch_channel": {"output": None},
         "update_viewer_counts": {"tasks": {"count_viewers": {"output": 5}}}}  # fmt: skip

literals = st.sampled_from([
    "0", "1", "-1", "2.5", "0.1", "1e21", "1e-7", "255", "NaN", "Infinity", "-0", "3",
    "''", "'a'", "'abc'", "' padded '", "'10'", "'1e3'", "'0x1f'", "'true'", "'\u00e9t\u00e9'", "'2026-01-22'",
    "true", "false", "null", "undefined", "[]", "[1, 2]", "['a', 'b']", "{}", "{ a: 1 }", "[null]",
    "`x${1}y`",
])  # fmt: skip
paths = st.sampled_from([
    "$json.channelId", "$json.count", "$json.ratio", "$json.flag", "$json.empty", "$json.zero",
    "$json.tags", "$json.nested", "$json.nested.x", "$json.nested.y", "$json.startedAt", "$json.nothing",
    "$json.missing", "$json?.missing?.deep", "$json['sceneId']", "$json.neg", "$json.big", "$json.small",
    "$json.text", "$context.tenantId", "$context.user?.level", "$context.user?.name", "$context.user?.roles",
    "$steps.create_subscription.output.id", "$steps.fetch_channel.output?.startedAt",
    "$steps.update_viewer_counts.tasks.count_viewers.output",
])  # fmt: skip
dates = st.sampled_from([
    "new Date('2026-01-22T00:00:00Z')", "new Date('2026-03-01T12:30:00+02:00')", "new Date('not a date')",
    "new Date('2026-01-22')", "new Date(0)", "new Date($json.startedAt)",
])  # fmt: skip
# Every method of the registry, called with up to one argument more than it reads.
STRING_METHODS = sorted(methods.names("string"))
ARRAY_METHODS = sorted(methods.names("array"))
DATE_METHODS = sorted(methods.names("Date"))
MATH_FUNCTIONS = sorted(methods.names("Math") - {"random"})  # random: no value to compare
BINARY = [
    "+",
    "-",
    "*",
    "/",
    "%",
    "**",
    "==",
    "!=",
    "===",
    "!==",
    "<",
    "<=",
    ">",
    ">=",
    "&&",
    "||",
    "??",
]


def _expr(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(literals, paths, dates)
    if depth == 0:
        return leaf
    sub = _expr(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda a, op, b: f"({a} {op} {b})", sub, st.sampled_from(BINARY), sub),
        st.builds(
            lambda op, a: f"{op}{a}",
            st.sampled_from(["!", "-", "typeof "]),
            st.builds(lambda a: f"({a})", sub),
        ),
        st.builds(lambda a, b, c: f"({a} ? {b} : {c})", sub, sub, sub),
        st.builds(lambda a: f"String({a})", sub),
        st.builds(lambda a: f"Number({a})", sub),
        st.builds(lambda a: f"Boolean({a})", sub),
        st.builds(lambda a: f"JSON.stringify({a})", sub),
        st.builds(
            lambda f, args: f"Math.{f}({', '.join(args)})",
            st.sampled_from(MATH_FUNCTIONS),
            st.lists(sub, max_size=3),
        ),
        st.builds(lambda d, m: f"{d}.{m}()", dates, st.sampled_from(DATE_METHODS)),
        st.builds(lambda a, b: f"({a} - {b})", dates, dates),
        st.builds(
            lambda a, m, args: f"String({a}).{m}({', '.join(args)})",
            sub,
            st.sampled_from(STRING_METHODS),
            st.lists(sub, max_size=3),
        ),
        st.builds(
            lambda a, b, m, args: f"[{a}, {b}].{m}({', '.join(args)})",
            sub,
            sub,
            st.sampled_from(ARRAY_METHODS),
            st.lists(sub, max_size=3),
        ),
        st.builds(lambda a, b: f"({a})?.[{b}]", sub, sub),
        st.builds(lambda a, b: f"[{a}, 'x'][{b}]", sub, sub),
        st.builds(lambda a: f"({a})?.length", sub),
        st.builds(lambda a, b: f"{{ k: {a}, '2': {b} }}", sub, sub),
        st.builds(lambda a: f"`<${{{a}}}>`", sub),
        st.builds(lambda a: f"({a}).length", sub),
    )


@pytest.mark.skipif(not node_available(), reason="node is not installed")
def test_generated_expressions_match_node() -> None:
    cases: list[dict] = []

    @seed(20261126)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_expr(3), st.sampled_from(CONTEXTS))
    def collect(expr: str, context: dict) -> None:
        cases.append({"expr": expr, "json": JSON_DATA, "context": context, "steps": STEPS})

    collect()
    expected = node_eval(cases)
    cache: dict = {}
    diffs = []
    for case, want in zip(cases, expected, strict=True):
        got = {k: v for k, v in run_line(case, cache).items() if k != "message"}
        if not same(got, want):
            diffs.append((case["expr"], want, got))
    assert len(cases) >= min(EXAMPLES, 100)
    assert diffs == [], f"{len(diffs)} of {len(cases)} differ; first: {diffs[:5]}"


POW_SCRIPT = """
const lines = require('fs').readFileSync(0, 'utf8').trim().split('\\n');
const b = Buffer.alloc(8);
const out = lines.map((l) => {
  const [a, c] = l.split(' ');
  b.write(a, 'hex'); const x = b.readDoubleLE();
  b.write(c, 'hex'); const y = b.readDoubleLE();
  b.writeDoubleLE(x ** y);
  return b.toString('hex');
});
console.log(out.join('\\n'));
"""


@pytest.mark.skipif(not node_available(), reason="node is not installed")
def test_pow_is_bit_exact_with_v8() -> None:
    """`**` and Math.pow on random doubles (any bit pattern, integers, values near 1,
    special values): the same bits as V8, signed zeros and NaN included."""
    rng = random.Random(20261126)
    specials = [0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, 0.5, 2.0, 1e-310, 1e308]

    def value() -> float:
        r = rng.random()
        if r < 0.25:
            x: float = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
            return x
        if r < 0.45:
            return rng.uniform(-1e3, 1e3)
        if r < 0.55:
            return float(rng.randint(-64, 64))
        if r < 0.65:
            return rng.choice(specials)
        if r < 0.85:
            return rng.uniform(0.9, 1.1)
        return rng.expovariate(1) * rng.choice([1, -1]) * 10 ** rng.randint(-30, 30)

    pairs = [(value(), value()) for _ in range(int(os.environ.get("POW_EXAMPLES", "20000")))]
    packed = "\n".join(
        f"{struct.pack('<d', x).hex()} {struct.pack('<d', y).hex()}" for x, y in pairs
    )
    out = subprocess.run(
        ["node", "-e", POW_SCRIPT], input=packed, capture_output=True, text=True, check=True
    ).stdout.split()
    diffs = []
    for (x, y), bits in zip(pairs, out, strict=True):
        mine = js.pow_(x, y)
        theirs = struct.unpack("<d", bytes.fromhex(bits))[0]
        # JavaScript cannot tell NaN payloads apart (V8 may return a signaling NaN's bits).
        if math.isnan(theirs) and math.isnan(mine):
            continue
        if struct.pack("<d", mine).hex() != bits:
            diffs.append((x, y, bits, mine))
    assert diffs == [], f"{len(diffs)} of {len(pairs)} differ: {diffs[:5]}"


@pytest.mark.skipif(not node_available(), reason="node is not installed")
def test_every_method_example_gives_its_documented_value() -> None:
    """The registry's examples (the README's table) hold for the translator and for Node."""
    cases = [{"expr": m.example, "json": {}, "context": CONTEXTS[0], "steps": {}} for m in
             methods.METHODS]  # fmt: skip
    expected = node_eval(cases)
    cache: dict = {}
    for m, case, want in zip(methods.METHODS, cases, expected, strict=True):
        got = {k: v for k, v in run_line(case, cache).items() if k != "message"}
        documented = {"value": json.loads(m.value)}
        assert same(want, documented), (m.call, want, documented)
        assert same(got, documented), (m.call, got, documented)


def test_runtime_dispatch_knows_the_same_methods() -> None:
    """``js.call_method`` (receivers of unknown type) serves exactly the registry's methods."""
    assert methods.names("string") == js.STRING_METHODS
    assert methods.names("array") == js.ARRAY_METHODS
    assert methods.names("Date") == js.DATE_METHODS
    assert methods.names("number") == js.NUMBER_METHODS
