"""The README's tables of node kinds, actions, operations and expression methods are the
registries' own (``compiler/docs.py``); ``make golden`` (``UPDATE_GOLDEN=1``) rewrites them."""

from __future__ import annotations

import os

from compiler import docs
from tests.conftest import ROOT


def test_readme_tables_come_from_the_registries() -> None:
    path = ROOT / "README.md"
    text = path.read_text()
    for name in docs.SECTIONS:
        assert f"<!-- registry: {name} -->" in text, name
    fresh = docs.update(text)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(fresh)
        text = fresh
    assert text == fresh, "README tables differ from the registries (make golden)"
