"""The project's expression corpus (``tests/corpus/expressions.jsonl``, written by
``tests/corpus/regenerate.py`` from Node.js): 1,500 expressions with the values Node gives for
them, and the translator must give the same. ``EXPRESSION_CORPUS=path`` checks another corpus
of the same format (``.ci/run`` also checks the one beside the project, when there is one)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from compiler.expressions.evaluate import run_line
from tests.conftest import ROOT
from tests.jsoracle import same

CORPUS = Path(os.environ.get("EXPRESSION_CORPUS", ROOT / "tests" / "corpus" / "expressions.jsonl"))


def test_corpus_matches_node_exactly() -> None:
    cache: dict = {}
    mismatches = []
    rows = [
        json.loads(line)
        for line in CORPUS.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for row in rows:
        got = {k: v for k, v in run_line(row, cache).items() if k != "message"}
        if not same(got, row["expect"]):
            mismatches.append((row["expr"], row["expect"], got))
    assert len(rows) >= 1500
    assert mismatches == []


def test_json_text_escapes_orders_and_drops_as_json_stringify() -> None:
    """The encoder of bodies and events, against what Node writes for
    ``JSON.stringify({b: "q\\"\\\\\\b\\f\\n\\r\\t\\x00\\x1f\\x7f\\u2028é😀\\ud800x\\udc00",
    "10": [undefined, NaN, -0, 1e21, 0.1], "2": {"": null, "01": true}, a: undefined})``:
    control characters and lone surrogates escaped, array indices first, undefined dropped."""
    from runtime import js

    value = {
        "b": 'q"\\\b\f\n\r\t\x00\x1f\x7f\u2028é😀\ud800x\udc00',
        "10": [js.UNDEFINED, float("nan"), -0.0, 1e21, 0.1],
        "2": {"": None, "01": True},
        "a": js.UNDEFINED,
    }
    node = (
        '{"2":{"":null,"01":true},"10":[null,null,0,1e+21,0.1],'
        '"b":"q\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\u2028é😀\\ud800x\\udc00"}'
    )
    assert js.to_json_text(value) == node
