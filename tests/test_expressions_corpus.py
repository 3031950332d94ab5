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
