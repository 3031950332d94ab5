"""Node.js as the oracle: evaluate expressions the way the shared corpus was produced."""

from __future__ import annotations

import json
import shutil
import subprocess

NODE_SCRIPT = r"""
const readline = require('readline');
const rl = readline.createInterface({ input: process.stdin });
const cache = new Map();
function result(v) {
  if (v === undefined) return { undefined: true };
  return { value: JSON.parse(JSON.stringify(v) ?? 'null') };
}
rl.on('line', (line) => {
  const row = JSON.parse(line);
  let out;
  try {
    let fn = cache.get(row.expr);
    if (!fn) { fn = new Function('$json', '$context', '$steps', '"use strict"; return (' + row.expr + ')'); cache.set(row.expr, fn); }
    out = result(fn(row.json, row.context, row.steps));
  } catch (e) { out = { error: e.constructor.name }; }
  process.stdout.write(JSON.stringify(out) + '\n');
});
"""


def node_available() -> bool:
    return shutil.which("node") is not None


def node_eval(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    proc = subprocess.run(
        ["node", "-e", NODE_SCRIPT],
        input="".join(json.dumps(r) + "\n" for r in rows),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [json.loads(line) for line in proc.stdout.splitlines()]


def same(a: object, b: object) -> bool:
    """Deep equality that keeps booleans apart from numbers (1 == True in Python)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b
