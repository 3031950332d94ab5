"""Property-based fuzzing of the compiler: mutate the four spec workflows (delete keys, change
types, rewire connections, corrupt expressions, truncate or splice the text, put hostile
strings and names in place of any key or string: tests/test_hostile.py) and require an
answer of diagnostics or a clean compile for every mutation, never an exception and never
``internal-error``.

CI runs ``FUZZ_EXAMPLES`` mutations (default 2,000) from a fixed seed; run it with a larger
number by hand to search further.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from compiler import codes
from compiler.diagnostics import render_human, render_json
from compiler.pipeline import compile_project
from tests.conftest import ROOT, in_ci
from tests.test_hostile import HOSTILE, HOSTILE_NAMES, NAMES, _place, _text_positions

SOURCES = {
    p.name: p.read_text(encoding="utf-8")
    for p in sorted((ROOT / "workflows" / "stream_cast").glob("*.json"))
    if p.name not in ("entities.json", "demo.json")
}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2000"))
ODD_VALUES: list[Any] = [None, True, 0, -1, 1.5, "", "x", "{{ }}", [], {}, [1], {"a": 1}]
JS_BITS = ["$json", "$context", "$steps", ".", "?.", "[", "]", "(", ")", "{", "}", "'", '"',
           "+", "-", "**", "&&", "||", "??", "?", ":", "=>", "new Date(", "typeof ", "1e21",
           "__proto__", "constructor", "`", "${", "}}", "{{", " ", "x", "0"]  # fmt: skip


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


def at(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, str, str]:
    """(file name, mutated text, kind)."""
    name = draw(st.sampled_from(sorted(SOURCES)))
    text = SOURCES[name]
    kind = draw(
        st.sampled_from(
            [
                "delete-key",
                "change-type",
                "rewire",
                "corrupt-expression",
                "truncate",
                "splice",
                "hostile",
            ]
        )
    )
    if kind == "truncate":
        return name, text[: draw(st.integers(0, len(text) - 1))], kind
    if kind == "splice":
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 20)))
        junk = draw(st.text(st.sampled_from(list('{}[]:,"\\ ntrue0-.e\u00e9\x00')), max_size=8))
        return name, text[:i] + junk + text[j:], kind
    doc = json.loads(text)
    everything = paths(doc)[1:]
    if kind == "delete-key":
        keyed = [p for p in everything if isinstance(p[-1], str)]
        path = draw(st.sampled_from(keyed))
        del at(doc, path[:-1])[path[-1]]
    elif kind == "change-type":
        path = draw(st.sampled_from(everything))
        at(doc, path[:-1])[path[-1]] = draw(st.sampled_from(ODD_VALUES))
    elif kind == "rewire":
        ids = [n["id"] for n in doc["nodes"]] + ["nowhere", ""]
        conns = doc["connections"]
        source = draw(st.sampled_from(sorted(conns) + ids))
        outputs = conns.setdefault(source, {"main": [[]]})
        branch = draw(st.integers(0, 2))
        main = outputs.setdefault("main", [])
        while len(main) <= branch:
            main.append([])
        action = draw(st.sampled_from(["add", "replace", "drop"]))
        target = {"node": draw(st.sampled_from(ids)), "index": draw(st.integers(0, 1))}
        if action == "add" or not main[branch]:
            main[branch].append(target)
        elif action == "replace":
            main[branch][0] = target
        else:
            main[branch].pop()
    elif kind == "hostile":  # a hostile string or name in place of any key or string value
        positions = _text_positions(doc)
        path, is_key = draw(st.sampled_from(positions))
        _place(doc, path, is_key, draw(st.sampled_from(HOSTILE + HOSTILE_NAMES + NAMES)))
    else:  # corrupt-expression
        strings = [p for p in everything if isinstance(at(doc, p), str) and "{{" in at(doc, p)]
        path = draw(st.sampled_from(strings))
        s = at(doc, path)
        i = draw(st.integers(0, len(s)))
        j = draw(st.integers(i, min(len(s), i + 6)))
        junk = "".join(draw(st.lists(st.sampled_from(JS_BITS), max_size=3)))
        at(doc, path[:-1])[path[-1]] = s[:i] + junk + s[j:]
    return name, json.dumps(doc, indent=2), kind


def test_compiler_never_fails_on_mutated_workflows(tmp_path: Path) -> None:
    pkg = tmp_path / "src" / "stream_cast"
    pkg.mkdir(parents=True)
    shutil.copy(ROOT / "workflows" / "stream_cast" / "entities.json", pkg / "entities.json")
    hit: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    clean = 0

    @seed(20261126)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=in_ci(),
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(mutation())
    def one(case: tuple[str, str, str]) -> None:
        nonlocal clean
        name, text, kind = case
        for old in pkg.glob("*.json"):
            if old.name != "entities.json":
                old.unlink()
        (pkg / name).write_text(text, encoding="utf-8")
        result = compile_project([tmp_path / "src"])
        diags = result.diagnostics.sorted()
        internal = [d for d in diags if d.code is codes.INTERNAL_ERROR]
        assert not internal, (kind, render_human(internal[0], result.sources), text)
        for d in diags:
            render_human(d, result.sources)
            hit[d.code.name] += 1
        render_json(diags)
        kinds[kind] += 1
        if not result.diagnostics.has_errors:
            clean += 1

    one()
    ran = sum(kinds.values())
    print(
        f"\nfuzz: {ran} mutations ({dict(sorted(kinds.items()))}), {clean} compiled cleanly, "
        f"0 internal errors, {len(hit)} distinct codes: {', '.join(sorted(hit))}"
    )
    assert ran >= min(EXAMPLES, 2000) or not in_ci()
