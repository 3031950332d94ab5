"""Rewrite each row's ``expect`` in ``expressions.jsonl`` with the value Node.js gives.

The corpus is this project's own: the expressions over sample ``$json``, ``$context`` and
``$steps`` (`expr`, `json`, `context`, `steps`), and what Node evaluates each to (`expect`:
``{"value": ...}``, ``{"undefined": true}`` or ``{"error": "<JS error class>"}``). Run it after
adding rows, with Node on the PATH:

    .venv/bin/python tests/corpus/regenerate.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.jsoracle import node_available, node_eval

CORPUS = Path(__file__).with_name("expressions.jsonl")


def main() -> int:
    if not node_available():
        print("node is not installed", file=sys.stderr)
        return 1
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
    inputs = [{k: r[k] for k in ("expr", "json", "context", "steps")} for r in rows]
    changed = 0
    for row, expect in zip(rows, node_eval(inputs), strict=True):
        changed += row.get("expect") != expect
        row["expect"] = expect
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    CORPUS.write_text(text, encoding="utf-8")
    print(f"{len(rows)} rows, {changed} expectation(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
