"""The shared corpus: 1,500 expressions with the values Node.js gives for them."""

from __future__ import annotations

import json

import pytest

from compiler.expressions.evaluate import run_line
from tests.conftest import SHARED
from tests.jsoracle import same

CORPUS = SHARED / "corpus" / "expressions.jsonl"


def test_corpus_matches_node_exactly() -> None:
    if not CORPUS.exists():
        pytest.fail(f"the shared corpus is missing: {CORPUS}")
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
    assert len(rows) == 1500
    assert mismatches == []
